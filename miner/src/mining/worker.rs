//! The mining worker pool: a dedicated rayon pool searching the current template's nonce space.
//!
//! One long-running job per pool thread. Worker `i` of `n` takes the coinbase extra nonces
//! `base + i + k·n` (k = 0, 1, …), so no two workers ever hash the same header; for each it
//! recomputes the Merkle root and the midstate, then scans the 2^32 header nonces in chunks sized
//! to about 2 ms of work. Between chunks it polls the generation of the active template (one
//! atomic load), so a new template, a pause or a solution elsewhere is noticed within a chunk.
//! Without a template the workers sleep on a condition variable.

use super::kernel::{self, HeaderJob, KernelPath};
use oxcoin::pow::CompactTargetError;
use oxcoin::{Block, CompactTarget, Target, Tx};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

#[cfg(test)]
mod tests;

/// Why a template or the pool cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MiningError {
    /// The block's first transaction is not a coinbase (or the block is empty).
    #[error("a mining template needs a coinbase as its first transaction")]
    NoCoinbase,
    /// The header's bits do not decode to a target.
    #[error("template bits {bits:08x} are not a valid target")]
    InvalidBits {
        /// The bits in the template's header.
        bits: u32,
        /// Why they do not decode.
        #[source]
        source: CompactTargetError,
    },
    /// The header's target is easier than the proof-of-work limit allows.
    #[error("template bits {bits:08x} are easier than the proof-of-work limit {limit:08x}")]
    AboveLimit {
        /// The bits in the template's header.
        bits: u32,
        /// The limit they were checked against.
        limit: u32,
    },
    /// The operating system refused the pool's threads.
    #[error("cannot start the mining thread pool")]
    ThreadPool(#[source] rayon::ThreadPoolBuildError),
}

/// A block to mine: coinbase first, header with the right previous hash, time and bits.
///
/// The workers vary the coinbase's extra nonce (starting from the template's), the Merkle root
/// that follows from it, and the header nonce; everything else is mined as given.
#[derive(Clone, Debug)]
pub struct Template {
    block: Block,
    pow_limit: CompactTarget,
    target: Target,
}

impl Template {
    /// Checks and wraps a block to mine under the network's proof-of-work limit.
    ///
    /// # Errors
    /// [`MiningError::NoCoinbase`] when the first transaction is not a coinbase;
    /// [`MiningError::InvalidBits`] or [`MiningError::AboveLimit`] when no valid block can
    /// carry the header's bits.
    pub fn new(block: Block, pow_limit: CompactTarget) -> Result<Self, MiningError> {
        let Some(Tx::Coinbase(_)) = block.txs.first() else {
            return Err(MiningError::NoCoinbase);
        };
        let bits = block.header.bits.to_consensus();
        let target = block.header.bits.to_target().map_err(|source| MiningError::InvalidBits { bits, source })?;
        match pow_limit.to_target() {
            Ok(limit) if target <= limit => {}
            _ => return Err(MiningError::AboveLimit { bits, limit: pow_limit.to_consensus() }),
        }
        Ok(Self { block, pow_limit, target })
    }

    /// Borrows the block as given (its extra nonce is the first one worker 0 tries).
    pub fn block(&self) -> &Block {
        &self.block
    }
}

/// The `active` value when no template is being searched.
const IDLE: u64 = 0;
/// Work per chunk the workers aim for: short enough to see a new template within ~10 ms.
const CHUNK_TIME: Duration = Duration::from_millis(2);
/// Bounds on the nonces per chunk.
const MIN_CHUNK: u64 = 256;
const MAX_CHUNK: u64 = 1 << 22;
/// Period over which [`Miner::hashrate`] averages.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// Least time between two hash-rate samples.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// Longest [`Miner::stop`] waits for the threads (a callback that never returns would hang it).
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Template control, behind the mutex the idle workers wait on.
struct Control {
    /// Bumped by every `set_template` and by `stop`.
    generation: u64,
    template: Option<Arc<Template>>,
    stopping: bool,
}

/// A callback that receives solved blocks.
type OnFound = Box<dyn Fn(Block) + Send + Sync>;

/// State shared by the handle and the workers.
struct Shared {
    control: Mutex<Control>,
    wake: Condvar,
    /// Generation the workers should be searching; [`IDLE`] when paused, solved or stopping.
    active: AtomicU64,
    /// Hashes computed since the start.
    hashes: AtomicU64,
    meter: Mutex<RateMeter>,
    on_found: OnFound,
    /// Header nonces per extra nonce: 2^32, smaller in tests of the extra-nonce roll.
    nonce_space: u64,
    kernel: KernelPath,
}

/// Locks a mutex; a panic elsewhere while holding it leaves data that is still consistent here
/// (every critical section is a few plain stores).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The nonce-search pool; dropping it (or [`Miner::stop`]) stops and joins the workers.
pub struct Miner {
    shared: Arc<Shared>,
    pool: Option<rayon::ThreadPool>,
    exited: Arc<Countdown>,
    threads: usize,
}

impl std::fmt::Debug for Miner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miner").field("threads", &self.threads).field("kernel", &self.shared.kernel).finish()
    }
}

impl Miner {
    /// Starts `threads` workers (0: one per logical core), idle until a template arrives.
    /// `on_found` runs on a worker thread with each solved block, checked against its template's
    /// bits and proof-of-work limit.
    ///
    /// # Errors
    /// [`MiningError::ThreadPool`] when the threads cannot be created.
    pub fn start(threads: usize, on_found: impl Fn(Block) + Send + Sync + 'static) -> Result<Self, MiningError> {
        Self::start_with(threads, 1 << 32, Box::new(on_found))
    }

    /// [`Miner::start`] with a chosen number of header nonces per extra nonce.
    fn start_with(threads: usize, nonce_space: u64, on_found: OnFound) -> Result<Self, MiningError> {
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, usize::from) } else { threads };
        let shared = Arc::new(Shared {
            control: Mutex::new(Control { generation: IDLE, template: None, stopping: false }),
            wake: Condvar::new(),
            active: AtomicU64::new(IDLE),
            hashes: AtomicU64::new(0),
            meter: Mutex::new(RateMeter::new(Instant::now())),
            on_found,
            nonce_space: nonce_space.clamp(1, 1 << 32),
            kernel: KernelPath::best(),
        });
        let exited = Arc::new(Countdown::new(threads));
        let on_exit = Arc::clone(&exited);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|index| format!("oxminer-mine-{index}"))
            .start_handler(|_| lower_priority())
            .panic_handler(|_| tracing::error!("a mining worker panicked; it stops, the others go on"))
            .exit_handler(move |_| on_exit.count_down())
            .build()
            .map_err(MiningError::ThreadPool)?;
        let workers = Arc::clone(&shared);
        pool.spawn_broadcast(move |context| work(&workers, context.index(), context.num_threads()));
        tracing::info!(threads, kernel = %shared.kernel.describe(), "mining pool started");
        Ok(Self { shared, pool: Some(pool), exited, threads })
    }

    /// Replaces the template every worker searches; `None` pauses them. Workers notice within
    /// one chunk (~2 ms of hashing). A block found for the old template just as it is replaced
    /// may still be reported.
    pub fn set_template(&self, template: Option<Template>) {
        let mut control = lock(&self.shared.control);
        control.generation += 1;
        let active = if template.is_some() { control.generation } else { IDLE };
        control.template = template.map(Arc::new);
        self.shared.active.store(active, Ordering::Release);
        drop(control);
        self.shared.wake.notify_all();
    }

    /// Returns the hash rate in hashes per second, averaged over the last few seconds.
    pub fn hashrate(&self) -> f64 {
        let total = self.shared.hashes.load(Ordering::Relaxed);
        let mut meter = lock(&self.shared.meter);
        let now = Instant::now();
        meter.record(now, total);
        meter.rate(now, total)
    }

    /// Returns the number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Returns the kernel the workers use.
    pub fn kernel(&self) -> KernelPath {
        self.shared.kernel
    }

    /// Returns the hashes computed since the start.
    pub(super) fn total_hashes(&self) -> u64 {
        self.shared.hashes.load(Ordering::Relaxed)
    }

    /// Stops the workers and waits for their threads to exit.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        let mut control = lock(&self.shared.control);
        control.stopping = true;
        control.generation += 1;
        self.shared.active.store(IDLE, Ordering::Release);
        drop(control);
        self.shared.wake.notify_all();
        let Some(pool) = self.pool.take() else { return };
        // A callback that drops the miner runs on a pool thread, which cannot wait for itself.
        let on_pool_thread = pool.current_thread_index().is_some();
        // Dropping the pool lets each thread exit once its worker returns.
        drop(pool);
        if !on_pool_thread && !self.exited.wait(JOIN_TIMEOUT) {
            tracing::warn!("mining threads did not exit within {JOIN_TIMEOUT:?}; leaving them behind");
        }
    }
}

/// Counts threads down to zero; [`Countdown::wait`] blocks until then.
struct Countdown {
    remaining: Mutex<usize>,
    zero: Condvar,
}

impl Countdown {
    fn new(count: usize) -> Self {
        Self { remaining: Mutex::new(count), zero: Condvar::new() }
    }

    fn count_down(&self) {
        let mut remaining = lock(&self.remaining);
        *remaining = remaining.saturating_sub(1);
        if *remaining == 0 {
            self.zero.notify_all();
        }
    }

    /// Waits until the count is zero or `timeout` passes; returns whether it reached zero.
    fn wait(&self, timeout: Duration) -> bool {
        let remaining = lock(&self.remaining);
        let (remaining, _) =
            self.zero.wait_timeout_while(remaining, timeout, |left| *left > 0).unwrap_or_else(PoisonError::into_inner);
        *remaining == 0
    }
}

/// Hash-count samples over the last [`RATE_WINDOW`].
struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    fn new(now: Instant) -> Self {
        Self { samples: VecDeque::from([(now, 0)]) }
    }

    /// Adds a sample if the last one is at least [`SAMPLE_EVERY`] old; forgets those that no
    /// longer matter (all but the newest one older than the window).
    fn record(&mut self, now: Instant, total: u64) {
        if self.samples.back().is_none_or(|(at, _)| now.saturating_duration_since(*at) >= SAMPLE_EVERY) {
            self.samples.push_back((now, total));
        }
        while self.samples.len() > 2 && self.samples.get(1).is_some_and(|(at, _)| now - *at > RATE_WINDOW) {
            self.samples.pop_front();
        }
    }

    /// Hashes per second from the oldest sample inside the window (or the one before it when
    /// the window holds only a fresh sample, as after a pause) to `now`.
    fn rate(&self, now: Instant, total: u64) -> f64 {
        let inside = self.samples.iter().position(|(at, _)| now.saturating_duration_since(*at) <= RATE_WINDOW);
        let from = match inside {
            Some(index) if now.saturating_duration_since(self.samples[index].0) >= SAMPLE_EVERY => index,
            Some(index) => index.saturating_sub(1),
            None => self.samples.len().saturating_sub(1),
        };
        let Some(&(at, hashes)) = self.samples.get(from) else { return 0.0 };
        let seconds = now.saturating_duration_since(at).as_secs_f64();
        if seconds < 1e-3 { 0.0 } else { total.saturating_sub(hashes) as f64 / seconds }
    }
}

/// Returns the extra nonce worker `index` of `threads` uses in its `round`-th pass.
fn extra_nonce(base: u64, index: usize, threads: usize, round: u64) -> u64 {
    base.wrapping_add(index as u64).wrapping_add(round.wrapping_mul(threads as u64))
}

/// Returns the next chunk size: scaled toward [`CHUNK_TIME`], at most doubling or halving.
fn next_chunk(chunk: u64, elapsed: Duration) -> u64 {
    let ideal = u128::from(chunk) * CHUNK_TIME.as_nanos() / elapsed.as_nanos().max(1);
    let ideal = u64::try_from(ideal).unwrap_or(u64::MAX);
    ideal.clamp(chunk / 2, chunk.saturating_mul(2)).clamp(MIN_CHUNK, MAX_CHUNK)
}

/// A worker's whole life: wait for a template, search it, repeat until the pool stops.
fn work(shared: &Shared, index: usize, threads: usize) {
    let mut done = IDLE;
    let mut chunk = MIN_CHUNK * 4;
    while let Some((generation, template)) = shared.next_template(done) {
        chunk = shared.search(index, threads, generation, &template, chunk);
        done = generation;
    }
}

impl Shared {
    /// Blocks until there is a template this worker has not finished, or the pool stops (`None`).
    fn next_template(&self, done: u64) -> Option<(u64, Arc<Template>)> {
        let mut control = lock(&self.control);
        loop {
            if control.stopping {
                return None;
            }
            let generation = control.generation;
            if let Some(template) = &control.template
                && generation != done
                && self.active.load(Ordering::Acquire) == generation
            {
                return Some((generation, Arc::clone(template)));
            }
            control = self.wake.wait(control).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Searches `template` until it is solved (here or elsewhere), replaced or paused. Returns
    /// the chunk size to start the next search with.
    fn search(&self, index: usize, threads: usize, generation: u64, template: &Template, mut chunk: u64) -> u64 {
        let mut block = template.block.clone();
        let base = match block.txs.first() {
            Some(Tx::Coinbase(coinbase)) => coinbase.extra_nonce,
            // `Template::new` admits only blocks with a coinbase first.
            _ => return chunk,
        };
        for round in 0u64.. {
            if let Some(Tx::Coinbase(coinbase)) = block.txs.first_mut() {
                coinbase.extra_nonce = extra_nonce(base, index, threads, round);
            }
            block.header.merkle_root = block.compute_merkle_root();
            let job = HeaderJob::new(&block.header, template.target);
            let mut next = 0u64;
            while next < self.nonce_space {
                if self.active.load(Ordering::Relaxed) != generation {
                    return chunk;
                }
                // Both fit in u32: next < nonce_space ≤ 2^32 and the count is clipped to the space.
                let count = chunk.min(self.nonce_space - next) as u32;
                let started = Instant::now();
                let found = kernel::scan_with(self.kernel, &job, next as u32, count);
                let scanned = found.map_or(u64::from(count), |nonce| u64::from(nonce) - next + 1);
                self.count_hashes(scanned);
                if let Some(nonce) = found {
                    block.header.nonce = nonce;
                    if self.report(generation, &block, template) {
                        return chunk;
                    }
                }
                next += scanned;
                chunk = next_chunk(chunk, started.elapsed());
            }
        }
        chunk
    }

    fn count_hashes(&self, hashes: u64) {
        let total = self.hashes.fetch_add(hashes, Ordering::Relaxed) + hashes;
        if let Ok(mut meter) = self.meter.try_lock() {
            meter.record(Instant::now(), total);
        }
    }

    /// Checks a solution and hands it to the callback unless the template was solved or
    /// replaced meanwhile. Returns whether this worker is done with the template.
    fn report(&self, generation: u64, block: &Block, template: &Template) -> bool {
        let hash = match block.header.validate_pow(template.pow_limit) {
            Ok(hash) => hash,
            Err(error) => {
                tracing::error!(%error, "the nonce-search kernel reported a nonce that fails the proof of work");
                return false;
            }
        };
        // Only the first solution of a generation is reported, and none once it is replaced.
        if self.active.compare_exchange(generation, IDLE, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return true;
        }
        let height = match block.txs.first() {
            Some(Tx::Coinbase(coinbase)) => coinbase.height,
            _ => 0,
        };
        tracing::info!(height, %hash, "mined a block");
        let block = block.clone();
        if std::panic::catch_unwind(AssertUnwindSafe(|| (self.on_found)(block))).is_err() {
            tracing::error!("the mined-block callback panicked");
        }
        true
    }
}

/// Nice value of the mining threads: the nonce search yields to validation, sync and the API.
const MINING_NICE: i32 = 10;

/// Lowers the calling mining thread's scheduling priority (on Linux, nice is per thread), so
/// the node's own work always preempts the nonce search; the hash rate is unchanged on an
/// otherwise idle machine. Failing to do so is harmless and only logged.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), MINING_NICE) {
        tracing::debug!(error = %e, "cannot lower a mining thread's priority");
    }
}
