//! Per-address rate limiting against a real node: a client flooding from 127.0.0.2 gets 429
//! `rate_limited` with `Retry-After` once past its burst, while another address and the
//! exempt 127.0.0.1 are still served, and the flooder is served again after a pause.

use oxcoin_tests::{KeepAlive, NodeProcess, http};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[test]
fn a_flooding_address_gets_429_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("limits.toml");
    std::fs::write(&config, "[rate_limit]\napi_rate = 20\napi_burst = 40\n").unwrap();
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--config", config.to_str().unwrap()]);
    let flooder: IpAddr = "127.0.0.2".parse().unwrap();

    // The flood: four keep-alive connections from 127.0.0.2 asking as fast as they can.
    let started = std::time::Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let (served, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let floods: Vec<_> = (0..4)
        .map(|_| {
            let (stop, served, refused, addr) = (stop.clone(), served.clone(), refused.clone(), node.addr);
            std::thread::spawn(move || {
                let mut client = KeepAlive::connect(flooder, addr).unwrap();
                let mut sample = None;
                while !stop.load(Ordering::Relaxed) {
                    let answer = client.get("/api/v1/status").unwrap();
                    let (retry_after, body) = (answer.retry_after, answer.body);
                    match answer.status {
                        200 => served.fetch_add(1, Ordering::Relaxed),
                        429 => {
                            sample.get_or_insert((retry_after, body));
                            refused.fetch_add(1, Ordering::Relaxed)
                        }
                        other => panic!("flood answered {other}"),
                    };
                }
                sample
            })
        })
        .collect();

    // Meanwhile: the exempt loopback address and another address are served every time.
    std::thread::sleep(Duration::from_millis(300));
    let mut other = KeepAlive::connect("127.0.0.3".parse().unwrap(), node.addr).unwrap();
    for i in 0..30 {
        assert_eq!(other.get("/api/v1/status").unwrap().status, 200, "127.0.0.3, request {i}");
        let r = http(node.addr, "GET", "/api/v1/status", None, &[]).unwrap();
        assert_eq!(r.status, 200, "127.0.0.1, request {i}: {}", r.body);
        std::thread::sleep(Duration::from_millis(30));
    }
    stop.store(true, Ordering::Relaxed);
    let samples: Vec<_> = floods.into_iter().filter_map(|t| t.join().unwrap()).collect();
    let lasted = started.elapsed().as_secs_f64();
    let (served, refused) = (served.load(Ordering::Relaxed), refused.load(Ordering::Relaxed));
    assert!(refused > 0, "no request was refused ({served} served)");
    // At most the burst plus the rate over the time the flood lasted (one second of slack).
    let most = 40.0 + 20.0 * (lasted + 1.0);
    assert!(served as f64 <= most, "{served} flood requests served in {lasted:.1} s (at most {most})");
    let (retry_after, body) = &samples[0];
    assert_eq!(retry_after.as_deref(), Some("1"), "Retry-After in seconds");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");

    // After a pause, the flooder is served again.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(KeepAlive::connect(flooder, node.addr).unwrap().get("/api/v1/status").unwrap().status, 200);
    let metrics = http(node.addr, "GET", "/metrics", None, &[]).unwrap();
    assert!(metrics.body.contains("429"), "refusals show in the request metrics");
}
