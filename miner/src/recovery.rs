//! Recovery of the store: the checks a start makes before trusting it, the operator's message
//! when it cannot be trusted, and `oxminer run --reindex`, which rebuilds everything from the
//! blocks the store holds (Bitcoin Core's `-reindex`).
//!
//! Reindex trusts the old file for block bytes only. It reads every stored block's header, keeps
//! those whose hash matches their key, and runs the blocks through [`Chain::process_block`] into a
//! fresh store, parents before children and the old best chain first (so equal-work ties end where
//! they were): the pipeline checks each block again and rebuilds the index, the account state,
//! the undo data, the tx index and the history. The new file then replaces the old one: the old
//! one is hard-linked as `chain.redb.old`, the new one renamed over `chain.redb` (at every instant
//! `chain.redb` is a complete store, old or new), and `.old` is removed once the node has opened
//! the new store.

use crate::chain::{Chain, ChainError};
use crate::node::{STORE_FILE, unix_now};
use crate::store::Store;
use anyhow::Context;
use oxcoin::Height;
use oxcoin::block::Header;
use oxcoin::encode::Encode;
use oxcoin::hash::BlockHash;
use oxcoin::params::ChainParams;
use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Best-chain blocks read back and checked in full at every start (Bitcoin Core's
/// `-checkblocks` default).
pub const CHECK_BLOCKS: u64 = 6;

/// Blocks submitted under one durable commit while reindexing.
const BATCH: usize = 500;

/// Suffix of the rebuilt store while it is being written.
const NEW_SUFFIX: &str = "reindex";
/// Suffix of the replaced store, kept until the node has opened the new one.
const OLD_SUFFIX: &str = "old";

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// What an operator reads when the store cannot be used: the file and the way out.
pub fn recovery_hint(store: &Path) -> String {
    format!(
        "the store {path} cannot be trusted; the node will not start from it.\n\
         To rebuild it from the blocks it holds, start once with `oxminer run --reindex` (and the same \
         --network and --data-dir).\n\
         If that fails too, the file itself is unreadable: stop the node, move {path} away and start \
         again to download the chain from peers, or restore a backup of the network folder.",
        path = store.display()
    )
}

/// Runs `f` (which reads the store), turning a panic inside the database library (it may panic
/// on pages damaged outside it) into an error.
///
/// # Errors
/// `f`'s error, or the panic's message.
pub fn guarded<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    // The panic's message goes into the error; the default hook's report (with a backtrace when
    // asked for) would bury the operator's message under it.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| tracing::debug!(%info, "panic inside the store")));
    let caught = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match caught {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(anyhow::anyhow!("the database is damaged: {message}"))
        }
    }
}

/// A failed start check: what does not hold.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// An index entry does not belong where the best chain puts it.
    #[error("best-chain block {hash} at height {height}: {reason}")]
    Chain {
        /// The block.
        hash: BlockHash,
        /// Its height on the best chain.
        height: u64,
        /// What is wrong.
        reason: String,
    },
    /// The store failed while it was read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn broken(hash: BlockHash, height: u64, reason: impl Into<String>) -> VerifyError {
    VerifyError::Chain { hash, height, reason: reason.into() }
}

/// The checks of every start, cheap enough for a large store: every best-chain index entry hashes
/// to its key, sits at its height and links to its parent; the last [`CHECK_BLOCKS`] blocks are
/// read back in full and match their header, index entry and tx-index records.
///
/// # Errors
/// [`VerifyError`] naming the first block that does not hold.
pub fn verify_at_start(chain: &Chain) -> Result<(), VerifyError> {
    let tip = chain.height().0;
    let mut prev: Option<BlockHash> = None;
    for height in 0..=tip {
        let hash = chain.hash_at(Height(height)).ok_or_else(|| broken(BlockHash::default(), height, "missing"))?;
        let entry = chain.entry(&hash).ok_or_else(|| broken(hash, height, "no index entry"))?;
        if entry.header.hash() != hash {
            return Err(broken(hash, height, format!("its index entry holds the header of {}", entry.header.hash())));
        }
        if entry.height.0 != height {
            return Err(broken(hash, height, format!("its index entry says height {}", entry.height.0)));
        }
        if let Some(parent) = prev
            && entry.header.prev_hash != parent
        {
            return Err(broken(hash, height, format!("does not link to {parent}")));
        }
        prev = Some(hash);
    }
    for height in tip.saturating_sub(CHECK_BLOCKS - 1)..=tip {
        let hash = chain.hash_at(Height(height)).ok_or_else(|| broken(BlockHash::default(), height, "missing"))?;
        let entry = chain.entry(&hash).ok_or_else(|| broken(hash, height, "no index entry"))?;
        let block = chain.store().block(&hash)?.ok_or_else(|| broken(hash, height, "its body is missing"))?;
        if block.header != entry.header {
            return Err(broken(hash, height, "the stored body's header differs from the index"));
        }
        if block.compute_merkle_root() != block.header.merkle_root {
            return Err(broken(hash, height, "the stored body does not match its Merkle root"));
        }
        if block.encoded_len() as u64 != u64::from(entry.size) || block.txs.len() as u64 != u64::from(entry.tx_count) {
            return Err(broken(hash, height, "size or transaction count differ from the index"));
        }
        for (index, (txid, tx)) in block.txids().iter().zip(&block.txs).enumerate() {
            let found = chain.store().tx(txid)?;
            let at = found.as_ref().map(|l| (l.block_hash, l.height.0, l.index as usize, &l.tx));
            if at != Some((hash, height, index, tx)) {
                return Err(broken(hash, height, format!("transaction {txid} is not indexed at its place")));
            }
        }
    }
    Ok(())
}

/// What a reindex did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Blocks found in the old store.
    pub found: usize,
    /// Blocks the pipeline refused, or whose record did not match its key.
    pub refused: usize,
    /// Stored blocks whose ancestry does not reach genesis.
    pub unlinked: usize,
    /// Height of the rebuilt best chain.
    pub height: Height,
    /// Its tip.
    pub tip: BlockHash,
}

/// The order to feed blocks: the old best chain first, then every other block reachable from
/// genesis, parents before children.
fn feed_order(genesis: BlockHash, headers: &HashMap<BlockHash, Header>, preferred: &[BlockHash]) -> Vec<BlockHash> {
    let mut order = Vec::with_capacity(headers.len());
    let mut queued = HashSet::with_capacity(headers.len());
    queued.insert(genesis);
    for pair in preferred.windows(2) {
        match headers.get(&pair[1]) {
            Some(header) if header.prev_hash == pair[0] => {
                order.push(pair[1]);
                queued.insert(pair[1]);
            }
            _ => break,
        }
    }
    let mut children: HashMap<BlockHash, Vec<BlockHash>> = HashMap::new();
    for (hash, header) in headers {
        children.entry(header.prev_hash).or_default().push(*hash);
    }
    let mut queue = VecDeque::from([genesis]);
    while let Some(parent) = queue.pop_front() {
        for child in children.remove(&parent).unwrap_or_default() {
            if queued.insert(child) {
                order.push(child);
            }
            queue.push_back(child);
        }
    }
    order
}

/// Rebuilds `dir/chain.redb` from the blocks it holds, as described in the module docs, and
/// leaves the old file as `chain.redb.old` (removed by [`finish`] once the node has opened the
/// new one).
///
/// # Errors
/// No store to reindex, an old store whose blocks cannot be read (the message says how to
/// recover), or a failure writing the new one (the old file is left as it was).
pub fn reindex(dir: &Path, params: &'static ChainParams, cache_bytes: usize) -> anyhow::Result<Report> {
    let path = dir.join(STORE_FILE);
    anyhow::ensure!(path.exists(), "nothing to reindex: there is no store at {}", path.display());
    let new_path = sibling(&path, NEW_SUFFIX);
    remove_if_present(&new_path)?;
    let genesis = params.genesis_block();
    let unreadable = |e: anyhow::Error| {
        anyhow::anyhow!(
            "reading the blocks of {}: {e:#}\nThe file itself is unreadable: move it away and start the node \
             to download the chain from peers, or restore a backup of the network folder.",
            path.display()
        )
    };
    // Read-only, and in an older layout too: a reindex is how a store moves to this one.
    let old = guarded(|| Store::open_blocks(&path, params.network.as_str(), cache_bytes).map_err(anyhow::Error::from))
        .map_err(unreadable)?;
    // The old best chain orders ties; a damaged one only loses that preference.
    let preferred = guarded(|| old.load_main_chain().map_err(anyhow::Error::from)).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the old best chain is unreadable; blocks are ordered by their links alone");
        Vec::new()
    });
    let stored = guarded(|| old.stored_headers().map_err(anyhow::Error::from)).map_err(unreadable)?;
    let found = stored.len();
    let mut refused = 0;
    let headers: HashMap<BlockHash, Header> = stored
        .into_iter()
        .filter(|(hash, header)| {
            let ok = header.hash() == *hash;
            if !ok {
                tracing::warn!(block = %hash, "stored block does not hash to its key: left out");
                refused += 1;
            }
            ok
        })
        .collect();
    let order = feed_order(genesis.header.hash(), &headers, &preferred);
    let unlinked = headers.len().saturating_sub(order.len() + 1);
    tracing::info!(blocks = order.len(), unlinked, "reindexing: validating every stored block again");

    let mut chain = Chain::open_with_cache(&new_path, params, cache_bytes)
        .with_context(|| format!("creating the new store {}", new_path.display()))?;
    let started = std::time::Instant::now();
    for (n, group) in order.chunks(BATCH).enumerate() {
        let outcome = chain.batch(|chain| -> anyhow::Result<usize> {
            let mut refused = 0;
            for hash in group {
                let block = match guarded(|| old.block(hash).map_err(anyhow::Error::from)) {
                    Ok(Some(block)) => block,
                    Ok(None) => anyhow::bail!("block {hash} vanished from {}", path.display()),
                    Err(e) => {
                        tracing::warn!(block = %hash, error = %e, "stored block unreadable: left out");
                        refused += 1;
                        continue;
                    }
                };
                match chain.process_block(block, unix_now()).0 {
                    Ok(_) => {}
                    Err(ChainError::Store(e)) => {
                        return Err(anyhow::Error::from(e).context(format!("writing {}", new_path.display())));
                    }
                    Err(e) => {
                        tracing::warn!(block = %hash, error = %e, "stored block refused");
                        refused += 1;
                    }
                }
            }
            Ok(refused)
        });
        refused += outcome.with_context(|| format!("writing {}", new_path.display()))??;
        let done = ((n + 1) * BATCH).min(order.len());
        tracing::info!(
            done,
            of = order.len(),
            height = chain.height().0,
            blocks_per_s = (done as f64 / started.elapsed().as_secs_f64().max(1e-3)).round(),
            "reindexing"
        );
    }
    let report = Report { found, refused, unlinked, height: chain.height(), tip: chain.tip_hash() };
    drop(chain);
    drop(old);
    swap_in(&path, &new_path)?;
    tracing::info!(
        height = report.height.0,
        tip = %report.tip,
        found = report.found,
        refused = report.refused,
        unlinked = report.unlinked,
        "reindex done: the rebuilt store replaced the old one"
    );
    Ok(report)
}

/// Puts `new` in place of `path`, keeping the old file as `path.old`: `path` always names a
/// complete store, old or new.
fn swap_in(path: &Path, new: &Path) -> anyhow::Result<()> {
    let old = sibling(path, OLD_SUFFIX);
    remove_if_present(&old)?;
    std::fs::hard_link(path, &old).with_context(|| format!("keeping {} as {}", path.display(), old.display()))?;
    std::fs::rename(new, path).with_context(|| format!("moving {} to {}", new.display(), path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// Removes the old store a reindex kept, once the node has opened the new one.
pub fn finish(dir: &Path) {
    let old = sibling(&dir.join(STORE_FILE), OLD_SUFFIX);
    match std::fs::remove_file(&old) {
        Ok(()) => tracing::info!(file = %old.display(), "removed the store replaced by the reindex"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(file = %old.display(), error = %e, "cannot remove the replaced store"),
    }
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(prev: BlockHash, nonce: u32) -> Header {
        Header {
            version: 1,
            prev_hash: prev,
            merkle_root: Default::default(),
            time: 0,
            bits: oxcoin::pow::CompactTarget::from_consensus(0x207f_ffff),
            nonce,
        }
    }

    #[test]
    fn the_old_best_chain_comes_first_then_every_linked_block_parents_first() {
        let genesis = BlockHash::from_byte_array([9; 32]);
        let a1 = header(genesis, 1);
        let a2 = header(a1.hash(), 2);
        let b1 = header(genesis, 3);
        let b2 = header(b1.hash(), 4);
        let b3 = header(b2.hash(), 5);
        let lost = header(BlockHash::from_byte_array([7; 32]), 6);
        let headers: HashMap<_, _> = [a1, a2, b1, b2, b3, lost].into_iter().map(|h| (h.hash(), h)).collect();
        let order = feed_order(genesis, &headers, &[genesis, a1.hash(), a2.hash()]);
        assert_eq!(order[..2], [a1.hash(), a2.hash()]);
        assert_eq!(order.len(), 5, "the block without known ancestry is left out");
        let at = |h: &Header| order.iter().position(|x| *x == h.hash()).unwrap();
        assert!(at(&b1) < at(&b2) && at(&b2) < at(&b3));
        // A preferred chain that stops linking is followed only as far as it links.
        let order = feed_order(genesis, &headers, &[genesis, a1.hash(), b2.hash()]);
        assert_eq!(order[0], a1.hash());
        assert_eq!(order.len(), 5);
    }

    #[test]
    fn a_panic_inside_the_database_becomes_an_error() {
        let err = guarded::<()>(|| panic!("Invalid page type byte 17")).unwrap_err();
        assert!(err.to_string().contains("damaged: Invalid page type byte 17"), "{err}");
        assert_eq!(guarded(|| Ok(5)).unwrap(), 5);
    }

    #[test]
    fn a_layout_1_store_is_refused_with_the_way_out_and_reindex_moves_it_to_this_layout() {
        use oxcoin::params::DEV;
        use oxcoin::testkit::{account_of, block, key, transfer};
        use oxcoin::tx::Tx;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(STORE_FILE);
        let mut chain = Chain::open(&path, &DEV).expect("store opens");
        let (alice, bob) = (key(1, 0), account_of(&key(2, 0)));
        let pay = transfer(&DEV, &alice, bob, 7 * 100_000_000, 1_000, 0);
        for (height, transfers) in [(1, vec![]), (2, vec![]), (3, vec![pay.clone()])] {
            let parent = chain.entry(&chain.tip_hash()).expect("tip").header;
            let next = block(&DEV, parent.hash(), height, parent.time + 1, account_of(&alice), transfers);
            assert!(chain.process_block(next, unix_now()).0.is_ok(), "block {height} connects");
        }
        let tip = chain.tip_hash();
        let txid = Tx::Transfer(pay.clone()).txid();
        let located = chain.store().tx(&txid).expect("read").expect("indexed");
        assert_eq!((located.height, located.index, located.block_hash), (Height(3), 1, tip));
        assert_eq!(located.tx, Tx::Transfer(pay));
        let history = chain.store().history(&account_of(&alice), None, 10).expect("read");
        let bob_balance = chain.store().account(&bob).expect("read");
        drop(chain);
        crate::store::rewrite_as_layout_1(&path);

        let refused = Chain::open(&path, &DEV).expect_err("layout 1 is refused");
        let message = refused.to_string();
        assert!(message.contains("layout 1") && message.contains("oxminer run --reindex"), "{message}");

        let report = reindex(dir.path(), &DEV, crate::store::DEFAULT_CACHE_BYTES).expect("reindex reads layout 1");
        assert_eq!((report.height, report.tip, report.refused), (Height(3), tip, 0));
        finish(dir.path());
        let chain = Chain::open(&path, &DEV).expect("the rebuilt store opens");
        assert_eq!(chain.tip_hash(), tip);
        assert_eq!(chain.store().tx(&txid).expect("read"), Some(located));
        assert_eq!(chain.store().history(&account_of(&alice), None, 10).expect("read"), history);
        assert_eq!(chain.store().account(&bob).expect("read"), bob_balance);
    }

    #[test]
    fn the_siblings_keep_the_store_name() {
        let p = Path::new("/d/dev/chain.redb");
        assert_eq!(sibling(p, "old"), Path::new("/d/dev/chain.redb.old"));
        assert_eq!(sibling(p, "reindex"), Path::new("/d/dev/chain.redb.reindex"));
    }
}
