//! Per-address rate limiting against a real node: a client flooding from 127.0.0.2 gets 429
//! `rate_limited` with `Retry-After` once past its burst, while another address and the
//! exempt 127.0.0.1 are still served, and the flooder is served again after a pause.

use oxcoin_tests::{NodeProcess, http};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A keep-alive HTTP/1.1 connection from a chosen loopback source address.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(from: IpAddr, to: SocketAddr) -> Self {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.bind(&SockAddr::from(SocketAddr::new(from, 0))).unwrap();
        socket.connect(&SockAddr::from(to)).unwrap();
        let stream: TcpStream = socket.into();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Self { reader: BufReader::new(stream) }
    }

    /// GETs `path`; returns the status, the `Retry-After` header and the body.
    fn get(&mut self, path: &str) -> (u16, Option<String>, String) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: node\r\n\r\n");
        self.reader.get_mut().write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        let (mut length, mut retry_after) = (0usize, None);
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "retry-after" => retry_after = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).unwrap();
        (status, retry_after, String::from_utf8_lossy(&body).into_owned())
    }
}

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
                let mut client = Client::connect(flooder, addr);
                let mut sample = None;
                while !stop.load(Ordering::Relaxed) {
                    let (status, retry_after, body) = client.get("/api/v1/status");
                    match status {
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
    let mut other = Client::connect("127.0.0.3".parse().unwrap(), node.addr);
    for i in 0..30 {
        assert_eq!(other.get("/api/v1/status").0, 200, "127.0.0.3, request {i}");
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
    assert_eq!(Client::connect(flooder, node.addr).get("/api/v1/status").0, 200);
    let metrics = http(node.addr, "GET", "/metrics", None, &[]).unwrap();
    assert!(metrics.body.contains("429"), "refusals show in the request metrics");
}
