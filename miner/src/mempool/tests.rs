//! Unit tests of the mempool: every refusal code with the pool unchanged, nonce window, funds,
//! replacement, eviction, expiry, templates, chain events, persistence.

use super::*;
use oxcoin::params::{DEV, MAIN};
use oxcoin::testkit::{account_of, key, transfer, transfer_with_memo};
use proptest::prelude::*;

const NOW: u64 = 1_800_000_000;
/// Size of a transfer with an empty memo.
const SIZE: usize = TRANSFER_BASE_LEN;

type State = HashMap<AccountId, Account>;

fn params() -> &'static ChainParams {
    &DEV
}

fn pool() -> Mempool {
    Mempool::new(params(), MempoolConfig::default())
}

fn small_pool(max_count: usize, max_bytes: usize) -> Mempool {
    Mempool::new(params(), MempoolConfig { max_count, max_bytes })
}

/// Seed of the account every test transfer pays (its key can also send).
const R: u8 = 9;

fn id(seed: u8) -> AccountId {
    account_of(&key(seed, 0))
}

fn tx(seed: u8, amount: u64, fee: u64, nonce: u64) -> Transfer {
    transfer(params(), &key(seed, 0), id(R), amount, fee, nonce)
}

fn tx_to(seed: u8, to: u8, amount: u64, fee: u64, nonce: u64) -> Transfer {
    transfer(params(), &key(seed, 0), id(to), amount, fee, nonce)
}

fn memo_tx(seed: u8, amount: u64, fee: u64, nonce: u64, memo_len: usize) -> Transfer {
    transfer_with_memo(params(), &key(seed, 0), id(R), amount, fee, nonce, vec![b'm'; memo_len])
}

/// A state with `(seed, balance, nonce)` accounts.
fn state(accounts: &[(u8, u64, u64)]) -> State {
    accounts
        .iter()
        .map(|&(seed, balance, nonce)| (id(seed), Account { balance: Amount::from_grains(balance), nonce }))
        .collect()
}

fn rich() -> State {
    state(&[(1, 1_000_000, 0), (2, 1_000_000, 0), (3, 1_000_000, 0), (4, 1_000_000, 0), (R, 1_000_000, 0)])
}

#[track_caller]
fn add(pool: &mut Mempool, transfer: &Transfer, state: &State) -> Txid {
    let inserted = pool.insert(transfer.clone(), NOW, state).expect("accepted");
    assert_consistent(pool);
    inserted.txid
}

#[track_caller]
fn code_of(result: Result<Inserted, MempoolError>) -> ErrorCode {
    result.expect_err("refused").code()
}

/// Everything observable about the pool's contents.
fn snapshot(pool: &Mempool) -> (usize, usize, Vec<Entry>) {
    let mut entries: Vec<Entry> = pool.iter().cloned().collect();
    entries.sort_by_key(|entry| entry.txid);
    (pool.len(), pool.bytes(), entries)
}

/// Checks that every index agrees with the entry map.
#[track_caller]
fn assert_consistent(pool: &Mempool) {
    assert_eq!(pool.bytes, pool.entries.values().map(|e| e.size).sum::<usize>());
    assert_eq!(pool.by_sender.values().map(BTreeMap::len).sum::<usize>(), pool.len());
    for (sender, queue) in &pool.by_sender {
        assert!(!queue.is_empty());
        for (nonce, txid) in queue {
            let entry = &pool.entries[txid];
            assert_eq!((entry.sender, entry.transfer.nonce), (*sender, *nonce));
        }
    }
    let rates: BTreeSet<RateKey> = pool.entries.values().map(|e| (e.fee_rate(), e.txid)).collect();
    assert_eq!(pool.by_rate, rates);
    let tails: BTreeSet<RateKey> = pool.by_sender.keys().filter_map(|s| pool.tail_key(s)).collect();
    assert_eq!(pool.tails, tails);
    let times: BTreeSet<(u64, Txid)> = pool.entries.values().map(|e| (e.received, e.txid)).collect();
    assert_eq!(pool.by_time, times);
    assert_eq!(pool.by_recipient.values().map(HashSet::len).sum::<usize>(), pool.len());
    for (to, set) in &pool.by_recipient {
        assert!(set.iter().all(|txid| pool.entries[txid].transfer.to == *to));
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn every_refusal_code_leaves_the_pool_unchanged() {
    let st = state(&[(1, 100_000, 5), (2, 100_000, 0)]);
    let mut pool = pool();
    let first = tx(1, 1_000, 1_000, 5);
    add(&mut pool, &first, &st);
    add(&mut pool, &tx(1, 1_000, 1_000, 6), &st);
    let before = snapshot(&pool);

    let mut forged = tx(1, 1_000, 1_000, 7);
    forged.amount = Amount::from_grains(2_000);
    let cases: Vec<(Transfer, ErrorCode)> = vec![
        (first.clone(), ErrorCode::Duplicate),
        (transfer(&MAIN, &key(1, 0), id(R), 1_000, 1_000, 7), ErrorCode::WrongChain),
        (memo_tx(1, 1_000, 1_000, 7, 129), ErrorCode::MemoTooLong),
        (transfer_with_memo(params(), &key(1, 0), id(R), 1_000, 1_000, 7, vec![0xff]), ErrorCode::InvalidMemo),
        (tx(1, 0, 1_000, 7), ErrorCode::ZeroAmount),
        (tx(1, 1_000, SIZE as u64 - 1, 7), ErrorCode::FeeTooLow),
        (forged, ErrorCode::InvalidSignature),
        (tx(1, 1_000, 1_000, 4), ErrorCode::NonceTooLow),
        (tx(1, 1_000, 1_000, 5 + 64), ErrorCode::NonceGap),
        (tx(1, 97_000, 1_000, 7), ErrorCode::InsufficientFunds),
        (tx(1, 1_000, 1_099, 5), ErrorCode::ReplacementUnderpriced),
    ];
    for (transfer, code) in cases {
        assert_eq!(code_of(pool.insert(transfer, NOW, &st)), code);
        assert_eq!(snapshot(&pool), before, "{code} changed the pool");
        assert_consistent(&pool);
    }

    // Full: a pool of two holding better-paying transfers.
    let mut full = small_pool(2, DEFAULT_MAX_BYTES);
    add(&mut full, &tx(1, 1_000, 1_000, 5), &st);
    add(&mut full, &tx(1, 1_000, 1_000, 6), &st);
    let before = snapshot(&full);
    let error = full.insert(tx(2, 1_000, 500, 0), NOW, &st).expect_err("full");
    assert_eq!((error.code(), error.code().http_status()), (ErrorCode::MempoolFull, 503));
    assert_eq!(snapshot(&full), before);
}

#[test]
fn refusal_codes_follow_the_order_of_spec_section_6() {
    let st = state(&[(1, 10_000, 5)]);
    let mut pool = pool();
    add(&mut pool, &tx(1, 1_000, 1_000, 5), &st);
    // Wrong chain beats a bad nonce; zero amount beats a low fee; nonce beats funds.
    let wrong_chain_and_nonce = transfer(&MAIN, &key(1, 0), id(R), 1_000, 1_000, 1);
    assert_eq!(code_of(pool.insert(wrong_chain_and_nonce, NOW, &st)), ErrorCode::WrongChain);
    assert_eq!(code_of(pool.insert(tx(1, 0, 1, 6), NOW, &st)), ErrorCode::ZeroAmount);
    assert_eq!(code_of(pool.insert(tx(1, 50_000, 1_000, 1), NOW, &st)), ErrorCode::NonceTooLow);
    assert_eq!(code_of(pool.insert(tx(1, 50_000, 1_000, 500), NOW, &st)), ErrorCode::NonceGap);
    // A replacement both unfundable and underpriced is judged on funds first.
    assert_eq!(code_of(pool.insert(tx(1, 50_000, 1_000, 5), NOW, &st)), ErrorCode::InsufficientFunds);
    // The split entry point reports the same codes once prechecked.
    let gap = tx(1, 1_000, 1_000, 70);
    assert_eq!(precheck(&gap, params()), Ok(()));
    assert_eq!(code_of(pool.insert_prechecked(gap.clone(), gap.txid(), NOW, &st)), ErrorCode::NonceGap);
    assert_eq!(precheck(&tx(1, 0, 1_000, 6), params()).map_err(|e| e.code()), Err(ErrorCode::ZeroAmount));
    assert_eq!(pool.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Nonces

#[test]
fn the_nonce_window_is_n_to_n_plus_63() {
    let st = state(&[(1, 1_000_000, 10)]);
    let mut pool = pool();
    assert_eq!(
        pool.insert(tx(1, 1, 1_000, 9), NOW, &st),
        Err(MempoolError::Rule(TransferError::NonceTooLow { expected: 10, found: 9 }))
    );
    assert_eq!(
        pool.insert(tx(1, 1, 1_000, 74), NOW, &st),
        Err(MempoolError::Rule(TransferError::NonceGap { expected: 10, found: 74 }))
    );
    add(&mut pool, &tx(1, 1, 1_000, 73), &st); // N + 63: held as a gap
    add(&mut pool, &tx(1, 1, 1_000, 10), &st); // N itself
    assert_eq!(pool.len(), 2);
    assert_eq!(pool.next_nonce(&id(1), &st), 11);
}

#[test]
fn next_nonce_counts_consecutive_pending_nonces_only() {
    let st = state(&[(1, 1_000_000, 3)]);
    let mut pool = pool();
    assert_eq!(pool.next_nonce(&id(1), &st), 3);
    assert_eq!(pool.next_nonce(&id(2), &st), 0);
    for nonce in [3, 4, 6] {
        add(&mut pool, &tx(1, 1, 1_000, nonce), &st);
    }
    assert_eq!(pool.next_nonce(&id(1), &st), 5);
    add(&mut pool, &tx(1, 1, 1_000, 5), &st);
    assert_eq!(pool.next_nonce(&id(1), &st), 7);
    // Against a later state (a block took 3 and 4), the run still counts from the state nonce.
    assert_eq!(pool.next_nonce(&id(1), &state(&[(1, 1_000_000, 5)])), 7);
    assert_eq!(pool.next_nonce(&id(1), &state(&[(1, 1_000_000, 8)])), 8);
}

// ---------------------------------------------------------------------------------------------
// Funds and replacement

#[test]
fn funds_are_judged_cumulatively() {
    let st = state(&[(1, 10_000, 0)]);
    let mut pool = pool();
    add(&mut pool, &tx(1, 5_000, 200, 0), &st);
    assert_eq!(
        pool.insert(tx(1, 4_801, 200, 1), NOW, &st),
        Err(MempoolError::Rule(TransferError::InsufficientFunds {
            balance: Amount::from_grains(10_000),
            amount: Amount::from_grains(9_801),
            fee: Amount::from_grains(400),
        }))
    );
    add(&mut pool, &tx(1, 4_600, 200, 1), &st); // exactly the balance
    assert_eq!(pool.pending_for(&id(1)), (Amount::ZERO, Amount::from_grains(10_000)));
    assert_eq!(code_of(pool.insert(tx(1, 1, 200, 2), NOW, &st)), ErrorCode::InsufficientFunds);
    // Overflowing sums are refused, never wrapped.
    let whale = state(&[(2, u64::MAX, 0)]);
    add(&mut pool, &tx(2, u64::MAX - 1_000, 1_000, 0), &whale);
    assert_eq!(code_of(pool.insert(tx(2, u64::MAX - 1_000, 1_000, 1), NOW, &whale)), ErrorCode::InsufficientFunds);
}

#[test]
fn replacement_needs_ten_percent_more_fee() {
    let st = state(&[(1, 1_000_000, 0)]);
    let mut pool = pool();
    let old = add(&mut pool, &tx(1, 100, 1_000, 0), &st);
    assert_eq!(
        pool.insert(tx(1, 100, 1_099, 0), NOW, &st),
        Err(MempoolError::ReplacementUnderpriced {
            old_fee: Amount::from_grains(1_000),
            min_fee: Amount::from_grains(1_100)
        })
    );
    let inserted = pool.insert(tx(1, 100, 1_100, 0), NOW, &st).expect("exactly +10 %");
    assert_eq!(inserted.replaced, Some(old));
    assert!(!pool.contains(&old) && pool.contains(&inserted.txid));
    assert_eq!((pool.len(), pool.bytes()), (1, SIZE));
    assert_consistent(&pool);

    // 1.1 × 1001 = 1101.1: 1101 is short, 1102 is enough.
    let odd = add(&mut pool, &tx(1, 100, 1_001, 1), &st);
    assert_eq!(
        pool.insert(tx(1, 100, 1_101, 1), NOW, &st),
        Err(MempoolError::ReplacementUnderpriced {
            old_fee: Amount::from_grains(1_001),
            min_fee: Amount::from_grains(1_102)
        })
    );
    assert_eq!(pool.insert(tx(1, 100, 1_102, 1), NOW, &st).map(|i| i.replaced), Ok(Some(odd)));
    assert_consistent(&pool);
    // A replacement may carry a longer memo: the byte count follows.
    pool.insert(memo_tx(1, 100, 1_300, 1, 20), NOW, &st).expect("replaces");
    assert_eq!((pool.len(), pool.bytes()), (2, 2 * SIZE + 20));
    assert_consistent(&pool);
}

#[test]
fn a_replacement_or_gap_fill_that_strands_a_later_transfer_is_refused() {
    let st = state(&[(1, 10_000, 0), (2, 10_000, 0)]);
    let mut pool = pool();
    add(&mut pool, &tx(1, 4_000, 200, 0), &st);
    add(&mut pool, &tx(1, 5_000, 200, 1), &st);
    let before = snapshot(&pool);
    // Well priced, and affordable on its own, but nonce 1 would no longer be covered.
    assert_eq!(code_of(pool.insert(tx(1, 4_700, 300, 0), NOW, &st)), ErrorCode::InsufficientFunds);
    assert_eq!(snapshot(&pool), before);
    add(&mut pool, &tx(1, 4_500, 300, 0), &st); // 4_800 + 5_200 = the balance

    add(&mut pool, &tx(2, 9_000, 200, 1), &st); // held as a gap
    assert_eq!(code_of(pool.insert(tx(2, 1_000, 200, 0), NOW, &st)), ErrorCode::InsufficientFunds);
    add(&mut pool, &tx(2, 600, 200, 0), &st);
    assert_eq!(pool.next_nonce(&id(2), &st), 2);
}

// ---------------------------------------------------------------------------------------------
// Bounds

#[test]
fn a_full_pool_evicts_the_lowest_fee_rate_tail() {
    let st = rich();
    let mut pool = small_pool(3, DEFAULT_MAX_BYTES);
    let a0 = add(&mut pool, &tx(1, 1, 200, 0), &st); // lowest rate, but a1 depends on it
    let a1 = add(&mut pool, &tx(1, 1, 1_000, 1), &st);
    let b0 = add(&mut pool, &tx(2, 1, 300, 0), &st);
    let inserted = pool.insert(tx(3, 1, 400, 0), NOW, &st).expect("beats b0");
    assert_eq!(inserted.evicted, vec![b0]);
    assert!(pool.contains(&a0) && pool.contains(&a1) && !pool.contains(&b0));
    assert_eq!(pool.len(), 3);
    assert_consistent(&pool);

    // Tails are now a1 (1000) and c0 (400): a newcomer at 400 or less is refused.
    let before = snapshot(&pool);
    assert_eq!(
        pool.insert(tx(4, 1, 400, 0), NOW, &st),
        Err(MempoolError::Full {
            fee_rate: FeeRate::new(Amount::from_grains(400), SIZE),
            min_fee_rate: Some(FeeRate::new(Amount::from_grains(400), SIZE)),
        })
    );
    assert_eq!(snapshot(&pool), before);
    // A replacement needs no room.
    assert!(pool.insert(tx(1, 1, 220, 0), NOW, &st).expect("replaces a0").evicted.is_empty());
}

#[test]
fn eviction_by_bytes_takes_as_many_tails_as_needed() {
    let st = rich();
    let mut pool = small_pool(100, 3 * SIZE);
    let a0 = add(&mut pool, &tx(1, 1, 300, 0), &st);
    let a1 = add(&mut pool, &tx(1, 1, 200, 1), &st);
    let b0 = add(&mut pool, &tx(2, 1, 250, 0), &st);
    // 10 bytes too many: a1 goes first, which exposes a0 (300); b0 (250) is next-lowest.
    let before = snapshot(&pool);
    let underpaid = memo_tx(3, 1, 260, 0, 10); // beats a1 but not b0
    assert_eq!(
        pool.insert(underpaid, NOW, &st),
        Err(MempoolError::Full {
            fee_rate: FeeRate::new(Amount::from_grains(260), SIZE + 10),
            min_fee_rate: Some(FeeRate::new(Amount::from_grains(250), SIZE)),
        })
    );
    assert_eq!(snapshot(&pool), before);
    let inserted = pool.insert(memo_tx(3, 1, 1_000, 0, 10), NOW, &st).expect("beats both");
    assert_eq!(inserted.evicted, vec![a1, b0]);
    assert!(pool.contains(&a0));
    assert_eq!((pool.len(), pool.bytes()), (2, 2 * SIZE + 10));
    assert_consistent(&pool);
}

#[test]
fn a_sender_never_evicts_its_own_queue() {
    let st = rich();
    let mut pool = small_pool(2, DEFAULT_MAX_BYTES);
    add(&mut pool, &tx(1, 1, 200, 0), &st);
    add(&mut pool, &tx(1, 1, 200, 1), &st);
    assert_eq!(
        pool.insert(tx(1, 1, 10_000, 2), NOW, &st),
        Err(MempoolError::Full { fee_rate: FeeRate::new(Amount::from_grains(10_000), SIZE), min_fee_rate: None })
    );
    // A transfer bigger than the whole byte bound never fits.
    let mut tiny = small_pool(10, SIZE - 1);
    assert_eq!(code_of(tiny.insert(tx(2, 1, 10_000, 0), NOW, &st)), ErrorCode::MempoolFull);
}

#[test]
fn the_default_bounds_hold_at_least_100_000_transfers() {
    let config = MempoolConfig::default();
    assert!(config.max_count >= 100_000);
    assert!(config.max_bytes >= 100_000 * (TRANSFER_BASE_LEN + oxcoin::tx::MAX_MEMO_LEN));
}

#[test]
fn fee_rates_compare_exactly() {
    let rate = |fee, size| FeeRate::new(Amount::from_grains(fee), size);
    assert_eq!(rate(1, 3), rate(2, 6));
    assert!(rate(1, 3) < rate(334, 1_000));
    assert!(rate(u64::MAX, 157) > rate(u64::MAX - 1, 157));
    assert_eq!(rate(5, 0), rate(5, 1));
    assert_eq!(rate(158, 157).grains_per_byte_ceil(), 2);
    assert_eq!(rate(1_274, 1_000).to_string(), "1.274 grains/byte");
}

// ---------------------------------------------------------------------------------------------
// Expiry

#[test]
fn transfers_expire_after_24_hours_with_their_dependents() {
    let st = rich();
    let mut pool = pool();
    pool.insert(tx(1, 1, 1_000, 0), NOW, &st).expect("accepted");
    pool.insert(tx(1, 1, 1_000, 1), NOW + 100, &st).expect("accepted");
    pool.insert(tx(2, 1, 1_000, 0), NOW + 1, &st).expect("accepted");
    assert_eq!(pool.expire(NOW + EXPIRY_SECS), 0, "exactly 24 h old stays");
    assert_eq!(pool.len(), 3);
    assert_eq!(pool.expire(NOW + EXPIRY_SECS + 1), 2, "a1 goes with a0");
    assert_eq!(pool.len(), 1);
    assert!(pool.contains(&tx(2, 1, 1_000, 0).txid()));
    assert_consistent(&pool);
    assert_eq!(pool.expire(NOW + EXPIRY_SECS + 2), 1);
    assert!(pool.is_empty());
    assert_eq!(pool.bytes(), 0);
    assert_consistent(&pool);
}

// ---------------------------------------------------------------------------------------------
// Templates

#[test]
fn select_takes_the_best_fee_rate_while_keeping_nonce_order() {
    let st = rich();
    let mut pool = pool();
    let a0 = tx(1, 1, 200, 0);
    let a1 = tx(1, 1, 2_000, 1);
    let b0 = tx(2, 1, 500, 0);
    let b1 = tx(2, 1, 400, 1);
    let c1 = tx(3, 1, 5_000, 1); // gapped: c0 missing
    for t in [&a0, &a1, &b0, &b1, &c1] {
        add(&mut pool, t, &st);
    }
    let all = pool.select(1_000_000, &st);
    assert_eq!(all, vec![b0.clone(), b1.clone(), a0.clone(), a1.clone()]);
    let cost = SIZE + BLOCK_LENGTH_PREFIX;
    assert_eq!(pool.select(2 * cost, &st), vec![b0.clone(), b1.clone()]);
    assert_eq!(pool.select(2 * cost - 1, &st), vec![b0.clone()]);
    assert!(pool.select(cost - 1, &st).is_empty());

    // Against a state where b can pay only one transfer, b's queue stops after b0.
    let poorer = state(&[(1, 1_000_000, 0), (2, 600, 0), (3, 1_000_000, 0)]);
    assert_eq!(pool.select(1_000_000, &poorer), vec![b0.clone(), a0.clone(), a1.clone()]);
    // Against a state where a0 is already mined, a1 leads.
    let later = state(&[(1, 1_000_000, 1), (2, 1_000_000, 0), (3, 1_000_000, 0)]);
    assert_eq!(pool.select(1_000_000, &later), vec![a1, b0, b1]);
}

#[test]
fn select_skips_a_sender_that_does_not_fit_and_fills_with_others() {
    let st = rich();
    let mut pool = pool();
    let big = memo_tx(1, 1, 10_000, 0, 100); // best rate, 257 bytes
    let small = tx(2, 1, 1_000, 0);
    add(&mut pool, &big, &st);
    add(&mut pool, &small, &st);
    assert_eq!(pool.select(SIZE + 100 + BLOCK_LENGTH_PREFIX, &st), vec![big.clone()]);
    assert_eq!(pool.select(SIZE + 99 + BLOCK_LENGTH_PREFIX, &st), vec![small]);
}

#[test]
fn top_by_fee_rate_and_account_queries() {
    let st = rich();
    let mut pool = pool();
    let low = add(&mut pool, &tx(1, 10, 300, 0), &st);
    let high = add(&mut pool, &tx(2, 20, 900, 0), &st);
    pool.insert(tx_to(R, R, 5, 600, 0), NOW + 5, &st).expect("a self-transfer");
    let own = tx_to(R, R, 5, 600, 0).txid();
    let ranked: Vec<Txid> = pool.top_by_fee_rate(10).iter().map(|e| e.txid).collect();
    assert_eq!(ranked, vec![high, own, low]);
    assert_eq!(pool.top_by_fee_rate(1).len(), 1);
    assert_eq!(pool.pending_for(&id(R)), (Amount::from_grains(35), Amount::from_grains(605)));
    assert_eq!(pool.pending_for(&id(1)), (Amount::ZERO, Amount::from_grains(310)));
    assert_eq!(pool.pending_for(&id(4)), (Amount::ZERO, Amount::ZERO));
    let history: Vec<Txid> = pool.pending_txs_for(&id(R)).iter().map(|e| e.txid).collect();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0], own, "newest first, listed once");
    assert_eq!(pool.pending_txs_for(&id(1)).len(), 1);
    assert_eq!(pool.get(&low), Some(&tx(1, 10, 300, 0)));
    assert_eq!(pool.entry(&own).map(|e| e.received), Some(NOW + 5));
    assert_eq!(pool.get(&Txid::ZERO), None);
}

#[test]
fn suggested_fee_rate_is_the_midpoint_of_the_best_block() {
    let st = rich();
    let mut pool = pool();
    assert_eq!(pool.suggested_fee_rate(), 1, "an empty pool suggests the minimum");
    for (seed, per_byte) in [(1, 10), (2, 8), (3, 6), (4, 2)] {
        add(&mut pool, &tx(seed, 1, per_byte * SIZE as u64, 0), &st);
    }
    assert_eq!(pool.suggested_fee_rate(), 1, "four transfers do not fill a block");
    let cost = SIZE + BLOCK_LENGTH_PREFIX;
    assert_eq!(pool.suggested_fee_rate_within(4 * cost), 8);
    assert_eq!(pool.suggested_fee_rate_within(2 * cost), 10);
    assert_eq!(pool.suggested_fee_rate_within(4 * cost + 1), 1);
    add(&mut pool, &tx(R, 1, SIZE as u64 + 1, 0), &st);
    assert_eq!(pool.suggested_fee_rate_within(5 * cost), 6, "the third of five");
    assert_eq!(pool.suggested_fee_rate_within(2 * cost), 10);
}

// ---------------------------------------------------------------------------------------------
// Chain events

#[test]
fn a_connected_block_removes_its_transfers_and_what_they_invalidate() {
    let st = state(&[(1, 100_000, 0), (2, 100_000, 0)]);
    let mut pool = pool();
    let a0 = tx(1, 1_000, 500, 0);
    let a1 = tx(1, 1_000, 500, 1);
    let a3 = tx(1, 1_000, 500, 3);
    let b0 = tx(2, 1_000, 500, 0);
    for t in [&a0, &a1, &a3, &b0] {
        add(&mut pool, t, &st);
    }
    let b0_conflict = tx(2, 2_000, 500, 0);
    let after = state(&[(1, 98_500, 1), (2, 97_500, 1)]);
    assert_eq!(pool.on_block_connected([&a0, &b0_conflict], &after), 2);
    assert!(!pool.contains(&a0.txid()) && !pool.contains(&b0.txid()));
    assert!(pool.contains(&a1.txid()) && pool.contains(&a3.txid()), "a gapped transfer stays");
    assert_eq!(pool.next_nonce(&id(1), &after), 2);
    assert_consistent(&pool);

    // A block that drains a's balance drops a's unfundable tail, gapped or not.
    let drained = state(&[(1, 1_000, 1), (2, 97_500, 1)]);
    assert_eq!(pool.on_block_connected(std::iter::empty(), &drained), 0, "only the block's senders are rechecked");
    let other = tx(1, 1, 500, 0); // some transfer of a that never reached this pool
    assert_eq!(pool.on_block_connected([&other], &drained), 2);
    assert!(pool.is_empty());
    assert_consistent(&pool);
}

#[test]
fn a_disconnected_block_returns_its_transfers_when_still_valid() {
    let before = state(&[(1, 10_000, 0)]);
    let sent = tx(1, 5_000, 200, 0);
    let after = state(&[(1, 4_800, 1), (R, 5_000, 0)]);
    let mut pool = pool();
    let spends_it = add(&mut pool, &tx_to(R, 2, 4_000, 200, 0), &after);
    let stale = tx(1, 9_000, 200, 0); // invalid again once `sent` is back: nonce 0 is taken
    assert_eq!(pool.on_block_disconnected([&sent, &stale], NOW + 60, &before), 1);
    assert!(pool.contains(&sent.txid()));
    assert_eq!(pool.entry(&sent.txid()).map(|e| e.received), Some(NOW + 60));
    assert!(!pool.contains(&spends_it), "its recipient's spending of it is unfunded again");
    assert_eq!(pool.next_nonce(&id(1), &before), 1);
    assert_consistent(&pool);
    // Reconnecting the block takes it out again.
    assert_eq!(pool.on_block_connected([&sent], &after), 1);
    assert!(pool.is_empty());
}

#[test]
fn revalidate_drops_what_a_poorer_state_cannot_fund() {
    let st = rich();
    let mut pool = pool();
    add(&mut pool, &tx(1, 10_000, 500, 0), &st);
    add(&mut pool, &tx(1, 10_000, 500, 1), &st);
    assert_eq!(pool.revalidate([id(1)], &state(&[(1, 15_000, 0)])), 1);
    assert_eq!(pool.len(), 1);
    assert_consistent(&pool);
}

// ---------------------------------------------------------------------------------------------
// Persistence

fn stocked_pool() -> (Mempool, State) {
    let st = rich();
    let mut pool = pool();
    pool.insert(tx(1, 100, 1_000, 0), NOW, &st).expect("accepted");
    pool.insert(memo_tx(1, 100, 1_000, 1, 128), NOW + 10, &st).expect("accepted");
    pool.insert(tx(2, 100, 700, 3), NOW + 5, &st).expect("accepted");
    (pool, st)
}

#[test]
fn the_pool_file_round_trips_and_reloads() {
    let (pool, st) = stocked_pool();
    let bytes = pool.to_bytes();
    assert_eq!(&bytes[..4], b"OXMP");
    assert_eq!(bytes[4..12], [1, 0, 0, 0, 3, 0, 0, 0]);
    let entries = Mempool::from_bytes(&bytes).expect("decodes");
    let times: Vec<u64> = entries.iter().map(|(_, received)| *received).collect();
    assert_eq!(times, vec![NOW, NOW + 5, NOW + 10], "oldest first");
    for (transfer, received) in &entries {
        assert_eq!(pool.entry(&transfer.txid()).map(|e| (&e.transfer, e.received)), Some((transfer, *received)));
    }
    let mut reloaded = Mempool::new(params(), MempoolConfig::default());
    assert_eq!(reloaded.reload(entries.clone(), NOW + 100, &st), 3);
    assert_eq!(snapshot(&reloaded), snapshot(&pool));
    assert_eq!(reloaded.to_bytes(), bytes);
    assert_consistent(&reloaded);

    // Reloading re-validates: expired, already-mined and forged entries are dropped.
    let mut forged = tx(3, 100, 1_000, 0);
    forged.amount = Amount::from_grains(101);
    let mut checked = pool_of_default();
    let mined = state(&[(1, 1_000_000, 1), (2, 1_000_000, 0), (3, 1_000_000, 0)]);
    let mut with_forged = entries;
    with_forged.push((forged, NOW));
    assert_eq!(checked.reload(with_forged.clone(), NOW + EXPIRY_SECS + 1, &mined), 2);
    assert_eq!(checked.len(), 2);
    let mut late = pool_of_default();
    assert_eq!(late.reload(with_forged, NOW + EXPIRY_SECS + 6, &mined), 1);
    // A received time in the future is clamped to now.
    let mut future = pool_of_default();
    assert_eq!(future.reload([(tx(4, 1, 1_000, 0), NOW + 1_000)], NOW, &st), 1);
    assert_eq!(future.iter().next().map(|e| e.received), Some(NOW));
    // The split entry point trusts the caller's precheck and txid.
    let mut split = pool_of_default();
    let good = tx(4, 1, 1_000, 0);
    let expired = tx(4, 1, 1_000, 1);
    let entries = [(good.clone(), good.txid(), NOW), (expired.clone(), expired.txid(), 0)];
    assert_eq!(split.reload_prechecked(entries, NOW, &st), 1);
    assert!(split.contains(&good.txid()));
}

#[test]
fn saved_entries_are_prechecked_in_parallel_keeping_their_order() {
    let mut entries: Vec<(Transfer, u64)> =
        (0..300).map(|i| (tx(1 + (i % 7) as u8, 1, 1_000, i / 7), NOW + i)).collect();
    // Forge every 50th (the signature no longer matches) and make every 75th break a stateless rule.
    for (i, (transfer, _)) in entries.iter_mut().enumerate() {
        if i % 50 == 49 {
            transfer.amount = Amount::from_grains(2);
        } else if i % 75 == 74 {
            transfer.fee = Amount::ZERO;
        }
    }
    let expected: Vec<(Txid, u64)> = entries
        .iter()
        .filter(|(transfer, _)| precheck(transfer, params()).is_ok())
        .map(|(transfer, received)| (transfer.txid(), *received))
        .collect();
    assert_eq!(expected.len(), 300 - 6 - 2, "6 forged, 2 more with a zero fee");
    let checked = precheck_saved(entries, params());
    let got: Vec<(Txid, u64)> = checked.iter().map(|(_, txid, received)| (*txid, *received)).collect();
    assert_eq!(got, expected);
    assert!(checked.iter().all(|(transfer, txid, _)| transfer.txid() == *txid));
}

fn pool_of_default() -> Mempool {
    Mempool::new(params(), MempoolConfig::default())
}

#[test]
fn bad_pool_files_are_refused() {
    let (pool, _) = stocked_pool();
    let bytes = pool.to_bytes();
    for len in 0..bytes.len() {
        assert!(Mempool::from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(Mempool::from_bytes(&trailing), Err(MempoolFileError::Decode(DecodeError::TrailingBytes(1)))));
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(Mempool::from_bytes(&magic), Err(MempoolFileError::BadMagic { found: *b"XXMP" }));
    let mut version = bytes.clone();
    version[4] = 2;
    assert_eq!(Mempool::from_bytes(&version), Err(MempoolFileError::UnsupportedVersion { found: 2 }));
    let mut count = bytes.clone();
    count[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        Mempool::from_bytes(&count),
        Err(MempoolFileError::TooManyEntries { count: u32::MAX, remaining: bytes.len() - 12 })
    );
    // A length prefix one short leaves the transfer incomplete.
    let mut length = bytes.clone();
    length[20] -= 1;
    assert!(Mempool::from_bytes(&length).is_err());
    // An empty pool writes a valid empty file.
    assert_eq!(Mempool::from_bytes(&pool_of_default().to_bytes()), Ok(Vec::new()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_pool_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Mempool::from_bytes(&bytes);
        let mut framed = b"OXMP\x01\x00\x00\x00".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = Mempool::from_bytes(&framed);
    }

    #[test]
    fn mutated_pool_files_never_panic(index in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let (pool, st) = stocked_pool();
        let mut bytes = pool.to_bytes();
        let at = index.index(bytes.len());
        bytes[at] = byte;
        bytes.truncate(cut.index(bytes.len() + 1).max(at));
        if let Ok(entries) = Mempool::from_bytes(&bytes) {
            let mut fresh = pool_of_default();
            prop_assert!(fresh.reload(entries, NOW, &st) <= 3);
            assert_consistent(&fresh);
        }
    }
}

/// One step of a random workload.
#[derive(Clone, Debug)]
enum Op {
    Insert { seed: u8, nonce: u64, amount: u64, fee: u64, memo: usize },
    Connect { seed: u8 },
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1u8..4, 0u64..6, 1u64..4_000, 157u64..2_000, 0usize..40)
            .prop_map(|(seed, nonce, amount, fee, memo)| Op::Insert { seed, nonce, amount, fee, memo }),
        1 => (1u8..4).prop_map(|seed| Op::Connect { seed }),
        1 => Just(Op::Expire),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever happens, the indexes agree, the bounds hold, every sender's pending spending
    /// stays within its balance, and a refusal changes nothing.
    #[test]
    fn random_workloads_keep_the_invariants(ops in proptest::collection::vec(op(), 1..30)) {
        let mut st = state(&[(1, 8_000, 0), (2, 8_000, 0), (3, 8_000, 0)]);
        let mut pool = small_pool(6, 5 * SIZE);
        for (step, op) in ops.into_iter().enumerate() {
            let now = NOW + step as u64 * 10_000;
            match op {
                Op::Insert { seed, nonce, amount, fee, memo } => {
                    let transfer = memo_tx(seed, amount, fee, nonce, memo);
                    let before = snapshot(&pool);
                    if pool.insert_prechecked(transfer.clone(), transfer.txid(), now, &st).is_err() {
                        prop_assert_eq!(snapshot(&pool), before);
                    }
                }
                Op::Connect { seed } => {
                    let sender = id(seed);
                    let account = st.get(&sender).copied().unwrap_or_default();
                    let mined: Vec<Transfer> = pool.select(1_000_000, &st)
                        .into_iter()
                        .filter(|t| t.sender() == sender)
                        .take(1)
                        .collect();
                    if let Some(t) = mined.first() {
                        let spent = t.amount.checked_add(t.fee).expect("small");
                        st.insert(sender, Account {
                            balance: account.balance.checked_sub(spent).expect("selected transfers are funded"),
                            nonce: account.nonce + 1,
                        });
                        pool.on_block_connected(&mined, &st);
                        prop_assert!(!pool.contains(&t.txid()));
                    }
                }
                Op::Expire => {
                    pool.expire(now);
                }
            }
            assert_consistent(&pool);
            prop_assert!(pool.len() <= 6 && pool.bytes() <= 5 * SIZE);
            for seed in 1..4 {
                let account = st.get(&id(seed)).copied().unwrap_or_default();
                let (_, out) = pool.pending_for(&id(seed));
                prop_assert!(out <= account.balance);
            }
        }
    }
}
