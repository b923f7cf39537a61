//! The node: wires the chain, the mempool and the miner together, and is what the API calls.
//!
//! Locks: the chain behind an `RwLock` (the API reads, block submission writes), the mempool
//! behind a `Mutex`. Lock order is always chain, then mempool. Signature checks run before any
//! lock is taken.

use crate::chain::{Accepted, Chain, ChainError, ChainUpdate};
use crate::config::Settings;
use crate::mempool::{self, Mempool, MempoolError};
use crate::mining::{Miner, Template};
use crate::store::{Snapshot, StoreError};
use anyhow::Context;
use oxcoin::address::AccountId;
use oxcoin::block::{Block, HEADER_LEN, Header};
use oxcoin::hash::{BlockHash, Txid};
use oxcoin::keyfile::Keyfile;
use oxcoin::params::ChainParams;
use oxcoin::rules::{self, Account, AccountState};
use oxcoin::tx::{COINBASE_LEN, Coinbase, Transfer, Tx};
use oxcoin::{Amount, ErrorCode, Height};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// File name of the store inside the network folder.
pub const STORE_FILE: &str = "chain.redb";
/// File name of the saved mempool.
pub const MEMPOOL_FILE: &str = "mempool.dat";
/// Saved mempool entries: a transfer and when it was received (Unix seconds).
type SavedTransfers = Vec<(Transfer, u64)>;

/// Saved transfers reloaded per step: the first step before the node serves, the others on a
/// thread after start (about 0.1 s of signature checks each on two cores).
const RELOAD_CHUNK: usize = 4_096;
/// How often the hash rate is logged while mining.
const HASHRATE_LOG_EVERY: Duration = Duration::from_secs(60);

/// File name of the admin token.
pub const COOKIE_FILE: &str = ".cookie";

/// Room for transfers in a block: the maximum minus header, count and the coinbase with its prefix.
fn transfer_room(params: &ChainParams) -> usize {
    params.max_block_size - HEADER_LEN - 4 - (2 + COINBASE_LEN)
}

/// The current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Why a transfer was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitTxError {
    /// Already in the chain.
    #[error("transfer is already confirmed")]
    Confirmed,
    /// Refused by the mempool (its code tells which rule).
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SubmitTxError {
    /// Returns the API code, or `None` for a failure of the node itself.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SubmitTxError::Confirmed => Some(ErrorCode::Duplicate),
            SubmitTxError::Mempool(e) => Some(e.code()),
            SubmitTxError::Store(_) => None,
        }
    }
}

/// The state the next block would see: the tip's accounts plus the reward that matures in it.
pub struct NextState {
    snapshot: Snapshot,
    credit: Option<(AccountId, Amount)>,
}

impl AccountState for NextState {
    fn account(&self, id: &AccountId) -> Account {
        let mut account = self.snapshot.account(id);
        if let Some((to, amount)) = self.credit
            && to == *id
        {
            account.balance = account.balance.checked_add(amount).unwrap_or(Amount::MAX);
        }
        account
    }
}

impl NextState {
    /// Reports a read failure met while judging against this state.
    ///
    /// # Errors
    /// The [`StoreError`] a read met.
    pub fn check(self) -> Result<(), StoreError> {
        self.snapshot.check()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running node's shared state.
pub struct Node {
    params: &'static ChainParams,
    settings: Settings,
    chain: RwLock<Chain>,
    mempool: Mutex<Mempool>,
    miner: Mutex<Option<Miner>>,
    mining_enabled: AtomicBool,
    reward: Mutex<Option<AccountId>>,
    cookie: String,
    /// Bumped whenever the mempool changes, so the template keeper knows to refresh.
    mempool_generation: AtomicU64,
    /// The (tip, mempool generation) the current template was built from.
    template_source: Mutex<Option<(BlockHash, u64)>>,
    /// The peers, once peer-to-peer has started: told of every accepted block and transfer.
    peer_manager: std::sync::OnceLock<Arc<crate::p2p::PeerManager>>,
    /// The HTTP server's per-address limits, shared by its workers.
    rate_limiter: Arc<crate::api::ratelimit::RateLimiter>,
    /// Counters for `GET /metrics`.
    metrics: crate::metrics::Metrics,
    /// The saved mempool's reload past its first part, running after start.
    reload: Mutex<Option<std::thread::JoinHandle<SavedTransfers>>>,
    /// Tells the reload to stop and hand back what it has not reloaded (shutdown).
    reload_stop: AtomicBool,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("network", &self.params.network).finish_non_exhaustive()
    }
}

impl Node {
    /// Opens the store and the saved mempool in `settings.network_dir()` and builds the node;
    /// mining starts with [`Node::start_mining`].
    ///
    /// # Errors
    /// A store that cannot be opened, or a folder that cannot be created.
    pub fn open(settings: Settings, reward: Option<AccountId>, cookie: String) -> anyhow::Result<Arc<Self>> {
        let params = settings.network.params();
        let dir = settings.network_dir();
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
        let chain = Chain::open_with_cache(&dir.join(STORE_FILE), params, settings.db_cache_bytes())
            .with_context(|| format!("opening the store {}", dir.join(STORE_FILE).display()))?;
        let mempool_config = settings.mempool;
        let rate_limiter = Arc::new(crate::api::ratelimit::RateLimiter::new(settings.rate_limit.clone()));
        let node = Arc::new(Self {
            params,
            mining_enabled: AtomicBool::new(settings.mine),
            settings,
            chain: RwLock::new(chain),
            mempool: Mutex::new(Mempool::new(params, mempool_config)),
            miner: Mutex::new(None),
            reward: Mutex::new(reward),
            cookie,
            mempool_generation: AtomicU64::new(0),
            template_source: Mutex::new(None),
            peer_manager: std::sync::OnceLock::new(),
            rate_limiter,
            metrics: crate::metrics::Metrics::new(),
            reload: Mutex::new(None),
            reload_stop: AtomicBool::new(false),
        });
        node.reload_mempool(&dir.join(MEMPOOL_FILE))?;
        Ok(node)
    }

    /// Reloads the saved mempool, re-validated like new transfers (signatures on rayon's pool,
    /// outside the locks): the first [`RELOAD_CHUNK`] transfers before the node serves, the rest
    /// on a thread afterwards, as Bitcoin Core loads its mempool after start — a restart with a
    /// full pool does not wait for 100,000 signature checks. [`Node::shutdown`] stops that
    /// thread and saves what it had not reloaded yet with the pool.
    fn reload_mempool(self: &Arc<Self>, path: &Path) -> anyhow::Result<()> {
        let Ok(bytes) = std::fs::read(path) else { return Ok(()) };
        let mut entries = match Mempool::from_bytes(&bytes) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "saved mempool ignored");
                return Ok(());
            }
        };
        let total = entries.len();
        let rest = entries.split_off(entries.len().min(RELOAD_CHUNK));
        let mut accepted = self.reload_part(entries);
        if rest.is_empty() {
            tracing::info!(accepted, saved = total, "mempool reloaded");
            return Ok(());
        }
        let node = Arc::downgrade(self);
        let handle = std::thread::Builder::new().name("mempool-reload".into()).spawn(move || {
            let mut rest = rest;
            while !rest.is_empty() {
                let Some(node) = node.upgrade() else { return Vec::new() };
                if node.reload_stop.load(Ordering::Relaxed) {
                    return rest;
                }
                let later = rest.split_off(rest.len().min(RELOAD_CHUNK));
                accepted += node.reload_part(std::mem::replace(&mut rest, later));
            }
            tracing::info!(accepted, saved = total, "mempool reloaded");
            Vec::new()
        })?;
        *lock(&self.reload) = Some(handle);
        Ok(())
    }

    /// Re-validates saved transfers and admits the good ones; returns how many.
    fn reload_part(&self, entries: Vec<(Transfer, u64)>) -> usize {
        let checked = mempool::precheck_saved(entries, self.params);
        let chain = self.chain_read();
        let accepted = match self.next_state(&chain) {
            Ok(state) => lock(&self.mempool).reload_prechecked(checked, unix_now(), &state),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the state to reload the mempool");
                0
            }
        };
        self.mempool_generation.fetch_add(1, Ordering::Relaxed);
        accepted
    }

    /// Saves the mempool atomically (temp file, fsync, rename), with `unreloaded` saved
    /// transfers not yet taken back in.
    ///
    /// # Errors
    /// The I/O error.
    pub fn save_mempool(&self, unreloaded: &[(Transfer, u64)]) -> std::io::Result<()> {
        let bytes = {
            let pool = lock(&self.mempool);
            mempool::file_bytes(pool.saved_entries().chain(unreloaded.iter().map(|(t, r)| (t, *r))))
        };
        write_atomically(&self.settings.network_dir().join(MEMPOOL_FILE), &bytes, 0o644)
    }

    /// The network's parameters.
    pub fn params(&self) -> &'static ChainParams {
        self.params
    }

    /// The settings the node runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The HTTP server's per-address rate limiter, shared by its workers.
    pub fn rate_limiter(&self) -> &Arc<crate::api::ratelimit::RateLimiter> {
        &self.rate_limiter
    }

    /// The peer manager, once peer-to-peer has started.
    pub fn peer_manager(&self) -> Option<&Arc<crate::p2p::PeerManager>> {
        self.peer_manager.get()
    }

    /// Hands the node its peer manager (once; later calls are ignored).
    pub fn set_peer_manager(&self, manager: Arc<crate::p2p::PeerManager>) {
        let _ = self.peer_manager.set(manager);
    }

    /// The counters served at `GET /metrics`.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The admin token.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Where mined rewards go (`None` until mining has been on without a reward address).
    pub fn reward_account(&self) -> Option<AccountId> {
        *lock(&self.reward)
    }

    /// Read access to the chain.
    pub fn chain_read(&self) -> RwLockReadGuard<'_, Chain> {
        self.chain.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn chain_write(&self) -> RwLockWriteGuard<'_, Chain> {
        self.chain.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Access to the mempool (take the chain lock first when holding both).
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        lock(&self.mempool)
    }

    /// The state the block after the tip would see.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn next_state(&self, chain: &Chain) -> Result<NextState, StoreError> {
        let credit = chain.context_for(&chain.tip_hash(), unix_now()).and_then(|ctx| ctx.matured_reward);
        Ok(NextState { snapshot: chain.store().snapshot()?, credit })
    }

    /// Runs a transfer through every check of SPEC §6 and admits it to the mempool.
    ///
    /// # Errors
    /// [`SubmitTxError`] with the first failing check.
    pub fn submit_transfer(&self, transfer: Transfer) -> Result<Txid, SubmitTxError> {
        let result = self.admit_transfer(transfer);
        if let Some(code) = result.as_ref().err().and_then(SubmitTxError::code) {
            self.metrics.refused(crate::metrics::Refused::Transfer, code);
        }
        result
    }

    fn admit_transfer(&self, transfer: Transfer) -> Result<Txid, SubmitTxError> {
        let txid = transfer.txid();
        if self.mempool().contains(&txid) {
            return Err(MempoolError::Duplicate.into());
        }
        if self.chain_read().store().contains_tx(&txid)? {
            return Err(SubmitTxError::Confirmed);
        }
        // The expensive signature check, outside every lock.
        mempool::precheck(&transfer, self.params)?;
        // Relaying costs a copy, an encoding and a wake-up per transfer: skip it without peers.
        let relay_copy = self.peer_manager.get().filter(|p2p| p2p.has_peers()).map(|_| transfer.clone());
        let chain = self.chain_read();
        let state = self.next_state(&chain)?;
        let inserted = self.mempool().insert_prechecked(transfer, txid, unix_now(), &state);
        state.check()?;
        let inserted = inserted?;
        self.mempool_generation.fetch_add(1, Ordering::Relaxed);
        if let (Some(p2p), Some(transfer)) = (self.peer_manager.get(), relay_copy) {
            p2p.transfer_accepted(&transfer, &txid);
        }
        Ok(inserted.txid)
    }

    /// Runs a block through the chain's pipeline; on a tip change updates the mempool and the
    /// miners at once.
    ///
    /// # Errors
    /// [`ChainError`] naming the first broken rule.
    pub fn submit_block(&self, block: Block) -> Result<Accepted, ChainError> {
        self.submit_blocks(vec![block], std::collections::HashSet::new()).pop().expect("one result per block submitted")
    }

    /// Runs blocks through the chain's pipeline in order, under one hold of the chain lock and
    /// with one durable commit for all of them (sync), stopping after the first refused or
    /// orphan block: one result per block tried. When that durable commit fails the process
    /// exits at once (status 1), before anything can show the group. Then updates the miners and queues the
    /// connected blocks for relay, as [`Node::submit_block`] does.
    ///
    /// `verified` holds txids whose stateless checks and signature passed already (a sync checks
    /// a downloaded batch ahead, outside the chain lock): their signatures are not checked again.
    pub fn submit_blocks(
        &self,
        blocks: Vec<Block>,
        verified: std::collections::HashSet<Txid>,
    ) -> Vec<Result<Accepted, ChainError>> {
        let grouped = blocks.len() > 1 || !verified.is_empty();
        let mut results = Vec::with_capacity(blocks.len());
        // The net change of the whole group: the mempool reads the state through the store,
        // which shows a deferred group only once it is committed; relay skips blocks that
        // joined and left again inside it.
        let mut net = ChainUpdate::default();
        {
            let mut chain = self.chain_write();
            let run = |chain: &mut Chain| {
                for block in blocks {
                    let (result, update) = chain.process_block(block, unix_now());
                    self.metrics.chain_updated(update.disconnected.len(), update.connected.len());
                    if let Some(code) = result.as_ref().err().and_then(ChainError::code) {
                        self.metrics.refused(crate::metrics::Refused::Block, code);
                    }
                    net.then(update);
                    let stop = !matches!(result, Ok(Accepted::Connected | Accepted::Side | Accepted::Known));
                    results.push(result);
                    if stop {
                        break;
                    }
                }
            };
            if grouped {
                if let Err(e) = chain.batch_verified(verified, run) {
                    // The group is applied in this process but may not be on disk, and nothing
                    // may show a block before it is durable: stop now, still holding the chain
                    // so no reader sees it (Bitcoin Core's AbortNode). The next start reads the
                    // durable state, and sync fetches the rest again.
                    tracing::error!(error = %e, "cannot make synced blocks durable; stopping");
                    eprintln!(
                        "oxminer: cannot make synced blocks durable ({e}); stopping. Check the disk, then start again."
                    );
                    std::process::exit(1);
                }
            } else {
                run(&mut chain);
            }
            if !net.is_empty() {
                self.apply_to_mempool(&chain, &net);
            }
        }
        if !net.is_empty() {
            let connected = net.connected;
            if let Some(tip) = connected.last() {
                tracing::info!(height = self.chain_read().height().0, hash = %tip.header.hash(), txs = tip.txs.len(), "new tip");
            }
            self.refresh_template(true);
            if let Some(p2p) = self.peer_manager.get() {
                p2p.blocks_connected(&connected);
            }
        }
        results
    }

    fn apply_to_mempool(&self, chain: &Chain, update: &ChainUpdate) {
        let state = match self.next_state(chain) {
            Ok(state) => state,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the state to update the mempool");
                return;
            }
        };
        let mut pool = self.mempool();
        pool.on_block_disconnected(transfers_of(&update.disconnected), unix_now(), &state);
        pool.on_block_connected(transfers_of(&update.connected), &state);
        // A disconnect can undo a matured reward: re-check its recipient's pending spends.
        let undone = update.disconnected.iter().filter_map(|b| b.txs.first().and_then(Tx::as_coinbase)).map(|c| c.to);
        pool.revalidate(undone, &state);
        self.mempool_generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Builds the block the miners should work on: the tip's child paying the reward account,
    /// with the best-paying transfers that fit.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn block_template(&self, reward: AccountId) -> Result<Block, StoreError> {
        let chain = self.chain_read();
        let now = unix_now();
        let tip = chain.tip_hash();
        let ctx = chain.context_for(&tip, now).expect("the tip is indexed");
        let state = self.next_state(&chain)?;
        let transfers = self.mempool().select(transfer_room(self.params), &state);
        state.check()?;
        let fees = Amount::checked_sum(transfers.iter().map(|t| t.fee)).unwrap_or(Amount::MAX);
        let coinbase = Coinbase {
            height: ctx.height.0,
            to: reward,
            amount: rules::subsidy(ctx.height, self.params).checked_add(fees).unwrap_or(Amount::MAX),
            extra_nonce: 0,
        };
        let mut txs = Vec::with_capacity(transfers.len() + 1);
        txs.push(Tx::Coinbase(coinbase));
        txs.extend(transfers.into_iter().map(Tx::Transfer));
        let time = u32::try_from(now).unwrap_or(u32::MAX).max(ctx.median_time_past.saturating_add(1));
        let mut block = Block {
            header: Header {
                version: 1,
                prev_hash: tip,
                merkle_root: Default::default(),
                time,
                bits: ctx.required_bits,
                nonce: 0,
            },
            txs,
        };
        block.header.merkle_root = block.compute_merkle_root();
        Ok(block)
    }

    /// Mines `count` blocks on demand to `to` (dev network), each connected before the next;
    /// returns their hashes.
    ///
    /// # Errors
    /// A store failure, or a block the chain refuses (a bug).
    pub fn generate(&self, count: usize, to: AccountId) -> anyhow::Result<Vec<BlockHash>> {
        let mut hashes = Vec::with_capacity(count);
        for _ in 0..count {
            let mut block = self.block_template(to)?;
            // Dev bits are the easiest target: about two tries per block.
            while block.header.validate_pow(self.params.pow_limit).is_err() {
                block.header.nonce =
                    block.header.nonce.checked_add(1).ok_or_else(|| anyhow::anyhow!("nonce space exhausted"))?;
            }
            let hash = block.header.hash();
            match self.submit_block(block)? {
                Accepted::Connected => hashes.push(hash),
                other => anyhow::bail!("generated block {hash} was not connected: {other:?}"),
            }
        }
        Ok(hashes)
    }

    /// Starts the miners (if mining is on) and a keeper thread that refreshes their template
    /// when the mempool changes and applies dev pacing.
    ///
    /// # Errors
    /// The miner's thread pool cannot start.
    pub fn start_mining(self: &Arc<Self>) -> anyhow::Result<()> {
        if self.reward_account().is_none() {
            *lock(&self.reward) = reward_account(&self.settings, true)?;
        }
        let weak: Weak<Node> = Arc::downgrade(self);
        let miner = Miner::start(self.settings.threads, move |block| {
            if let Some(node) = weak.upgrade() {
                let hash = block.header.hash();
                match node.submit_block(block) {
                    Ok(accepted) => tracing::info!(%hash, ?accepted, "mined a block"),
                    Err(e) => tracing::warn!(%hash, error = %e, "a mined block was refused"),
                }
            }
        })?;
        tracing::info!(threads = miner.threads(), kernel = ?miner.kernel(), "miners ready");
        *lock(&self.miner) = Some(miner);
        let weak = Arc::downgrade(self);
        std::thread::Builder::new().name("template-keeper".into()).spawn(move || {
            let mut last_report = std::time::Instant::now();
            while let Some(node) = weak.upgrade() {
                if lock(&node.miner).is_none() {
                    break;
                }
                node.refresh_template(false);
                node.mempool().expire(unix_now());
                if last_report.elapsed() >= HASHRATE_LOG_EVERY && node.mining_enabled() {
                    let (rate, threads) = node.hashrate();
                    tracing::info!(mhs = format!("{:.2}", rate / 1e6), threads, height = node.height().0, "mining");
                    last_report = std::time::Instant::now();
                }
                drop(node);
                std::thread::sleep(Duration::from_millis(250));
            }
        })?;
        self.refresh_template(true);
        Ok(())
    }

    /// Gives the miners a fresh template when the tip changed (`force`) or the mempool did, or
    /// pauses them (mining off, or dev pacing: wait a spacing after the tip).
    pub fn refresh_template(&self, force: bool) {
        let miner = lock(&self.miner);
        let Some(miner) = miner.as_ref() else { return };
        if !self.mining_enabled.load(Ordering::Relaxed) {
            miner.set_template(None);
            *lock(&self.template_source) = None;
            return;
        }
        let (tip, tip_time) = {
            let chain = self.chain_read();
            (chain.tip_hash(), chain.tip().header.time)
        };
        if self.params.network == oxcoin::Network::Dev
            && unix_now() < u64::from(tip_time) + self.params.target_spacing as u64
        {
            // Dev pacing (a miner policy): wait until the spacing has passed since the tip.
            miner.set_template(None);
            *lock(&self.template_source) = None;
            return;
        }
        let generation = self.mempool_generation.load(Ordering::Relaxed);
        let source = Some((tip, generation));
        let mut current = lock(&self.template_source);
        let stale = match *current {
            None => true,
            Some((t, _)) if t != tip => true,
            Some(_) => force || *current != source,
        };
        if !stale {
            return;
        }
        let Some(reward) = self.reward_account() else { return };
        match self
            .block_template(reward)
            .map_err(anyhow::Error::from)
            .and_then(|block| Template::new(block, self.params.pow_limit).map_err(anyhow::Error::from))
        {
            Ok(template) => {
                miner.set_template(Some(template));
                *current = source;
            }
            Err(e) => tracing::error!(error = %e, "cannot build a block template"),
        }
    }

    /// Turns mining on or off, starting the miners if this node was started without them.
    ///
    /// # Errors
    /// The miners' thread pool cannot start.
    pub fn set_mining(self: &Arc<Self>, enabled: bool) -> anyhow::Result<()> {
        self.mining_enabled.store(enabled, Ordering::Relaxed);
        if enabled && lock(&self.miner).is_none() {
            return self.start_mining();
        }
        self.refresh_template(true);
        Ok(())
    }

    /// Whether mining is on.
    pub fn mining_enabled(&self) -> bool {
        self.mining_enabled.load(Ordering::Relaxed) && lock(&self.miner).is_some()
    }

    /// Hashes per second over the last seconds, and the thread count.
    pub fn hashrate(&self) -> (f64, usize) {
        lock(&self.miner).as_ref().map_or((0.0, 0), |m| (m.hashrate(), m.threads()))
    }

    /// Stops the miners and saves the mempool.
    pub fn shutdown(&self) {
        // Take the miner out first: a worker finishing a block needs this lock to refresh its
        // template, and `stop` waits for the workers.
        let miner = lock(&self.miner).take();
        if let Some(miner) = miner {
            miner.stop();
        }
        // A reload still running stops after its current part; what it had not reloaded is
        // saved too, for the next start.
        self.reload_stop.store(true, Ordering::Relaxed);
        let reload = lock(&self.reload).take();
        let unreloaded = reload.and_then(|handle| handle.join().ok()).unwrap_or_default();
        match self.save_mempool(&unreloaded) {
            Ok(()) => tracing::info!(pending = self.mempool().len(), unreloaded = unreloaded.len(), "mempool saved"),
            Err(e) => tracing::error!(error = %e, "saving the mempool failed"),
        }
    }

    /// The immature rewards of `account` on the best chain.
    pub fn immature(&self, account: &AccountId) -> Amount {
        self.chain_read().immature_rewards(account)
    }

    /// Height of the best chain.
    pub fn height(&self) -> Height {
        self.chain_read().height()
    }
}

/// Writes `bytes` to `path` through a temp file in the same folder, fsyncs it, sets `mode`,
/// and renames it into place, so a crash leaves the old file or the new one, never a mix.
///
/// # Errors
/// The I/O error.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp: PathBuf =
        dir.join(format!(".{}.tmp{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("file"), std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// File name of the wallet the node creates when it mines without a reward address.
pub const DEFAULT_WALLET: &str = "default.json";

/// The configured reward address, or the default wallet's; when `create` is set and that wallet
/// does not exist, creates it (once, unencrypted, mode 0600) and says so in the log.
///
/// # Errors
/// An unreadable keyfile, one of another network, or a failure to write the new one.
pub fn reward_account(settings: &Settings, create: bool) -> anyhow::Result<Option<AccountId>> {
    if let Some(address) = &settings.reward_address {
        return Ok(Some(address.account()));
    }
    let path = settings.network_dir().join(DEFAULT_WALLET);
    if path.exists() {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let keyfile = Keyfile::from_json(&bytes).with_context(|| format!("reading keyfile {}", path.display()))?;
        if keyfile.network() != settings.network {
            anyhow::bail!("keyfile {} belongs to network {}", path.display(), keyfile.network());
        }
        return Ok(Some(keyfile.address().account()));
    }
    if !create {
        // Not mining: keep the folder free of a wallet nobody asked for.
        return Ok(None);
    }
    let secret = zeroize::Zeroizing::new(crate::random_bytes::<32>()?);
    let key = ed25519_dalek::SigningKey::from_bytes(&secret);
    let keyfile = Keyfile::new_plain("default", settings.network, &key)?;
    write_atomically(&path, &keyfile.to_json(), 0o600).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        wallet = %path.display(),
        address = %keyfile.address(),
        "created an UNENCRYPTED default wallet for the block rewards; encrypt it with: oxwallet --network {} --data-dir {} encrypt --wallet default",
        settings.network,
        settings.data_dir.display()
    );
    Ok(Some(keyfile.address().account()))
}

/// The transfers of `blocks`, in order.
fn transfers_of(blocks: &[Block]) -> impl Iterator<Item = &Transfer> {
    blocks.iter().flat_map(|b| b.txs.iter().filter_map(Tx::as_transfer))
}

#[cfg(test)]
mod tests;
