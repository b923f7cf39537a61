//! The acceptance pipeline, fork choice, reorgs, invalid marking and restart, on a real redb
//! store in a temp dir.

use super::*;
use oxcoin::Amount;
use oxcoin::params::DEV;
use oxcoin::rules::Account;
use oxcoin::testkit::{self, account_of, key, transfer};
use tempfile::TempDir;

/// A clock far past every test block.
const NOW: u64 = 4_000_000_000;

fn open() -> (TempDir, Chain) {
    let dir = tempfile::tempdir().expect("temp dir");
    let chain = Chain::open(&dir.path().join("chain.redb"), &DEV).expect("store opens");
    (dir, chain)
}

fn reopen(dir: &TempDir) -> Chain {
    Chain::open(&dir.path().join("chain.redb"), &DEV).expect("store reopens")
}

fn miner() -> AccountId {
    account_of(&key(9, 0))
}

/// A valid child of `parent` paying `to`, one second after it.
fn child(chain: &Chain, parent: BlockHash, to: AccountId, transfers: Vec<Transfer>) -> Block {
    let entry = chain.entry(&parent).expect("parent is indexed");
    testkit::block(&DEV, parent, entry.height.0 + 1, entry.header.time + 1, to, transfers)
}

#[track_caller]
fn submit(chain: &mut Chain, block: &Block) -> Result<Accepted, ChainError> {
    chain.process_block(block.clone(), NOW).0
}

/// Extends the best chain by `n` empty blocks paying `to`; returns their hashes.
fn mine(chain: &mut Chain, n: usize, to: AccountId) -> Vec<BlockHash> {
    (0..n)
        .map(|_| {
            let block = child(chain, chain.tip_hash(), to, Vec::new());
            assert_eq!(submit(chain, &block).expect("valid block"), Accepted::Connected);
            block.header.hash()
        })
        .collect()
}

fn balance(chain: &Chain, id: &AccountId) -> Amount {
    chain.store().account(id).expect("read").balance
}

#[test]
fn a_new_store_starts_at_genesis_and_reopens_there() {
    let (dir, chain) = open();
    assert_eq!(chain.height(), Height(0));
    assert_eq!(chain.tip_hash(), DEV.genesis_block().header.hash());
    drop(chain);
    assert_eq!(reopen(&dir).tip_hash(), DEV.genesis_block().header.hash());
}

#[test]
fn blocks_connect_rewards_mature_and_state_survives_a_restart_without_replay() {
    let (dir, mut chain) = open();
    let alice = key(1, 0);
    mine(&mut chain, 1, account_of(&alice)); // block 1 pays alice, credited at block 3
    mine(&mut chain, 1, miner());
    assert_eq!(balance(&chain, &account_of(&alice)), Amount::ZERO);
    assert_eq!(chain.immature_rewards(&account_of(&alice)), Amount::from_oxc(50).unwrap());
    let pay = transfer(&DEV, &alice, account_of(&key(2, 0)), 10 * 100_000_000, 1_000, 0);
    let block = child(&chain, chain.tip_hash(), miner(), vec![pay.clone()]);
    let (result, update) = chain.process_block(block.clone(), NOW);
    assert_eq!(result.expect("spends a matured reward"), Accepted::Connected);
    assert_eq!(update.connected, vec![block.clone()]);
    assert_eq!(balance(&chain, &account_of(&alice)), Amount::from_grains(40 * 100_000_000 - 1_000));
    assert_eq!(chain.immature_rewards(&account_of(&alice)), Amount::ZERO);

    let tip = chain.tip_hash();
    drop(chain);
    let chain = reopen(&dir);
    assert_eq!((chain.tip_hash(), chain.height()), (tip, Height(3)));
    assert_eq!(balance(&chain, &account_of(&key(2, 0))), Amount::from_oxc(10).unwrap());
    let found = chain.store().tx(&Tx::Transfer(pay.clone()).txid()).unwrap().expect("indexed");
    assert_eq!((found.height, found.index, found.block_hash), (Height(3), 1, tip));
    assert_eq!(found.tx, Tx::Transfer(pay));
    let history = chain.store().history(&account_of(&alice), None, 10).unwrap();
    assert_eq!(history.iter().map(|l| l.height.0).collect::<Vec<_>>(), vec![3, 1], "newest first");
    let older = chain.store().history(&account_of(&alice), Some((Height(3), 1)), 10).unwrap();
    assert_eq!(older.len(), 1);
}

#[test]
fn a_known_block_is_reported_known_and_changes_nothing() {
    let (_dir, mut chain) = open();
    let block = child(&chain, chain.tip_hash(), miner(), Vec::new());
    assert_eq!(submit(&mut chain, &block).unwrap(), Accepted::Connected);
    let (result, update) = chain.process_block(block, NOW);
    assert_eq!(result.unwrap(), Accepted::Known);
    assert!(update.is_empty());
}

#[test]
fn an_orphan_waits_for_its_parent_then_both_connect() {
    let (_dir, mut chain) = open();
    let parent = child(&chain, chain.tip_hash(), miner(), Vec::new());
    let grandchild = testkit::block(&DEV, parent.header.hash(), 2, parent.header.time + 1, miner(), Vec::new());
    assert_eq!(submit(&mut chain, &grandchild).unwrap(), Accepted::Orphan);
    assert_eq!(chain.orphan_count(), 1);
    let (result, update) = chain.process_block(parent.clone(), NOW);
    assert_eq!(result.unwrap(), Accepted::Connected);
    assert_eq!(update.connected, vec![parent, grandchild.clone()]);
    assert_eq!(chain.tip_hash(), grandchild.header.hash());
    assert_eq!(chain.orphan_count(), 0);
}

#[test]
fn the_orphan_pool_is_bounded() {
    let (_dir, mut chain) = open();
    for i in 0..(MAX_ORPHANS as u32 + 10) {
        let mut parent = [0u8; 32];
        parent[..4].copy_from_slice(&i.to_le_bytes());
        let block = testkit::block(&DEV, BlockHash::from_byte_array(parent), 5, 1_900_000_000, miner(), Vec::new());
        assert_eq!(submit(&mut chain, &block).unwrap(), Accepted::Orphan);
    }
    assert_eq!(chain.orphan_count(), MAX_ORPHANS);
}

#[test]
fn a_side_branch_is_stored_then_wins_with_more_work_and_the_state_follows() {
    let (dir, mut chain) = open();
    let alice = key(1, 0);
    let bob = account_of(&key(2, 0));
    let carol = account_of(&key(3, 0));
    let fork = mine(&mut chain, 3, account_of(&alice))[2]; // heights 1..=3, alice's first reward matures at 3
    let to_bob = transfer(&DEV, &alice, bob, 100, 1_000, 0);
    let a = child(&chain, fork, miner(), vec![to_bob.clone()]);
    assert_eq!(submit(&mut chain, &a).unwrap(), Accepted::Connected);
    assert_eq!(balance(&chain, &bob), Amount::from_grains(100));

    // A competing branch from the fork point: equal work stays a side branch (first seen wins).
    let to_carol = transfer(&DEV, &alice, carol, 200, 1_000, 0);
    let b1 = child(&chain, fork, account_of(&key(8, 0)), vec![to_carol.clone()]);
    assert_eq!(submit(&mut chain, &b1).unwrap(), Accepted::Side);
    assert_eq!(chain.tip_hash(), a.header.hash());
    // One more block on it: more work, so the chain reorganizes.
    let b2 = child(&chain, b1.header.hash(), account_of(&key(8, 0)), Vec::new());
    let (result, update) = chain.process_block(b2.clone(), NOW);
    assert_eq!(result.unwrap(), Accepted::Connected);
    assert_eq!(update.disconnected, vec![a.clone()]);
    assert_eq!(update.connected, vec![b1.clone(), b2.clone()]);
    assert_eq!(chain.tip_hash(), b2.header.hash());
    assert_eq!(balance(&chain, &bob), Amount::ZERO, "the orphaned transfer is undone");
    assert_eq!(balance(&chain, &carol), Amount::from_grains(200));
    assert!(chain.store().tx(&Tx::Transfer(to_bob).txid()).unwrap().is_none());
    assert!(chain.store().tx(&Tx::Transfer(to_carol.clone()).txid()).unwrap().is_some());
    assert!(chain.store().history(&bob, None, 10).unwrap().is_empty());
    assert!(chain.is_on_main_chain(&b1.header.hash()) && !chain.is_on_main_chain(&a.header.hash()));

    drop(chain);
    let chain = reopen(&dir);
    assert_eq!(chain.tip_hash(), b2.header.hash());
    assert_eq!(balance(&chain, &carol), Amount::from_grains(200));
}

#[test]
fn a_deep_reorg_switches_twelve_blocks() {
    let (_dir, mut chain) = open();
    let fork = chain.tip_hash();
    let old = mine(&mut chain, 12, miner());
    let other = account_of(&key(4, 0));
    let mut parent = fork;
    let mut last = None;
    for i in 0..13 {
        let block = child(&chain, parent, other, Vec::new());
        let (result, update) = chain.process_block(block.clone(), NOW);
        if i < 12 {
            assert_eq!(result.unwrap(), Accepted::Side);
        } else {
            assert_eq!(result.unwrap(), Accepted::Connected);
            assert_eq!(update.disconnected.len(), 12);
            assert_eq!(update.disconnected[0].header.hash(), old[11], "tip first");
            assert_eq!(update.connected.len(), 13);
        }
        parent = block.header.hash();
        last = Some(parent);
    }
    assert_eq!(Some(chain.tip_hash()), last);
    assert_eq!(chain.height(), Height(13));
    // Rewards: the new branch's blocks 1..=11 matured (maturity 2), the old branch's none.
    assert_eq!(balance(&chain, &miner()), Amount::ZERO);
    assert_eq!(balance(&chain, &other), Amount::from_oxc(50 * 11).unwrap());
}

#[test]
fn a_branch_with_an_invalid_block_is_marked_and_the_old_chain_stays() {
    let (_dir, mut chain) = open();
    let alice = key(1, 0);
    let fork = mine(&mut chain, 3, account_of(&alice))[2];
    mine(&mut chain, 2, miner());
    let tip = chain.tip_hash();
    let balances_before = chain.store().account(&account_of(&alice)).unwrap();

    // Side branch: b1 fine, b2 spends more than alice has (only state can tell), b3 on top.
    let b1 = child(&chain, fork, account_of(&key(8, 0)), Vec::new());
    assert_eq!(submit(&mut chain, &b1).unwrap(), Accepted::Side);
    let overspend = transfer(&DEV, &alice, miner(), 500 * 100_000_000, 1_000, 0);
    let b2 = child(&chain, b1.header.hash(), miner(), vec![overspend]);
    assert_eq!(submit(&mut chain, &b2).unwrap(), Accepted::Side);
    let b3 = child(&chain, b2.header.hash(), miner(), Vec::new());
    let (result, update) = chain.process_block(b3.clone(), NOW);
    assert!(matches!(result, Err(ChainError::BadPrevBlock { parent }) if parent == b2.header.hash()), "{result:?}");
    assert!(update.is_empty(), "b1 alone has no more work than the tip");
    assert_eq!(chain.tip_hash(), tip);
    assert_eq!(chain.store().account(&account_of(&alice)).unwrap(), balances_before);
    assert_eq!(chain.entry(&b2.header.hash()).unwrap().status, BlockStatus::Invalid(ErrorCode::InvalidTx));
    assert_eq!(chain.entry(&b3.header.hash()).unwrap().status, BlockStatus::Invalid(ErrorCode::BadPrevBlock));
    assert_eq!(chain.entry(&b1.header.hash()).unwrap().status, BlockStatus::Valid);
    assert!(matches!(submit(&mut chain, &b2), Err(ChainError::KnownInvalid { code: ErrorCode::InvalidTx, .. })));
    let b4 = child(&chain, b3.header.hash(), miner(), Vec::new());
    assert!(matches!(submit(&mut chain, &b4), Err(ChainError::BadPrevBlock { .. })));
    assert!(chain.entry(&b4.header.hash()).is_none(), "a new child of an invalid block is not stored");
}

#[test]
fn an_invalid_tip_extension_is_refused_with_its_rule_and_marked() {
    let (_dir, mut chain) = open();
    let pauper = key(5, 0);
    let block = child(&chain, chain.tip_hash(), miner(), vec![transfer(&DEV, &pauper, miner(), 1, 1_000, 0)]);
    let result = submit(&mut chain, &block);
    assert!(matches!(&result, Err(ChainError::Rule(BlockError::InvalidTx { index: 1, .. }))), "{result:?}");
    assert_eq!(result.unwrap_err().code(), Some(ErrorCode::InvalidTx));
    assert_eq!(chain.height(), Height(0));
    assert!(matches!(submit(&mut chain, &block), Err(ChainError::KnownInvalid { .. })));
}

#[test]
fn a_body_that_does_not_match_its_header_never_poisons_the_hash() {
    let (_dir, mut chain) = open();
    let good = child(&chain, chain.tip_hash(), miner(), Vec::new());
    let mut wrong_body = good.clone();
    if let Tx::Coinbase(c) = &mut wrong_body.txs[0] {
        c.extra_nonce += 1;
    }
    assert_eq!(wrong_body.header.hash(), good.header.hash());
    let result = submit(&mut chain, &wrong_body);
    assert_eq!(result.unwrap_err().code(), Some(ErrorCode::BadMerkleRoot));
    assert!(chain.entry(&good.header.hash()).is_none());
    assert_eq!(submit(&mut chain, &good).unwrap(), Accepted::Connected);
}

#[test]
fn header_failures_are_refused_without_storing_anything() {
    let (_dir, mut chain) = open();
    let mut bad_bits = child(&chain, chain.tip_hash(), miner(), Vec::new());
    bad_bits.header.bits = oxcoin::CompactTarget::from_consensus(0x207f_0000);
    testkit::solve(&mut bad_bits.header, &DEV);
    let size_before = chain.index.len();
    for _ in 0..2 {
        assert_eq!(submit(&mut chain, &bad_bits).unwrap_err().code(), Some(ErrorCode::BadBits), "same code again");
    }
    assert!(chain.entry(&bad_bits.header.hash()).is_none(), "cheap to make, so never stored");
    assert_eq!(chain.index.len(), size_before);
    // Its children are still refused for it (remembered in memory), not kept as orphans.
    let grandchild = testkit::block(&DEV, bad_bits.header.hash(), 2, bad_bits.header.time + 1, miner(), Vec::new());
    let result = submit(&mut chain, &grandchild);
    assert!(
        matches!(result, Err(ChainError::BadPrevBlock { parent }) if parent == bad_bits.header.hash()),
        "{result:?}"
    );
    assert_eq!(chain.orphan_count(), 0);

    let future = child(&chain, chain.tip_hash(), miner(), Vec::new());
    let early_clock = u64::from(future.header.time) - 601;
    let (result, _) = chain.process_block(future.clone(), early_clock);
    assert_eq!(result.unwrap_err().code(), Some(ErrorCode::TimeTooNew));
    assert_eq!(submit(&mut chain, &future).unwrap(), Accepted::Connected, "valid once the clock catches up");
}

#[test]
fn a_block_above_its_target_is_refused_and_never_stored() {
    let (_dir, mut chain) = open();
    let mut block = child(&chain, chain.tip_hash(), miner(), Vec::new());
    while block.header.validate_pow(DEV.pow_limit).is_ok() {
        block.header.nonce += 1;
    }
    assert_eq!(submit(&mut chain, &block).unwrap_err().code(), Some(ErrorCode::HighHash));
    assert!(chain.entry(&block.header.hash()).is_none());
}

#[test]
fn a_store_of_another_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    drop(Chain::open(&path, &DEV).unwrap());
    let err = Chain::open(&path, &oxcoin::params::TEST).unwrap_err();
    assert!(err.to_string().contains("network"), "{err}");
}

#[test]
fn many_transfers_in_one_block_update_every_account() {
    let (_dir, mut chain) = open();
    let alice = key(1, 0);
    mine(&mut chain, 3, account_of(&alice));
    let transfers: Vec<Transfer> =
        (0..50).map(|n| transfer(&DEV, &alice, account_of(&key(6, n as u32)), 1_000 + n, 1_000, n)).collect();
    let block = child(&chain, chain.tip_hash(), miner(), transfers);
    assert_eq!(submit(&mut chain, &block).unwrap(), Accepted::Connected);
    assert_eq!(chain.store().account(&account_of(&alice)).unwrap().nonce, 50);
    assert_eq!(balance(&chain, &account_of(&key(6, 49))), Amount::from_grains(1_049));
    let _: Account = chain.store().account(&miner()).unwrap();
}

#[test]
fn a_batch_commits_once_at_its_end_and_reopens_complete() {
    let (dir, mut chain) = open();
    let hashes = chain
        .batch(|chain| {
            let hashes = mine(chain, 5, miner());
            // A refused block inside the batch changes nothing else.
            let mut bad = child(chain, chain.tip_hash(), miner(), Vec::new());
            bad.header.time = 0;
            testkit::reseal(&mut bad, &DEV);
            assert!(submit(chain, &bad).is_err());
            hashes
        })
        .expect("the durable commit");
    assert_eq!(chain.height(), Height(5));
    drop(chain);
    let chain = reopen(&dir);
    assert_eq!(chain.tip_hash(), hashes[4]);
    assert!(balance(&chain, &miner()) > Amount::ZERO, "matured rewards are in the state");
}

#[test]
fn a_wrong_body_sent_first_as_an_orphan_does_not_stand_in_for_the_block() {
    let (_dir, mut chain) = open();
    let parent = child(&chain, chain.tip_hash(), miner(), Vec::new());
    let entry_time = parent.header.time;
    let orphan = testkit::block(&DEV, parent.header.hash(), 2, entry_time + 1, miner(), Vec::new());
    let mut wrong_body = orphan.clone();
    if let Tx::Coinbase(c) = &mut wrong_body.txs[0] {
        c.extra_nonce += 1;
    }
    assert_eq!(wrong_body.header.hash(), orphan.header.hash());
    assert_eq!(submit(&mut chain, &wrong_body).unwrap(), Accepted::Orphan, "SPEC's order: orphan first");
    assert_eq!(chain.orphan_count(), 0, "a body that does not match its header is not kept");
    assert_eq!(submit(&mut chain, &orphan).unwrap(), Accepted::Orphan);
    assert_eq!(chain.orphan_count(), 1);
    assert_eq!(submit(&mut chain, &parent).unwrap(), Accepted::Connected);
    assert_eq!(chain.tip_hash(), orphan.header.hash(), "the kept orphan connected after its parent");
}

#[test]
fn transfers_verified_ahead_skip_only_their_signature_check() {
    let (_dir, mut chain) = open();
    let alice = key(1, 0);
    mine(&mut chain, 1, account_of(&alice));
    mine(&mut chain, 1, miner());
    // Verified ahead but overspending: the state checks still run and refuse it.
    let overspend = transfer(&DEV, &alice, miner(), 500 * 100_000_000, 1_000, 0);
    let bad = child(&chain, chain.tip_hash(), miner(), vec![overspend.clone()]);
    let verified = std::collections::HashSet::from([overspend.txid()]);
    let result = chain.batch_verified(verified, |chain| submit(chain, &bad)).expect("commit");
    assert_eq!(result.unwrap_err().code(), Some(ErrorCode::InvalidTx));
    // A bad signature that was not verified ahead is still found, with others verified.
    let good = transfer(&DEV, &alice, account_of(&key(2, 0)), 100_000_000, 1_000, 0);
    let mut forged = transfer(&DEV, &alice, account_of(&key(3, 0)), 100_000_000, 1_000, 1);
    forged.amount = forged.amount.checked_add(oxcoin::Amount::from_grains(1)).expect("no overflow");
    let block = child(&chain, chain.tip_hash(), miner(), vec![good.clone(), forged]);
    let verified = std::collections::HashSet::from([good.txid()]);
    let result = chain.batch_verified(verified, |chain| submit(chain, &block)).expect("commit");
    assert!(matches!(result, Err(ChainError::Rule(BlockError::InvalidTx { index: 2, .. }))), "{result:?}");
    // The valid one alone, verified ahead, connects; the set does not outlive its batch.
    let block = child(&chain, chain.tip_hash(), miner(), vec![good.clone()]);
    let verified = std::collections::HashSet::from([good.txid()]);
    let result = chain.batch_verified(verified, |chain| submit(chain, &block)).expect("commit");
    assert_eq!(result.unwrap(), Accepted::Connected);
    assert!(chain.verified.is_empty());
}

/// Blocks exercising every store write: transfers, a reorg that undoes two of them, a refused
/// block, an orphan before its parent. Built on (and submitted to) `chain`; returns them in order.
fn eventful_blocks(chain: &mut Chain) -> Vec<Block> {
    let alice = key(1, 0);
    let carol = key(3, 0);
    let bob = account_of(&key(2, 0));
    let other = account_of(&key(8, 0));
    let mut blocks = Vec::new();
    let mut add = |chain: &mut Chain, block: Block| {
        let _ = submit(chain, &block);
        blocks.push(block);
    };
    for _ in 0..3 {
        add(chain, child(chain, chain.tip_hash(), account_of(&alice), Vec::new()));
    }
    let fork = chain.tip_hash();
    add(chain, child(chain, fork, miner(), vec![transfer(&DEV, &alice, bob, 100, 1_000, 0)]));
    let to_carol = transfer(&DEV, &alice, account_of(&carol), 300, 1_000, 1);
    add(chain, child(chain, chain.tip_hash(), miner(), vec![to_carol]));
    let mut parent = fork;
    for i in 0..3u64 {
        let transfers = vec![transfer(&DEV, &alice, account_of(&carol), 5_000 + i, 1_000, i)];
        let block = child(chain, parent, other, transfers);
        parent = block.header.hash();
        add(chain, block);
    }
    assert_eq!(chain.tip_hash(), parent, "the longer branch won");
    let overspend = transfer(&DEV, &alice, bob, 10_000 * 100_000_000, 1_000, 3);
    add(chain, child(chain, parent, miner(), vec![overspend]));
    let c = child(chain, parent, miner(), vec![transfer(&DEV, &carol, bob, 1_000, 1_000, 0)]);
    add(chain, c.clone());
    let d1 = child(chain, c.header.hash(), miner(), Vec::new());
    let d2 = testkit::block(&DEV, d1.header.hash(), 9, d1.header.time + 1, bob, Vec::new());
    add(chain, d2);
    add(chain, d1);
    blocks
}

/// The records that `chain`'s store and `expected` (a dump) do not share, described.
fn differences(chain: &Chain, expected: &[(&'static str, Vec<u8>, Vec<u8>)]) -> Vec<String> {
    let got = chain.store().dump();
    let describe = |side: &str, (table, key, value): &(&str, Vec<u8>, Vec<u8>)| {
        format!("{side} {table} {} = {}", hex::encode(key), hex::encode(value))
    };
    let missing = expected.iter().filter(|row| !got.contains(row)).map(|row| describe("missing", row));
    let extra = got.iter().filter(|row| !expected.contains(row)).map(|row| describe("extra", row));
    missing.chain(extra).collect()
}

#[test]
fn deferred_groups_write_exactly_what_block_by_block_commits_write() {
    let (_ref_dir, mut reference) = open();
    let blocks = eventful_blocks(&mut reference);
    assert_eq!(reference.height(), Height(9), "every block but the overspend connected");
    let expected = reference.store().dump();
    let results = |chain: &mut Chain, blocks: &[Block]| -> Vec<String> {
        blocks.iter().map(|b| format!("{:?}", submit(chain, b))).collect()
    };
    let reference_results = {
        let (_dir, mut chain) = open();
        results(&mut chain, &blocks)
    };
    // (group size in blocks, spill threshold in bytes, transactions from which a write's tx
    // index is applied on its own thread): one group, one group spilled at every write, groups
    // of two blocks (boundaries inside the reorg); then the same with the tx index applied
    // beside the other tables in every write.
    let serial = usize::MAX;
    for (group, spill, parallel) in [
        (blocks.len(), usize::MAX, serial),
        (blocks.len(), 1, serial),
        (2, usize::MAX, serial),
        (blocks.len(), usize::MAX, 1),
        (blocks.len(), 1, 1),
        (2, usize::MAX, 1),
    ] {
        let mode = format!("group {group}, spill {spill}, parallel from {parallel}");
        let (dir, mut chain) = open();
        chain.store.set_spill_bytes(spill);
        chain.store.set_parallel_apply_txs(parallel);
        let mut got = Vec::new();
        for part in blocks.chunks(group) {
            got.extend(chain.batch(|chain| results(chain, part)).expect("the durable commit"));
        }
        assert_eq!(got, reference_results, "{mode}");
        assert_eq!(differences(&chain, &expected), Vec::<String>::new(), "{mode}");
        drop(chain);
        let chain = reopen(&dir);
        assert_eq!(differences(&chain, &expected), Vec::<String>::new(), "reopened: {mode}");
    }
}

#[test]
fn a_deferred_group_is_hidden_from_readers_until_it_commits_but_its_blocks_are_readable() {
    let (_dir, mut chain) = open();
    let alice = account_of(&key(1, 0));
    chain
        .batch(|chain| {
            let hashes = mine(chain, 3, alice);
            assert_eq!(balance(chain, &alice), Amount::ZERO, "state still the last commit's");
            let block = chain.store().block(&hashes[2]).expect("read").expect("the group's block");
            assert_eq!(block.header.hash(), hashes[2]);
            assert!(chain.store().tx(&block.txs[0].txid()).expect("read").is_none());
        })
        .expect("the durable commit");
    assert!(balance(&chain, &alice) > Amount::ZERO);
}

#[test]
fn net_chain_updates_drop_blocks_that_joined_and_left() {
    let (_dir, mut chain) = open();
    let blocks: Vec<Block> = (0..4)
        .map(|i| {
            let block = child(&chain, chain.tip_hash(), account_of(&key(7, i)), Vec::new());
            submit(&mut chain, &block).expect("a valid child of the tip");
            block
        })
        .collect();
    let [a, b, c, d] = [&blocks[0], &blocks[1], &blocks[2], &blocks[3]].map(Clone::clone);
    let mut net = ChainUpdate { disconnected: vec![a.clone()], connected: vec![b.clone(), c.clone()] };
    // c leaves again and a comes back: only b joined, nothing left.
    net.then(ChainUpdate { disconnected: vec![c.clone()], connected: vec![a.clone(), d.clone()] });
    assert_eq!(net, ChainUpdate { disconnected: vec![], connected: vec![b.clone(), d.clone()] });
    net.then(ChainUpdate::default());
    assert_eq!(net.connected.len(), 2);
    net.then(ChainUpdate { disconnected: vec![d, b], connected: vec![] });
    assert!(net.is_empty());
}
