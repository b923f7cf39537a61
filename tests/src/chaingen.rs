//! Dev-chain generator: builds a valid dev-network chain of many blocks and transfers directly in
//! the node's own store (`<dir>/dev/chain.redb`, what `oxminer run --network dev --data-dir <dir>`
//! opens), through the node's real acceptance pipeline ([`oxminer::chain::Chain::process_block`]).
//!
//! Layout of the generated chain (heights on the dev network, maturity `m` = 2):
//! - blocks `1..=m` pay their reward to the funder and hold no transfer;
//! - block `m + 1` (where block 1's reward matures) holds the fan-out: one transfer from the
//!   funder to each sender, enough for everything that sender will send;
//! - blocks `m + 2..=blocks` hold the remaining transfers, spread evenly. Transfer `j` of that
//!   part comes from sender `j % senders` with nonce `j / senders`, so a block's transfers come
//!   from different senders and each sender's nonces rise block after block. Amounts are 1 to
//!   1,000 grains to a pool of recipient accounts (and every tenth to another sender); every
//!   eighth carries a short UTF-8 memo; fees are the minimum for the size plus up to 49 grains.
//!
//! Every coinbase pays the funder. Block times run up to the clock: from
//! `now − blocks × spacing` (or just after genesis, if that is later) to `now`, and always past
//! the median time of the previous blocks, as the node's own `dev/generate` does.
//!
//! Transfers are signed in parallel (rayon) on a producer thread, one chunk of blocks ahead of
//! the thread that connects them, so signing overlaps the store's commits. Each chunk is
//! connected under [`Chain::batch`]: one durable commit per chunk, as the node does while syncing.

use anyhow::{Context, bail, ensure};
use ed25519_dalek::SigningKey;
use oxcoin::hash::sha256;
use oxcoin::params::ChainParams;
use oxcoin::rules::Account;
use oxcoin::testkit;
use oxcoin::tx::{Memo, TRANSFER_BASE_LEN, UnsignedTransfer};
use oxcoin::{AccountId, Amount, BlockHash, Height, Network, Transfer};
use oxminer::chain::{Accepted, Chain};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seed byte of the funder's deterministic key (`testkit::key(FUNDER_SEED, 0)`).
pub const FUNDER_SEED: u8 = 0xF0;
/// Seed byte of the senders' deterministic keys (`testkit::key(SENDER_SEED, i)`).
pub const SENDER_SEED: u8 = 0xC5;
/// Largest amount a generated transfer moves, in grains.
const MAX_AMOUNT: u64 = 1_000;
/// Largest fee above the minimum, in grains.
const FEE_SPREAD: u64 = 50;
/// Blocks signed per chunk handed from the signing thread to the connecting thread.
const CHUNK_BLOCKS: u64 = 500;
/// Blocks connected per durable commit. Pages freed by the non-durable commits in between are
/// reused only after the durable one, so larger groups make a larger file: 3,000 blocks of 10
/// transfers take 32 MB with one commit per block, 51 MB with 50 blocks per commit (2.5 × faster
/// to generate), 101 MB with 500.
const BATCH_BLOCKS: usize = 50;
/// Most transfers in one generated block: well inside the 1,000,000-byte limit.
const MAX_PER_BLOCK: u64 = 5_000;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Height of the tip: the number of blocks after genesis.
    pub blocks: u64,
    /// Transfers in the whole chain, the fan-out included.
    pub transfers: u64,
    /// Number of sending accounts.
    pub senders: u32,
    /// Number of receive-only accounts.
    pub recipients: u32,
}

impl Plan {
    /// A plan of `blocks` blocks holding `transfers` transfers, with 1,000 senders (fewer when
    /// there are fewer than 2,000 transfers) and 50,000 recipients.
    pub fn new(blocks: u64, transfers: u64) -> Self {
        let senders = u32::try_from((transfers / 2).clamp(1, 1_000)).unwrap_or(1_000);
        Self { blocks, transfers, senders, recipients: 50_000 }
    }
}

/// How far the generation got, reported after each connected block.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Height just connected.
    pub height: u64,
    /// Target height.
    pub blocks: u64,
    /// Transfers connected so far.
    pub transfers: u64,
    /// Transfers planned.
    pub transfers_total: u64,
    /// Time since the generation started.
    pub elapsed: Duration,
}

/// What was generated.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The store file written.
    pub store: PathBuf,
    /// Height of the tip.
    pub height: u64,
    /// Hash of the tip.
    pub tip: BlockHash,
    /// Transfers in the chain.
    pub transfers: u64,
    /// Number of senders (`sender_key(0..senders)`).
    pub senders: u32,
    /// The funder (every coinbase pays it).
    pub funder: AccountId,
    /// Every account's balance and nonce as the generator tracked them (independently of the
    /// store), for checking a node's answers. The funder's balance leaves out its rewards.
    pub accounts: HashMap<AccountId, Account>,
    /// Time taken.
    pub elapsed: Duration,
}

/// The deterministic key of sender `i`.
pub fn sender_key(i: u32) -> SigningKey {
    testkit::key(SENDER_SEED, i)
}

/// The deterministic key of the funder.
pub fn funder_key() -> SigningKey {
    testkit::key(FUNDER_SEED, 0)
}

/// The store file a dev node with `--data-dir dir` opens.
pub fn store_path(dir: &Path) -> PathBuf {
    dir.join(Network::Dev.as_str()).join(oxminer::node::STORE_FILE)
}

/// Receive-only account `i` (no key: 20 bytes of SHA-256 of a label).
pub fn recipient(i: u32) -> AccountId {
    let digest = sha256(format!("oxcoin chaingen recipient {i}").as_bytes());
    let mut id = [0u8; 20];
    id.copy_from_slice(&digest[..20]);
    AccountId::from_byte_array(id)
}

/// Generates the chain of [`Plan::new`]`(blocks, transfers)` in `dir` (the node's `--data-dir`);
/// see [`generate_with`].
///
/// # Errors
/// As [`generate_with`].
pub fn generate(dir: &Path, blocks: u64, transfers: u64, progress: impl FnMut(&Progress)) -> anyhow::Result<Summary> {
    generate_with(dir, &Plan::new(blocks, transfers), progress)
}

/// The unsigned content of one generated transfer.
struct Spec {
    sender: u32,
    to: AccountId,
    amount: u64,
    fee: u64,
    nonce: u64,
    memo: Vec<u8>,
}

impl Spec {
    /// Regular transfer `j` (0-based, after the fan-out).
    fn regular(j: u64, plan: &Plan, params: &ChainParams) -> Self {
        let senders = u64::from(plan.senders);
        let sender = (j % senders) as u32;
        let to = if j % 10 == 9 {
            testkit::account_of(&sender_key(((j / 10 + 1) % senders) as u32))
        } else {
            recipient((j.wrapping_mul(7_919) % u64::from(plan.recipients.max(1))) as u32)
        };
        let memo = if j.is_multiple_of(8) { format!("gen {j}").into_bytes() } else { Vec::new() };
        let fee = min_fee(memo.len(), params) + j % FEE_SPREAD;
        Self { sender, to, amount: 1 + j % MAX_AMOUNT, fee, nonce: j / senders, memo }
    }

    fn spend(&self) -> u64 {
        self.amount + self.fee
    }
}

fn min_fee(memo_len: usize, params: &ChainParams) -> u64 {
    (TRANSFER_BASE_LEN + memo_len) as u64 * params.min_fee_rate
}

fn sign(spec: &Spec, key: &SigningKey, params: &ChainParams) -> anyhow::Result<Transfer> {
    Ok(UnsignedTransfer {
        chain_id: params.chain_id,
        to: spec.to,
        amount: Amount::from_grains(spec.amount),
        fee: Amount::from_grains(spec.fee),
        nonce: spec.nonce,
        memo: Memo::new(spec.memo.clone()).map_err(|e| anyhow::anyhow!("a memo of {} bytes is too long", e.0))?,
    }
    .sign(key))
}

/// Which regular transfers block `height` holds: `[start, end)`.
fn block_range(height: u64, first: u64, plan_blocks: u64, regular: u64) -> (u64, u64) {
    // Blocks first..=plan_blocks share the regular transfers evenly.
    let span = plan_blocks - first + 1;
    let at = |h: u64| ((u128::from(h - first) * u128::from(regular)) / u128::from(span)) as u64;
    (at(height), at(height + 1))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Generates `plan` in `dir` (the node's `--data-dir`): creates `<dir>/dev/chain.redb` and
/// connects every block through the node's pipeline, calling `progress` after each block.
///
/// # Errors
/// A store that already holds blocks past genesis, a plan that does not fit (too few blocks for
/// the funding, more transfers per block than fit, more than one block reward can fund), a
/// store failure, or a generated block the chain refuses (a bug).
pub fn generate_with(dir: &Path, plan: &Plan, mut progress: impl FnMut(&Progress)) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let params: &'static ChainParams = Network::Dev.params();
    let maturity = params.coinbase_maturity;
    let fan_out_height = 1 + maturity;
    let senders = u64::from(plan.senders);
    ensure!(plan.senders >= 1, "at least one sender");
    ensure!(plan.recipients >= 1, "at least one recipient");
    ensure!(
        plan.blocks > fan_out_height,
        "{} blocks are too few: the fan-out is block {fan_out_height} and transfers start after it",
        plan.blocks
    );
    ensure!(
        plan.transfers >= senders,
        "{} transfers are fewer than the {} senders' funding transfers",
        plan.transfers,
        plan.senders
    );
    ensure!(senders <= MAX_PER_BLOCK, "the fan-out to {senders} senders does not fit in one block");
    let regular = plan.transfers - senders;
    let first = fan_out_height + 1;
    let per_block = regular.div_ceil(plan.blocks - first + 1);
    ensure!(per_block <= MAX_PER_BLOCK, "{per_block} transfers per block do not fit (at most {MAX_PER_BLOCK})");

    // What each sender needs: the sum of its transfers' amounts and fees.
    let mut needs = vec![0u64; plan.senders as usize];
    for j in 0..regular {
        let spec = Spec::regular(j, plan, params);
        needs[spec.sender as usize] += spec.spend();
    }
    let funder = funder_key();
    let funder_id = testkit::account_of(&funder);
    let sender_keys: Vec<SigningKey> = (0..plan.senders).into_par_iter().map(sender_key).collect();
    let sender_ids: Vec<AccountId> = sender_keys.iter().map(testkit::account_of).collect();
    let fan_out: Vec<Spec> = (0..plan.senders)
        .map(|i| Spec {
            sender: i,
            to: sender_ids[i as usize],
            amount: needs[i as usize].max(1),
            fee: min_fee(0, params),
            nonce: u64::from(i),
            memo: Vec::new(),
        })
        .collect();
    let funding: u64 = fan_out.iter().map(Spec::spend).sum();
    let reward = oxcoin::rules::subsidy(Height(1), params).to_grains();
    ensure!(
        funding <= reward,
        "the fan-out needs {funding} grains but one block reward is {reward}: use fewer transfers"
    );

    let store = store_path(dir);
    let network_dir = store.parent().context("the store path has a folder")?;
    std::fs::create_dir_all(network_dir).with_context(|| format!("creating {}", network_dir.display()))?;
    let mut chain = Chain::open(&store, params).with_context(|| format!("opening {}", store.display()))?;
    if chain.height() != Height::GENESIS {
        bail!("{} already holds a chain of height {}: use an empty --data-dir", store.display(), chain.height().0);
    }

    // Block times: from `start` up to the clock, one spacing apart when there is room.
    let now = unix_now();
    let genesis_time = u64::from(params.genesis_block().header.time);
    let spacing = params.target_spacing as u64;
    let end = now.saturating_sub(1).max(genesis_time + 1);
    let start = end.saturating_sub(plan.blocks.saturating_mul(spacing)).max(genesis_time + 1);
    let ideal_time = |h: u64| start + ((u128::from(h - 1) * u128::from(end - start)) / u128::from(plan.blocks)) as u64;

    // The signing thread: signs each chunk of blocks' transfers in parallel, one chunk ahead.
    let (tx, rx) = mpsc::sync_channel::<anyhow::Result<Vec<Vec<Transfer>>>>(1);
    let plan_for_signer = plan.clone();
    let signer = std::thread::Builder::new().name("chaingen-signer".into()).spawn(move || {
        let plan = plan_for_signer;
        let mut from = 1;
        while from <= plan.blocks {
            let to = (from + CHUNK_BLOCKS - 1).min(plan.blocks);
            let chunk: anyhow::Result<Vec<Vec<Transfer>>> = (from..=to)
                .into_par_iter()
                .map(|h| {
                    if h < fan_out_height {
                        return Ok(Vec::new());
                    }
                    if h == fan_out_height {
                        return fan_out.iter().map(|s| sign(s, &funder, params)).collect();
                    }
                    let (a, b) = block_range(h, first, plan.blocks, regular);
                    (a..b)
                        .map(|j| {
                            let spec = Spec::regular(j, &plan, params);
                            sign(&spec, &sender_keys[spec.sender as usize], params)
                        })
                        .collect()
                })
                .collect();
            let failed = chunk.is_err();
            if tx.send(chunk).is_err() || failed {
                return;
            }
            from = to + 1;
        }
    })?;

    let mut accounts: HashMap<AccountId, Account> = HashMap::new();
    let mut done = 0u64;
    let mut height = 0u64;
    while height < plan.blocks {
        let chunk = match rx.recv() {
            Ok(chunk) => chunk?,
            Err(_) => bail!("the signing thread stopped early"),
        };
        // One durable commit per group of blocks, as the node does while syncing (`Chain::batch`).
        let mut chunk = chunk.into_iter().peekable();
        while chunk.peek().is_some() {
            let group: Vec<Vec<Transfer>> = chunk.by_ref().take(BATCH_BLOCKS).collect();
            let connected = chain.batch(|chain| -> anyhow::Result<()> {
                for transfers in group {
                    height += 1;
                    let tip = chain.tip_hash();
                    let now = unix_now();
                    let ctx = chain.context_for(&tip, now).context("the tip is indexed")?;
                    let time = ideal_time(height).max(u64::from(ctx.median_time_past) + 1);
                    let time = u32::try_from(time).context("block time past 2106")?;
                    for t in &transfers {
                        apply(&mut accounts, t)?;
                    }
                    let count = transfers.len() as u64;
                    let block = testkit::block(params, tip, height, time, funder_id, transfers);
                    let hash = block.header.hash();
                    let (result, _) = chain.process_block(block, now);
                    match result.with_context(|| format!("generated block {height} ({hash}) refused"))? {
                        Accepted::Connected => {}
                        other => bail!("generated block {height} ({hash}) was not connected: {other:?}"),
                    }
                    done += count;
                    progress(&Progress {
                        height,
                        blocks: plan.blocks,
                        transfers: done,
                        transfers_total: plan.transfers,
                        elapsed: started.elapsed(),
                    });
                }
                Ok(())
            });
            connected.context("making the generated blocks durable")??;
        }
    }
    drop(rx);
    signer.join().map_err(|_| anyhow::anyhow!("the signing thread panicked"))?;
    Ok(Summary {
        store,
        height: chain.height().0,
        tip: chain.tip_hash(),
        transfers: done,
        senders: plan.senders,
        funder: funder_id,
        accounts,
        elapsed: started.elapsed(),
    })
}

/// Applies a transfer to the generator's own ledger (the funder's rewards are not tracked, so
/// its balance may go below zero here: it saturates).
fn apply(accounts: &mut HashMap<AccountId, Account>, t: &Transfer) -> anyhow::Result<()> {
    let spend = t.amount.checked_add(t.fee).context("amount + fee overflows")?;
    let sender = accounts.entry(t.sender()).or_default();
    ensure!(sender.nonce == t.nonce, "generated nonce {} where the sender is at {}", t.nonce, sender.nonce);
    sender.balance = sender.balance.checked_sub(spend).unwrap_or(Amount::ZERO);
    sender.nonce += 1;
    let to = accounts.entry(t.to).or_default();
    to.balance = to.balance.checked_add(t.amount).context("balance overflows")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_transfers_spread_evenly_and_add_up() {
        let plan = Plan::new(300, 2_000);
        let first = 2 + Network::Dev.params().coinbase_maturity;
        let regular = plan.transfers - u64::from(plan.senders);
        let counts: Vec<u64> = (first..=plan.blocks)
            .map(|h| {
                let (a, b) = block_range(h, first, plan.blocks, regular);
                b - a
            })
            .collect();
        assert_eq!(counts.iter().sum::<u64>(), regular);
        let (min, max) = (counts.iter().min().copied(), counts.iter().max().copied());
        assert!(max.zip(min).is_some_and(|(max, min)| max - min <= 1), "{min:?}..{max:?}");
    }

    #[test]
    fn a_sender_s_nonces_rise_by_one() {
        let plan = Plan { blocks: 50, transfers: 100, senders: 7, recipients: 3 };
        let params = Network::Dev.params();
        let nonces: Vec<u64> =
            (0..93).map(|j| Spec::regular(j, &plan, params)).filter(|s| s.sender == 3).map(|s| s.nonce).collect();
        assert_eq!(nonces, (0..nonces.len() as u64).collect::<Vec<_>>());
    }
}
