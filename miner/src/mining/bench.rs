//! `oxminer bench`: the nonce-search hash rate per thread count, against reference loops.
//!
//! For each thread count from 1 to N, one after the other, each for the same number of seconds:
//!
//! - **kernel**: [`kernel::scan_with`] on the best path, 65,536 nonces per call (the workers'
//!   chunk size order), every thread on its own header;
//! - **ref 4×SHA-NI**: a plain loop of four independent SHA-256d computations of 80-byte
//!   headers interleaved with SHA-NI — midstate reused, otherwise the textbook compression
//!   function on byte buffers: all 64 rounds of both compressions, no early exit (see
//!   `sha_ni::ShaNi::reference`);
//! - **ref compress256**: `sha2`'s `compress256` from the midstate, one nonce at a time, no
//!   early exit;
//! - **pool**: the real [`Miner`] (rayon pool, extra-nonce roll, chunking, polling) with that
//!   many threads, from its hash counter.
//!
//! Then, with two threads or more, the kernel's 1 → 2 thread scaling from [`SCALING_PAIRS`]
//! back-to-back pairs of one-second measurements, alternating which side goes first: the
//! table's rows are seconds apart, and a shared machine's speed drifts between them (other
//! guests, turbo), which the pairs see on both sides alike.
//!
//! The target is bits `0x17034219` (Bitcoin's at block 840,000): never met, and the kernel's
//! top-word early exit rejects every hash exactly as it would on the main network.

use super::kernel::{self, HeaderJob, KernelPath};
use super::worker::{Miner, MiningError, Template};
use oxcoin::{AccountId, Amount, Block, BlockHash, Coinbase, CompactTarget, Header, MerkleRoot, Target, Tx};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

/// Bits of the benchmark's target: never met in practice.
const BENCH_BITS: u32 = 0x1703_4219;
/// Nonces per kernel call.
const CHUNK: u32 = 1 << 16;
/// Pairs of 1- and 2-thread kernel measurements behind the scaling figure.
const SCALING_PAIRS: usize = 8;
/// Length of each measurement of a pair.
const PAIR_DURATION: Duration = Duration::from_secs(1);
/// Time the pool gets to start hashing before its counter is read.
const POOL_WARM_UP: Duration = Duration::from_millis(300);

/// Why the benchmark cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// `--threads 0`.
    #[error("--threads must be at least 1")]
    ZeroThreads,
    /// `--seconds 0`.
    #[error("--seconds must be at least 1")]
    ZeroSeconds,
    /// The worker pool did not start.
    #[error("cannot start the mining pool")]
    Pool(#[source] MiningError),
    /// Writing the report failed.
    #[error("cannot write the report")]
    Output(#[source] std::io::Error),
}

/// Measured hash rates at one thread count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchRow {
    /// Threads hashing at once.
    pub threads: usize,
    /// The kernel ([`kernel::scan_with`] on the best path).
    pub kernel: Rate,
    /// The 4-way SHA-NI reference loop; `None` without SHA-NI.
    pub reference_sha_ni: Option<Rate>,
    /// The `compress256` reference loop.
    pub reference_compress256: Rate,
    /// The worker pool.
    pub pool: Rate,
}

/// Column headers of the report's table.
const COLUMNS: [&str; 11] = [
    "threads",
    "kernel MH/s",
    "kernel on-CPU",
    "ref 4xSHA-NI on-CPU",
    "kernel/ref",
    "ref compress256 on-CPU",
    "pool MH/s",
    "pool on-CPU",
    "kernel scaling vs 1",
    "on-CPU scaling",
    "CPU share",
];

/// Formats table cells right-aligned under [`COLUMNS`].
fn table_line(cells: &[String]) -> String {
    let padded: Vec<String> =
        COLUMNS.iter().zip(cells).map(|(column, cell)| format!("{cell:>width$}", width = column.len())).collect();
    padded.join("  ")
}

/// Formats an optional number with `decimals` decimals, or "n/a".
fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "n/a".to_string(), |value| format!("{value:.decimals$}"))
}

/// Runs the benchmark for 1..=`max_threads` threads (default: every logical core),
/// `seconds` per measurement, writing the report to `out` as it goes.
///
/// # Errors
/// [`BenchError`] for a zero argument, a pool that does not start, or a failed write.
pub fn run(max_threads: Option<usize>, seconds: u64, out: &mut dyn Write) -> Result<Vec<BenchRow>, BenchError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let max_threads = max_threads.unwrap_or(cores);
    if max_threads == 0 {
        return Err(BenchError::ZeroThreads);
    }
    if seconds == 0 {
        return Err(BenchError::ZeroSeconds);
    }
    let duration = Duration::from_secs(seconds);
    let path = KernelPath::best();
    let write = |out: &mut dyn Write, text: &str| writeln!(out, "{text}").map_err(BenchError::Output);
    write(out, "oxminer bench: SHA-256d nonce search over 80-byte headers")?;
    write(out, &format!("cpu: {} ({cores} logical cores)", cpu_model()))?;
    write(out, &format!("kernel path: {}", path.describe()))?;
    write(out, &format!("target: bits {BENCH_BITS:08x} (never met; the top-word early exit rejects each hash)"))?;
    write(out, &format!("{seconds} s per measurement; MH/s = millions of headers hashed per second;"))?;
    write(out, "on-CPU = per second the threads actually ran (discounts time other processes took)\n")?;
    write(out, &COLUMNS.join("  "))?;
    let mut rows: Vec<BenchRow> = Vec::new();
    for threads in 1..=max_threads {
        let kernel = measure(threads, duration, |job, start| {
            std::hint::black_box(kernel::scan_with(path, job, start, CHUNK));
        });
        let reference_sha_ni = kernel::reference_sha_ni_x4(&bench_job(0, 0), 0, 4).map(|_| {
            measure(threads, duration, |job, start| {
                std::hint::black_box(kernel::reference_sha_ni_x4(job, start, CHUNK));
            })
        });
        let reference_compress256 = measure(threads, duration, |job, start| {
            std::hint::black_box(kernel::reference_compress256(job, start, CHUNK));
        });
        let pool = measure_pool(threads, duration)?;
        let row = BenchRow { threads, kernel, reference_sha_ni, reference_compress256, pool };
        let scaling = rows.first().map_or(1.0, |first| kernel.wall / first.kernel.wall);
        let on_cpu_scaling = rows.first().map_or(Some(1.0), |first| Some(kernel.on_cpu? / first.kernel.on_cpu?));
        write(
            out,
            &table_line(&[
                threads.to_string(),
                format!("{:.2}", kernel.wall),
                cell(kernel.on_cpu, 2),
                cell(reference_sha_ni.map(|rate| rate.best()), 2),
                cell(reference_sha_ni.map(|rate| kernel.best() / rate.best()), 3),
                format!("{:.2}", reference_compress256.best()),
                format!("{:.2}", pool.wall),
                cell(pool.on_cpu, 2),
                format!("{scaling:.3}"),
                cell(on_cpu_scaling, 3),
                cell(kernel.cpu_share(), 2),
            ]),
        )?;
        rows.push(row);
    }
    if let Some(first) = rows.first() {
        write(out, "")?;
        if let Some(reference) = first.reference_sha_ni {
            let ratio = first.kernel.best() / reference.best();
            write(out, &format!("per core: kernel / 4-way SHA-NI reference = {ratio:.3} (goal >= 0.9)"))?;
        }
        let ratio = first.kernel.best() / first.reference_compress256.best();
        write(out, &format!("per core: kernel / compress256 reference = {ratio:.3}"))?;
    }
    let mut scaling = None;
    if let [first, second, ..] = rows.as_slice() {
        let on_cpu = |rate: fn(&BenchRow) -> Rate| Some(rate(second).on_cpu? / rate(first).on_cpu?);
        write(
            out,
            &format!(
                "1 -> 2 threads, table rows: kernel x{:.3} wall, x{} on-CPU; pool x{:.3} wall, x{} on-CPU",
                second.kernel.wall / first.kernel.wall,
                cell(on_cpu(|row| row.kernel), 3),
                second.pool.wall / first.pool.wall,
                cell(on_cpu(|row| row.pool), 3),
            ),
        )?;
        let paired = measure_scaling(path);
        write(
            out,
            &format!(
                "1 -> 2 threads, {SCALING_PAIRS} alternating pairs of {} s (goal >= {GOAL_SCALING}): kernel x{:.3} wall \
                 (median; pairs x{:.3} to x{:.3}), {:.2} -> {:.2} MH/s",
                PAIR_DURATION.as_secs(),
                paired.median_ratio(),
                paired.ratios.first().copied().unwrap_or(f64::NAN),
                paired.ratios.last().copied().unwrap_or(f64::NAN),
                paired.one,
                paired.two,
            ),
        )?;
        scaling = Some(paired);
    }
    write(out, "")?;
    for line in bench_lines(&rows, scaling.as_ref()) {
        write(out, &line)?;
    }
    Ok(rows)
}

/// The kernel's 1 → 2 thread scaling from back-to-back pairs of measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// Each pair's 2-thread wall rate over its 1-thread one, ascending.
    pub ratios: Vec<f64>,
    /// Median 1-thread wall rate, MH/s.
    pub one: f64,
    /// Median 2-thread wall rate, MH/s.
    pub two: f64,
}

impl Scaling {
    /// Builds the figure from (1-thread, 2-thread) wall rates.
    fn from_pairs(pairs: &[(f64, f64)]) -> Self {
        let mut ratios: Vec<f64> = pairs.iter().map(|(one, two)| two / one).collect();
        ratios.sort_by(f64::total_cmp);
        let median_of = |side: fn(&(f64, f64)) -> f64| {
            let mut values: Vec<f64> = pairs.iter().map(side).collect();
            values.sort_by(f64::total_cmp);
            median(&values)
        };
        Self { ratios, one: median_of(|p| p.0), two: median_of(|p| p.1) }
    }

    /// The median of the pairs' ratios.
    pub fn median_ratio(&self) -> f64 {
        median(&self.ratios)
    }
}

/// The median of ascending `values` (NaN when empty).
fn median(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Measures [`SCALING_PAIRS`] pairs of 1- and 2-thread kernel runs back to back, alternating
/// which goes first.
fn measure_scaling(path: KernelPath) -> Scaling {
    let kernel = |threads| {
        measure(threads, PAIR_DURATION, |job, start| {
            std::hint::black_box(kernel::scan_with(path, job, start, CHUNK));
        })
        .wall
    };
    let pairs: Vec<(f64, f64)> = (0..SCALING_PAIRS)
        .map(|i| {
            if i % 2 == 0 {
                let one = kernel(1);
                (one, kernel(2))
            } else {
                let two = kernel(2);
                (kernel(1), two)
            }
        })
        .collect();
    Scaling::from_pairs(&pairs)
}

/// Goal of the kernel's rate over the 4-way SHA-NI reference's, per core.
const GOAL_PER_CORE: f64 = 0.9;
/// Goal of the kernel's rate on 2 threads over its rate on 1.
const GOAL_SCALING: f64 = 1.9;

/// The machine-readable summary lines `bench/all.sh` collects, one per figure:
/// `BENCH {"figure":…,"value":…,"unit":…,"reference":…,"reference_value":…,"ratio":…,"goal":…,"met":…}`.
/// On-CPU rates where known (as the table's ratios), the wall-clock rates beside them.
fn bench_lines(rows: &[BenchRow], scaling: Option<&Scaling>) -> Vec<String> {
    let threads = |n: usize| if n == 1 { "1 thread".to_string() } else { format!("{n} threads") };
    let mut lines = Vec::new();
    for row in rows {
        let (reference, reference_rate, goal) = match row.reference_sha_ni {
            Some(rate) => ("4-way SHA-NI loop", rate, Some(GOAL_PER_CORE)),
            None => ("compress256 loop", row.reference_compress256, None),
        };
        let ratio = row.kernel.best() / reference_rate.best();
        lines.push(bench_line(&[
            ("figure", json!(format!("nonce search, {}", threads(row.threads)))),
            ("value", json!(round4(row.kernel.best()))),
            ("unit", json!("MH/s")),
            ("reference", json!(format!("{reference}, {}", threads(row.threads)))),
            ("reference_value", json!(round4(reference_rate.best()))),
            ("ratio", json!(round4(ratio))),
            ("goal", json!(goal.map(|g| format!(">= {g} per core")))),
            ("met", json!(goal.map(|g| ratio >= g))),
            ("wall", json!(round4(row.kernel.wall))),
            ("reference_wall", json!(round4(reference_rate.wall))),
            ("pool", json!(round4(row.pool.wall))),
        ]));
    }
    if let Some(scaling) = scaling {
        let ratio = scaling.median_ratio();
        lines.push(bench_line(&[
            ("figure", json!("nonce search, 1 -> 2 threads (wall, paired)")),
            ("value", json!(round4(scaling.two))),
            ("unit", json!("MH/s")),
            ("reference", json!("nonce search, 1 thread (wall), same pairs")),
            ("reference_value", json!(round4(scaling.one))),
            ("ratio", json!(round4(ratio))),
            ("goal", json!(format!(">= {GOAL_SCALING}x"))),
            ("met", json!(ratio >= GOAL_SCALING)),
            ("pairs", json!(scaling.ratios.iter().map(|&r| round4(r)).collect::<Vec<_>>())),
        ]));
    }
    lines
}

/// `BENCH ` and a JSON object with the fields in the given order.
fn bench_line(fields: &[(&str, serde_json::Value)]) -> String {
    let fields: Vec<String> = fields.iter().map(|(key, value)| format!("{}:{value}", json!(key))).collect();
    format!("BENCH {{{}}}", fields.join(","))
}

/// Rounds to 4 significant digits (`null` in JSON when not finite).
fn round4(x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    if x == 0.0 {
        return Some(0.0);
    }
    let scale = 10f64.powi(3 - x.abs().log10().floor() as i32);
    Some((x * scale).round() / scale)
}

/// Runs [`run`] for the command line, writing to stdout.
///
/// # Errors
/// The [`BenchError`] and its source as one line of text.
pub fn run_to_stdout(max_threads: Option<usize>, seconds: u64) -> Result<(), String> {
    run(max_threads, seconds, &mut std::io::stdout().lock()).map(|_| ()).map_err(
        |error| match std::error::Error::source(&error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    )
}

/// Returns the CPU's "model name" from `/proc/cpuinfo`, or "unknown".
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Returns the benchmark header of thread `index`, in its `round`-th pass over the nonces.
fn bench_header(index: usize, round: u32) -> Header {
    let mut merkle = [0u8; 32];
    for (at, byte) in merkle.iter_mut().enumerate() {
        *byte = (at as u8).wrapping_mul(31).wrapping_add(index as u8);
    }
    Header {
        version: 0x2000_0000,
        prev_hash: BlockHash::from_byte_array([index as u8; 32]),
        merkle_root: MerkleRoot::from_byte_array(merkle),
        time: 1_795_996_800u32.wrapping_add(round),
        bits: CompactTarget::from_consensus(BENCH_BITS),
        nonce: 0,
    }
}

fn bench_target() -> Target {
    CompactTarget::from_consensus(BENCH_BITS).to_target().unwrap_or(Target::from_le_bytes([0; 32]))
}

fn bench_job(index: usize, round: u32) -> HeaderJob {
    HeaderJob::new(&bench_header(index, round), bench_target())
}

/// Hash rates of one measurement, in MH/s, summed over the threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Hashes per second of wall-clock time.
    pub wall: f64,
    /// Hashes per second the threads actually ran on a CPU (Linux schedstat), which discounts
    /// time other processes took from them; `None` where the kernel does not report it.
    pub on_cpu: Option<f64>,
}

impl Rate {
    /// The on-CPU rate where known, else the wall-clock rate.
    pub fn best(&self) -> f64 {
        self.on_cpu.unwrap_or(self.wall)
    }

    /// The fraction of the wall-clock time the threads ran, on average.
    pub fn cpu_share(&self) -> Option<f64> {
        self.on_cpu.map(|on_cpu| self.wall / on_cpu)
    }
}

/// Returns the time the calling thread has run on a CPU, from `/proc/thread-self/schedstat`.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Runs `hash_chunk(job, start)` (which hashes [`CHUNK`] nonces) on `threads` threads for
/// `duration`, each on its own header.
fn measure(threads: usize, duration: Duration, hash_chunk: impl Fn(&HeaderJob, u32) + Sync) -> Rate {
    let hash_chunk = &hash_chunk;
    let per_thread: Vec<(f64, Option<f64>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                scope.spawn(move || {
                    let mut round = 0;
                    let mut job = bench_job(index, round);
                    let mut start = 0u32;
                    let mut hashes = 0u64;
                    let (started, cpu_started) = (Instant::now(), thread_cpu_time());
                    while started.elapsed() < duration {
                        hash_chunk(&job, start);
                        hashes += u64::from(CHUNK);
                        start = start.wrapping_add(CHUNK);
                        if start == 0 {
                            round += 1;
                            job = bench_job(index, round);
                        }
                    }
                    let wall = started.elapsed().as_secs_f64();
                    let on_cpu = cpu_started
                        .zip(thread_cpu_time())
                        .map(|(from, to)| to.saturating_sub(from).as_secs_f64())
                        .filter(|&seconds| seconds > 0.0);
                    let mega = hashes as f64 / 1e6;
                    (mega / wall, on_cpu.map(|seconds| mega / seconds))
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or((0.0, None))).collect()
    });
    let wall = per_thread.iter().map(|(wall, _)| wall).sum();
    let on_cpu = per_thread.iter().map(|(_, on_cpu)| *on_cpu).sum::<Option<f64>>();
    Rate { wall, on_cpu }
}

/// Returns the time the pool's threads (named `oxminer-mine-*`) have run on a CPU.
fn pool_cpu_time() -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if name.starts_with("oxminer-mine") {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            total += Duration::from_nanos(stat.split_whitespace().next()?.parse().ok()?);
        }
    }
    Some(total)
}

/// Runs the worker pool with `threads` threads on an unsolvable template.
fn measure_pool(threads: usize, duration: Duration) -> Result<Rate, BenchError> {
    let coinbase =
        Coinbase { height: 1, to: AccountId::from_byte_array([7; 20]), amount: Amount::from_grains(1), extra_nonce: 0 };
    let block = Block { header: bench_header(threads, 0), txs: vec![Tx::Coinbase(coinbase)] };
    let template = Template::new(block, CompactTarget::from_consensus(0x1d00_ffff)).map_err(BenchError::Pool)?;
    let miner = Miner::start(threads, |_| {}).map_err(BenchError::Pool)?;
    miner.set_template(Some(template));
    std::thread::sleep(POOL_WARM_UP);
    let (before, started, cpu_started) = (miner.total_hashes(), Instant::now(), pool_cpu_time());
    std::thread::sleep(duration);
    let mega = (miner.total_hashes() - before) as f64 / 1e6;
    let (wall, cpu_ended) = (started.elapsed().as_secs_f64(), pool_cpu_time());
    miner.stop();
    let on_cpu =
        cpu_started.zip(cpu_ended).map(|(from, to)| to.saturating_sub(from).as_secs_f64()).filter(|&s| s > 0.0);
    // The pool's threads share one counter: its on-CPU rate is hashes per CPU-second times threads.
    Ok(Rate { wall: mega / wall, on_cpu: on_cpu.map(|seconds| mega / seconds * threads as f64) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_threads_or_seconds_are_refused() {
        let mut out = Vec::new();
        assert!(matches!(run(Some(0), 1, &mut out), Err(BenchError::ZeroThreads)));
        assert!(matches!(run(Some(1), 0, &mut out), Err(BenchError::ZeroSeconds)));
        assert!(out.is_empty(), "nothing printed before the arguments are checked");
    }

    #[test]
    fn the_bench_target_is_realistic_and_never_met() {
        let target = bench_target();
        assert_eq!(target.to_compact_lossy().to_consensus(), BENCH_BITS);
        // The top 64 bits of the target are zero: only a hash with 64 leading zero bits could
        // meet it, so no benchmark run ever stops early.
        assert_eq!(target.to_le_bytes()[24..], [0; 8]);
    }

    #[test]
    fn table_cells_line_up_under_their_headers() {
        let cells: Vec<String> = COLUMNS.iter().map(|_| "1.00".to_string()).collect();
        let line = table_line(&cells);
        assert_eq!(line.len(), COLUMNS.join("  ").len());
        assert!(line.ends_with("1.00"));
        assert_eq!(cell(None, 2), "n/a");
        assert_eq!(cell(Some(1.23456), 3), "1.235");
    }

    #[test]
    fn rates_prefer_on_cpu_time() {
        let rate = Rate { wall: 5.0, on_cpu: Some(10.0) };
        assert_eq!(rate.best(), 10.0);
        assert_eq!(rate.cpu_share(), Some(0.5));
        let wall_only = Rate { wall: 5.0, on_cpu: None };
        assert_eq!(wall_only.best(), 5.0);
        assert_eq!(wall_only.cpu_share(), None);
    }

    #[test]
    fn bench_lines_compare_with_the_reference_and_one_thread() {
        let rate = |wall: f64, on_cpu: f64| Rate { wall, on_cpu: Some(on_cpu) };
        let row = |threads: usize, kernel: Rate, reference: Option<Rate>| BenchRow {
            threads,
            kernel,
            reference_sha_ni: reference,
            reference_compress256: rate(5.0, 5.0),
            pool: rate(8.0, 8.0),
        };
        let rows = [row(1, rate(8.0, 8.5), Some(rate(6.5, 6.8))), row(2, rate(15.5, 17.0), None)];
        // The scaling figure is the median of the pairs, not the table rows' ratio.
        let scaling = Scaling::from_pairs(&[(8.0, 16.0), (10.0, 15.0), (8.0, 15.5), (8.0, 17.6)]);
        assert_eq!(scaling.ratios, vec![1.5, 1.9375, 2.0, 2.2]);
        assert_eq!((scaling.one, scaling.two), (8.0, 15.75));
        let lines = bench_lines(&rows, Some(&scaling));
        assert_eq!(lines.len(), 3);
        let parsed: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l.strip_prefix("BENCH ").expect("prefix")).expect("JSON"))
            .collect();
        assert_eq!(parsed[0]["figure"], "nonce search, 1 thread");
        assert_eq!(parsed[0]["value"], 8.5);
        assert_eq!(parsed[0]["ratio"], 1.25);
        assert_eq!(parsed[0]["met"], true);
        // Without SHA-NI the reference is compress256 and there is no goal.
        assert_eq!(parsed[1]["reference"], "compress256 loop, 2 threads");
        assert_eq!(parsed[1]["met"], serde_json::Value::Null);
        assert_eq!(parsed[2]["figure"], "nonce search, 1 -> 2 threads (wall, paired)");
        assert_eq!((parsed[2]["ratio"].as_f64(), parsed[2]["value"].as_f64()), (Some(1.969), Some(15.75)));
        assert_eq!(parsed[2]["met"], true);
        assert_eq!(bench_lines(&rows, None).len(), 2, "one thread: no scaling figure");
        assert!(lines[0].starts_with(r#"BENCH {"figure":"nonce search, 1 thread","value":8.5,"unit":"MH/s","#));
    }

    #[test]
    fn round4_keeps_four_significant_digits() {
        assert_eq!(round4(17.123_456), Some(17.12));
        assert_eq!(round4(123_456.0), Some(123_500.0));
        assert_eq!(round4(0.0), Some(0.0));
        assert_eq!(round4(f64::NAN), None);
    }

    #[test]
    fn cpu_model_is_never_empty() {
        assert!(!cpu_model().is_empty());
    }
}
