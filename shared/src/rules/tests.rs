//! One test per consensus rule, both sides of every boundary, asserting the exact variant.

use super::*;
use crate::Encode;
use crate::params::{DEV, MAIN};
use crate::testkit::{self, Chain, account_of, key, transfer, transfer_with_memo};
use crate::tx::{Coinbase, TRANSFER_BASE_LEN};

const FEE: u64 = 1_000;

fn funded(balance: u64) -> (ed25519_dalek::SigningKey, HashMap<AccountId, Account>) {
    let sender = key(1, 0);
    let state = HashMap::from([(account_of(&sender), Account { balance: Amount::from_grains(balance), nonce: 0 })]);
    (sender, state)
}

fn recipient() -> AccountId {
    account_of(&key(2, 0))
}

#[track_caller]
fn check(t: &Transfer, state: &HashMap<AccountId, Account>) -> Result<(), TransferError> {
    check_transfer(t, &DEV, state)
}

// ---- transfers ----

#[test]
fn a_valid_transfer_passes_and_moves_coins() {
    let (sender, state) = funded(10_000);
    let t = transfer(&DEV, &sender, recipient(), 5_000, FEE, 0);
    assert_eq!(check(&t, &state), Ok(()));
    let mut overlay = StateOverlay::new(&state);
    overlay.apply_transfer(&t).unwrap();
    assert_eq!(overlay.account(&account_of(&sender)), Account { balance: Amount::from_grains(4_000), nonce: 1 });
    assert_eq!(overlay.account(&recipient()).balance, Amount::from_grains(5_000));
}

#[test]
fn wrong_chain_is_refused() {
    let (sender, state) = funded(10_000);
    let t = transfer(&MAIN, &sender, recipient(), 1, FEE, 0);
    assert_eq!(check(&t, &state), Err(TransferError::WrongChain { expected: 3, found: 1 }));
    assert_eq!(check(&t, &state).unwrap_err().code().as_str(), "wrong_chain");
}

#[test]
fn memo_of_128_bytes_passes_and_129_is_too_long() {
    let (sender, state) = funded(10_000);
    let ok = transfer_with_memo(&DEV, &sender, recipient(), 1, FEE, 0, vec![b'a'; 128]);
    assert_eq!(check(&ok, &state), Ok(()));
    let long = transfer_with_memo(&DEV, &sender, recipient(), 1, FEE, 0, vec![b'a'; 129]);
    assert_eq!(check(&long, &state), Err(TransferError::MemoTooLong { len: 129 }));
}

#[test]
fn memo_that_is_not_utf8_is_refused() {
    let (sender, state) = funded(10_000);
    let t = transfer_with_memo(&DEV, &sender, recipient(), 1, FEE, 0, vec![0xff, 0xfe]);
    assert_eq!(check(&t, &state), Err(TransferError::InvalidMemo));
    let utf8 = transfer_with_memo(&DEV, &sender, recipient(), 1, FEE, 0, "café ☕".as_bytes().to_vec());
    assert_eq!(check(&utf8, &state), Ok(()));
}

#[test]
fn zero_amount_is_refused_and_one_grain_passes() {
    let (sender, state) = funded(10_000);
    assert_eq!(check(&transfer(&DEV, &sender, recipient(), 0, FEE, 0), &state), Err(TransferError::ZeroAmount));
    assert_eq!(check(&transfer(&DEV, &sender, recipient(), 1, FEE, 0), &state), Ok(()));
}

#[test]
fn fee_equal_to_size_passes_and_one_grain_less_is_too_low() {
    let (sender, state) = funded(10_000);
    let size = TRANSFER_BASE_LEN as u64 + 5;
    let memo = b"hello".to_vec();
    let exact = transfer_with_memo(&DEV, &sender, recipient(), 1, size, 0, memo.clone());
    assert_eq!(exact.encoded_len() as u64, size);
    assert_eq!(check(&exact, &state), Ok(()));
    let low = transfer_with_memo(&DEV, &sender, recipient(), 1, size - 1, 0, memo);
    assert_eq!(
        check(&low, &state),
        Err(TransferError::FeeTooLow {
            fee: Amount::from_grains(size - 1),
            required: Amount::from_grains(size),
            size: size as usize
        })
    );
}

#[test]
fn every_signed_field_flipped_breaks_the_signature() {
    let (sender, state) = funded(10_000);
    let good = transfer_with_memo(&DEV, &sender, recipient(), 100, FEE, 0, b"memo".to_vec());
    let bytes = good.encode();
    // Flip one bit in each byte the signature covers (skipping kind and chain id, which fail
    // earlier as malformed and wrong_chain, and the memo length, which changes the shape).
    let memo_len_at = TRANSFER_BASE_LEN - 64 - 1;
    for at in 5..bytes.len() - 64 {
        if at == memo_len_at {
            continue;
        }
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x01;
        let t = <Transfer as crate::Decode>::decode(&flipped).unwrap();
        let result = check(&t, &state);
        // A flipped amount or fee can trip an earlier rule first; otherwise the signature fails.
        assert!(
            matches!(
                result,
                Err(TransferError::InvalidSignature | TransferError::ZeroAmount | TransferError::FeeTooLow { .. })
            ),
            "byte {at}: {result:?}"
        );
    }
    let mut bad_sig = good.clone();
    bad_sig.signature[10] ^= 0x80;
    assert_eq!(check(&bad_sig, &state), Err(TransferError::InvalidSignature));
}

#[test]
fn small_order_and_non_canonical_public_keys_are_refused() {
    let (sender, mut state) = funded(10_000);
    let good = transfer(&DEV, &sender, recipient(), 100, FEE, 0);
    // The identity point (small order) and a non-canonical encoding of it (y = p + 1).
    let identity = {
        let mut b = [0u8; 32];
        b[0] = 1;
        b
    };
    let non_canonical = {
        let mut b = [0xffu8; 32];
        b[0] = 0xee;
        b[31] = 0x7f;
        b
    };
    for pk in [identity, non_canonical, [0u8; 32]] {
        let mut t = good.clone();
        t.from = crate::tx::PublicKey(pk);
        state.insert(t.sender(), Account { balance: Amount::from_grains(10_000), nonce: 0 });
        assert_eq!(check(&t, &state), Err(TransferError::InvalidSignature), "{pk:?}");
    }
}

#[test]
fn nonce_equal_passes_lower_is_too_low_and_higher_is_a_gap() {
    let (sender, mut state) = funded(10_000);
    state.get_mut(&account_of(&sender)).unwrap().nonce = 5;
    assert_eq!(check(&transfer(&DEV, &sender, recipient(), 1, FEE, 5), &state), Ok(()));
    assert_eq!(
        check(&transfer(&DEV, &sender, recipient(), 1, FEE, 4), &state),
        Err(TransferError::NonceTooLow { expected: 5, found: 4 })
    );
    assert_eq!(
        check(&transfer(&DEV, &sender, recipient(), 1, FEE, 6), &state),
        Err(TransferError::NonceGap { expected: 5, found: 6 })
    );
}

#[test]
fn balance_equal_to_amount_plus_fee_passes_and_one_grain_short_fails() {
    let (sender, state) = funded(10_000);
    assert_eq!(check(&transfer(&DEV, &sender, recipient(), 9_000, FEE, 0), &state), Ok(()));
    assert_eq!(
        check(&transfer(&DEV, &sender, recipient(), 9_001, FEE, 0), &state),
        Err(TransferError::InsufficientFunds {
            balance: Amount::from_grains(10_000),
            amount: Amount::from_grains(9_001),
            fee: Amount::from_grains(FEE)
        })
    );
}

#[test]
fn amount_plus_fee_overflowing_u64_is_refused_without_panicking() {
    let (sender, state) = funded(u64::MAX);
    let t = transfer(&DEV, &sender, recipient(), u64::MAX, FEE, 0);
    assert!(matches!(check(&t, &state), Err(TransferError::InsufficientFunds { .. })));
    let t = transfer(&DEV, &sender, recipient(), 1, u64::MAX, 0);
    assert!(matches!(check(&t, &state), Err(TransferError::InsufficientFunds { .. })));
}

#[test]
fn crediting_past_u64_is_an_error_and_leaves_the_overlay_unchanged() {
    let (sender, mut state) = funded(10_000);
    state.insert(recipient(), Account { balance: Amount::MAX, nonce: 0 });
    let t = transfer(&DEV, &sender, recipient(), 1, FEE, 0);
    let mut overlay = StateOverlay::new(&state);
    assert_eq!(overlay.apply_transfer(&t), Err(TransferError::BalanceOverflow { amount: Amount::ONE_GRAIN }));
    assert!(overlay.into_changes().is_empty());
}

#[test]
fn self_transfer_costs_only_the_fee() {
    let (sender, state) = funded(10_000);
    let t = transfer(&DEV, &sender, account_of(&sender), 4_000, FEE, 0);
    let mut overlay = StateOverlay::new(&state);
    overlay.apply_transfer(&t).unwrap();
    assert_eq!(overlay.account(&account_of(&sender)), Account { balance: Amount::from_grains(9_000), nonce: 1 });
}

#[test]
fn the_first_broken_rule_is_the_one_reported() {
    let (sender, state) = funded(0);
    // Wrong chain, long memo, zero amount, low fee, wrong nonce, no funds: wrong_chain wins.
    let t = transfer_with_memo(&MAIN, &sender, recipient(), 0, 0, 9, vec![0xff; 200]);
    assert!(matches!(check(&t, &state), Err(TransferError::WrongChain { .. })));
    let t = transfer_with_memo(&DEV, &sender, recipient(), 0, 0, 9, vec![0xff; 200]);
    assert!(matches!(check(&t, &state), Err(TransferError::MemoTooLong { .. })));
    let t = transfer(&DEV, &sender, recipient(), 0, 0, 9);
    assert!(matches!(check(&t, &state), Err(TransferError::ZeroAmount)));
    let mut t = transfer(&DEV, &sender, recipient(), 1, FEE, 9);
    t.signature[0] ^= 1;
    assert!(matches!(check(&t, &state), Err(TransferError::InvalidSignature)));
    let t = transfer(&DEV, &sender, recipient(), 1, FEE, 9);
    assert!(matches!(check(&t, &state), Err(TransferError::NonceGap { .. })));
}

#[test]
fn prechecks_of_a_batch_give_each_transfer_its_own_first_error() {
    // Good transfers, then each kind of stateless failure, in one batch longer than BATCH.
    let (sender, _) = funded(0);
    let mut transfers: Vec<Transfer> =
        (0..70).map(|i| transfer(&DEV, &key(3, i), recipient(), 100 + u64::from(i), FEE, 0)).collect();
    transfers[3].signature[40] ^= 1;
    transfers[7] = transfer(&MAIN, &sender, recipient(), 100, FEE, 0);
    transfers[8] = transfer(&DEV, &sender, recipient(), 0, FEE, 0);
    transfers[8].signature[0] ^= 1; // zero amount comes first
    transfers[20].from = crate::tx::PublicKey([0; 32]);
    transfers[65].amount = Amount::from_grains(1);
    let refs: Vec<&Transfer> = transfers.iter().collect();
    let batch = transfer_prechecks(&refs, &DEV);
    // The oracle: the stateless rules, then ed25519-dalek's own verify_strict.
    let one_by_one: Vec<Result<(), TransferError>> = transfers
        .iter()
        .map(|t| {
            transfer_is_well_formed(t, &DEV)?;
            let signed = testkit::dalek_verify_strict(&t.from.0, &t.signature, &t.signing_message());
            signed.then_some(()).ok_or(TransferError::InvalidSignature)
        })
        .collect();
    assert_eq!(batch, one_by_one);
    assert_eq!(precheck_sequential(&refs, &DEV), one_by_one);
    assert_eq!(refs.iter().map(|t| transfer_precheck(t, &DEV)).collect::<Vec<_>>(), one_by_one);
    let failed: Vec<usize> = batch.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(i, _)| i).collect();
    assert_eq!(failed, [3, 7, 8, 20, 65]);
    assert_eq!(batch[8], Err(TransferError::ZeroAmount));
    assert_eq!(batch[65], Err(TransferError::InvalidSignature));
}

// ---- blocks ----

fn miner() -> AccountId {
    account_of(&key(9, 0))
}

#[track_caller]
fn expect_err(chain: &Chain, block: &Block, code: &str) -> BlockError {
    let err = chain.check(block).expect_err("block must be refused");
    assert_eq!(err.code().as_str(), code, "{err}");
    err
}

#[test]
fn subsidy_halves_every_interval_and_ends() {
    let p = &MAIN;
    assert_eq!(subsidy(Height(0), p), Amount::from_oxc(50).unwrap());
    assert_eq!(subsidy(Height(209_999), p), Amount::from_oxc(50).unwrap());
    assert_eq!(subsidy(Height(210_000), p), Amount::from_grains(25 * 100_000_000));
    assert_eq!(subsidy(Height(210_000 * 33), p), Amount::ZERO);
    assert_eq!(subsidy(Height(u64::MAX), p), Amount::ZERO);
    // The total issued stays below the supply bound that `Amount::MAX_SUPPLY` promises.
    let total: u64 = (0..64).map(|era| subsidy(Height(era * 210_000), p).to_grains() * 210_000).sum();
    assert!(total <= Amount::MAX_SUPPLY.to_grains(), "{total}");
}

#[test]
fn median_time_past_is_the_middle_of_the_sorted_times() {
    assert_eq!(median_time_past(&[5]), 5);
    assert_eq!(median_time_past(&[3, 1, 2]), 2);
    assert_eq!(median_time_past(&[4, 1, 3, 2]), 3);
    assert_eq!(median_time_past(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]), 5);
}

#[test]
fn check_block_gives_the_precheck_each_transfers_txid_and_returns_the_blocks_txids() {
    let mut chain = Chain::new(&DEV);
    let sender = key(1, 0);
    chain.state.insert(account_of(&sender), Account { balance: Amount::from_oxc(10).unwrap(), nonce: 0 });
    let transfers: Vec<Transfer> = (0..3).map(|nonce| transfer(&DEV, &sender, recipient(), 1, 1_000, nonce)).collect();
    let block = chain.next_block(miner(), transfers.clone());
    let mut seen = Vec::new();
    let changes = check_block(&block, &chain.next_context(), &DEV, &chain.state, |txs, txids| {
        seen = txids.to_vec();
        precheck_sequential(txs, &DEV)
    })
    .expect("the block is valid");
    assert_eq!(seen, transfers.iter().map(Transfer::txid).collect::<Vec<_>>());
    assert_eq!(changes.txids, block.txids());
    assert_eq!(changes.txids.len(), 4, "the coinbase's first");
}

#[test]
fn a_chain_of_valid_blocks_connects() {
    let mut chain = Chain::new(&DEV);
    chain.mine_empty(5, miner());
    assert_eq!(chain.next_height(), 6);
}

#[test]
fn block_of_exactly_max_size_passes_and_one_byte_more_is_too_large() {
    let mut chain = Chain::new(&DEV);
    let sender = key(1, 0);
    chain.state.insert(account_of(&sender), Account { balance: Amount::from_oxc(1_000).unwrap(), nonce: 0 });
    let base = testkit::size(&chain.next_block(miner(), Vec::new()));
    let per_tx = 2 + TRANSFER_BASE_LEN;
    let room = DEV.max_block_size - base;
    let count = room / (per_tx + 20);
    let mut extra = room - count * per_tx; // memo bytes to spread
    let transfers: Vec<Transfer> = (0..count as u64)
        .map(|nonce| {
            let memo_len = extra.min(128);
            extra -= memo_len;
            transfer_with_memo(&DEV, &sender, recipient(), 1, 1_000, nonce, vec![b'x'; memo_len])
        })
        .collect();
    assert_eq!(extra, 0);
    let full = chain.next_block(miner(), transfers.clone());
    assert_eq!(testkit::size(&full), 1_000_000);
    assert!(chain.check(&full).is_ok());

    let mut over = transfers;
    let last = over.pop().unwrap();
    let mut memo = last.memo.as_bytes().to_vec();
    memo.push(b'y');
    over.push(transfer_with_memo(&DEV, &sender, recipient(), 1, 1_000, last.nonce, memo));
    let too_big = chain.next_block(miner(), over);
    assert_eq!(testkit::size(&too_big), 1_000_001);
    assert_eq!(expect_err(&chain, &too_big, "too_large"), BlockError::TooLarge { size: 1_000_001, max: 1_000_000 });
}

#[test]
fn a_hash_above_the_target_is_high_hash() {
    let chain = Chain::new(&DEV);
    let mut block = chain.next_block(miner(), Vec::new());
    while block.header.validate_pow(DEV.pow_limit).is_ok() {
        block.header.nonce += 1;
    }
    expect_err(&chain, &block, "high_hash");
}

#[test]
fn bits_other_than_required_are_bad_bits() {
    let chain = Chain::new(&DEV);
    let mut block = chain.next_block(miner(), Vec::new());
    block.header.bits = CompactTarget::from_consensus(0x207f_0000);
    testkit::solve(&mut block.header, &DEV);
    assert_eq!(
        expect_err(&chain, &block, "bad_bits"),
        BlockError::BadBits { expected: 0x207f_ffff, found: 0x207f_0000 }
    );
}

#[test]
fn time_equal_to_median_time_past_is_too_old_and_one_second_more_passes() {
    let mut chain = Chain::new(&DEV);
    chain.mine_empty(11, miner());
    let mtp = chain.next_context().median_time_past;
    let mut block = chain.next_block(miner(), Vec::new());
    block.header.time = mtp;
    testkit::solve(&mut block.header, &DEV);
    assert_eq!(expect_err(&chain, &block, "time_too_old"), BlockError::TimeTooOld { time: mtp, median_time_past: mtp });
    block.header.time = mtp + 1;
    testkit::solve(&mut block.header, &DEV);
    assert!(chain.check(&block).is_ok());
}

#[test]
fn time_ten_minutes_ahead_passes_and_one_second_more_is_too_new() {
    let mut chain = Chain::new(&DEV);
    let mut block = chain.next_block(miner(), Vec::new());
    chain.now = u64::from(block.header.time) - 600;
    assert!(chain.check(&block).is_ok());
    block.header.time += 1;
    testkit::solve(&mut block.header, &DEV);
    expect_err(&chain, &block, "time_too_new");
}

#[test]
fn a_body_that_does_not_match_the_header_is_bad_merkle_root() {
    let chain = Chain::new(&DEV);
    let mut block = chain.next_block(miner(), Vec::new());
    if let Tx::Coinbase(c) = &mut block.txs[0] {
        c.extra_nonce += 1;
    }
    let err = expect_err(&chain, &block, "bad_merkle_root");
    assert!(!err.is_header_failure(), "a wrong body must not condemn the header");
}

#[test]
fn an_empty_block_or_one_starting_with_a_transfer_has_no_coinbase() {
    let mut chain = Chain::new(&DEV);
    let sender = key(1, 0);
    chain.state.insert(account_of(&sender), Account { balance: Amount::from_oxc(1).unwrap(), nonce: 0 });
    let mut empty = chain.next_block(miner(), Vec::new());
    empty.txs.clear();
    testkit::reseal(&mut empty, &DEV);
    expect_err(&chain, &empty, "no_coinbase");
    let mut first_transfer = chain.next_block(miner(), vec![transfer(&DEV, &sender, recipient(), 1, FEE, 0)]);
    first_transfer.txs.remove(0);
    testkit::reseal(&mut first_transfer, &DEV);
    expect_err(&chain, &first_transfer, "no_coinbase");
}

#[test]
fn a_repeated_transfer_is_duplicate_tx() {
    let mut chain = Chain::new(&DEV);
    let sender = key(1, 0);
    chain.state.insert(account_of(&sender), Account { balance: Amount::from_oxc(1).unwrap(), nonce: 0 });
    let t = transfer(&DEV, &sender, recipient(), 1, FEE, 0);
    let block = chain.next_block(miner(), vec![t.clone(), t]);
    assert!(matches!(expect_err(&chain, &block, "duplicate_tx"), BlockError::DuplicateTx { index: 2, .. }));
}

#[test]
fn a_second_coinbase_or_a_wrong_height_is_bad_coinbase() {
    let chain = Chain::new(&DEV);
    let mut block = chain.next_block(miner(), Vec::new());
    block.txs.push(Tx::Coinbase(Coinbase { height: 1, to: miner(), amount: Amount::ZERO, extra_nonce: 7 }));
    testkit::reseal(&mut block, &DEV);
    assert_eq!(expect_err(&chain, &block, "bad_coinbase"), BlockError::ExtraCoinbase { index: 1 });

    let mut block = chain.next_block(miner(), Vec::new());
    if let Tx::Coinbase(c) = &mut block.txs[0] {
        c.height = 2;
    }
    testkit::reseal(&mut block, &DEV);
    assert_eq!(expect_err(&chain, &block, "bad_coinbase"), BlockError::CoinbaseHeight { expected: 1, found: 2 });
}

#[test]
fn coinbase_of_exactly_subsidy_plus_fees_passes_and_one_grain_more_fails() {
    let mut chain = Chain::new(&DEV);
    let sender = key(1, 0);
    chain.state.insert(account_of(&sender), Account { balance: Amount::from_oxc(1).unwrap(), nonce: 0 });
    let transfers =
        vec![transfer(&DEV, &sender, recipient(), 1, 2_000, 0), transfer(&DEV, &sender, recipient(), 1, 3_000, 1)];
    let block = chain.next_block(miner(), transfers);
    assert_eq!(chain.check(&block).unwrap().fees, Amount::from_grains(5_000));

    for delta in [1i64, -1] {
        let mut wrong = block.clone();
        let expected = block.txs[0].as_coinbase().unwrap().amount;
        if let Tx::Coinbase(c) = &mut wrong.txs[0] {
            c.amount = Amount::from_grains(expected.to_grains().checked_add_signed(delta).unwrap());
        }
        testkit::reseal(&mut wrong, &DEV);
        assert!(matches!(expect_err(&chain, &wrong, "bad_coinbase"), BlockError::CoinbaseAmount { .. }));
    }
}

#[test]
fn an_invalid_transfer_reports_its_index_and_rule() {
    let mut chain = Chain::new(&DEV);
    let sender = key(1, 0);
    chain.state.insert(account_of(&sender), Account { balance: Amount::from_oxc(1).unwrap(), nonce: 0 });
    let mut bad = transfer(&DEV, &sender, recipient(), 1, FEE, 1);
    bad.signature[3] ^= 4;
    let block = chain.next_block(miner(), vec![transfer(&DEV, &sender, recipient(), 1, FEE, 0), bad]);
    let err = expect_err(&chain, &block, "invalid_tx");
    assert_eq!(err, BlockError::InvalidTx { index: 2, error: TransferError::InvalidSignature });
    assert_eq!(
        err.to_string(),
        "transaction 2: invalid_signature: signature does not verify under the sender's public key"
    );
    // Transfers apply in order: the second spends what the first left.
    let block = chain.next_block(
        miner(),
        vec![
            transfer(&DEV, &sender, recipient(), 60_000_000, FEE, 0),
            transfer(&DEV, &sender, recipient(), 60_000_000, FEE, 1),
        ],
    );
    assert!(matches!(
        expect_err(&chain, &block, "invalid_tx"),
        BlockError::InvalidTx { index: 2, error: TransferError::InsufficientFunds { .. } }
    ));
}

#[test]
fn a_reward_is_spendable_at_maturity_and_not_one_block_before() {
    let mut chain = Chain::new(&DEV);
    let miner_key = key(7, 0);
    chain.mine_empty(1, account_of(&miner_key)); // block 1 pays the miner
    let spend = |chain: &Chain| chain.next_block(miner(), vec![transfer(&DEV, &miner_key, recipient(), 1, FEE, 0)]);
    // Maturity is 2 on dev: block 1's reward is credited when block 3 connects.
    chain.mine_empty(1, miner()); // block 2
    assert_eq!(chain.balance(&account_of(&miner_key)), Amount::ZERO);
    assert_eq!(chain.next_height(), 3);
    // Height 3 = 1 + maturity: the reward is credited at the start of this block, so it can be spent in it.
    assert!(chain.check(&spend(&chain)).is_ok());

    // One block earlier (height 2 = 1 + maturity − 1) the same spend fails.
    let mut chain = Chain::new(&DEV);
    chain.mine_empty(1, account_of(&miner_key));
    let too_early = spend(&chain);
    assert!(matches!(
        expect_err(&chain, &too_early, "invalid_tx"),
        BlockError::InvalidTx { index: 1, error: TransferError::InsufficientFunds { .. } }
    ));
}

#[test]
fn header_failures_are_only_pow_bits_and_median_time() {
    assert!(BlockError::BadBits { expected: 1, found: 2 }.is_header_failure());
    assert!(!BlockError::NoCoinbase.is_header_failure());
    assert!(!BlockError::TimeTooNew { time: 0, now: 0, max_future: 0 }.is_header_failure());
}

#[test]
fn asert_keeps_the_genesis_target_for_on_time_blocks_on_main() {
    let genesis = MAIN.genesis_block().header;
    let on_time = required_bits(ParentInfo { height: Height(0), time: genesis.time }, &MAIN);
    assert_eq!(on_time, MAIN.genesis.bits);
    // A parent one half-life late doubles the target; required bits get easier.
    let late = required_bits(ParentInfo { height: Height(0), time: genesis.time + 3600 }, &MAIN);
    let (t_on, t_late) = (on_time.to_target().unwrap(), late.to_target().unwrap());
    assert!(t_late > t_on);
    assert_eq!(required_bits(ParentInfo { height: Height(5), time: 0 }, &DEV), DEV.pow_limit);
}
