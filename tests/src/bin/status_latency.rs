//! `GET /status` latency while the node is under pressure, against the same probe on an idle
//! node in the same run:
//!
//! 1. idle: a dev node doing nothing else;
//! 2. flood: the same node while one address (127.0.0.2) floods it with `--flood-connections`
//!    keep-alive connections as fast as they go (rate limiting on, its defaults);
//! 3. mining: a test-network node mining with every core (test difficulty: the miners never
//!    pause, unlike dev pacing).
//!
//! The probe asks from 127.0.0.3 (an address of its own, under the default limits) at 20
//! requests a second and prints p50/p99/max, the flood's answers by status, and the ratios
//! p99 ÷ idle p99. Timings are printed, never asserted.
//!
//! `cargo run --release -p oxcoin-tests --bin status_latency [-- --seconds 10]`

use clap::Parser;
use oxcoin_tests::bench::BenchLine;
use oxcoin_tests::{KeepAlive, NodeProcess};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// Seconds each phase probes.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep-alive connections of the flooding address.
    #[arg(long, default_value_t = 64)]
    flood_connections: usize,
}

/// Latency figures of one phase, milliseconds.
struct Probe {
    p50: f64,
    p99: f64,
    max: f64,
    answers: usize,
    failures: usize,
}

fn probe(addr: SocketAddr, seconds: u64) -> Probe {
    let from: IpAddr = "127.0.0.3".parse().expect("an address");
    let mut client = KeepAlive::connect(from, addr).expect("the probe connects");
    let mut times = Vec::new();
    let mut failures = 0;
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let started = Instant::now();
        match client.get("/api/v1/status") {
            Ok(answer) if answer.status == 200 => times.push(started.elapsed().as_secs_f64() * 1e3),
            Ok(_) => failures += 1,
            Err(_) => {
                failures += 1;
                client = KeepAlive::connect(from, addr).expect("the probe reconnects");
            }
        }
        std::thread::sleep(Duration::from_millis(50).saturating_sub(started.elapsed()));
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1))).copied();
    Probe {
        p50: at(0.5).unwrap_or(f64::NAN),
        p99: at(0.99).unwrap_or(f64::NAN),
        max: times.last().copied().unwrap_or(f64::NAN),
        answers: times.len(),
        failures,
    }
}

fn report(name: &str, p: &Probe, idle_p99: f64) {
    println!(
        "{name:<8} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} answers, {} failed)  p99 / idle p99 = {:.2}",
        p.p50,
        p.p99,
        p.max,
        p.answers,
        p.failures,
        p.p99 / idle_p99
    );
}

fn main() {
    let args = Args::parse();
    let (dev_dir, test_dir) = (tempfile::tempdir().expect("a temp dir"), tempfile::tempdir().expect("a temp dir"));
    let node = NodeProcess::start("dev", dev_dir.path(), &["--no-mine"]);
    println!("machine: {} logical CPUs; node {} (release build)", oxcoin_tests::procfs::cores(), node.addr);

    let idle = probe(node.addr, args.seconds);
    report("idle", &idle, idle.p99);

    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 3]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let flooder: IpAddr = "127.0.0.2".parse().expect("an address");
    let threads: Vec<_> = (0..args.flood_connections)
        .map(|_| {
            let (stop, counts, addr) = (Arc::clone(&stop), Arc::clone(&counts), node.addr);
            std::thread::spawn(move || {
                let Ok(mut client) = KeepAlive::connect(flooder, addr) else { return };
                while !stop.load(Ordering::Relaxed) {
                    let slot = match client.get("/api/v1/status") {
                        Ok(a) if a.status == 200 => 0,
                        Ok(a) if a.status == 429 => 1,
                        _ => 2,
                    };
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                    if slot == 2 {
                        match KeepAlive::connect(flooder, addr) {
                            Ok(c) => client = c,
                            Err(_) => return,
                        }
                    }
                }
            })
        })
        .collect();
    let flood_started = Instant::now();
    let flood = probe(node.addr, args.seconds);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let lasted = flood_started.elapsed().as_secs_f64();
    report("flood", &flood, idle.p99);
    let [ok, limited, failed] = [0, 1, 2].map(|i| counts[i].load(Ordering::Relaxed));
    println!(
        "         flood from 127.0.0.2 over {} connections: {:.0} requests/s answered ({ok} 200, {limited} 429, {failed} failed)",
        args.flood_connections,
        (ok + limited) as f64 / lasted
    );
    drop(node);

    let miner = NodeProcess::start("test", test_dir.path(), &[]);
    std::thread::sleep(Duration::from_secs(2));
    let status = miner.get("/api/v1/status").json;
    let mining = probe(miner.addr, args.seconds);
    report("mining", &mining, idle.p99);
    let status_after = miner.get("/api/v1/status").json;
    println!(
        "         mining on {} threads at {:.2} MH/s (test network)",
        status_after["mining"]["threads"],
        status_after["mining"]["hashrate"].as_f64().or(status["mining"]["hashrate"].as_f64()).unwrap_or(0.0) / 1e6
    );
    for line in bench_lines(&idle, &flood, &mining) {
        line.print();
    }
}

/// Goal of issue 7 for `/status` p99 while one address floods the node, in ms.
const GOAL_FLOOD_MS: f64 = 100.0;
/// Goal of issue 7 for `/status` p99 while the node mines on every core, in ms.
const GOAL_MINING_MS: f64 = 50.0;

/// The summary lines for `bench/all.sh`: each p99 against the idle p99 of the same run.
fn bench_lines(idle: &Probe, flood: &Probe, mining: &Probe) -> [BenchLine; 2] {
    let line = |figure: &str, p: &Probe, goal: f64| {
        BenchLine::new(figure, p.p99, "ms")
            .reference("idle p99", idle.p99)
            .goal(format!("< {goal} ms"), p.p99 < goal)
            .with("p50", p.p50)
            .with("max", p.max)
            .with("failed", p.failures)
    };
    [
        line("/status p99, one address flooding", flood, GOAL_FLOOD_MS),
        line("/status p99, mining on all cores", mining, GOAL_MINING_MS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_read_each_p99_against_idle() {
        let probe = |p99: f64| Probe { p50: 0.1, p99, max: p99, answers: 200, failures: 0 };
        let [flood, mining] = bench_lines(&probe(0.5), &probe(4.0), &probe(60.0));
        assert_eq!(flood.ratio, Some(8.0));
        assert_eq!(flood.met, Some(true));
        assert_eq!(mining.met, Some(false));
        assert_eq!(mining.reference, Some(("idle p99".to_owned(), 0.5)));
    }
}
