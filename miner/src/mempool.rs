//! The mempool: pending transfers judged against the state the next block would see.
//!
//! Plain logic with no I/O, no clock and no locks (only [`precheck_saved`] fans out on rayon's
//! pool): times come in as Unix seconds,
//! the account state comes in as an [`AccountState`], and the node wraps the pool in its own
//! lock. Signature checks can run outside that lock: [`precheck`] first, then
//! [`Mempool::insert_prechecked`] under the lock; [`Mempool::insert`] does both.
//!
//! Decisions worth knowing (SPEC §4 leaves them open):
//! - **Funds** are judged per sender against its balance alone (incoming pending transfers do
//!   not count): the sum of amount + fee over all of the sender's pending transfers from its
//!   state nonce on, gapped ones included, must stay within its balance. For a transfer appended
//!   at the end of its queue this is exactly "the balance covers every pending transfer up to
//!   this one". A replacement or a gap fill that would leave a *later* pending transfer
//!   unfundable is refused with `insufficient_funds` rather than silently dropping that later
//!   transfer, so the pool never holds a transfer it could not mine.
//! - **Eviction** only ever takes the tail (highest nonce) of a sender queue, so no remaining
//!   transfer loses its predecessor; the newcomer's own sender is never a candidate. Every
//!   evicted transfer must pay a strictly lower fee rate than the newcomer.
//! - **Expiry** drops a transfer once it is more than 24 h old (kept at exactly 24 h), and with
//!   it every later nonce of the same sender, which could no longer be mined in order.
//! - **Templates** ([`Mempool::select`]) re-check each transfer against a [`StateOverlay`], so
//!   a stale pool can never produce an invalid block.
//! - **Suggested fee rate**: the fee rate at the byte midpoint of the best block's worth of
//!   pending transfers, rounded up to whole grains per byte; the minimum fee rate when the pool
//!   does not fill a block (everything pending would fit in the next one).

use oxcoin::encode::{Decode, DecodeError, Encode, Reader};
use oxcoin::rules::{self, Account, AccountState, StateOverlay, TransferError};
use oxcoin::tx::TRANSFER_BASE_LEN;
use oxcoin::{AccountId, Amount, ChainParams, ErrorCode, Transfer, Txid};
use rayon::prelude::*;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::fmt;

/// How far past the sender's state nonce a pending transfer may be: nonces in
/// `[N, N + NONCE_WINDOW)` are accepted.
pub const NONCE_WINDOW: u64 = 64;
/// Age in seconds past which a pending transfer expires (24 h).
pub const EXPIRY_SECS: u64 = 24 * 60 * 60;
/// Default bound on the number of pending transfers.
pub const DEFAULT_MAX_COUNT: usize = 100_000;
/// Default bound on the sum of the pending transfers' encoded sizes (64 MiB).
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Bytes a block spends on each transaction's length prefix.
pub const BLOCK_LENGTH_PREFIX: usize = 2;
/// First bytes of a mempool file.
pub const FILE_MAGIC: [u8; 4] = *b"OXMP";
/// Version of the mempool file format this code writes and reads.
pub const FILE_VERSION: u32 = 1;
/// Smallest entry of a mempool file: received time, length, a transfer with an empty memo.
const FILE_ENTRY_MIN_LEN: usize = 8 + 2 + TRANSFER_BASE_LEN;

/// Returns the pool's verdict on a transfer that needs no state: oxcoin's
/// [`rules::transfer_precheck`] (chain id, memo, amount, fee, then signature). Needs no lock,
/// so the node runs it before [`Mempool::insert_prechecked`].
///
/// # Errors
/// [`MempoolError::Rule`] with the first failing stateless rule.
pub fn precheck(transfer: &Transfer, params: &ChainParams) -> Result<(), MempoolError> {
    rules::transfer_precheck(transfer, params).map_err(MempoolError::Rule)
}

/// Runs the checks of [`precheck`] over saved entries (`(transfer, received time)`, as
/// [`Mempool::from_bytes`] reads them) on rayon's pool ([`crate::chain::precheck_parallel`]),
/// and returns those that pass with their txids, in their original order: the input of
/// [`Mempool::reload_prechecked`]. Needs no lock.
pub fn precheck_saved(entries: Vec<(Transfer, u64)>, params: &ChainParams) -> Vec<(Transfer, Txid, u64)> {
    let checked = crate::chain::precheck_parallel(&entries.iter().map(|(t, _)| t).collect::<Vec<_>>(), params);
    entries
        .into_par_iter()
        .zip(checked)
        .filter_map(|((transfer, received), checked)| {
            checked.ok()?;
            let txid = transfer.txid();
            Some((transfer, txid, received))
        })
        .collect()
}

/// Writes a mempool file: magic `OXMP`, `u32` version 1, `u32` count, then per entry `u64`
/// received time, `u16` length and the transfer's canonical encoding (all integers
/// little-endian). Read back with [`Mempool::from_bytes`].
pub fn file_bytes<'a>(entries: impl Iterator<Item = (&'a Transfer, u64)>) -> Vec<u8> {
    let written: Vec<(&Transfer, u64, u16)> = entries
        .filter_map(|(t, received)| u16::try_from(t.encoded_len()).ok().map(|len| (t, received, len)))
        .take(u32::MAX as usize)
        .collect();
    let mut out = Vec::with_capacity(written.iter().map(|(_, _, len)| usize::from(*len) + 10).sum::<usize>() + 12);
    out.extend_from_slice(&FILE_MAGIC);
    out.extend_from_slice(&FILE_VERSION.to_le_bytes());
    out.extend_from_slice(&u32::try_from(written.len()).unwrap_or(u32::MAX).to_le_bytes());
    for (transfer, received, len) in written {
        out.extend_from_slice(&received.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        transfer.encode_to(&mut out);
    }
    out
}

/// A fee rate, fee / encoded size, compared exactly by cross-multiplication.
#[derive(Clone, Copy, Debug)]
pub struct FeeRate {
    fee: u64,
    size: u64,
}

impl FeeRate {
    /// Makes the rate of `fee` over `size` bytes (a size of zero counts as one byte).
    pub fn new(fee: Amount, size: usize) -> Self {
        Self { fee: fee.to_grains(), size: u64::try_from(size).unwrap_or(u64::MAX).max(1) }
    }

    /// Returns the fee rate of `transfer`, over its own encoding.
    pub fn of(transfer: &Transfer) -> Self {
        Self::new(transfer.fee, transfer.encoded_len())
    }

    /// Returns the fee.
    pub const fn fee(self) -> Amount {
        Amount::from_grains(self.fee)
    }

    /// Returns the size in bytes.
    pub const fn size(self) -> u64 {
        self.size
    }

    /// Returns the rate in whole grains per byte, rounded up.
    pub const fn grains_per_byte_ceil(self) -> u64 {
        self.fee.div_ceil(self.size)
    }
}

impl Ord for FeeRate {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.fee) * u128::from(other.size)).cmp(&(u128::from(other.fee) * u128::from(self.size)))
    }
}

impl PartialOrd for FeeRate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for FeeRate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FeeRate {}

impl fmt::Display for FeeRate {
    /// Prints grains per byte with three decimals, truncated: `1.274 grains/byte`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let milli = u128::from(self.fee) * 1000 / u128::from(self.size);
        write!(f, "{}.{:03} grains/byte", milli / 1000, milli % 1000)
    }
}

/// Why the pool refuses a transfer. Variants follow the order of SPEC §6.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The transfer is already pending.
    #[error("transfer is already pending")]
    Duplicate,
    /// The transfer breaks a transfer rule. For `InsufficientFunds`, `amount` and `fee` are the
    /// totals over the sender's pending transfers with this one in place.
    #[error(transparent)]
    Rule(TransferError),
    /// A pending transfer with the same sender and nonce pays a fee this one does not beat by 10 %.
    #[error("a pending transfer with this nonce pays {old_fee:?}: a replacement must pay at least {min_fee:?}")]
    ReplacementUnderpriced {
        /// The pending transfer's fee.
        old_fee: Amount,
        /// The smallest fee that replaces it (1.1 × old fee, rounded up).
        min_fee: Amount,
    },
    /// The pool is full and this transfer's fee rate does not beat what would be evicted.
    #[error("mempool is full: fee rate {fee_rate} must exceed {}", match min_fee_rate {
        Some(rate) => rate.to_string(),
        None => "what the pool holds (nothing can be evicted for it)".to_owned(),
    })]
    Full {
        /// The refused transfer's fee rate.
        fee_rate: FeeRate,
        /// The fee rate it must exceed, or `None` when nothing could be evicted for it.
        min_fee_rate: Option<FeeRate>,
    },
}

impl MempoolError {
    /// Returns the API code of this refusal.
    pub const fn code(&self) -> ErrorCode {
        match self {
            MempoolError::Duplicate => ErrorCode::Duplicate,
            MempoolError::Rule(error) => error.code(),
            MempoolError::ReplacementUnderpriced { .. } => ErrorCode::ReplacementUnderpriced,
            MempoolError::Full { .. } => ErrorCode::MempoolFull,
        }
    }
}

/// Why bytes are not a mempool file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolFileError {
    /// The file does not start with `OXMP`.
    #[error("not a mempool file: it starts with {found:02x?}")]
    BadMagic {
        /// The first four bytes.
        found: [u8; 4],
    },
    /// The file has a version this code cannot read.
    #[error("mempool file version {found} is not supported (this node reads version {FILE_VERSION})")]
    UnsupportedVersion {
        /// The file's version.
        found: u32,
    },
    /// The file announces more entries than its bytes could hold.
    #[error("mempool file announces {count} entries but only {remaining} bytes follow")]
    TooManyEntries {
        /// The announced count.
        count: u32,
        /// Bytes left after the count.
        remaining: usize,
    },
    /// An entry or the file's framing is not a canonical encoding.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Bounds of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Most pending transfers.
    pub max_count: usize,
    /// Largest sum of the pending transfers' encoded sizes, in bytes.
    pub max_bytes: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self { max_count: DEFAULT_MAX_COUNT, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// A pending transfer with what the pool knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The transfer.
    pub transfer: Transfer,
    /// Its txid.
    pub txid: Txid,
    /// Its sender's account.
    pub sender: AccountId,
    /// Its encoded size in bytes.
    pub size: usize,
    /// When the pool received it, Unix seconds.
    pub received: u64,
}

impl Entry {
    /// Returns the fee rate over the transfer's own encoding.
    pub fn fee_rate(&self) -> FeeRate {
        FeeRate::new(self.transfer.fee, self.size)
    }

    fn spend(&self) -> u128 {
        u128::from(self.transfer.amount.to_grains()) + u128::from(self.transfer.fee.to_grains())
    }
}

/// What an accepted transfer changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inserted {
    /// The accepted transfer's txid.
    pub txid: Txid,
    /// The pending transfer it replaced (same sender and nonce), if any.
    pub replaced: Option<Txid>,
    /// The transfers evicted to make room, lowest fee rate first.
    pub evicted: Vec<Txid>,
}

type RateKey = (FeeRate, Txid);

/// The pool of pending transfers: per-sender nonce queues, fee-rate ordering, bounds and expiry.
#[derive(Clone, Debug)]
pub struct Mempool {
    params: ChainParams,
    config: MempoolConfig,
    entries: HashMap<Txid, Entry>,
    /// Each sender's pending transfers by nonce.
    by_sender: HashMap<AccountId, BTreeMap<u64, Txid>>,
    /// Every entry by fee rate, for the API's rankings.
    by_rate: BTreeSet<RateKey>,
    /// The tail (highest nonce) of each sender queue by fee rate: the eviction candidates.
    tails: BTreeSet<RateKey>,
    /// Every entry by received time, for expiry.
    by_time: BTreeSet<(u64, Txid)>,
    /// Entries by recipient, for `pending_in` and history.
    by_recipient: HashMap<AccountId, HashSet<Txid>>,
    bytes: usize,
}

impl Mempool {
    /// Creates an empty pool for the network of `params`.
    pub fn new(params: &ChainParams, config: MempoolConfig) -> Self {
        Self {
            params: params.clone(),
            config,
            entries: HashMap::new(),
            by_sender: HashMap::new(),
            by_rate: BTreeSet::new(),
            tails: BTreeSet::new(),
            by_time: BTreeSet::new(),
            by_recipient: HashMap::new(),
            bytes: 0,
        }
    }

    /// Returns the pool's bounds.
    pub fn config(&self) -> MempoolConfig {
        self.config
    }

    /// Runs every check of SPEC §6 after parsing — duplicate, the stateless rules and signature,
    /// nonce, funds, replacement, room — and admits `transfer`, received at `now`, judged against
    /// `state`, the state the next block would see. The pool is unchanged on error.
    ///
    /// # Errors
    /// The first failing check as a [`MempoolError`].
    pub fn insert(
        &mut self,
        transfer: Transfer,
        now: u64,
        state: &impl AccountState,
    ) -> Result<Inserted, MempoolError> {
        let txid = transfer.txid();
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::Duplicate);
        }
        precheck(&transfer, &self.params)?;
        self.admit(transfer, txid, now, state)
    }

    /// Runs the checks of [`Mempool::insert`] that need the pool — duplicate, nonce, funds,
    /// replacement, room — for a transfer that already passed [`precheck`]. `txid` must be
    /// `transfer.txid()`. The pool is unchanged on error.
    ///
    /// # Errors
    /// The first failing check as a [`MempoolError`].
    pub fn insert_prechecked(
        &mut self,
        transfer: Transfer,
        txid: Txid,
        now: u64,
        state: &impl AccountState,
    ) -> Result<Inserted, MempoolError> {
        self.admit(transfer, txid, now, state)
    }

    fn admit(
        &mut self,
        transfer: Transfer,
        txid: Txid,
        received: u64,
        state: &impl AccountState,
    ) -> Result<Inserted, MempoolError> {
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::Duplicate);
        }
        let sender = transfer.sender();
        let account = state.account(&sender);
        nonce_is_in_window(transfer.nonce, account.nonce)?;
        self.funds_are_sufficient(&sender, &account, &transfer)?;
        let replaced = self.by_sender.get(&sender).and_then(|queue| queue.get(&transfer.nonce)).copied();
        let replaced_entry = replaced.and_then(|old| self.entries.get(&old));
        if let Some(old) = replaced_entry {
            replacement_is_priced(old.transfer.fee, transfer.fee)?;
        }
        let size = transfer.encoded_len();
        let evicted = self.plan_evictions(&sender, size, replaced_entry, FeeRate::new(transfer.fee, size))?;

        // Every check passed: commit.
        if let Some(old) = replaced {
            self.remove_entry(&old);
        }
        for victim in &evicted {
            self.remove_entry(victim);
        }
        self.add_entry(Entry { transfer, txid, sender, size, received });
        Ok(Inserted { txid, replaced, evicted })
    }

    /// Checks that the sender's balance covers all its pending transfers from its state nonce
    /// on, with `transfer` added or in place of the one it replaces.
    fn funds_are_sufficient(
        &self,
        sender: &AccountId,
        account: &Account,
        transfer: &Transfer,
    ) -> Result<(), MempoolError> {
        let mut amount = u128::from(transfer.amount.to_grains());
        let mut fee = u128::from(transfer.fee.to_grains());
        for (nonce, txid) in self.by_sender.get(sender).into_iter().flat_map(|queue| queue.range(account.nonce..)) {
            if *nonce == transfer.nonce {
                continue; // replaced by `transfer`
            }
            if let Some(entry) = self.entries.get(txid) {
                amount = amount.saturating_add(u128::from(entry.transfer.amount.to_grains()));
                fee = fee.saturating_add(u128::from(entry.transfer.fee.to_grains()));
            }
        }
        if amount.saturating_add(fee) <= u128::from(account.balance.to_grains()) {
            return Ok(());
        }
        Err(MempoolError::Rule(TransferError::InsufficientFunds {
            balance: account.balance,
            amount: saturating_amount(amount),
            fee: saturating_amount(fee),
        }))
    }

    /// Returns the transfers to evict so that a newcomer of `size` bytes and fee rate `rate`
    /// fits, taking sender-queue tails lowest fee rate first and never the newcomer's sender.
    fn plan_evictions(
        &self,
        sender: &AccountId,
        size: usize,
        replaced: Option<&Entry>,
        rate: FeeRate,
    ) -> Result<Vec<Txid>, MempoolError> {
        let (freed_count, freed_bytes) = replaced.map_or((0, 0), |old| (1, old.size));
        let count_after = (self.entries.len() + 1).saturating_sub(freed_count);
        let bytes_after = self.bytes.saturating_add(size).saturating_sub(freed_bytes);
        let mut need_count = count_after.saturating_sub(self.config.max_count);
        let mut need_bytes = bytes_after.saturating_sub(self.config.max_bytes);
        let mut evicted = Vec::new();
        let mut tails = self
            .tails
            .iter()
            .filter(|(_, txid)| self.entries.get(txid).is_some_and(|entry| entry.sender != *sender))
            .peekable();
        // Predecessors of planned victims, which become their queue's tail once it goes.
        let mut exposed: BinaryHeap<Reverse<RateKey>> = BinaryHeap::new();
        while need_count > 0 || need_bytes > 0 {
            let take_tail = match (tails.peek(), exposed.peek()) {
                (None, None) => return Err(MempoolError::Full { fee_rate: rate, min_fee_rate: None }),
                (Some(tail), Some(Reverse(predecessor))) => *tail <= predecessor,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            let candidate = if take_tail { tails.next().copied() } else { exposed.pop().map(|Reverse(key)| key) };
            let Some((victim_rate, victim)) = candidate else { continue };
            if victim_rate >= rate {
                return Err(MempoolError::Full { fee_rate: rate, min_fee_rate: Some(victim_rate) });
            }
            let Some(entry) = self.entries.get(&victim) else { continue };
            need_count = need_count.saturating_sub(1);
            need_bytes = need_bytes.saturating_sub(entry.size);
            evicted.push(victim);
            let predecessor = self
                .by_sender
                .get(&entry.sender)
                .and_then(|queue| queue.range(..entry.transfer.nonce).next_back())
                .and_then(|(_, txid)| self.entries.get(txid));
            if let Some(predecessor) = predecessor {
                exposed.push(Reverse((predecessor.fee_rate(), predecessor.txid)));
            }
        }
        Ok(evicted)
    }

    fn tail_key(&self, sender: &AccountId) -> Option<RateKey> {
        let txid = self.by_sender.get(sender)?.values().next_back()?;
        self.entries.get(txid).map(|entry| (entry.fee_rate(), *txid))
    }

    fn add_entry(&mut self, entry: Entry) {
        if let Some(key) = self.tail_key(&entry.sender) {
            self.tails.remove(&key);
        }
        let (txid, sender, rate) = (entry.txid, entry.sender, entry.fee_rate());
        self.by_sender.entry(sender).or_default().insert(entry.transfer.nonce, txid);
        self.by_rate.insert((rate, txid));
        self.by_time.insert((entry.received, txid));
        self.by_recipient.entry(entry.transfer.to).or_default().insert(txid);
        self.bytes = self.bytes.saturating_add(entry.size);
        self.entries.insert(txid, entry);
        if let Some(key) = self.tail_key(&sender) {
            self.tails.insert(key);
        }
    }

    fn remove_entry(&mut self, txid: &Txid) -> Option<Entry> {
        let sender = self.entries.get(txid)?.sender;
        if let Some(key) = self.tail_key(&sender) {
            self.tails.remove(&key);
        }
        let entry = self.entries.remove(txid)?;
        if let Some(queue) = self.by_sender.get_mut(&sender) {
            if queue.get(&entry.transfer.nonce) == Some(txid) {
                queue.remove(&entry.transfer.nonce);
            }
            if queue.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
        self.by_rate.remove(&(entry.fee_rate(), *txid));
        self.by_time.remove(&(entry.received, *txid));
        if let Some(set) = self.by_recipient.get_mut(&entry.transfer.to) {
            set.remove(txid);
            if set.is_empty() {
                self.by_recipient.remove(&entry.transfer.to);
            }
        }
        self.bytes = self.bytes.saturating_sub(entry.size);
        if let Some(key) = self.tail_key(&sender) {
            self.tails.insert(key);
        }
        Some(entry)
    }

    /// Removes the sender's pending transfers with nonce ≥ `from`; returns how many.
    fn remove_from(&mut self, sender: &AccountId, from: u64) -> usize {
        let doomed: Vec<Txid> =
            self.by_sender.get(sender).map(|queue| queue.range(from..).map(|(_, t)| *t).collect()).unwrap_or_default();
        doomed.iter().rev().filter(|txid| self.remove_entry(txid).is_some()).count()
    }

    /// Drops the sender's transfers that `state` makes unminable: nonces already used, then
    /// everything from the first transfer its balance no longer covers. Gapped ones stay.
    fn recheck_sender(&mut self, sender: &AccountId, state: &impl AccountState) -> usize {
        let account = state.account(sender);
        let Some(queue) = self.by_sender.get(sender) else { return 0 };
        let stale: Vec<Txid> = queue.range(..account.nonce).map(|(_, t)| *t).collect();
        let mut total: u128 = 0;
        let mut cut = None;
        for (nonce, txid) in queue.range(account.nonce..) {
            total = total.saturating_add(self.entries.get(txid).map_or(0, Entry::spend));
            if total > u128::from(account.balance.to_grains()) {
                cut = Some(*nonce);
                break;
            }
        }
        let mut removed = stale.iter().filter(|txid| self.remove_entry(txid).is_some()).count();
        if let Some(cut) = cut {
            removed += self.remove_from(sender, cut);
        }
        removed
    }

    /// Drops every transfer more than [`EXPIRY_SECS`] old at `now` (one exactly 24 h old
    /// stays), with the later nonces of its sender. Returns how many were dropped.
    pub fn expire(&mut self, now: u64) -> usize {
        let cutoff = now.saturating_sub(EXPIRY_SECS);
        let mut removed = 0;
        while let Some(&(received, txid)) = self.by_time.first() {
            if received >= cutoff {
                break;
            }
            let dropped = match self.entries.get(&txid) {
                Some(entry) => {
                    let (sender, nonce) = (entry.sender, entry.transfer.nonce);
                    self.remove_from(&sender, nonce)
                }
                None => 0,
            };
            if dropped == 0 {
                // Never loop on an index entry without its transfer.
                self.by_time.remove(&(received, txid));
            }
            removed += dropped;
        }
        removed
    }

    /// Updates the pool after a block with `transfers` connected; `state` is the state after
    /// it. Removes the included transfers and, for each of their senders, whatever is now
    /// nonce-too-low and the tail of its queue the balance no longer covers; gapped transfers
    /// stay. Returns how many entries were removed.
    pub fn on_block_connected<'a>(
        &mut self,
        transfers: impl IntoIterator<Item = &'a Transfer>,
        state: &impl AccountState,
    ) -> usize {
        // An empty pool has nothing to remove or recheck (a syncing node's pool, block after
        // block): no txid or sender to hash.
        if self.is_empty() {
            return 0;
        }
        let mut senders = HashSet::new();
        let mut removed = 0;
        for transfer in transfers {
            if self.remove_entry(&transfer.txid()).is_some() {
                removed += 1;
            }
            senders.insert(transfer.sender());
        }
        removed + senders.iter().map(|sender| self.recheck_sender(sender, state)).sum::<usize>()
    }

    /// Updates the pool after a block with `transfers` was disconnected; `state` is the state
    /// after the disconnection. Re-admits each transfer, received at `now`, through the nonce,
    /// funds, replacement and room checks (its signature was verified when the block
    /// connected), then drops what the recipients of the disconnected transfers can no longer
    /// fund. Returns how many transfers were re-admitted.
    pub fn on_block_disconnected<'a>(
        &mut self,
        transfers: impl IntoIterator<Item = &'a Transfer>,
        now: u64,
        state: &impl AccountState,
    ) -> usize {
        let mut recipients = HashSet::new();
        let mut readmitted = 0;
        for transfer in transfers {
            recipients.insert(transfer.to);
            if self.admit(transfer.clone(), transfer.txid(), now, state).is_ok() {
                readmitted += 1;
            }
        }
        self.revalidate(recipients, state);
        readmitted
    }

    /// Re-checks the queues of `accounts` against `state` (say, a coinbase recipient whose
    /// matured reward was undone by a disconnection): drops nonce-too-low transfers and the
    /// tails their balance no longer covers. Returns how many entries were removed.
    pub fn revalidate(&mut self, accounts: impl IntoIterator<Item = AccountId>, state: &impl AccountState) -> usize {
        accounts.into_iter().map(|account| self.recheck_sender(&account, state)).sum()
    }

    /// Re-admits transfers saved by [`Mempool::to_bytes`], each through every check of
    /// [`Mempool::insert`] with its original received time (clamped to `now`); expired ones are
    /// skipped. Returns how many were accepted.
    pub fn reload(
        &mut self,
        entries: impl IntoIterator<Item = (Transfer, u64)>,
        now: u64,
        state: &impl AccountState,
    ) -> usize {
        let checked = precheck_saved(entries.into_iter().collect(), &self.params);
        self.reload_prechecked(checked, now, state)
    }

    /// Does what [`Mempool::reload`] does for entries that already passed [`precheck`] (say,
    /// in parallel, outside the lock), each with its txid: the checks that need the pool, with
    /// the original received time clamped to `now`; expired ones are skipped. Returns how many
    /// were accepted.
    pub fn reload_prechecked(
        &mut self,
        entries: impl IntoIterator<Item = (Transfer, Txid, u64)>,
        now: u64,
        state: &impl AccountState,
    ) -> usize {
        let mut accepted = 0;
        for (transfer, txid, received) in entries {
            if received.saturating_add(EXPIRY_SECS) < now {
                continue;
            }
            if self.admit(transfer, txid, received.min(now), state).is_ok() {
                accepted += 1;
            }
        }
        accepted
    }

    /// Returns the transfers for a block template: highest fee rate first while each sender
    /// keeps its nonce order (a sender's next transfer becomes eligible once its predecessor is
    /// taken), only the consecutive run from the sender's state nonce, each re-checked against
    /// `state` plus the transfers taken before it. Each transfer costs its encoded size plus
    /// the 2-byte length prefix; the total stays within `max_bytes` (the room the block has
    /// for transfers). A sender whose next transfer does not fit or fails is skipped.
    pub fn select(&self, max_bytes: usize, state: &impl AccountState) -> Vec<Transfer> {
        let heap_key = |entry: &Entry| (entry.fee_rate(), Reverse(entry.received), Reverse(entry.txid));
        let mut heads: BinaryHeap<_> = self
            .by_sender
            .iter()
            .filter_map(|(sender, queue)| queue.get(&state.account(sender).nonce))
            .filter_map(|txid| self.entries.get(txid))
            .map(heap_key)
            .collect();
        let mut overlay = StateOverlay::new(state);
        let mut used = 0usize;
        let mut selected = Vec::new();
        while let Some((_, _, Reverse(txid))) = heads.pop() {
            let room = max_bytes.saturating_sub(used);
            if room < TRANSFER_BASE_LEN + BLOCK_LENGTH_PREFIX {
                break;
            }
            let Some(entry) = self.entries.get(&txid) else { continue };
            let cost = entry.size.saturating_add(BLOCK_LENGTH_PREFIX);
            if cost > room || overlay.apply_transfer(&entry.transfer).is_err() {
                continue; // the rest of this sender's queue waits for a later block
            }
            used += cost;
            selected.push(entry.transfer.clone());
            let next = entry
                .transfer
                .nonce
                .checked_add(1)
                .and_then(|nonce| self.by_sender.get(&entry.sender)?.get(&nonce))
                .and_then(|txid| self.entries.get(txid));
            if let Some(next) = next {
                heads.push(heap_key(next));
            }
        }
        selected
    }

    /// Returns the nonce the sender's next new transfer should carry: its nonce in `state`
    /// plus the number of consecutive pending nonces from there.
    pub fn next_nonce(&self, sender: &AccountId, state: &impl AccountState) -> u64 {
        let mut next = state.account(sender).nonce;
        if let Some(queue) = self.by_sender.get(sender) {
            for nonce in queue.range(next..).map(|(nonce, _)| *nonce) {
                if nonce != next {
                    break;
                }
                match next.checked_add(1) {
                    Some(n) => next = n,
                    None => break,
                }
            }
        }
        next
    }

    /// Returns whether `txid` is pending.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid)
    }

    /// Returns the pending transfer `txid`.
    pub fn get(&self, txid: &Txid) -> Option<&Transfer> {
        self.entries.get(txid).map(|entry| &entry.transfer)
    }

    /// Returns the pending transfer `txid` with its received time and size.
    pub fn entry(&self, txid: &Txid) -> Option<&Entry> {
        self.entries.get(txid)
    }

    /// Returns every pending entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Returns the number of pending transfers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the sum of the pending transfers' encoded sizes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Returns up to `n` pending entries, highest fee rate first.
    pub fn top_by_fee_rate(&self, n: usize) -> Vec<&Entry> {
        self.by_rate.iter().rev().filter_map(|(_, txid)| self.entries.get(txid)).take(n).collect()
    }

    /// Returns `(pending_in, pending_out)` of `account`: the amounts of pending transfers to
    /// it, and amount + fee of pending transfers from it (a transfer to itself counts in
    /// both). Sums saturate at the largest amount.
    pub fn pending_for(&self, account: &AccountId) -> (Amount, Amount) {
        let incoming = self
            .by_recipient
            .get(account)
            .into_iter()
            .flatten()
            .filter_map(|txid| self.entries.get(txid))
            .fold(0u128, |sum, entry| sum.saturating_add(u128::from(entry.transfer.amount.to_grains())));
        let outgoing = self
            .by_sender
            .get(account)
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter_map(|txid| self.entries.get(txid))
            .fold(0u128, |sum, entry| sum.saturating_add(entry.spend()));
        (saturating_amount(incoming), saturating_amount(outgoing))
    }

    /// Returns the pending entries `account` sends or receives, newest first (by received
    /// time, then by nonce).
    pub fn pending_txs_for(&self, account: &AccountId) -> Vec<&Entry> {
        let sent = self.by_sender.get(account).into_iter().flat_map(BTreeMap::values);
        let received = self.by_recipient.get(account).into_iter().flatten();
        let mut found: Vec<&Entry> = sent
            .filter_map(|txid| self.entries.get(txid))
            .chain(received.filter_map(|txid| self.entries.get(txid)).filter(|entry| entry.sender != *account))
            .collect();
        found.sort_by_key(|entry| (Reverse(entry.received), Reverse(entry.transfer.nonce), entry.txid));
        found
    }

    /// Returns a fee rate, in whole grains per byte, likely to get a transfer into the next
    /// block: the rate at the byte midpoint of the best block's worth of pending transfers,
    /// rounded up; the minimum fee rate (at least 1) when the pool does not fill a block.
    pub fn suggested_fee_rate(&self) -> u64 {
        self.suggested_fee_rate_within(self.params.max_block_size)
    }

    fn suggested_fee_rate_within(&self, block_bytes: usize) -> u64 {
        let min = self.params.min_fee_rate.max(1);
        let framed = self.bytes.saturating_add(self.len().saturating_mul(BLOCK_LENGTH_PREFIX));
        if framed < block_bytes {
            return min;
        }
        let midpoint = block_bytes / 2;
        let mut used = 0usize;
        for (rate, txid) in self.by_rate.iter().rev() {
            let size = self.entries.get(txid).map_or(0, |entry| entry.size);
            used = used.saturating_add(size + BLOCK_LENGTH_PREFIX);
            if used >= midpoint {
                return rate.grains_per_byte_ceil().max(min);
            }
        }
        min
    }

    /// Returns the pool as a mempool file (see [`file_bytes`]), oldest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        file_bytes(self.saved_entries())
    }

    /// The pool's entries as `(transfer, received time)`, oldest first.
    pub fn saved_entries(&self) -> impl Iterator<Item = (&Transfer, u64)> {
        self.by_time.iter().filter_map(|(_, txid)| self.entries.get(txid)).map(|e| (&e.transfer, e.received))
    }

    /// Reads a mempool file written by [`Mempool::to_bytes`] into `(transfer, received time)`
    /// pairs, unchecked: feed them to [`Mempool::reload`].
    ///
    /// # Errors
    /// [`MempoolFileError`] for a wrong magic or version, a count the bytes cannot hold, or an
    /// entry that is not exactly one canonical transfer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Vec<(Transfer, u64)>, MempoolFileError> {
        let mut reader = Reader::new(bytes);
        let magic: [u8; 4] = reader.read_array()?;
        if magic != FILE_MAGIC {
            return Err(MempoolFileError::BadMagic { found: magic });
        }
        let version = reader.read_u32()?;
        if version != FILE_VERSION {
            return Err(MempoolFileError::UnsupportedVersion { found: version });
        }
        let count = reader.read_u32()?;
        let remaining = reader.remaining();
        let entries = usize::try_from(count).unwrap_or(usize::MAX);
        if entries > remaining / FILE_ENTRY_MIN_LEN {
            return Err(MempoolFileError::TooManyEntries { count, remaining });
        }
        let mut out = Vec::with_capacity(entries);
        for _ in 0..entries {
            let received = reader.read_u64()?;
            let len = usize::from(reader.read_u16()?);
            let mut body = reader.sub_reader(len)?;
            let transfer = Transfer::decode_from(&mut body)?;
            body.finish()?;
            out.push((transfer, received));
        }
        reader.finish()?;
        Ok(out)
    }
}

/// Checks `nonce` against the window `[state_nonce, state_nonce + NONCE_WINDOW)`.
fn nonce_is_in_window(nonce: u64, state_nonce: u64) -> Result<(), MempoolError> {
    if nonce < state_nonce {
        return Err(MempoolError::Rule(TransferError::NonceTooLow { expected: state_nonce, found: nonce }));
    }
    if nonce - state_nonce >= NONCE_WINDOW {
        return Err(MempoolError::Rule(TransferError::NonceGap { expected: state_nonce, found: nonce }));
    }
    Ok(())
}

/// Checks that `new_fee` ≥ 1.1 × `old_fee`, in integers: new · 10 ≥ old · 11.
fn replacement_is_priced(old_fee: Amount, new_fee: Amount) -> Result<(), MempoolError> {
    let old = u128::from(old_fee.to_grains());
    if u128::from(new_fee.to_grains()) * 10 >= old * 11 {
        return Ok(());
    }
    Err(MempoolError::ReplacementUnderpriced { old_fee, min_fee: saturating_amount((old * 11).div_ceil(10)) })
}

fn saturating_amount(grains: u128) -> Amount {
    Amount::from_grains(u64::try_from(grains).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
