//! The exposition text: exact lines, and a parse back that checks the format's rules (HELP
//! and TYPE before samples, label syntax, cumulative buckets ending in `+Inf` = `_count`).

use super::*;
use std::collections::HashMap;

/// Label pairs of a sample, in order.
type Labels = Vec<(String, String)>;

/// One parsed sample: name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: Labels,
    value: f64,
}

/// Parses exposition text strictly; panics with the offending line on anything malformed.
#[track_caller]
fn parse(text: &str) -> (HashMap<String, String>, Vec<Sample>) {
    let mut types = HashMap::new();
    let mut helped = std::collections::HashSet::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the text ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a name and text");
            assert!(!help.is_empty(), "empty help: {line}");
            assert!(helped.insert(name.to_owned()), "HELP twice: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a name and kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "kind: {line}");
            assert!(types.insert(name.to_owned(), kind.to_owned()).is_none(), "TYPE twice: {line}");
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "stray line: {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), Vec::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("labels close: {line}"));
                (name.to_owned(), parse_labels(body, line))
            }
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && name.starts_with("oxminer_"),
            "metric name: {line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.get(*f).is_some_and(|k| k == "histogram")))
            .unwrap_or(&name);
        assert!(types.contains_key(family) && helped.contains(family), "sample before its TYPE/HELP: {line}");
        samples.push(Sample { name, labels, value });
    }
    (types, samples)
}

fn parse_labels(mut body: &str, line: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    while !body.is_empty() {
        let (key, rest) = body.split_once("=\"").unwrap_or_else(|| panic!("label syntax: {line}"));
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "label name: {line}");
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    other => panic!("escape {other:?}: {line}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value: {line}"),
            }
        };
        labels.push((key.to_owned(), value));
        body = &rest[end + 1..];
        body = body.strip_prefix(',').unwrap_or(body);
    }
    labels
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|s| {
        s.name == name
            && s.labels.len() == labels.len()
            && labels.iter().all(|(k, v)| s.labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
    })
}

#[track_caller]
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    find(samples, name, labels).unwrap_or_else(|| panic!("no sample {name} {labels:?}")).value
}

/// Checks every histogram series: buckets ascending and cumulative, `+Inf` last and equal to `_count`.
#[track_caller]
fn check_histograms(types: &HashMap<String, String>, samples: &[Sample]) {
    for (family, _) in types.iter().filter(|(_, k)| *k == "histogram") {
        let bucket = format!("{family}_bucket");
        let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.name == bucket) {
            let le = s.labels.iter().find(|(k, _)| k == "le").expect("a bucket has le").1.clone();
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().expect("le is a number") };
            let rest: Vec<_> = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
            series.entry(rest).or_default().push((le, s.value));
        }
        for (labels, buckets) in series {
            assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1), "{family} {labels:?}");
            let last = buckets.last().expect("buckets");
            assert_eq!(last.0, f64::INFINITY, "{family}: +Inf last");
            let as_ref: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(value(samples, &format!("{family}_count"), &as_ref), last.1, "{family} {labels:?}");
            assert!(find(samples, &format!("{family}_sum"), &as_ref).is_some());
        }
    }
}

#[test]
fn fresh_counters_render_gauges_and_zero_counters() {
    let gauges = Gauges {
        height: 42,
        chain_work: 86.0,
        difficulty: 1.0,
        peers_connected: 2,
        peers_known: 3,
        mempool_count: 5,
        mempool_bytes: 1234,
        orphans: 0,
        hashrate: 1.5e6,
        mining: true,
        syncing: false,
        uptime_seconds: 12.5,
    };
    let text = Metrics::new().render(&gauges);
    for line in [
        "# TYPE oxminer_height gauge",
        "oxminer_height 42",
        "oxminer_chain_work 86",
        "oxminer_peers{state=\"connected\"} 2",
        "oxminer_peers{state=\"known\"} 3",
        "oxminer_mempool_transactions 5",
        "oxminer_mempool_bytes 1234",
        "oxminer_hashrate 1500000",
        "oxminer_mining 1",
        "oxminer_syncing 0",
        "# TYPE oxminer_blocks_connected_total counter",
        "oxminer_blocks_connected_total 0",
        "oxminer_reorg_max_depth 0",
        "oxminer_reorg_depth_bucket{le=\"+Inf\"} 0",
        "oxminer_reorg_depth_count 0",
        "# TYPE oxminer_refusals_total counter",
        "# TYPE oxminer_http_request_duration_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "missing line {line:?} in:\n{text}");
    }
    let (types, samples) = parse(&text);
    check_histograms(&types, &samples);
    assert!(find(&samples, "oxminer_refusals_total", &[]).is_none(), "no refusal series before a refusal");
}

#[test]
fn chain_updates_count_blocks_and_reorgs_with_their_depth() {
    let metrics = Metrics::new();
    metrics.chain_updated(0, 1);
    metrics.chain_updated(0, 3);
    metrics.chain_updated(2, 3); // a 2-deep reorg
    metrics.chain_updated(12, 13); // a 12-deep one
    metrics.chain_updated(0, 0);
    assert_eq!(metrics.blocks_connected(), 20);
    let text = metrics.render(&Gauges::default());
    let (types, samples) = parse(&text);
    check_histograms(&types, &samples);
    assert_eq!(value(&samples, "oxminer_blocks_connected_total", &[]), 20.0);
    assert_eq!(value(&samples, "oxminer_blocks_disconnected_total", &[]), 14.0);
    assert_eq!(value(&samples, "oxminer_reorg_max_depth", &[]), 12.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_count", &[]), 2.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_sum", &[]), 14.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_bucket", &[("le", "1")]), 0.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_bucket", &[("le", "2")]), 1.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_bucket", &[("le", "6")]), 1.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_bucket", &[("le", "12")]), 2.0);
    assert_eq!(value(&samples, "oxminer_reorg_depth_bucket", &[("le", "+Inf")]), 2.0);
}

#[test]
fn refusals_count_by_kind_and_code() {
    let metrics = Metrics::new();
    metrics.refused(Refused::Transfer, ErrorCode::InsufficientFunds);
    metrics.refused(Refused::Transfer, ErrorCode::InsufficientFunds);
    metrics.refused(Refused::Block, ErrorCode::HighHash);
    let text = metrics.render(&Gauges::default());
    assert!(
        text.lines().any(|l| l == "oxminer_refusals_total{kind=\"transfer\",code=\"insufficient_funds\"} 2"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "oxminer_refusals_total{kind=\"block\",code=\"high_hash\"} 1"), "{text}");
    let (_, samples) = parse(&text);
    assert_eq!(samples.iter().filter(|s| s.name == "oxminer_refusals_total").count(), 2);
}

#[test]
fn http_requests_are_counted_by_route_pattern_with_latency_buckets() {
    let metrics = Metrics::new();
    let blocks = || Some("/api/v1/blocks/{id}".to_owned());
    metrics.http_request("GET", blocks(), 200, Duration::from_micros(500), None);
    metrics.http_request("GET", blocks(), 200, Duration::from_millis(30), None);
    metrics.http_request("GET", blocks(), 404, Duration::from_millis(2), Some("not_found"));
    metrics.http_request("POST", Some("/api/v1/txs".to_owned()), 422, Duration::from_secs(9), Some("nonce_gap"));
    metrics.http_request("BREW", None, 404, Duration::from_millis(1), Some("not_found"));
    let text = metrics.render(&Gauges::default());
    let (types, samples) = parse(&text);
    check_histograms(&types, &samples);
    let route = ("route", "/api/v1/blocks/{id}");
    let get = ("method", "GET");
    assert_eq!(value(&samples, "oxminer_http_requests_total", &[get, route, ("status", "200")]), 2.0);
    assert_eq!(value(&samples, "oxminer_http_requests_total", &[get, route, ("status", "404")]), 1.0);
    assert_eq!(value(&samples, "oxminer_http_request_duration_seconds_bucket", &[get, route, ("le", "0.001")]), 1.0);
    assert_eq!(value(&samples, "oxminer_http_request_duration_seconds_bucket", &[get, route, ("le", "0.005")]), 2.0);
    assert_eq!(value(&samples, "oxminer_http_request_duration_seconds_bucket", &[get, route, ("le", "0.05")]), 3.0);
    assert_eq!(value(&samples, "oxminer_http_request_duration_seconds_count", &[get, route]), 3.0);
    let txs = [("method", "POST"), ("route", "/api/v1/txs")];
    assert_eq!(value(&samples, "oxminer_http_request_duration_seconds_bucket", &[txs[0], txs[1], ("le", "5")]), 0.0);
    assert_eq!(value(&samples, "oxminer_http_request_duration_seconds_bucket", &[txs[0], txs[1], ("le", "+Inf")]), 1.0);
    assert_eq!(value(&samples, "oxminer_http_errors_total", &[txs[0], txs[1], ("code", "nonce_gap")]), 1.0);
    assert_eq!(value(&samples, "oxminer_http_errors_total", &[get, route, ("code", "not_found")]), 1.0);
    // An invented method and an unmatched path collapse into bounded labels.
    let unmatched = [("method", "other"), ("route", UNMATCHED_ROUTE), ("status", "404")];
    assert_eq!(value(&samples, "oxminer_http_requests_total", &unmatched), 1.0);
}

#[test]
fn label_values_and_floats_are_escaped() {
    let metrics = Metrics::new();
    metrics.http_request("GET", Some("/a\"b\\c\nd".to_owned()), 200, Duration::ZERO, None);
    let gauges = Gauges { chain_work: f64::INFINITY, hashrate: f64::NAN, ..Gauges::default() };
    let text = metrics.render(&gauges);
    assert!(text.contains("route=\"/a\\\"b\\\\c\\nd\""), "{text}");
    assert!(text.lines().any(|l| l == "oxminer_chain_work +Inf"), "{text}");
    assert!(text.lines().any(|l| l == "oxminer_hashrate NaN"), "{text}");
    let (_, samples) = parse(&text);
    assert!(
        find(
            &samples,
            "oxminer_http_requests_total",
            &[("method", "GET"), ("route", "/a\"b\\c\nd"), ("status", "200")]
        )
        .is_some()
    );
}

#[test]
fn work_converts_from_big_endian_bytes() {
    let mut bytes = [0u8; 32];
    assert_eq!(work_to_f64(&bytes), 0.0);
    bytes[31] = 2;
    bytes[30] = 1;
    assert_eq!(work_to_f64(&bytes), 258.0);
    bytes[0] = 1;
    assert!((work_to_f64(&bytes) / 2f64.powi(248) - 1.0).abs() < 1e-12);
}
