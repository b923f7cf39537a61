//! The chain: the in-memory block index over the store, the one acceptance pipeline (cheapest
//! checks first), fork choice by most cumulative work, reorgs through undo data, invalid
//! marking, and a bounded pool of orphan blocks.
//!
//! Pipeline of [`Chain::process_block`] (SPEC §6 order): size → already known → proof of work →
//! parent known (else orphan) → parent valid → bits, time → Merkle root and the other body checks
//! → store; if the block's branch now has the most work, the store switches to it in one write
//! transaction (disconnect to the fork point, connect the branch, each block checked against the
//! state it builds on) that commits durably or not at all.
//!
//! Invalid marking: a failure of the header itself (proof of work is never stored; bits, median
//! time) or of a body that matches the header's Merkle root marks the hash invalid for good,
//! with its descendants. A body that does not match its header (`bad_merkle_root`) marks nothing:
//! the right body for that hash may still arrive. `time_too_new` marks nothing either: the same
//! block becomes valid as the clock advances.

use crate::store::{BlockStatus, IndexEntry, Store, StoreError, coinbase_of};
use oxcoin::address::AccountId;
use oxcoin::block::Block;
use oxcoin::encode::Encode;
use oxcoin::hash::{BlockHash, Txid};
use oxcoin::params::ChainParams;
use oxcoin::rules::{self, BlockContext, BlockError, ParentInfo, TransferError};
use oxcoin::signature;
use oxcoin::tx::{Transfer, Tx};
use oxcoin::{ErrorCode, Height};
use rayon::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::path::Path;

/// Most orphan blocks kept while their parents are missing.
pub const MAX_ORPHANS: usize = 64;

/// Why the chain refused a block.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The block breaks a consensus rule.
    #[error(transparent)]
    Rule(#[from] BlockError),
    /// The block is already known to be invalid.
    #[error("block {hash} is known to be invalid ({code})")]
    KnownInvalid {
        /// The block.
        hash: BlockHash,
        /// Why it was marked.
        code: ErrorCode,
    },
    /// The block builds on a block known to be invalid.
    #[error("block builds on invalid block {parent}")]
    BadPrevBlock {
        /// The invalid parent.
        parent: BlockHash,
    },
    /// The store failed: not the block's fault.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ChainError {
    /// Returns the API code, or `None` for a failure of the node itself.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ChainError::Rule(e) => Some(e.code()),
            ChainError::KnownInvalid { code, .. } => Some(*code),
            ChainError::BadPrevBlock { .. } => Some(ErrorCode::BadPrevBlock),
            ChainError::Store(_) => None,
        }
    }
}

/// What became of a submitted block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Accepted {
    /// It is now part of the best chain.
    Connected,
    /// Stored on a side branch with less work; it may win later.
    Side,
    /// Its parent is unknown: kept in the orphan pool.
    Orphan,
    /// Already stored.
    Known,
}

/// Blocks that left and joined the best chain, in the order it happened (for the mempool,
/// relay and miners).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainUpdate {
    /// Blocks disconnected, tip first.
    pub disconnected: Vec<Block>,
    /// Blocks connected, lowest first.
    pub connected: Vec<Block>,
}

impl ChainUpdate {
    fn extend(&mut self, other: ChainUpdate) {
        self.disconnected.extend(other.disconnected);
        self.connected.extend(other.connected);
    }

    /// Adds `later`, an update that happened after this one, so that the result is their net
    /// effect: a block that joined and then left again (or the reverse) appears in neither list.
    pub fn then(&mut self, later: ChainUpdate) {
        for block in later.disconnected {
            let hash = block.header.hash();
            match self.connected.iter().rposition(|b| b.header.hash() == hash) {
                Some(at) => drop(self.connected.remove(at)),
                None => self.disconnected.push(block),
            }
        }
        for block in later.connected {
            let hash = block.header.hash();
            match self.disconnected.iter().rposition(|b| b.header.hash() == hash) {
                Some(at) => drop(self.disconnected.remove(at)),
                None => self.connected.push(block),
            }
        }
    }

    /// Returns whether the tip changed.
    pub fn is_empty(&self) -> bool {
        self.disconnected.is_empty() && self.connected.is_empty()
    }
}

/// A failure while switching to a branch: which block broke which rule.
enum SwitchError {
    Invalid { hash: BlockHash, error: BlockError },
    Store(StoreError),
}

impl From<StoreError> for SwitchError {
    fn from(e: StoreError) -> Self {
        SwitchError::Store(e)
    }
}

/// Blocks whose parent is not known yet, bounded, oldest evicted first.
#[derive(Debug, Default)]
struct OrphanPool {
    blocks: HashMap<BlockHash, Block>,
    by_parent: HashMap<BlockHash, Vec<BlockHash>>,
    order: VecDeque<BlockHash>,
}

impl OrphanPool {
    fn contains(&self, hash: &BlockHash) -> bool {
        self.blocks.contains_key(hash)
    }

    fn insert(&mut self, hash: BlockHash, block: Block) {
        if self.blocks.contains_key(&hash) {
            return;
        }
        while self.blocks.len() >= MAX_ORPHANS {
            let Some(oldest) = self.order.pop_front() else { break };
            self.remove(&oldest);
        }
        self.by_parent.entry(block.header.prev_hash).or_default().push(hash);
        self.order.push_back(hash);
        self.blocks.insert(hash, block);
    }

    fn remove(&mut self, hash: &BlockHash) -> Option<Block> {
        let block = self.blocks.remove(hash)?;
        if let Some(siblings) = self.by_parent.get_mut(&block.header.prev_hash) {
            siblings.retain(|h| h != hash);
            if siblings.is_empty() {
                self.by_parent.remove(&block.header.prev_hash);
            }
        }
        self.order.retain(|h| h != hash);
        Some(block)
    }

    fn take_children(&mut self, parent: &BlockHash) -> Vec<Block> {
        let children = self.by_parent.get(parent).cloned().unwrap_or_default();
        children.iter().filter_map(|h| self.remove(h)).collect()
    }
}

/// The block index and best chain over a [`Store`].
#[derive(Debug)]
pub struct Chain {
    params: &'static ChainParams,
    store: Store,
    index: HashMap<BlockHash, IndexEntry>,
    /// Best chain: hash by height.
    main: Vec<BlockHash>,
    orphans: OrphanPool,
    rejected: RejectedHeaders,
    /// Txids whose stateless checks and signature already passed (a sync verifies a downloaded
    /// batch ahead, off the chain); set by [`Chain::batch_verified`] for its run only.
    verified: std::collections::HashSet<Txid>,
}

/// Most refused header hashes remembered (in memory only).
const REJECTED_HEADERS: usize = 4_096;

/// Hashes of recently refused headers, which are never stored (cheap to make), so that their
/// children are refused with `bad_prev_block` instead of waiting as orphans. Bounded: the
/// oldest are forgotten first.
#[derive(Debug, Default)]
struct RejectedHeaders {
    set: std::collections::HashSet<BlockHash>,
    order: std::collections::VecDeque<BlockHash>,
}

impl RejectedHeaders {
    fn insert(&mut self, hash: BlockHash) {
        if self.set.insert(hash) {
            self.order.push_back(hash);
            if self.order.len() > REJECTED_HEADERS
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }

    fn contains(&self, hash: &BlockHash) -> bool {
        self.set.contains(hash)
    }
}

impl Chain {
    /// Opens the store at `path` (creating it with the genesis block) with the default page
    /// cache and loads the index. Never replays the chain: the state is read as stored.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be opened or is inconsistent.
    pub fn open(path: &Path, params: &'static ChainParams) -> Result<Self, StoreError> {
        Self::open_with_cache(path, params, crate::store::DEFAULT_CACHE_BYTES)
    }

    /// [`Chain::open`] with a page cache of `cache_bytes` (the node's `db_cache_mib`).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be opened or is inconsistent.
    pub fn open_with_cache(path: &Path, params: &'static ChainParams, cache_bytes: usize) -> Result<Self, StoreError> {
        let genesis = params.genesis_block();
        let store = Store::open(path, &genesis, params.network.as_str(), cache_bytes)?;
        let index = store.load_index()?;
        let main = store.load_main_chain()?;
        if main.first() != Some(&genesis.header.hash()) {
            return Err(StoreError::Incompatible("does not start at this network's genesis block".into()));
        }
        if let Some(missing) = main.iter().find(|h| !index.contains_key(h)) {
            return Err(StoreError::Corrupt { table: "main_chain", reason: format!("{missing} has no index entry") });
        }
        Ok(Self {
            params,
            store,
            index,
            main,
            orphans: OrphanPool::default(),
            rejected: RejectedHeaders::default(),
            verified: std::collections::HashSet::new(),
        })
    }

    /// The chain's parameters.
    pub fn params(&self) -> &'static ChainParams {
        self.params
    }

    /// The store, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The best chain's tip hash.
    pub fn tip_hash(&self) -> BlockHash {
        *self.main.last().expect("the best chain always holds genesis")
    }

    /// The best chain's tip entry.
    pub fn tip(&self) -> &IndexEntry {
        &self.index[&self.tip_hash()]
    }

    /// Height of the tip.
    pub fn height(&self) -> Height {
        Height(self.main.len() as u64 - 1)
    }

    /// Hash of the best-chain block at `height`.
    pub fn hash_at(&self, height: Height) -> Option<BlockHash> {
        usize::try_from(height.0).ok().and_then(|h| self.main.get(h)).copied()
    }

    /// Index entry of any stored block.
    pub fn entry(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.index.get(hash)
    }

    /// Returns whether `hash` is on the best chain.
    pub fn is_on_main_chain(&self, hash: &BlockHash) -> bool {
        self.index.get(hash).is_some_and(|e| self.hash_at(e.height) == Some(*hash))
    }

    /// Number of blocks in the orphan pool.
    pub fn orphan_count(&self) -> usize {
        self.orphans.blocks.len()
    }

    /// Rewards on the best chain not yet credited to `account`: coinbases of the last
    /// `maturity` blocks.
    pub fn immature_rewards(&self, account: &AccountId) -> oxcoin::Amount {
        let from = self.main.len().saturating_sub(self.params.coinbase_maturity as usize);
        let amounts = self.main[from..].iter().map(|h| self.index[h].coinbase).filter(|(to, _)| to == account);
        oxcoin::Amount::checked_sum(amounts.map(|(_, amount)| amount)).unwrap_or(oxcoin::Amount::MAX)
    }

    /// The context the child of `parent` is judged in, at clock `now`.
    pub fn context_for(&self, parent: &BlockHash, now: u64) -> Option<BlockContext> {
        let entry = self.index.get(parent)?;
        let height = Height(entry.height.0 + 1);
        let mut times = Vec::with_capacity(self.params.median_time_span);
        let mut cursor = Some(entry);
        while let Some(e) = cursor {
            times.push(e.header.time);
            if times.len() == self.params.median_time_span || e.height == Height::GENESIS {
                break;
            }
            cursor = self.index.get(&e.header.prev_hash);
        }
        let matured_reward = match rules::matured_reward_height(height, self.params) {
            Some(h) => Some(self.ancestor_at(parent, h)?.coinbase),
            None => None,
        };
        Some(BlockContext {
            height,
            required_bits: rules::required_bits(
                ParentInfo { height: entry.height, time: entry.header.time },
                self.params,
            ),
            median_time_past: rules::median_time_past(&times),
            now,
            matured_reward,
        })
    }

    /// The ancestor of `hash` (or itself) at `height`.
    fn ancestor_at(&self, hash: &BlockHash, height: Height) -> Option<&IndexEntry> {
        let mut entry = self.index.get(hash)?;
        if entry.height < height {
            return None;
        }
        // On the best chain the answer is one lookup away.
        if self.is_on_main_chain(hash) {
            return self.hash_at(height).and_then(|h| self.index.get(&h));
        }
        while entry.height > height {
            entry = self.index.get(&entry.header.prev_hash)?;
        }
        Some(entry)
    }

    /// Runs `f` on the chain with the store's commits deferred to one durable commit at the end
    /// ([`Store::set_deferred`]); `&mut self` keeps readers out until then.
    ///
    /// # Errors
    /// The final durable commit fails.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Result<T, StoreError> {
        self.batch_verified(std::collections::HashSet::new(), f)
    }

    /// [`Chain::batch`], with `verified`: txids whose [`rules::transfer_precheck`] already
    /// passed, so the pipeline does not check their signatures again. A txid commits to every
    /// byte of its transfer, signature included, so the skipped check would give the same
    /// answer; the state checks still run for every transfer.
    ///
    /// # Errors
    /// The final durable commit fails.
    pub fn batch_verified<T>(
        &mut self,
        verified: std::collections::HashSet<Txid>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> Result<T, StoreError> {
        self.verified = verified;
        self.store.set_deferred(true)?;
        let out = f(self);
        self.verified.clear();
        self.store.set_deferred(false)?;
        Ok(out)
    }

    /// Runs a block through the acceptance pipeline and, if its branch has the most work, makes
    /// it the tip; then does the same for orphans waiting on it. The update lists every block
    /// that left or joined the best chain, even when the block itself is refused (a refused
    /// branch can leave a better valid prefix behind).
    ///
    /// # Errors
    /// [`ChainError`] naming the first rule the block breaks, or a store failure.
    pub fn process_block(&mut self, block: Block, now: u64) -> (Result<Accepted, ChainError>, ChainUpdate) {
        let hash = block.header.hash();
        let mut update = ChainUpdate::default();
        let accepted = self.accept(block, hash, now, &mut update);
        if let Ok(Accepted::Connected | Accepted::Side) = accepted {
            // Orphans waiting on this block can now be judged; their failures are their own.
            let mut waiting = vec![hash];
            while let Some(parent) = waiting.pop() {
                for child in self.orphans.take_children(&parent) {
                    let child_hash = child.header.hash();
                    match self.accept(child, child_hash, now, &mut update) {
                        Ok(Accepted::Connected | Accepted::Side) => waiting.push(child_hash),
                        Ok(_) => {}
                        Err(e) => tracing::debug!(block = %child_hash, error = %e, "orphan refused"),
                    }
                }
            }
        }
        (accepted, update)
    }

    fn accept(
        &mut self,
        block: Block,
        hash: BlockHash,
        now: u64,
        update: &mut ChainUpdate,
    ) -> Result<Accepted, ChainError> {
        let size = block.encoded_len();
        rules::block_size_is_valid(size, self.params)?;
        match self.index.get(&hash).map(|e| e.status) {
            Some(BlockStatus::Valid) => return Ok(Accepted::Known),
            Some(BlockStatus::Invalid(code)) => return Err(ChainError::KnownInvalid { hash, code }),
            None => {}
        }
        if self.orphans.contains(&hash) {
            return Ok(Accepted::Orphan);
        }
        block.header.validate_pow(self.params.pow_limit).map_err(BlockError::from)?;
        let parent_hash = block.header.prev_hash;
        let Some(parent) = self.index.get(&parent_hash).copied() else {
            if self.rejected.contains(&parent_hash) {
                self.rejected.insert(hash);
                return Err(ChainError::BadPrevBlock { parent: parent_hash });
            }
            // SPEC's order answers "orphan" before the Merkle check, but only a body that
            // matches its header is kept: a wrong body first must not stand in for the block.
            if block.compute_merkle_root() == block.header.merkle_root {
                self.orphans.insert(hash, block);
            }
            return Ok(Accepted::Orphan);
        };
        let coinbase = coinbase_of(&block);
        let entry = IndexEntry {
            header: block.header,
            height: Height(parent.height.0 + 1),
            chain_work: parent.chain_work.checked_add(block_work(&block)).unwrap_or(parent.chain_work),
            status: BlockStatus::Valid,
            coinbase,
            size: size as u32,
            tx_count: block.txs.len() as u32,
        };
        // Header failures are refused without storing anything (Bitcoin Core's
        // AcceptBlockHeader): their proof of work need only meet the bits they claim, so they
        // are cheap to make, and storing them would let anyone grow the store for free.
        // A short in-memory list of them still answers their children with `bad_prev_block`.
        if let BlockStatus::Invalid(_) = parent.status {
            self.rejected.insert(hash);
            return Err(ChainError::BadPrevBlock { parent: parent_hash });
        }
        let ctx = self.context_for(&parent_hash, now).expect("the parent is indexed");
        if let Err(error) = rules::header_context_is_valid(&block.header, &ctx, self.params) {
            if error.is_header_failure() {
                self.rejected.insert(hash);
            }
            return Err(error.into());
        }
        let txids = block.txids();
        if let Err(error) = rules::block_body_is_valid(&block, &txids, ctx.height) {
            // Past the Merkle check the body is the one the header commits to: its failure is the hash's.
            if !matches!(error, BlockError::BadMerkleRoot { .. }) {
                self.mark_new_invalid(hash, entry, error.code())?;
            }
            return Err(error.into());
        }
        if entry.chain_work <= self.tip().chain_work {
            self.store.put_block(&hash, &entry, &block.encode())?;
            self.index.insert(hash, entry);
            return Ok(Accepted::Side);
        }
        self.activate(hash, Some((block, entry)), update).map(|()| Accepted::Connected)
    }

    /// Stores a block that failed a rule as invalid, so its hash is refused from now on.
    fn mark_new_invalid(&mut self, hash: BlockHash, entry: IndexEntry, code: ErrorCode) -> Result<(), StoreError> {
        let entry = IndexEntry { status: BlockStatus::Invalid(code), ..entry };
        self.store.put_entries(&[(hash, entry)])?;
        self.index.insert(hash, entry);
        Ok(())
    }

    /// Switches the best chain to the branch ending at `target` (storing `new`, the target
    /// block itself, if it is not stored yet). When a block of the branch breaks a rule, it and
    /// its descendants are marked invalid and the best valid chain is chosen again.
    fn activate(
        &mut self,
        target: BlockHash,
        new: Option<(Block, IndexEntry)>,
        update: &mut ChainUpdate,
    ) -> Result<(), ChainError> {
        let (hash, error) = match self.switch_to(target, new.as_ref()) {
            Ok(switched) => {
                if let Some((_, entry)) = new {
                    self.index.insert(target, entry);
                }
                update.extend(switched);
                return Ok(());
            }
            Err(SwitchError::Store(e)) => return Err(e.into()),
            Err(SwitchError::Invalid { hash, error }) => (hash, error),
        };
        // Nothing was written. Keep the new block so its hash is known, then mark the failing
        // block and everything built on it.
        if let Some((block, entry)) = &new {
            self.store.put_block(&target, entry, &block.encode())?;
            self.index.insert(target, *entry);
        }
        self.mark_invalid_with_descendants(hash, error.code())?;
        // The valid part of the branch may still have more work than the tip.
        let best = self.best_valid_candidate();
        if self.index[&best].chain_work > self.tip().chain_work {
            self.activate(best, None, update)?;
        }
        Err(if hash == target { error.into() } else { ChainError::BadPrevBlock { parent: hash } })
    }

    /// The valid stored block with the most work (ties: the current tip, then any).
    fn best_valid_candidate(&self) -> BlockHash {
        let tip = self.tip_hash();
        self.index
            .iter()
            .filter(|(_, e)| e.status == BlockStatus::Valid)
            .max_by(|(ha, a), (hb, b)| a.chain_work.cmp(&b.chain_work).then((**ha == tip).cmp(&(**hb == tip))))
            .map_or(tip, |(h, _)| *h)
    }

    fn mark_invalid_with_descendants(&mut self, hash: BlockHash, code: ErrorCode) -> Result<(), StoreError> {
        let Some(height) = self.index.get(&hash).map(|e| e.height) else { return Ok(()) };
        let mut children: HashMap<BlockHash, Vec<BlockHash>> = HashMap::new();
        for (h, e) in self.index.iter().filter(|(_, e)| e.height > height) {
            children.entry(e.header.prev_hash).or_default().push(*h);
        }
        let mut entries = Vec::new();
        let mut queue = vec![(hash, code)];
        while let Some((h, why)) = queue.pop() {
            if let Some(e) = self.index.get_mut(&h) {
                e.status = BlockStatus::Invalid(why);
                entries.push((h, *e));
            }
            queue.extend(children.remove(&h).unwrap_or_default().into_iter().map(|c| (c, ErrorCode::BadPrevBlock)));
        }
        self.store.put_entries(&entries)
    }

    /// The branch from the fork point with the best chain (exclusive) to `target` (inclusive).
    fn branch_to(&self, target: BlockHash) -> (Height, Vec<BlockHash>) {
        let mut branch = Vec::new();
        let mut cursor = target;
        while !self.is_on_main_chain(&cursor) {
            branch.push(cursor);
            cursor = self.index[&cursor].header.prev_hash;
        }
        branch.reverse();
        (self.index[&cursor].height, branch)
    }

    /// In one write transaction: disconnects the best chain down to the fork point, then
    /// connects the branch to `target`, checking each block against the state it builds on.
    fn switch_to(&mut self, target: BlockHash, new: Option<&(Block, IndexEntry)>) -> Result<ChainUpdate, SwitchError> {
        let (fork_height, branch) = match new {
            // The new block is not indexed yet: branch to its parent, then add it.
            Some((block, _)) => {
                let (fork, mut branch) = self.branch_to(block.header.prev_hash);
                branch.push(target);
                (fork, branch)
            }
            None => self.branch_to(target),
        };
        let params = self.params;
        let verified = &self.verified;
        let mut update = ChainUpdate::default();
        let mut contexts = Vec::with_capacity(branch.len());
        // Contexts come from the index alone; compute them before borrowing the store.
        for hash in &branch {
            let prev = match new {
                Some((block, _)) if *hash == target => block.header.prev_hash,
                _ => self.index[hash].header.prev_hash,
            };
            // Each block's time was checked against the clock when it arrived; a reorg does not
            // judge it against the clock again.
            let ctx = self.context_for(&prev, u64::MAX).ok_or_else(|| {
                SwitchError::Store(StoreError::Corrupt { table: "index", reason: format!("no parent for {hash}") })
            })?;
            contexts.push(ctx);
        }
        let store = &self.store;
        let main = &self.main;
        store.write(|w| {
            for height in ((fork_height.0 + 1)..main.len() as u64).rev() {
                let hash = main[height as usize];
                let block = w.block(&hash)?.ok_or_else(|| StoreError::Corrupt {
                    table: "blocks",
                    reason: format!("best-chain block {hash} is missing"),
                })?;
                w.disconnect(&block, &hash, Height(height))?;
                update.disconnected.push(block);
            }
            for (hash, ctx) in branch.iter().zip(&contexts) {
                let block = match new {
                    Some((block, entry)) if *hash == target => {
                        w.put_block(hash, entry, &block.encode())?;
                        block.clone()
                    }
                    _ => w.block(hash)?.ok_or_else(|| StoreError::Corrupt {
                        table: "blocks",
                        reason: format!("indexed block {hash} is missing"),
                    })?,
                };
                let state = w.accounts(touched_accounts(&block, ctx))?;
                let changes = rules::check_block(&block, ctx, params, &state, |transfers, txids| {
                    precheck_unverified(transfers, txids, params, verified)
                })
                .map_err(|error| SwitchError::Invalid { hash: *hash, error })?;
                w.connect(&block, hash, ctx.height, &changes)?;
                update.connected.push(block);
            }
            Ok::<_, SwitchError>(())
        })?;
        self.main.truncate(fork_height.0 as usize + 1);
        self.main.extend(branch);
        Ok(update)
    }
}

/// Work of a block's own target (zero for bits that do not decode, which never get this far).
fn block_work(block: &Block) -> oxcoin::pow::Work {
    block.header.bits.to_target().map(|t| t.to_work()).unwrap_or_default()
}

/// Every account a block's state checks read: senders, recipients and the matured reward's.
fn touched_accounts(block: &Block, ctx: &BlockContext) -> Vec<AccountId> {
    let mut ids = Vec::with_capacity(block.txs.len() * 2 + 1);
    ids.extend(ctx.matured_reward.map(|(to, _)| to));
    for tx in &block.txs {
        if let Tx::Transfer(t) = tx {
            ids.push(t.sender());
            ids.push(t.to);
        }
    }
    ids
}

/// [`precheck_parallel`] for the transfers whose txid (`txids`, in the same order) is not in
/// `verified` (already checked), `Ok` for the rest.
fn precheck_unverified(
    transfers: &[&Transfer],
    txids: &[Txid],
    params: &ChainParams,
    verified: &std::collections::HashSet<Txid>,
) -> Vec<Result<(), TransferError>> {
    if verified.is_empty() {
        return precheck_parallel(transfers, params);
    }
    let unchecked: Vec<(usize, &Transfer)> = transfers
        .iter()
        .zip(txids)
        .enumerate()
        .filter(|(_, (_, txid))| !verified.contains(txid))
        .map(|(i, (t, _))| (i, *t))
        .collect();
    let mut results = vec![Ok(()); transfers.len()];
    let checked = precheck_parallel(&unchecked.iter().map(|(_, t)| *t).collect::<Vec<_>>(), params);
    for ((i, _), result) in unchecked.iter().zip(checked) {
        results[*i] = result;
    }
    results
}

/// Runs the stateless checks and signature of every transfer on rayon's pool, in chunks of
/// [`signature::BATCH`] whose signatures are checked together ([`rules::transfer_prechecks`]).
pub fn precheck_parallel(transfers: &[&Transfer], params: &ChainParams) -> Vec<Result<(), TransferError>> {
    transfers.par_chunks(signature::BATCH).flat_map_iter(|chunk| rules::transfer_prechecks(chunk, params)).collect()
}

#[cfg(test)]
mod tests;
