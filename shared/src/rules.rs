//! The consensus rules of SPEC §4 as pure functions, cheapest first, one error variant per rule.
//!
//! Semantic checks need only the transaction or block; contextual checks take what they need
//! from the chain as arguments ([`BlockContext`], an [`AccountState`]). Nothing here reads a
//! clock, a disk or a socket. The node calls these in the order of SPEC §6, so every node
//! reports the same first failure for the same input.

use crate::address::AccountId;
use crate::amount::Amount;
use crate::block::{Block, Header};
use crate::codes::ErrorCode;
use crate::encode::Encode;
use crate::hash::{MerkleRoot, Txid};
use crate::params::{ChainParams, DifficultyRule, Height};
use crate::pow::{AsertAnchor, asert_next_target};
use crate::pow::{CompactTarget, PowError};
use crate::tx::{MAX_MEMO_LEN, Transfer, Tx};
use std::collections::{HashMap, HashSet};

/// What the state records for one account.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Account {
    /// Spendable grains.
    pub balance: Amount,
    /// Transfers sent so far: the nonce the next transfer must carry.
    pub nonce: u64,
}

/// Read access to the account map the rules judge against. Unknown accounts are empty.
pub trait AccountState {
    /// Returns the account's balance and nonce (zero for an account never seen).
    fn account(&self, id: &AccountId) -> Account;
}

impl AccountState for HashMap<AccountId, Account> {
    fn account(&self, id: &AccountId) -> Account {
        self.get(id).copied().unwrap_or_default()
    }
}

/// Why a transfer is invalid, one variant per rule, in the order they are checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// Consensus: the chain id matches the network.
    #[error("transfer is for chain {found}, this network is chain {expected}")]
    WrongChain {
        /// This network's chain id.
        expected: u32,
        /// The transfer's chain id.
        found: u32,
    },
    /// Consensus: the memo is at most 128 bytes.
    #[error("memo is {len} bytes, the limit is {MAX_MEMO_LEN}")]
    MemoTooLong {
        /// The memo's length.
        len: usize,
    },
    /// Consensus: the memo is UTF-8.
    #[error("memo is not valid utf-8")]
    InvalidMemo,
    /// Consensus: the amount is at least one grain.
    #[error("amount is zero")]
    ZeroAmount,
    /// Consensus: the fee is at least size × min fee rate.
    #[error("fee {fee:?} is below the minimum {required:?} for {size} bytes")]
    FeeTooLow {
        /// The offered fee.
        fee: Amount,
        /// The minimum for this size.
        required: Amount,
        /// The transfer's encoded size.
        size: usize,
    },
    /// Consensus: the signature verifies strictly.
    #[error("signature does not verify under the sender's public key")]
    InvalidSignature,
    /// Consensus: the nonce equals the sender's nonce (this one is already used).
    #[error("nonce {found} is already used: the sender's next nonce is {expected}")]
    NonceTooLow {
        /// The sender's nonce in the state.
        expected: u64,
        /// The transfer's nonce.
        found: u64,
    },
    /// Consensus: the nonce equals the sender's nonce (this one skips some).
    #[error("nonce {found} skips ahead: the sender's next nonce is {expected}")]
    NonceGap {
        /// The sender's nonce in the state.
        expected: u64,
        /// The transfer's nonce.
        found: u64,
    },
    /// Consensus: the sender's balance covers amount + fee (checked; an overflowing sum never does).
    #[error("balance {balance:?} does not cover amount {amount:?} plus fee {fee:?}")]
    InsufficientFunds {
        /// The sender's balance.
        balance: Amount,
        /// The amount sent.
        amount: Amount,
        /// The fee offered.
        fee: Amount,
    },
    /// Crediting the recipient would overflow its balance. Unreachable while the total supply
    /// stays below 2^64 grains; checked so that a corrupt state cannot cause a panic.
    #[error("crediting {amount:?} would overflow the recipient's balance")]
    BalanceOverflow {
        /// The amount that could not be credited.
        amount: Amount,
    },
}

impl TransferError {
    /// Returns the API code of this rule.
    pub const fn code(&self) -> ErrorCode {
        match self {
            TransferError::WrongChain { .. } => ErrorCode::WrongChain,
            TransferError::MemoTooLong { .. } => ErrorCode::MemoTooLong,
            TransferError::InvalidMemo => ErrorCode::InvalidMemo,
            TransferError::ZeroAmount => ErrorCode::ZeroAmount,
            TransferError::FeeTooLow { .. } => ErrorCode::FeeTooLow,
            TransferError::InvalidSignature => ErrorCode::InvalidSignature,
            TransferError::NonceTooLow { .. } => ErrorCode::NonceTooLow,
            TransferError::NonceGap { .. } => ErrorCode::NonceGap,
            TransferError::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            TransferError::BalanceOverflow { .. } => ErrorCode::BalanceOverflow,
        }
    }
}

/// Why a block is invalid, one variant per rule, in the order they are checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Consensus: the canonical encoding is at most the maximum block size.
    #[error("block is {size} bytes, the limit is {max}")]
    TooLarge {
        /// The block's encoded size.
        size: usize,
        /// The network's limit.
        max: usize,
    },
    /// Consensus: the hash meets the target of the header's bits, which are valid and within the limit.
    #[error(transparent)]
    HighHash(#[from] PowError),
    /// Consensus: bits equal the required bits.
    #[error("bits {found:08x} are not the required {expected:08x}")]
    BadBits {
        /// The required bits.
        expected: u32,
        /// The header's bits.
        found: u32,
    },
    /// Consensus: time is after the median of the previous 11 block times.
    #[error("time {time} is not after the median time past {median_time_past}")]
    TimeTooOld {
        /// The header's time.
        time: u32,
        /// The median of the previous block times.
        median_time_past: u32,
    },
    /// Consensus: time is at most the node's clock + 10 minutes.
    #[error("time {time} is more than {max_future} s past the node's clock {now}")]
    TimeTooNew {
        /// The header's time.
        time: u32,
        /// The node's clock.
        now: u64,
        /// The allowed drift in seconds.
        max_future: u32,
    },
    /// Consensus: the header's Merkle root matches the transactions.
    #[error("merkle root {actual} does not match the transactions' root {expected}")]
    BadMerkleRoot {
        /// The root computed from the transactions.
        expected: MerkleRoot,
        /// The root in the header.
        actual: MerkleRoot,
    },
    /// Consensus: the first transaction is a coinbase.
    #[error("block does not start with a coinbase")]
    NoCoinbase,
    /// Consensus: no two transactions share a txid.
    #[error("transaction {index} repeats txid {txid}")]
    DuplicateTx {
        /// Index of the second occurrence.
        index: usize,
        /// The repeated txid.
        txid: Txid,
    },
    /// Consensus: exactly one coinbase, first.
    #[error("transaction {index} is a second coinbase")]
    ExtraCoinbase {
        /// Index of the extra coinbase.
        index: usize,
    },
    /// Consensus: the coinbase height is the block's height.
    #[error("coinbase height {found} is not the block height {expected}")]
    CoinbaseHeight {
        /// The block's height.
        expected: u64,
        /// The coinbase's height.
        found: u64,
    },
    /// Consensus: every transfer is valid when applied in order.
    #[error("transaction {index}: {code}: {error}", code = error.code())]
    InvalidTx {
        /// Index of the first invalid transfer in the block.
        index: usize,
        /// The rule it breaks.
        error: TransferError,
    },
    /// Consensus: the coinbase amount equals subsidy + fees.
    #[error("coinbase claims {found:?}, subsidy plus fees is {expected:?}")]
    CoinbaseAmount {
        /// Subsidy plus fees.
        expected: Amount,
        /// The coinbase's amount.
        found: Amount,
    },
    /// The block's fees, or the matured reward credited at its start, overflow an amount.
    /// Unreachable while the supply rule holds; checked so nothing can panic.
    #[error("the block's fees or matured reward overflow an amount")]
    AmountOverflow,
}

impl BlockError {
    /// Returns the API code of this rule.
    pub const fn code(&self) -> ErrorCode {
        match self {
            BlockError::TooLarge { .. } => ErrorCode::TooLarge,
            BlockError::HighHash(_) => ErrorCode::HighHash,
            BlockError::BadBits { .. } => ErrorCode::BadBits,
            BlockError::TimeTooOld { .. } => ErrorCode::TimeTooOld,
            BlockError::TimeTooNew { .. } => ErrorCode::TimeTooNew,
            BlockError::BadMerkleRoot { .. } => ErrorCode::BadMerkleRoot,
            BlockError::NoCoinbase => ErrorCode::NoCoinbase,
            BlockError::DuplicateTx { .. } => ErrorCode::DuplicateTx,
            BlockError::ExtraCoinbase { .. }
            | BlockError::CoinbaseHeight { .. }
            | BlockError::CoinbaseAmount { .. } => ErrorCode::BadCoinbase,
            BlockError::InvalidTx { .. } | BlockError::AmountOverflow => ErrorCode::InvalidTx,
        }
    }

    /// Returns whether this failure condemns the header itself, so its hash may be marked invalid
    /// for good. Body failures do not: the same header with its real body may still arrive.
    pub const fn is_header_failure(&self) -> bool {
        matches!(self, BlockError::HighHash(_) | BlockError::BadBits { .. } | BlockError::TimeTooOld { .. })
    }
}

// ---------------------------------------------------------------------------------------------
// Transfers

/// Checks the rules a transfer must meet on its own, before its signature: chain id, memo,
/// amount and fee.
///
/// # Errors
/// The first [`TransferError`] among `WrongChain`, `MemoTooLong`, `InvalidMemo`, `ZeroAmount`, `FeeTooLow`.
pub fn transfer_is_well_formed(transfer: &Transfer, params: &ChainParams) -> Result<(), TransferError> {
    // Consensus: chain id matches.
    if transfer.chain_id != params.chain_id {
        return Err(TransferError::WrongChain { expected: params.chain_id, found: transfer.chain_id });
    }
    // Consensus: memo ≤ 128 bytes of UTF-8.
    if transfer.memo.len() > MAX_MEMO_LEN {
        return Err(TransferError::MemoTooLong { len: transfer.memo.len() });
    }
    if transfer.memo.as_str().is_none() {
        return Err(TransferError::InvalidMemo);
    }
    // Consensus: amount ≥ 1.
    if transfer.amount == Amount::ZERO {
        return Err(TransferError::ZeroAmount);
    }
    // Consensus: fee ≥ size × min_fee_rate, size being the transfer's own encoding.
    let size = transfer.encoded_len();
    let required = min_fee(size, params);
    if transfer.fee < required {
        return Err(TransferError::FeeTooLow { fee: transfer.fee, required, size });
    }
    Ok(())
}

/// Returns the smallest fee a transfer of `size` bytes may pay.
pub fn min_fee(size: usize, params: &ChainParams) -> Amount {
    // A size and rate this small cannot overflow; saturate rather than panic all the same.
    Amount::from_grains((size as u64).saturating_mul(params.min_fee_rate))
}

/// Checks every rule a transfer can be judged by without state: [`transfer_is_well_formed`]
/// and then its signature. Independent per transfer, so callers may run it in parallel.
///
/// # Errors
/// The first failing [`TransferError`], `InvalidSignature` last.
pub fn transfer_precheck(transfer: &Transfer, params: &ChainParams) -> Result<(), TransferError> {
    transfer_is_well_formed(transfer, params)?;
    // Consensus: the signature verifies strictly.
    transfer.verify_signature().map_err(|_| TransferError::InvalidSignature)
}

/// [`transfer_precheck`] for each of `transfers`, in order, with their signatures checked
/// together ([`Transfer::verify_signatures`]): the same answers, for less work per transfer.
/// Callers with many transfers pass [`signature::BATCH`](crate::signature::BATCH) at a time.
pub fn transfer_prechecks(transfers: &[&Transfer], params: &ChainParams) -> Vec<Result<(), TransferError>> {
    let mut results: Vec<Result<(), TransferError>> =
        transfers.iter().map(|t| transfer_is_well_formed(t, params)).collect();
    // Only well-formed transfers get to their signature, as in `transfer_precheck`.
    let formed: Vec<&Transfer> = transfers.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(t, _)| *t).collect();
    let signatures = Transfer::verify_signatures(&formed);
    for (result, signature) in results.iter_mut().filter(|r| r.is_ok()).zip(signatures) {
        *result = signature.map_err(|_| TransferError::InvalidSignature);
    }
    results
}

/// Checks the stateful rules against the sender's account: nonce, then funds.
///
/// # Errors
/// `NonceTooLow`, `NonceGap` or `InsufficientFunds`.
pub fn transfer_fits_account(transfer: &Transfer, sender: &Account) -> Result<(), TransferError> {
    // Consensus: nonce == sender.nonce.
    if transfer.nonce < sender.nonce {
        return Err(TransferError::NonceTooLow { expected: sender.nonce, found: transfer.nonce });
    }
    if transfer.nonce > sender.nonce {
        return Err(TransferError::NonceGap { expected: sender.nonce, found: transfer.nonce });
    }
    // Consensus: sender.balance ≥ amount + fee, with the sum checked.
    match transfer.amount.checked_add(transfer.fee) {
        Some(total) if total <= sender.balance => Ok(()),
        _ => Err(TransferError::InsufficientFunds {
            balance: sender.balance,
            amount: transfer.amount,
            fee: transfer.fee,
        }),
    }
}

/// Checks every transfer rule, in order, against `state`.
///
/// # Errors
/// The first failing [`TransferError`].
pub fn check_transfer(
    transfer: &Transfer,
    params: &ChainParams,
    state: &impl AccountState,
) -> Result<(), TransferError> {
    transfer_precheck(transfer, params)?;
    transfer_fits_account(transfer, &state.account(&transfer.sender()))
}

/// Account changes layered over a base state, as a block or a mempool sees them.
#[derive(Debug)]
pub struct StateOverlay<'a, S: AccountState + ?Sized> {
    base: &'a S,
    changed: HashMap<AccountId, Account>,
}

impl<'a, S: AccountState + ?Sized> StateOverlay<'a, S> {
    /// Starts with no changes over `base`.
    pub fn new(base: &'a S) -> Self {
        Self { base, changed: HashMap::new() }
    }

    /// Credits `amount` to `id`.
    ///
    /// # Errors
    /// `BalanceOverflow` if the balance would pass `u64::MAX`.
    pub fn credit(&mut self, id: AccountId, amount: Amount) -> Result<(), TransferError> {
        let mut account = self.account(&id);
        account.balance = account.balance.checked_add(amount).ok_or(TransferError::BalanceOverflow { amount })?;
        self.changed.insert(id, account);
        Ok(())
    }

    /// Checks the stateful rules of `transfer` and applies it: the sender pays amount + fee and
    /// its nonce goes up by one; the recipient gains the amount. Unchanged on error.
    ///
    /// # Errors
    /// As [`transfer_fits_account`], or `BalanceOverflow`.
    pub fn apply_transfer(&mut self, transfer: &Transfer) -> Result<(), TransferError> {
        let sender_id = transfer.sender();
        let mut sender = self.account(&sender_id);
        transfer_fits_account(transfer, &sender)?;
        let recipient = self.account(&transfer.to);
        // A self-transfer credits the balance it just debited; check the credit first so an
        // error leaves the overlay untouched.
        let spent = transfer.amount.checked_add(transfer.fee).expect("checked by transfer_fits_account");
        sender.balance = sender.balance.checked_sub(spent).expect("checked by transfer_fits_account");
        sender.nonce += 1;
        let recipient_balance = if transfer.to == sender_id { sender.balance } else { recipient.balance };
        let credited = recipient_balance
            .checked_add(transfer.amount)
            .ok_or(TransferError::BalanceOverflow { amount: transfer.amount })?;
        self.changed.insert(sender_id, sender);
        self.changed.insert(transfer.to, Account { balance: credited, ..self.account(&transfer.to) });
        Ok(())
    }

    /// Returns the changed accounts with their new values.
    pub fn into_changes(self) -> HashMap<AccountId, Account> {
        self.changed
    }
}

impl<S: AccountState + ?Sized> AccountState for StateOverlay<'_, S> {
    fn account(&self, id: &AccountId) -> Account {
        match self.changed.get(id) {
            Some(account) => *account,
            None => self.base.account(id),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks

/// Returns the subsidy of the block at `height`: the initial subsidy halved every
/// `halving_interval` blocks, zero once shifted away.
pub fn subsidy(height: Height, params: &ChainParams) -> Amount {
    let halvings = height.0 / params.halving_interval;
    if halvings >= 64 {
        return Amount::ZERO;
    }
    Amount::from_grains(params.initial_subsidy.to_grains() >> halvings)
}

/// Returns the height whose coinbase is credited at the start of connecting `height`, if any.
pub fn matured_reward_height(height: Height, params: &ChainParams) -> Option<Height> {
    // Consensus: the coinbase of block h is credited at the start of connecting h + maturity.
    height.0.checked_sub(params.coinbase_maturity).map(Height)
}

/// Returns the median of the previous block times (up to the last 11), as Bitcoin computes it:
/// the middle element after sorting, the upper one for an even count.
pub fn median_time_past(previous_times: &[u32]) -> u32 {
    let mut times = previous_times.to_vec();
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or(0)
}

/// What the chain knows about a block's parent that the next block's bits depend on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ParentInfo {
    /// The parent's height.
    pub height: Height,
    /// The parent's header time.
    pub time: u32,
}

/// Returns the bits required of the child of `parent`: ASERT anchored at genesis on main and
/// test, the pow limit on dev.
pub fn required_bits(parent: ParentInfo, params: &ChainParams) -> CompactTarget {
    match params.difficulty {
        DifficultyRule::PowLimit => params.pow_limit,
        DifficultyRule::Asert { half_life } => {
            let (Ok(anchor_target), Ok(pow_limit)) = (params.genesis.bits.to_target(), params.pow_limit.to_target())
            else {
                unreachable!("hard-coded genesis bits and pow limit are valid targets, a test checks them")
            };
            // Consensus: anchor height 0, anchor target = genesis target, anchor parent time =
            // genesis time − spacing.
            let anchor = AsertAnchor {
                height: 0,
                parent_time: i64::from(params.genesis.time) - params.target_spacing,
                target: anchor_target,
            };
            asert_next_target(
                &anchor,
                params.target_spacing,
                half_life,
                pow_limit,
                parent.height.0,
                i64::from(parent.time),
            )
            .to_compact_lossy()
        }
    }
}

/// The chain context a block at `height` is judged in, computed by the node from its parent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BlockContext {
    /// The block's height (parent + 1).
    pub height: Height,
    /// The bits it must carry ([`required_bits`] of its parent).
    pub required_bits: CompactTarget,
    /// Median of the previous 11 block times ([`median_time_past`]).
    pub median_time_past: u32,
    /// The node's clock, Unix seconds.
    pub now: u64,
    /// The reward that matures at the start of this block: the coinbase recipient and amount
    /// of block `height − maturity`, if there is one.
    pub matured_reward: Option<(AccountId, Amount)>,
}

/// Checks the block's encoded size against the maximum.
///
/// # Errors
/// `TooLarge` above `max_block_size`.
pub fn block_size_is_valid(size: usize, params: &ChainParams) -> Result<(), BlockError> {
    // Consensus: size ≤ 1,000,000 bytes of canonical encoding.
    if size > params.max_block_size {
        return Err(BlockError::TooLarge { size, max: params.max_block_size });
    }
    Ok(())
}

/// Checks the header against its chain context: bits, then time.
///
/// # Errors
/// `BadBits`, `TimeTooOld` or `TimeTooNew`.
pub fn header_context_is_valid(header: &Header, ctx: &BlockContext, params: &ChainParams) -> Result<(), BlockError> {
    // Consensus: bits equal the required bits.
    if header.bits != ctx.required_bits {
        return Err(BlockError::BadBits {
            expected: ctx.required_bits.to_consensus(),
            found: header.bits.to_consensus(),
        });
    }
    // Consensus: time > median of the previous 11 block times.
    if header.time <= ctx.median_time_past {
        return Err(BlockError::TimeTooOld { time: header.time, median_time_past: ctx.median_time_past });
    }
    // Consensus: time ≤ local clock + 10 min.
    if u64::from(header.time) > ctx.now.saturating_add(u64::from(params.max_future_block_time)) {
        return Err(BlockError::TimeTooNew {
            time: header.time,
            now: ctx.now,
            max_future: params.max_future_block_time,
        });
    }
    Ok(())
}

/// Checks the rules of the body that need no state: Merkle root (first, so a body is never
/// judged against a header it does not belong to), coinbase presence, unique txids, one
/// coinbase at the right height. `txids` are the block's txids in order.
///
/// # Errors
/// `BadMerkleRoot`, `NoCoinbase`, `DuplicateTx`, `ExtraCoinbase` or `CoinbaseHeight`.
pub fn block_body_is_valid(block: &Block, txids: &[Txid], height: Height) -> Result<(), BlockError> {
    // Consensus: the Merkle root matches.
    let expected = crate::merkle::merkle_root_of_txids(txids);
    if block.header.merkle_root != expected {
        return Err(BlockError::BadMerkleRoot { expected, actual: block.header.merkle_root });
    }
    // Consensus: a coinbase comes first (an empty block has none).
    let Some(Tx::Coinbase(coinbase)) = block.txs.first() else {
        return Err(BlockError::NoCoinbase);
    };
    // Consensus: no duplicate txids.
    let mut seen = HashSet::with_capacity(txids.len());
    for (index, txid) in txids.iter().enumerate() {
        if !seen.insert(txid) {
            return Err(BlockError::DuplicateTx { index, txid: *txid });
        }
    }
    // Consensus: exactly one coinbase, with height == h.
    if let Some(index) = block.txs.iter().skip(1).position(|tx| matches!(tx, Tx::Coinbase(_))) {
        return Err(BlockError::ExtraCoinbase { index: index + 1 });
    }
    if coinbase.height != height.0 {
        return Err(BlockError::CoinbaseHeight { expected: height.0, found: coinbase.height });
    }
    Ok(())
}

/// The effect of a valid block on the account state.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BlockChanges {
    /// Every account the block touched, with its value after the block.
    pub accounts: HashMap<AccountId, Account>,
    /// Sum of the transfers' fees.
    pub fees: Amount,
    /// The block's txids in order, as its Merkle root was checked against (a node indexes
    /// them without hashing every transaction again).
    pub txids: Vec<Txid>,
}

/// Applies the block's matured reward and transfers in order to `state`, then checks the
/// coinbase amount. `prechecked[i]` is [`transfer_precheck`] of the i-th *transfer* (coinbase
/// excluded), computed by the caller, possibly in parallel. `txids` are the block's txids in
/// order, handed back in the result.
///
/// # Errors
/// `InvalidTx` for the first failing transfer (its precheck result or its state check),
/// `CoinbaseAmount`, or `AmountOverflow`.
///
/// # Panics
/// If `prechecked` does not have one entry per transfer (a caller bug, not an input error).
pub fn apply_block_transfers(
    block: &Block,
    ctx: &BlockContext,
    params: &ChainParams,
    state: &(impl AccountState + ?Sized),
    prechecked: &[Result<(), TransferError>],
    txids: Vec<Txid>,
) -> Result<BlockChanges, BlockError> {
    let mut overlay = StateOverlay::new(state);
    // Consensus: the coinbase of block h is credited at the start of connecting h + maturity,
    // so this block's transfers may already spend it.
    if let Some((recipient, amount)) = ctx.matured_reward {
        overlay.credit(recipient, amount).map_err(|_| BlockError::AmountOverflow)?;
    }
    let transfers = block.txs.iter().enumerate().skip(1).filter_map(|(i, tx)| tx.as_transfer().map(|t| (i, t)));
    assert_eq!(transfers.clone().count(), prechecked.len(), "one precheck result per transfer");
    let mut fees = Amount::ZERO;
    // Consensus: every transfer is valid when applied in order.
    for ((index, transfer), precheck) in transfers.zip(prechecked) {
        let invalid = |error| BlockError::InvalidTx { index, error };
        precheck.clone().map_err(invalid)?;
        overlay.apply_transfer(transfer).map_err(invalid)?;
        fees = fees.checked_add(transfer.fee).ok_or(BlockError::AmountOverflow)?;
    }
    // Consensus: coinbase amount == subsidy(h) + Σ fees.
    let expected = subsidy(ctx.height, params).checked_add(fees).ok_or(BlockError::AmountOverflow)?;
    let found = block.txs.first().and_then(Tx::as_coinbase).map(|c| c.amount);
    if found != Some(expected) {
        return Err(BlockError::CoinbaseAmount { expected, found: found.unwrap_or(Amount::ZERO) });
    }
    Ok(BlockChanges { accounts: overlay.into_changes(), fees, txids })
}

/// Runs every block rule for a block whose parent is known, in the order of SPEC §6 — size,
/// proof of work, bits, time, Merkle root, coinbase, duplicates, coinbase height, transfers,
/// coinbase amount — and returns the block's effect on `state`. (The node interleaves its own
/// steps — already known? parent known? — by calling the parts itself.) `precheck_all` runs
/// [`transfer_precheck`] over the transfers (sequentially with [`precheck_sequential`], or in
/// parallel by the caller); it is also given their txids, in the same order.
///
/// # Errors
/// The first failing [`BlockError`].
pub fn check_block(
    block: &Block,
    ctx: &BlockContext,
    params: &ChainParams,
    state: &(impl AccountState + ?Sized),
    precheck_all: impl FnOnce(&[&Transfer], &[Txid]) -> Vec<Result<(), TransferError>>,
) -> Result<BlockChanges, BlockError> {
    block_size_is_valid(block.encoded_len(), params)?;
    block.header.validate_pow(params.pow_limit)?;
    header_context_is_valid(&block.header, ctx, params)?;
    let txids = block.txids();
    block_body_is_valid(block, &txids, ctx.height)?;
    // The body is valid: one coinbase, first, and transfers after it.
    let transfers: Vec<&Transfer> = block.txs.iter().filter_map(Tx::as_transfer).collect();
    let prechecked = precheck_all(&transfers, &txids[1..]);
    apply_block_transfers(block, ctx, params, state, &prechecked, txids)
}

/// Runs [`transfer_prechecks`] over `transfers` on the calling thread, [`BATCH`](crate::signature::BATCH)
/// at a time.
pub fn precheck_sequential(transfers: &[&Transfer], params: &ChainParams) -> Vec<Result<(), TransferError>> {
    transfers.chunks(crate::signature::BATCH).flat_map(|chunk| transfer_prechecks(chunk, params)).collect()
}

#[cfg(test)]
mod tests;
