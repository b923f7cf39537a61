//! The node's counters for `GET /metrics`, and their Prometheus text rendering (exposition
//! format 0.0.4, written by hand: a few families do not need a metrics crate).
//!
//! Counters are bumped where things happen (the node counts blocks, reorgs and refusals, the
//! API's middleware counts requests); gauges (height, work, peers, mempool, hash rate) are read
//! from the node when scraped and handed to [`Metrics::render`] as a [`Gauges`]. Every label
//! value comes from a bounded set: refusal codes, HTTP methods, route *patterns* (never raw
//! paths) and status codes.

use oxcoin::ErrorCode;
use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Upper bounds of the HTTP latency histogram, in seconds.
pub const LATENCY_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];
/// Upper bounds of the reorg depth histogram, in blocks disconnected.
pub const REORG_BUCKETS: [f64; 7] = [1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 100.0];
/// The route label of requests that matched no route (404s and 405s of the fallback).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// What was refused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Refused {
    /// A transfer (API or peer).
    Transfer,
    /// A block (API, peer, sync or a local miner).
    Block,
}

impl Refused {
    const fn as_str(self) -> &'static str {
        match self {
            Refused::Transfer => "transfer",
            Refused::Block => "block",
        }
    }
}

/// A histogram with fixed bucket bounds: per-bucket counts (not cumulative), sum and count.
#[derive(Clone, Debug)]
struct Histogram {
    bounds: &'static [f64],
    /// One count per bound, plus the overflow (`+Inf`) last.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self { bounds, counts: vec![0; bounds.len() + 1], sum: 0.0 }
    }

    fn observe(&mut self, value: f64) {
        let index = self.bounds.iter().position(|b| value <= *b).unwrap_or(self.bounds.len());
        if let Some(count) = self.counts.get_mut(index) {
            *count = count.saturating_add(1);
        }
        self.sum += value;
    }

    fn count(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, b| a.saturating_add(*b))
    }
}

/// Requests of one (method, route pattern).
#[derive(Clone, Debug)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// The node's counters. Cheap to bump from any thread.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    blocks_connected: AtomicU64,
    blocks_disconnected: AtomicU64,
    reorg_max_depth: AtomicU64,
    reorgs: Mutex<Histogram>,
    refusals: Mutex<BTreeMap<(Refused, &'static str), u64>>,
    http: Mutex<BTreeMap<(&'static str, String), RouteStats>>,
    http_errors: Mutex<BTreeMap<(&'static str, String, &'static str), u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The values read from the node at scrape time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gauges {
    /// Height of the best chain.
    pub height: u64,
    /// Cumulative work of the best chain (expected hashes; a float loses the low digits).
    pub chain_work: f64,
    /// Difficulty of the tip (display scale, as in `/status`).
    pub difficulty: f64,
    /// Peers that answered recently.
    pub peers_connected: u64,
    /// Peers in the table.
    pub peers_known: u64,
    /// Pending transfers.
    pub mempool_count: u64,
    /// Their encoded bytes.
    pub mempool_bytes: u64,
    /// Blocks waiting for their parent.
    pub orphans: u64,
    /// Local nonce-search rate, hashes per second.
    pub hashrate: f64,
    /// Whether the miners are on.
    pub mining: bool,
    /// Whether the node is syncing from a peer.
    pub syncing: bool,
    /// Seconds since the process started.
    pub uptime_seconds: f64,
}

impl Metrics {
    /// Fresh counters, all zero.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            blocks_connected: AtomicU64::new(0),
            blocks_disconnected: AtomicU64::new(0),
            reorg_max_depth: AtomicU64::new(0),
            reorgs: Mutex::new(Histogram::new(&REORG_BUCKETS)),
            refusals: Mutex::new(BTreeMap::new()),
            http: Mutex::new(BTreeMap::new()),
            http_errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records a change of the best chain: `disconnected` blocks left it, `connected` joined it;
    /// any disconnect is a reorg of that depth.
    pub fn chain_updated(&self, disconnected: usize, connected: usize) {
        self.blocks_connected.fetch_add(connected as u64, Ordering::Relaxed);
        if disconnected > 0 {
            self.blocks_disconnected.fetch_add(disconnected as u64, Ordering::Relaxed);
            self.reorg_max_depth.fetch_max(disconnected as u64, Ordering::Relaxed);
            lock(&self.reorgs).observe(disconnected as f64);
        }
    }

    /// Records a refused transfer or block with the rule's code.
    pub fn refused(&self, what: Refused, code: ErrorCode) {
        let mut map = lock(&self.refusals);
        let count = map.entry((what, code.as_str())).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// Records an answered HTTP request: its method, the route *pattern* it matched
    /// ([`UNMATCHED_ROUTE`] for none), status, time taken, and the API error code if any.
    pub fn http_request(
        &self,
        method: &str,
        route: Option<String>,
        status: u16,
        elapsed: Duration,
        error: Option<&'static str>,
    ) {
        let method = known_method(method);
        let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
        if let Some(code) = error {
            let mut errors = lock(&self.http_errors);
            let count = errors.entry((method, route.clone(), code)).or_insert(0);
            *count = count.saturating_add(1);
        }
        let mut http = lock(&self.http);
        let stats = http
            .entry((method, route))
            .or_insert_with(|| RouteStats { by_status: BTreeMap::new(), latency: Histogram::new(&LATENCY_BUCKETS) });
        let count = stats.by_status.entry(status).or_insert(0);
        *count = count.saturating_add(1);
        stats.latency.observe(elapsed.as_secs_f64());
    }

    /// Time since these counters were created (the node's start).
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Blocks connected to the best chain since the start.
    pub fn blocks_connected(&self) -> u64 {
        self.blocks_connected.load(Ordering::Relaxed)
    }

    /// Renders every family in the Prometheus text format, with `gauges` read from the node.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = Text::default();
        out.family("oxminer_height", "gauge", "Height of the best chain's tip");
        out.sample("oxminer_height", &[], gauges.height);
        out.family("oxminer_chain_work", "gauge", "Cumulative expected hashes of the best chain");
        out.sample("oxminer_chain_work", &[], Float(gauges.chain_work));
        out.family("oxminer_difficulty", "gauge", "Difficulty of the tip, relative to the network's easiest target");
        out.sample("oxminer_difficulty", &[], Float(gauges.difficulty));
        out.family("oxminer_peers", "gauge", "Peers by state: connected (answered recently) or known");
        out.sample("oxminer_peers", &[("state", "connected")], gauges.peers_connected);
        out.sample("oxminer_peers", &[("state", "known")], gauges.peers_known);
        out.family("oxminer_mempool_transactions", "gauge", "Pending transfers in the mempool");
        out.sample("oxminer_mempool_transactions", &[], gauges.mempool_count);
        out.family("oxminer_mempool_bytes", "gauge", "Encoded bytes of the pending transfers");
        out.sample("oxminer_mempool_bytes", &[], gauges.mempool_bytes);
        out.family("oxminer_orphan_blocks", "gauge", "Blocks kept while their parent is unknown");
        out.sample("oxminer_orphan_blocks", &[], gauges.orphans);
        out.family("oxminer_hashrate", "gauge", "Local nonce-search rate in hashes per second");
        out.sample("oxminer_hashrate", &[], Float(gauges.hashrate));
        out.family("oxminer_mining", "gauge", "1 when the local miners are on");
        out.sample("oxminer_mining", &[], u8::from(gauges.mining));
        out.family("oxminer_syncing", "gauge", "1 while the node syncs from a peer");
        out.sample("oxminer_syncing", &[], u8::from(gauges.syncing));
        out.family("oxminer_uptime_seconds", "gauge", "Seconds since the node started");
        out.sample("oxminer_uptime_seconds", &[], Float(gauges.uptime_seconds));

        out.family("oxminer_blocks_connected_total", "counter", "Blocks connected to the best chain");
        out.sample("oxminer_blocks_connected_total", &[], self.blocks_connected());
        out.family("oxminer_blocks_disconnected_total", "counter", "Blocks disconnected from the best chain by reorgs");
        out.sample("oxminer_blocks_disconnected_total", &[], self.blocks_disconnected.load(Ordering::Relaxed));
        out.family("oxminer_reorg_max_depth", "gauge", "Deepest reorg since the start, in blocks disconnected");
        out.sample("oxminer_reorg_max_depth", &[], self.reorg_max_depth.load(Ordering::Relaxed));
        out.family(
            "oxminer_reorg_depth",
            "histogram",
            "Reorgs by depth (blocks disconnected); _count is the reorg count",
        );
        out.histogram("oxminer_reorg_depth", &[], &lock(&self.reorgs));

        out.family(
            "oxminer_refusals_total",
            "counter",
            "Transfers and blocks refused by a rule, by code, from every source (API, peers, sync, miners)",
        );
        for ((what, code), count) in lock(&self.refusals).iter() {
            out.sample("oxminer_refusals_total", &[("kind", what.as_str()), ("code", code)], *count);
        }

        let http = lock(&self.http).clone();
        out.family(
            "oxminer_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route pattern and status",
        );
        for ((method, route), stats) in &http {
            for (status, count) in &stats.by_status {
                let status = status.to_string();
                out.sample(
                    "oxminer_http_requests_total",
                    &[("method", method), ("route", route), ("status", &status)],
                    *count,
                );
            }
        }
        out.family(
            "oxminer_http_request_duration_seconds",
            "histogram",
            "Time to answer HTTP requests, by method and route pattern",
        );
        for ((method, route), stats) in &http {
            out.histogram(
                "oxminer_http_request_duration_seconds",
                &[("method", method), ("route", route)],
                &stats.latency,
            );
        }
        out.family(
            "oxminer_http_errors_total",
            "counter",
            "HTTP error answers by method, route pattern and error code (POST /txs and /blocks refusals included)",
        );
        for ((method, route, code), count) in lock(&self.http_errors).iter() {
            out.sample("oxminer_http_errors_total", &[("method", method), ("route", route), ("code", code)], *count);
        }
        out.0
    }
}

/// Maps a method to a fixed set, so a client inventing methods cannot grow the label set.
fn known_method(method: &str) -> &'static str {
    ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("other")
}

/// A float sample value as Prometheus spells it (`NaN`, `+Inf`, `-Inf`).
struct Float(f64);

impl Display for Float {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_nan() {
            f.write_str("NaN")
        } else if self.0.is_infinite() {
            f.write_str(if self.0 > 0.0 { "+Inf" } else { "-Inf" })
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The exposition text being written.
#[derive(Default)]
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"{}\"", escape_label(value));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// Writes `_bucket` (cumulative, `le` last), `_sum` and `_count`.
    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0u64;
        for (i, count) in histogram.counts.iter().enumerate() {
            cumulative = cumulative.saturating_add(*count);
            let le = histogram.bounds.get(i).map_or_else(|| "+Inf".to_owned(), |b| Float(*b).to_string());
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, cumulative);
        }
        self.sample(&format!("{name}_sum"), labels, Float(histogram.sum));
        self.sample(&format!("{name}_count"), labels, histogram.count());
    }
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Converts a 256-bit big-endian work value to a float for the gauge.
pub fn work_to_f64(be_bytes: &[u8; 32]) -> f64 {
    be_bytes.iter().fold(0.0, |acc, byte| acc * 256.0 + f64::from(*byte))
}

#[cfg(test)]
mod tests;
