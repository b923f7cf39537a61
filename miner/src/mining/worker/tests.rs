//! Worker-pool tests: dev and harder blocks, template switches, pause, stop, extra-nonce roll.

use super::*;
use oxcoin::params::DEV;
use oxcoin::{AccountId, Amount, BlockHash, Coinbase, Header, MerkleRoot};
use std::sync::mpsc::{self, Receiver};

/// Generous bound for a block at a target needing ~2^16 hashes in an unoptimized test build.
const FOUND_WITHIN: Duration = Duration::from_secs(60);
/// Bits that no test will ever meet.
const HARD_BITS: u32 = 0x1703_4219;
/// A pow limit that admits [`HARD_BITS`].
const HARD_LIMIT: u32 = 0x1d00_ffff;

#[track_caller]
fn template(height: u64, prev: BlockHash, bits: u32, pow_limit: u32) -> Template {
    let coinbase = Coinbase {
        height,
        to: AccountId::from_byte_array([9; 20]),
        amount: Amount::from_grains(50),
        extra_nonce: 1000,
    };
    let header = Header {
        version: 1,
        prev_hash: prev,
        merkle_root: MerkleRoot::ZERO,
        time: 1_795_996_800 + height as u32,
        bits: CompactTarget::from_consensus(bits),
        nonce: 0,
    };
    let block = Block { header, txs: vec![Tx::Coinbase(coinbase)] };
    Template::new(block, CompactTarget::from_consensus(pow_limit)).expect("a valid test template")
}

fn dev_template(height: u64, prev: BlockHash) -> Template {
    template(height, prev, DEV.pow_limit.to_consensus(), DEV.pow_limit.to_consensus())
}

fn hard_template() -> Template {
    template(1, BlockHash::from_byte_array([0xee; 32]), HARD_BITS, HARD_LIMIT)
}

fn start(threads: usize) -> (Miner, Receiver<Block>) {
    let (sender, receiver) = mpsc::channel();
    let sender = Mutex::new(sender);
    let miner = Miner::start(threads, move |block| {
        let _ = lock(&sender).send(block);
    })
    .expect("the pool starts");
    (miner, receiver)
}

#[track_caller]
fn coinbase_of(block: &Block) -> Coinbase {
    match block.txs.first() {
        Some(Tx::Coinbase(coinbase)) => *coinbase,
        other => panic!("no coinbase first: {other:?}"),
    }
}

/// Checks a mined block against the template it came from.
#[track_caller]
fn assert_solves(block: &Block, template: &Template) {
    assert_eq!(block.header.validate_pow(template.pow_limit).map(|_| ()), Ok(()));
    assert_eq!(block.header.merkle_root, block.compute_merkle_root());
    let expected = Header { merkle_root: block.header.merkle_root, nonce: block.header.nonce, ..template.block.header };
    assert_eq!(block.header, expected, "only the Merkle root and nonce change");
    let (mined, given) = (coinbase_of(block), coinbase_of(&template.block));
    assert_eq!(Coinbase { extra_nonce: given.extra_nonce, ..mined }, given, "only the extra nonce changes");
    assert!(mined.extra_nonce >= given.extra_nonce);
}

#[test]
fn mines_a_chain_of_dev_blocks() {
    let (miner, found) = start(2);
    assert_eq!(miner.threads(), 2);
    let mut prev = BlockHash::ZERO;
    for height in 1..=4 {
        let template = dev_template(height, prev);
        miner.set_template(Some(template.clone()));
        let block = found.recv_timeout(FOUND_WITHIN).expect("a dev block is found");
        assert_solves(&block, &template);
        prev = block.header.hash();
    }
    miner.stop();
}

#[test]
fn mines_a_block_that_needs_about_65536_hashes() {
    let (miner, found) = start(2);
    // Target 2^240: one hash in 2^16 meets it.
    let template = template(7, BlockHash::from_byte_array([7; 32]), 0x1f01_0000, DEV.pow_limit.to_consensus());
    miner.set_template(Some(template.clone()));
    let block = found.recv_timeout(FOUND_WITHIN).expect("the block is found");
    assert_solves(&block, &template);
    assert!(miner.hashrate() > 0.0);
    // Solved: nothing more is reported for this template.
    assert!(found.recv_timeout(Duration::from_millis(100)).is_err());
}

#[test]
fn a_new_template_replaces_the_old_one() {
    let (miner, found) = start(2);
    miner.set_template(Some(hard_template()));
    std::thread::sleep(Duration::from_millis(100));
    let newer = dev_template(2, BlockHash::from_byte_array([2; 32]));
    let switched = Instant::now();
    miner.set_template(Some(newer.clone()));
    let block = found.recv_timeout(FOUND_WITHIN).expect("the new template is mined");
    assert_solves(&block, &newer);
    assert!(switched.elapsed() < Duration::from_secs(5), "picked up in {:?}", switched.elapsed());
}

#[test]
fn none_pauses_and_a_template_resumes() {
    let (miner, found) = start(2);
    miner.set_template(Some(hard_template()));
    std::thread::sleep(Duration::from_millis(150));
    assert!(miner.total_hashes() > 0, "mining before the pause");
    miner.set_template(None);
    // Every worker finishes its chunk and goes to sleep.
    std::thread::sleep(Duration::from_millis(200));
    let paused = miner.total_hashes();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(miner.total_hashes(), paused, "no hashing while paused");
    let template = dev_template(3, BlockHash::ZERO);
    miner.set_template(Some(template.clone()));
    assert_solves(&found.recv_timeout(FOUND_WITHIN).expect("mining resumes"), &template);
}

#[test]
fn stop_joins_the_workers_promptly() {
    let (miner, _found) = start(2);
    miner.set_template(Some(hard_template()));
    std::thread::sleep(Duration::from_millis(100));
    let exited = Arc::clone(&miner.exited);
    let stopping = Instant::now();
    miner.stop();
    assert!(stopping.elapsed() < Duration::from_secs(2), "stopped in {:?}", stopping.elapsed());
    assert_eq!(*lock(&exited.remaining), 0, "every pool thread exited");
}

#[test]
fn idle_pool_stops_too() {
    let (miner, _found) = start(0);
    assert!(miner.threads() >= 1);
    let exited = Arc::clone(&miner.exited);
    drop(miner);
    assert_eq!(*lock(&exited.remaining), 0);
}

#[test]
fn rolls_the_extra_nonce_when_the_nonce_space_runs_out() {
    let (sender, found) = mpsc::channel();
    let sender = Mutex::new(sender);
    let on_found: OnFound = Box::new(move |block| {
        let _ = lock(&sender).send(block);
    });
    // 64 header nonces per extra nonce; the target needs ~2^10 hashes, so several rolls.
    let miner = Miner::start_with(2, 64, on_found).expect("the pool starts");
    let mut rolled = false;
    for height in 1..=8 {
        let template = template(height, BlockHash::ZERO, 0x1f40_0000, DEV.pow_limit.to_consensus());
        miner.set_template(Some(template.clone()));
        let block = found.recv_timeout(FOUND_WITHIN).expect("a block is found");
        assert_solves(&block, &template);
        assert!(block.header.nonce < 64);
        rolled |= coinbase_of(&block).extra_nonce >= 1002;
    }
    assert!(rolled, "eight blocks of ~1024 hashes each over 128-hash rounds rolled the extra nonce");
}

#[test]
fn a_panicking_callback_does_not_stop_the_pool() {
    let (sender, found) = mpsc::channel();
    let sender = Mutex::new(sender);
    let miner = Miner::start(1, move |block| {
        let _ = lock(&sender).send(block);
        panic!("callback failure on purpose");
    })
    .expect("the pool starts");
    for height in 1..=2 {
        let template = dev_template(height, BlockHash::ZERO);
        miner.set_template(Some(template.clone()));
        assert_solves(&found.recv_timeout(FOUND_WITHIN).expect("a block is found"), &template);
    }
}

#[test]
fn templates_that_cannot_be_mined_are_refused() {
    let good = dev_template(1, BlockHash::ZERO);
    let limit = DEV.pow_limit;
    let empty = Block { txs: Vec::new(), ..good.block.clone() };
    assert!(matches!(Template::new(empty, limit), Err(MiningError::NoCoinbase)));
    let mut negative = good.block.clone();
    negative.header.bits = CompactTarget::from_consensus(0x1d80_ffff);
    assert!(matches!(
        Template::new(negative, limit),
        Err(MiningError::InvalidBits { bits: 0x1d80_ffff, source: CompactTargetError::Negative })
    ));
    let mut easy = good.block.clone();
    easy.header.bits = CompactTarget::from_consensus(0x2100_ffff);
    assert!(matches!(
        Template::new(easy, limit),
        Err(MiningError::AboveLimit { bits: 0x2100_ffff, limit: 0x207f_ffff })
    ));
    assert!(matches!(
        Template::new(good.block.clone(), CompactTarget::from_consensus(0)),
        Err(MiningError::AboveLimit { .. })
    ));
}

#[test]
fn extra_nonces_of_different_workers_never_meet() {
    let mut seen = std::collections::HashSet::new();
    for index in 0..3 {
        for round in 0..50 {
            assert!(seen.insert(extra_nonce(u64::MAX - 20, index, 3, round)));
        }
    }
}

#[test]
fn chunks_adapt_toward_two_milliseconds() {
    assert_eq!(next_chunk(10_000, Duration::from_millis(1)), 20_000);
    assert_eq!(next_chunk(10_000, Duration::from_millis(8)), 5_000);
    assert_eq!(next_chunk(10_000, Duration::from_millis(2)), 10_000);
    assert_eq!(next_chunk(MIN_CHUNK, Duration::from_secs(1)), MIN_CHUNK);
    assert_eq!(next_chunk(MAX_CHUNK, Duration::ZERO), MAX_CHUNK);
}

#[test]
fn hash_rate_averages_the_recent_window() {
    let start = Instant::now();
    let at = |millis: u64| start + Duration::from_millis(millis);
    let mut meter = RateMeter::new(start);
    // 1,000 hashes per millisecond for 10 s.
    for millis in (250..=10_000).step_by(250) {
        meter.record(at(millis), millis * 1000);
    }
    let rate = meter.rate(at(10_000), 10_000_000);
    assert!((rate - 1e6).abs() < 1e3, "{rate}");
    assert!(meter.samples.len() <= 23, "old samples are dropped: {}", meter.samples.len());
    // A long pause: the rate falls to zero.
    meter.record(at(70_000), 10_000_000);
    assert_eq!(meter.rate(at(70_000), 10_000_000), 0.0);
    // Mining again at twice the speed: measured from the first sample after the pause.
    for millis in (70_250..=72_000).step_by(250) {
        meter.record(at(millis), 10_000_000 + (millis - 70_000) * 2000);
    }
    let rate = meter.rate(at(72_000), 14_000_000);
    assert!((rate - 2e6).abs() < 1e3, "{rate}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_mining_thread_runs_at_a_lower_priority() {
    let nice = std::thread::spawn(|| {
        super::lower_priority();
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("getpriority")
    })
    .join()
    .expect("the thread ends");
    assert!(nice >= super::MINING_NICE, "nice {nice}");
    let ours = rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("getpriority");
    assert!(ours < super::MINING_NICE, "only the mining thread is lowered (here {ours})");
}
