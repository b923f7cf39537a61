//! The node's on-disk store: one redb file holding blocks, the block index, undo data, account
//! state, the tx index and per-address history. Connecting or disconnecting blocks happens in one
//! write transaction that commits durably (fsync) or not at all.
//!
//! A [`Writer`] stages its writes in memory ([`Staged`], read back through it) and applies them
//! with each table's keys in sorted order when it commits: random keys (txids, accounts) inserted
//! in order dirty neighbouring B-tree pages together. Inside [`Store::set_deferred`] the staged
//! writes of many blocks gather into one group applied by one write transaction at its end.
//!
//! Tables (keys are fixed-width byte arrays; integers big-endian inside keys so they sort):
//! - `index`: block hash → [`IndexEntry`] (header, height, chain work, status, coinbase)
//! - `blocks`: block hash → canonical block bytes
//! - `undo`: block hash → the accounts a connected block changed, with their previous values
//! - `main_chain`: height → block hash of the best chain
//! - `accounts`: account id → balance u64 | nonce u64
//! - `tx_positions`: txid → position (best chain only)
//! - `chain_txs`: position → canonical tx (best chain only)
//! - `history`: account id | position → nothing: the key is the record (best chain only)
//!
//! A transaction's position is its block's height u64 BE | its index in the block u32 BE, so
//! `chain_txs` grows at its end as blocks connect, and the two tables that take random keys
//! (`tx_positions`, `history`) hold 12- and 0-byte values: a sync group dirties fewer of their
//! pages (layout 1 kept the whole transaction under its txid and the txid in each history row).

use oxcoin::address::AccountId;
use oxcoin::block::{Block, HEADER_LEN, Header};
use oxcoin::encode::{Decode, DecodeError, Encode, Reader};
use oxcoin::hash::{BlockHash, Txid};
use oxcoin::pow::Work;
use oxcoin::rules::{Account, AccountState, BlockChanges};
use oxcoin::tx::Tx;
use oxcoin::{Amount, ErrorCode, Height};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

const INDEX: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("index");
const BLOCKS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("blocks");
const UNDO: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("undo");
const MAIN_CHAIN: TableDefinition<u64, &[u8; 32]> = TableDefinition::new("main_chain");
const ACCOUNTS: TableDefinition<&[u8; 20], &[u8; 16]> = TableDefinition::new("accounts");
const TX_POSITIONS: TableDefinition<&[u8; 32], &[u8; 12]> = TableDefinition::new("tx_positions");
const CHAIN_TXS: TableDefinition<&[u8; 12], &[u8]> = TableDefinition::new("chain_txs");
const HISTORY: TableDefinition<&[u8; 32], ()> = TableDefinition::new("history");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Version of the table layout, stored in `meta` so a later layout can refuse an older file.
/// Layout 2 replaced layout 1's `txs` table (txid → location and transaction) with
/// `tx_positions` and `chain_txs`, and dropped the txid from `history` rows; `index`, `blocks`
/// and `main_chain` are the same in both, so a reindex reads either ([`Store::open_blocks`]).
const SCHEMA_VERSION: u32 = 2;

/// The layouts whose blocks [`Store::open_blocks`] reads.
const READABLE_BLOCKS_SCHEMAS: [u32; 2] = [1, 2];

/// Default size of redb's own page cache (the node's `db_cache_mib`). redb's default, 1 GiB,
/// fills with every page a crash repair or a long run of queries reads and stays resident; the
/// OS page cache keeps the file's hot pages anyway. 32 MiB holds the block index of a
/// 100,000-block chain while it loads at start. Half of the cache at most buffers a write's
/// dirty pages; a sync group dirties more than that once the tx index and history are large, and
/// the pages past it are written out early and read back at commit, so a larger cache syncs
/// faster — at the price of RSS, the cache filling with every page read or written
/// (docs/performance.md, layout 1: 64 MiB synced 8–18 % faster, and the node held 145 MB
/// instead of 76 after 30,000 queries on a 1M-transfer chain).
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Staged bytes past which a deferred group is written out (without an fsync) before it ends,
/// so a long group — a reindex of full blocks — holds bounded memory.
const GROUP_SPILL_BYTES: usize = 64 * 1024 * 1024;

/// Transactions in a write from which its tx index is applied on a thread of its own (a sync
/// group: 8,000 in ~0.3 s; a single block gains nothing from a thread).
const PARALLEL_APPLY_TXS: usize = 1_000;

/// A failure of the store: the disk, the database, or bytes in it that do not decode.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb reported an error (I/O, corruption, full disk …).
    #[error("database error: {0}")]
    Database(#[from] redb::Error),
    /// A stored record does not decode: the file is corrupt.
    #[error("corrupt record in table {table}: {reason}")]
    Corrupt {
        /// The table holding the record.
        table: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The file was written by another layout version or network.
    #[error("the database {0}")]
    Incompatible(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Database(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

fn corrupt(table: &'static str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { table, reason: reason.to_string() }
}

/// What the node knows about a stored block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockStatus {
    /// The body is stored and passed every check that does not need state; not known invalid.
    Valid,
    /// The block (or an ancestor) broke a rule: the hash is refused from now on.
    Invalid(ErrorCode),
}

/// One block of the block index, kept in memory for every stored block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IndexEntry {
    /// The block header.
    pub header: Header,
    /// Its height.
    pub height: Height,
    /// Work of the chain up to and including this block.
    pub chain_work: Work,
    /// Valid or invalid.
    pub status: BlockStatus,
    /// Its coinbase's recipient and amount (credited `maturity` blocks later).
    pub coinbase: (AccountId, Amount),
    /// Canonical size in bytes.
    pub size: u32,
    /// Number of transactions.
    pub tx_count: u32,
}

const ENTRY_LEN: usize = HEADER_LEN + 8 + 32 + 1 + 1 + 20 + 8 + 4 + 4;

impl IndexEntry {
    fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENTRY_LEN);
        out.extend_from_slice(&self.header.to_bytes());
        out.extend_from_slice(&self.height.0.to_le_bytes());
        out.extend_from_slice(&self.chain_work.to_be_bytes());
        match self.status {
            BlockStatus::Valid => out.extend_from_slice(&[0, 0]),
            BlockStatus::Invalid(code) => out.extend_from_slice(&[1, code_to_byte(code)]),
        }
        out.extend_from_slice(self.coinbase.0.as_bytes());
        out.extend_from_slice(&self.coinbase.1.to_grains().to_le_bytes());
        out.extend_from_slice(&self.size.to_le_bytes());
        out.extend_from_slice(&self.tx_count.to_le_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = Header::from_bytes(&r.read_array()?);
        let height = Height(r.read_u64()?);
        let chain_work = Work::from_be_bytes(r.read_array()?);
        let status = match (r.read_u8()?, r.read_u8()?) {
            (0, _) => BlockStatus::Valid,
            (_, code) => BlockStatus::Invalid(code_from_byte(code)),
        };
        let to = AccountId::from_byte_array(r.read_array()?);
        let amount = Amount::from_grains(r.read_u64()?);
        let size = r.read_u32()?;
        let tx_count = r.read_u32()?;
        r.finish()?;
        Ok(Self { header, height, chain_work, status, coinbase: (to, amount), size, tx_count })
    }
}

/// Invalid-block codes persisted in the index, as one byte each.
const STORED_CODES: [ErrorCode; 12] = [
    ErrorCode::InvalidTx,
    ErrorCode::HighHash,
    ErrorCode::BadBits,
    ErrorCode::TimeTooOld,
    ErrorCode::TimeTooNew,
    ErrorCode::BadMerkleRoot,
    ErrorCode::NoCoinbase,
    ErrorCode::DuplicateTx,
    ErrorCode::BadCoinbase,
    ErrorCode::TooLarge,
    ErrorCode::BadPrevBlock,
    ErrorCode::BalanceOverflow,
];

fn code_to_byte(code: ErrorCode) -> u8 {
    STORED_CODES.iter().position(|c| *c == code).map_or(0, |i| i as u8)
}

fn code_from_byte(byte: u8) -> ErrorCode {
    STORED_CODES.get(usize::from(byte)).copied().unwrap_or(ErrorCode::InvalidTx)
}

/// Where a confirmed transaction sits.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TxLocation {
    /// Height of its block.
    pub height: Height,
    /// Its index in the block.
    pub index: u32,
    /// Its block.
    pub block_hash: BlockHash,
    /// The transaction.
    pub tx: Tx,
}

/// The previous value of every account a block changed: `None` for accounts it created.
type Undo = Vec<(AccountId, Option<Account>)>;

fn encode_account(account: &Account) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&account.balance.to_grains().to_le_bytes());
    out[8..].copy_from_slice(&account.nonce.to_le_bytes());
    out
}

fn decode_account(bytes: &[u8; 16]) -> Account {
    let mut balance = [0u8; 8];
    let mut nonce = [0u8; 8];
    balance.copy_from_slice(&bytes[..8]);
    nonce.copy_from_slice(&bytes[8..]);
    Account { balance: Amount::from_grains(u64::from_le_bytes(balance)), nonce: u64::from_le_bytes(nonce) }
}

fn encode_undo(undo: &Undo) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + undo.len() * 37);
    out.extend_from_slice(&(undo.len() as u32).to_le_bytes());
    for (id, previous) in undo {
        out.extend_from_slice(id.as_bytes());
        match previous {
            None => out.push(0),
            Some(account) => {
                out.push(1);
                out.extend_from_slice(&encode_account(account));
            }
        }
    }
    out
}

fn decode_undo(bytes: &[u8]) -> Result<Undo, DecodeError> {
    let mut r = Reader::new(bytes);
    let count = r.read_u32()? as usize;
    let mut undo = Vec::with_capacity(count.min(r.remaining() / 21));
    for _ in 0..count {
        let id = AccountId::from_byte_array(r.read_array()?);
        let previous = match r.read_u8()? {
            0 => None,
            _ => Some(decode_account(&r.read_array()?)),
        };
        undo.push((id, previous));
    }
    r.finish()?;
    Ok(undo)
}

/// A best-chain transaction's position: height u64 BE | index u32 BE (sorts by both).
fn tx_position(height: Height, index: u32) -> [u8; 12] {
    let mut position = [0u8; 12];
    position[..8].copy_from_slice(&height.0.to_be_bytes());
    position[8..].copy_from_slice(&index.to_be_bytes());
    position
}

fn decode_tx_position(position: &[u8; 12]) -> (Height, u32) {
    let mut height = [0u8; 8];
    let mut index = [0u8; 4];
    height.copy_from_slice(&position[..8]);
    index.copy_from_slice(&position[8..]);
    (Height(u64::from_be_bytes(height)), u32::from_be_bytes(index))
}

fn history_key(account: &AccountId, height: Height, index: u32) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..20].copy_from_slice(account.as_bytes());
    key[20..].copy_from_slice(&tx_position(height, index));
    key
}

/// The accounts whose history a transaction belongs to (once each).
fn parties(tx: &Tx) -> Vec<AccountId> {
    match tx {
        Tx::Coinbase(c) => vec![c.to],
        Tx::Transfer(t) => {
            let sender = t.sender();
            if sender == t.to { vec![sender] } else { vec![sender, t.to] }
        }
    }
}

/// The node's database.
pub struct Store {
    db: Database,
    /// Inside [`Store::set_deferred`]: the writes of the group so far, not yet in the file.
    group: Mutex<Option<Group>>,
    /// [`GROUP_SPILL_BYTES`]; tests lower it.
    spill_bytes: usize,
    /// [`PARALLEL_APPLY_TXS`]; tests change it.
    parallel_apply_txs: usize,
    /// Size of redb's page cache, as opened.
    cache_bytes: usize,
}

/// A deferred group: its staged writes, and whether part of it was already written out
/// without an fsync (so its end must commit durably even when nothing is left staged).
#[derive(Default)]
struct Group {
    staged: Staged,
    spilled: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// The layout version recorded in `meta` (0 when missing or malformed).
fn stored_schema(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<u32, StoreError> {
    let bytes = meta.get("schema")?.map(|g| g.value().to_vec()).unwrap_or_default();
    Ok(bytes.try_into().map_or(0, u32::from_le_bytes))
}

/// Refuses a store of another network.
fn check_network(meta: &impl ReadableTable<&'static str, &'static [u8]>, network: &str) -> Result<(), StoreError> {
    let stored = meta.get("network")?.map(|g| g.value().to_vec()).unwrap_or_default();
    if stored != network.as_bytes() {
        return Err(StoreError::Incompatible(format!(
            "belongs to network {:?}, not {network}",
            String::from_utf8_lossy(&stored)
        )));
    }
    Ok(())
}

impl Store {
    /// Opens (or creates) the store at `path` with a page cache of `cache_bytes`, creating every
    /// table, and writes `genesis` as the first block of a new store. Refuses a store of another
    /// network or layout.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or belongs to another network.
    pub fn open(path: &Path, genesis: &Block, network: &str, cache_bytes: usize) -> Result<Self, StoreError> {
        let store = Self::with_database(Database::builder().set_cache_size(cache_bytes).create(path)?, cache_bytes);
        let txn = store.begin_write()?;
        let fresh = {
            let mut meta = txn.open_table(META)?;
            let fresh = meta.get("schema")?.is_none();
            if fresh {
                meta.insert("schema", SCHEMA_VERSION.to_le_bytes().as_slice())?;
                meta.insert("network", network.as_bytes())?;
            } else {
                match stored_schema(&meta)? {
                    SCHEMA_VERSION => {}
                    older @ 1..SCHEMA_VERSION => {
                        return Err(StoreError::Incompatible(format!(
                            "has layout {older}, written by an older oxminer; this one reads layout \
                             {SCHEMA_VERSION}, and `oxminer run --reindex` rebuilds the file in it from its blocks"
                        )));
                    }
                    other => {
                        return Err(StoreError::Incompatible(format!(
                            "has layout {other}, expected {SCHEMA_VERSION} (written by a newer oxminer?)"
                        )));
                    }
                }
                check_network(&meta, network)?;
            }
            // Create every table so readers never meet a missing one.
            txn.open_table(INDEX)?;
            txn.open_table(BLOCKS)?;
            txn.open_table(UNDO)?;
            txn.open_table(MAIN_CHAIN)?;
            txn.open_table(ACCOUNTS)?;
            txn.open_table(TX_POSITIONS)?;
            txn.open_table(CHAIN_TXS)?;
            txn.open_table(HISTORY)?;
            fresh
        };
        txn.commit()?;
        if fresh {
            let hash = genesis.header.hash();
            let entry = IndexEntry {
                header: genesis.header,
                height: Height::GENESIS,
                chain_work: genesis.header.bits.to_target().map(|t| t.to_work()).unwrap_or(Work::ZERO),
                status: BlockStatus::Valid,
                coinbase: coinbase_of(genesis),
                size: genesis.encoded_len() as u32,
                tx_count: genesis.txs.len() as u32,
            };
            store.put_block(&hash, &entry, &genesis.encode())?;
            let changes = BlockChanges { accounts: HashMap::new(), fees: Amount::ZERO, txids: genesis.txids() };
            store.write(|w| w.connect(genesis, &hash, Height::GENESIS, &changes))?;
        }
        Ok(store)
    }

    /// Opens an existing store of `network` only to read its blocks and best chain (a reindex's
    /// source), in any layout whose `index`, `blocks` and `main_chain` tables this one reads
    /// (1 and 2). Writes nothing; the other tables must not be read.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened, is not a store, or belongs to another
    /// network or an unknown layout.
    pub fn open_blocks(path: &Path, network: &str, cache_bytes: usize) -> Result<Self, StoreError> {
        let store = Self::with_database(Database::builder().set_cache_size(cache_bytes).open(path)?, cache_bytes);
        let txn = store.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let schema = stored_schema(&meta)?;
        if !READABLE_BLOCKS_SCHEMAS.contains(&schema) {
            return Err(StoreError::Incompatible(format!(
                "has layout {schema}, whose blocks this oxminer cannot read"
            )));
        }
        check_network(&meta, network)?;
        drop((meta, txn));
        Ok(store)
    }

    fn with_database(db: Database, cache_bytes: usize) -> Self {
        Self {
            db,
            group: Mutex::new(None),
            spill_bytes: GROUP_SPILL_BYTES,
            parallel_apply_txs: PARALLEL_APPLY_TXS,
            cache_bytes,
        }
    }

    /// The size of redb's page cache this store was opened with.
    pub fn cache_bytes(&self) -> usize {
        self.cache_bytes
    }

    /// Begins a write transaction whose commit also saves redb's allocator state ("quick
    /// repair", with a two-phase commit): reopening after a crash then loads that state instead
    /// of walking the whole file to rebuild it (14 s and 1 GB of cache for a 1.4 GB store).
    /// Every commit must do so: one without it leaves no saved state behind.
    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_quick_repair(true);
        Ok(txn)
    }

    /// Loads the whole block index.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a corrupt entry.
    pub fn load_index(&self) -> Result<HashMap<BlockHash, IndexEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(INDEX)?;
        let mut index = HashMap::with_capacity(table.len()? as usize);
        for item in table.iter()? {
            let (key, value) = item?;
            let entry = IndexEntry::from_bytes(value.value()).map_err(|e| corrupt("index", e))?;
            index.insert(BlockHash::from_byte_array(*key.value()), entry);
        }
        Ok(index)
    }

    /// Loads the best chain: hash by height from genesis to the tip.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a gap in the heights.
    pub fn load_main_chain(&self) -> Result<Vec<BlockHash>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(MAIN_CHAIN)?;
        let mut chain = Vec::with_capacity(table.len()? as usize);
        for item in table.iter()? {
            let (height, hash) = item?;
            if height.value() != chain.len() as u64 {
                return Err(corrupt("main_chain", format!("height {} follows {}", height.value(), chain.len())));
            }
            chain.push(BlockHash::from_byte_array(*hash.value()));
        }
        Ok(chain)
    }

    /// Stores a block and its index entry (durably), without connecting it.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn put_block(&self, hash: &BlockHash, entry: &IndexEntry, raw: &[u8]) -> Result<(), StoreError> {
        self.write(|w| w.put_block(hash, entry, raw))
    }

    /// Rewrites index entries (after marking blocks invalid), durably.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn put_entries(&self, entries: &[(BlockHash, IndexEntry)]) -> Result<(), StoreError> {
        self.write(|w| entries.iter().try_for_each(|(hash, entry)| w.put_entry(hash, entry)))
    }

    /// Reads a stored block.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a block that does not decode.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        self.raw_block(hash)?.map(|raw| Block::decode(&raw).map_err(|e| corrupt("blocks", e))).transpose()
    }

    /// Reads a stored block's canonical bytes.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn raw_block(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(staged) = self.group().as_ref().and_then(|g| g.staged.blocks.get(hash.as_byte_array())) {
            return Ok(staged.clone());
        }
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        Ok(table.get(hash.as_byte_array())?.map(|g| g.value().to_vec()))
    }

    /// Reads an account of the best chain's tip state.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn account(&self, id: &AccountId) -> Result<Account, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ACCOUNTS)?;
        Ok(table.get(id.as_bytes())?.map(|g| decode_account(g.value())).unwrap_or_default())
    }

    /// Reads several accounts of the tip state at once (one read transaction).
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn accounts(
        &self,
        ids: impl IntoIterator<Item = AccountId>,
    ) -> Result<HashMap<AccountId, Account>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ACCOUNTS)?;
        let mut out = HashMap::new();
        for id in ids {
            let account = table.get(id.as_bytes())?.map(|g| decode_account(g.value())).unwrap_or_default();
            out.insert(id, account);
        }
        Ok(out)
    }

    /// Opens a consistent read view of the tip state, usable as an [`AccountState`].
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(Snapshot { accounts: txn.open_table(ACCOUNTS)?, error: RefCell::new(None) })
    }

    /// Finds a best-chain transaction.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a corrupt record.
    pub fn tx(&self, txid: &Txid) -> Result<Option<TxLocation>, StoreError> {
        let txn = self.db.begin_read()?;
        let Some(position) = txn.open_table(TX_POSITIONS)?.get(txid.as_byte_array())?.map(|g| *g.value()) else {
            return Ok(None);
        };
        TxReader::open(&txn)?.at(&position).map(Some)
    }

    /// Returns whether a transaction is in the best chain.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn contains_tx(&self, txid: &Txid) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(TX_POSITIONS)?.get(txid.as_byte_array())?.is_some())
    }

    /// Returns an account's best-chain transactions, newest first, at most `limit`, strictly
    /// before `(height, index)` when given.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a corrupt record.
    pub fn history(
        &self,
        account: &AccountId,
        before: Option<(Height, u32)>,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StoreError> {
        let txn = self.db.begin_read()?;
        let history = txn.open_table(HISTORY)?;
        let txs = TxReader::open(&txn)?;
        let start = history_key(account, Height(0), 0);
        let end = match before {
            Some((height, index)) => history_key(account, height, index),
            None => history_key(account, Height(u64::MAX), u32::MAX),
        };
        let mut out = Vec::new();
        for item in history.range::<&[u8; 32]>(&start..&end)?.rev().take(limit) {
            let (key, _) = item?;
            let mut position = [0u8; 12];
            position.copy_from_slice(&key.value()[20..]);
            out.push(txs.at(&position)?);
        }
        Ok(out)
    }

    /// Defers commits (`true`): each [`Store::write`] stays atomic, but its writes gather in
    /// memory into one group that `set_deferred(false)` applies in one write transaction and
    /// commits durably (one commit and one fsync instead of one per block while syncing). A crash
    /// before that loses the whole group, leaving the state before it. The group is invisible
    /// to the store's readers until then, except [`Store::raw_block`] (blocks are immutable);
    /// whoever defers keeps readers of the chain out — [`crate::chain::Chain::batch`] holds it.
    ///
    /// # Errors
    /// The durable commit fails; the group is then lost.
    pub fn set_deferred(&self, on: bool) -> Result<(), StoreError> {
        let mut group = self.group();
        match (group.take(), on) {
            (None, true) => *group = Some(Group::default()),
            (Some(open), true) => *group = Some(open),
            (None, false) => {}
            (Some(open), false) => {
                if open.spilled || !open.staged.is_empty() {
                    self.commit(&open.staged, redb::Durability::Immediate)?;
                }
            }
        }
        Ok(())
    }

    /// Spills deferred groups to the file (without an fsync) past `bytes` staged.
    #[cfg(test)]
    pub(crate) fn set_spill_bytes(&mut self, bytes: usize) {
        self.spill_bytes = bytes;
    }

    /// Applies the tx index on its own thread from `txs` transactions in a write.
    #[cfg(test)]
    pub(crate) fn set_parallel_apply_txs(&mut self, txs: usize) {
        self.parallel_apply_txs = txs;
    }

    /// Every record of every table, as (table, key, value) bytes in key order: two stores with
    /// equal dumps hold the same data.
    #[cfg(test)]
    pub(crate) fn dump(&self) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
        let txn = self.db.begin_read().expect("read");
        let mut out = Vec::new();
        for (name, definition) in [("index", INDEX), ("blocks", BLOCKS), ("undo", UNDO)] {
            for item in txn.open_table(definition).expect("table").iter().expect("iter") {
                let (k, v) = item.expect("row");
                out.push((name, k.value().to_vec(), v.value().to_vec()));
            }
        }
        for item in txn.open_table(MAIN_CHAIN).expect("table").iter().expect("iter") {
            let (k, v) = item.expect("row");
            out.push(("main_chain", k.value().to_be_bytes().to_vec(), v.value().to_vec()));
        }
        for item in txn.open_table(ACCOUNTS).expect("table").iter().expect("iter") {
            let (k, v) = item.expect("row");
            out.push(("accounts", k.value().to_vec(), v.value().to_vec()));
        }
        for item in txn.open_table(TX_POSITIONS).expect("table").iter().expect("iter") {
            let (k, v) = item.expect("row");
            out.push(("tx_positions", k.value().to_vec(), v.value().to_vec()));
        }
        for item in txn.open_table(CHAIN_TXS).expect("table").iter().expect("iter") {
            let (k, v) = item.expect("row");
            out.push(("chain_txs", k.value().to_vec(), v.value().to_vec()));
        }
        for item in txn.open_table(HISTORY).expect("table").iter().expect("iter") {
            let (k, _) = item.expect("row");
            out.push(("history", k.value().to_vec(), Vec::new()));
        }
        out
    }

    fn group(&self) -> MutexGuard<'_, Option<Group>> {
        self.group.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `staged` in one write transaction, each table's keys in order, and commits.
    fn commit(&self, staged: &Staged, durability: redb::Durability) -> Result<(), StoreError> {
        let mut txn = self.begin_write()?;
        txn.set_durability(durability)?;
        staged.apply(&txn, staged.tx_positions.len() >= self.parallel_apply_txs)?;
        txn.commit()?;
        Ok(())
    }

    /// Runs `f` with a [`Writer`] and commits what it wrote durably if it succeeds (into the
    /// group inside [`Store::set_deferred`]); on error nothing it wrote is kept. Writes are
    /// serialised (the group's lock is held throughout), so `f`'s reads stay current; `f` must
    /// read through its [`Writer`], never through the store.
    ///
    /// # Errors
    /// `f`'s error, or a [`StoreError`] converted into `E`.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<T, E>) -> Result<T, E> {
        let mut group = self.group();
        let txn = self.db.begin_read().map_err(StoreError::from)?;
        let (value, staged) = {
            let mut writer = Writer {
                blocks: txn.open_table(BLOCKS).map_err(StoreError::from)?,
                accounts: txn.open_table(ACCOUNTS).map_err(StoreError::from)?,
                undo: txn.open_table(UNDO).map_err(StoreError::from)?,
                group: group.as_ref().map(|g| &g.staged),
                staged: Staged::default(),
            };
            (f(&mut writer)?, writer.staged)
        };
        drop(txn);
        match group.as_mut() {
            None => self.commit(&staged, redb::Durability::Immediate)?,
            Some(open) => {
                open.staged.merge(staged);
                if open.staged.bytes >= self.spill_bytes {
                    self.commit(&open.staged, redb::Durability::None)?;
                    *open = Group { staged: Staged::default(), spilled: true };
                }
            }
        }
        Ok(value)
    }

    /// Returns the header of every stored block, read from the blocks themselves (for
    /// [`crate::reindex`], which trusts no other table).
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a record too short to hold a header.
    pub fn stored_headers(&self) -> Result<Vec<(BlockHash, Header)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BLOCKS)?;
        let mut out = Vec::with_capacity(table.len()? as usize);
        for item in table.iter()? {
            let (key, value) = item?;
            let head: [u8; HEADER_LEN] = value
                .value()
                .get(..HEADER_LEN)
                .and_then(|h| h.try_into().ok())
                .ok_or_else(|| corrupt("blocks", "record shorter than a header"))?;
            out.push((BlockHash::from_byte_array(*key.value()), Header::from_bytes(&head)));
        }
        Ok(out)
    }

    /// Fails once the database has met an I/O error (a full or failing disk): redb then refuses
    /// every later operation, and the node must stop.
    ///
    /// # Errors
    /// The [`StoreError`] that latched.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        match self.db.try_begin_write() {
            Ok(txn) => Ok(txn.abort()?),
            Err(redb::TransactionError::WouldBlock) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A read view of the account state at one commit. The rules read it through the infallible
/// [`AccountState`]; a read failure yields an empty account and is kept for [`Snapshot::check`].
pub struct Snapshot {
    accounts: redb::ReadOnlyTable<&'static [u8; 20], &'static [u8; 16]>,
    error: RefCell<Option<StoreError>>,
}

impl Snapshot {
    /// Reports the first read failure, if any: a judgement made on this view is void then.
    ///
    /// # Errors
    /// The [`StoreError`] a read met.
    pub fn check(self) -> Result<(), StoreError> {
        self.error.into_inner().map_or(Ok(()), Err)
    }
}

impl AccountState for Snapshot {
    fn account(&self, id: &AccountId) -> Account {
        match self.accounts.get(id.as_bytes()) {
            Ok(found) => found.map(|g| decode_account(g.value())).unwrap_or_default(),
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e.into());
                Account::default()
            }
        }
    }
}

/// The coinbase recipient and amount of a block (zero for a block without one, which the rules
/// refuse before it is ever stored).
pub fn coinbase_of(block: &Block) -> (AccountId, Amount) {
    block.txs.first().and_then(Tx::as_coinbase).map_or((AccountId::default(), Amount::ZERO), |c| (c.to, c.amount))
}

/// Reads best-chain transactions by position, with their block's hash, in one read transaction.
struct TxReader {
    chain_txs: redb::ReadOnlyTable<&'static [u8; 12], &'static [u8]>,
    main_chain: redb::ReadOnlyTable<u64, &'static [u8; 32]>,
}

impl TxReader {
    fn open(txn: &redb::ReadTransaction) -> Result<Self, StoreError> {
        Ok(Self { chain_txs: txn.open_table(CHAIN_TXS)?, main_chain: txn.open_table(MAIN_CHAIN)? })
    }

    /// The transaction at `position`, which the tx index or history named: missing is corruption.
    fn at(&self, position: &[u8; 12]) -> Result<TxLocation, StoreError> {
        let (height, index) = decode_tx_position(position);
        let raw = self
            .chain_txs
            .get(position)?
            .ok_or_else(|| corrupt("chain_txs", format!("no transaction at height {} index {index}", height.0)))?;
        let tx = Tx::decode(raw.value()).map_err(|e| corrupt("chain_txs", e))?;
        let block_hash = self.main_chain.get(height.0)?.ok_or_else(|| {
            corrupt("main_chain", format!("no block at height {}, which holds a transaction", height.0))
        })?;
        Ok(TxLocation { height, index, block_hash: BlockHash::from_byte_array(*block_hash.value()), tx })
    }
}

/// Writes one staged table in key order: `Some(value)` inserts `$insert`, `None` removes the key.
macro_rules! apply_rows {
    ($txn:expr, $definition:expr, $rows:expr, |$value:pat_param| $insert:expr) => {{
        let mut table = $txn.open_table($definition)?;
        for (key, value) in $rows {
            match value {
                Some($value) => table.insert(key, $insert)?,
                None => table.remove(key)?,
            };
        }
    }};
}

/// Writes staged in memory, per table, each key's last write (`None` removes it); applied with
/// every table's keys in order.
#[derive(Default)]
struct Staged {
    index: BTreeMap<[u8; 32], Option<Vec<u8>>>,
    blocks: BTreeMap<[u8; 32], Option<Vec<u8>>>,
    undo: BTreeMap<[u8; 32], Option<Vec<u8>>>,
    main_chain: BTreeMap<u64, Option<[u8; 32]>>,
    accounts: BTreeMap<[u8; 20], Option<[u8; 16]>>,
    tx_positions: BTreeMap<[u8; 32], Option<[u8; 12]>>,
    chain_txs: BTreeMap<[u8; 12], Option<Vec<u8>>>,
    history: BTreeMap<[u8; 32], Option<()>>,
    /// Roughly the memory the staged writes hold (keys and values, counted as written).
    bytes: usize,
}

impl Staged {
    fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Adds `later`'s writes, which win over this group's for the same key.
    fn merge(&mut self, later: Staged) {
        self.index.extend(later.index);
        self.blocks.extend(later.blocks);
        self.undo.extend(later.undo);
        self.main_chain.extend(later.main_chain);
        self.accounts.extend(later.accounts);
        self.tx_positions.extend(later.tx_positions);
        self.chain_txs.extend(later.chain_txs);
        self.history.extend(later.history);
        self.bytes += later.bytes;
    }

    /// Applies every table; with `parallel` (a large write) the tx index on a thread of its own
    /// beside the rest (different tables of one write transaction build their pages
    /// independently); not on rayon's pool, where it would queue behind signature checks.
    fn apply(&self, txn: &redb::WriteTransaction, parallel: bool) -> Result<(), StoreError> {
        let by_txid = || -> Result<(), StoreError> {
            apply_rows!(txn, TX_POSITIONS, &self.tx_positions, |position| position);
            Ok(())
        };
        let rest = || -> Result<(), StoreError> {
            apply_rows!(txn, INDEX, &self.index, |entry| entry.as_slice());
            apply_rows!(txn, BLOCKS, &self.blocks, |raw| raw.as_slice());
            apply_rows!(txn, UNDO, &self.undo, |undo| undo.as_slice());
            apply_rows!(txn, MAIN_CHAIN, &self.main_chain, |hash| hash);
            apply_rows!(txn, ACCOUNTS, &self.accounts, |account| account);
            apply_rows!(txn, CHAIN_TXS, &self.chain_txs, |tx| tx.as_slice());
            apply_rows!(txn, HISTORY, &self.history, |_row| ());
            Ok(())
        };
        if !parallel {
            return by_txid().and_then(|()| rest());
        }
        std::thread::scope(|scope| {
            let by_txid = scope.spawn(by_txid);
            let rest = rest();
            by_txid.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)).and(rest)
        })
    }
}

/// Looks `key` up in the writes staged by this writer, then in the group's, then in the file.
fn staged_or<K: Ord, V: Clone>(
    staged: &BTreeMap<K, Option<V>>,
    group: Option<&BTreeMap<K, Option<V>>>,
    key: &K,
    file: impl FnOnce() -> Result<Option<V>, StoreError>,
) -> Result<Option<V>, StoreError> {
    match staged.get(key).or_else(|| group.and_then(|g| g.get(key))) {
        Some(value) => Ok(value.clone()),
        None => file(),
    }
}

/// One atomic write to the store: reads see the file as of its start plus everything written
/// before it in the deferred group and by itself; its writes are staged until the store commits
/// them. Connects and disconnects blocks of the best chain.
pub struct Writer<'a> {
    blocks: redb::ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    accounts: redb::ReadOnlyTable<&'static [u8; 20], &'static [u8; 16]>,
    undo: redb::ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    group: Option<&'a Staged>,
    staged: Staged,
}

impl Writer<'_> {
    /// Stores a block and its index entry, without connecting it.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn put_block(&mut self, hash: &BlockHash, entry: &IndexEntry, raw: &[u8]) -> Result<(), StoreError> {
        self.staged.bytes += 32 + raw.len();
        self.staged.blocks.insert(*hash.as_byte_array(), Some(raw.to_vec()));
        self.put_entry(hash, entry)
    }

    /// Writes an index entry.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn put_entry(&mut self, hash: &BlockHash, entry: &IndexEntry) -> Result<(), StoreError> {
        self.staged.bytes += 32 + ENTRY_LEN;
        self.staged.index.insert(*hash.as_byte_array(), Some(entry.to_bytes()));
        Ok(())
    }

    /// Reads a stored block, this write's and its group's included.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or a block that does not decode.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        let key = hash.as_byte_array();
        let raw = staged_or(&self.staged.blocks, self.group.map(|g| &g.blocks), key, || {
            Ok(self.blocks.get(key)?.map(|g| g.value().to_vec()))
        })?;
        raw.map(|raw| Block::decode(&raw).map_err(|e| corrupt("blocks", e))).transpose()
    }

    /// Reads accounts as this write sees them (earlier writes included).
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn accounts(
        &self,
        ids: impl IntoIterator<Item = AccountId>,
    ) -> Result<HashMap<AccountId, Account>, StoreError> {
        let mut out = HashMap::new();
        for id in ids {
            out.insert(id, self.account_if_present(&id)?.unwrap_or_default());
        }
        Ok(out)
    }

    fn account_if_present(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let key = id.as_bytes();
        let found = staged_or(&self.staged.accounts, self.group.map(|g| &g.accounts), key, || {
            Ok(self.accounts.get(key)?.map(|g| *g.value()))
        })?;
        Ok(found.as_ref().map(decode_account))
    }

    fn set_account(&mut self, id: &AccountId, account: Option<&Account>) {
        self.staged.bytes += 36;
        self.staged.accounts.insert(*id.as_bytes(), account.map(encode_account));
    }

    /// Connects a validated block on top of the best chain: applies `changes` (its accounts,
    /// indexed under its txids), records its undo data, its transactions and their history
    /// rows, and makes it the tip.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn connect(
        &mut self,
        block: &Block,
        hash: &BlockHash,
        height: Height,
        changes: &BlockChanges,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(changes.txids.len(), block.txs.len(), "one txid per transaction");
        // In account order, so the same block always writes the same undo record.
        let mut accounts: Vec<_> = changes.accounts.iter().collect();
        accounts.sort_unstable_by_key(|(id, _)| id.as_bytes());
        let mut undo = Undo::with_capacity(accounts.len());
        for (id, account) in accounts {
            undo.push((*id, self.account_if_present(id)?));
            self.set_account(id, Some(account));
        }
        let undo = encode_undo(&undo);
        let staged = &mut self.staged;
        staged.bytes += 32 + undo.len() + 40;
        staged.undo.insert(*hash.as_byte_array(), Some(undo));
        staged.main_chain.insert(height.0, Some(*hash.as_byte_array()));
        for (index, (tx, txid)) in block.txs.iter().zip(&changes.txids).enumerate() {
            let index = index as u32;
            let position = tx_position(height, index);
            let raw = tx.encode();
            staged.bytes += 32 + 12 + 12 + raw.len();
            staged.tx_positions.insert(*txid.as_byte_array(), Some(position));
            staged.chain_txs.insert(position, Some(raw));
            for party in parties(tx) {
                staged.bytes += 32;
                staged.history.insert(history_key(&party, height, index), Some(()));
            }
        }
        Ok(())
    }

    /// Disconnects the tip block: restores the accounts it changed and removes its
    /// transactions, history rows and height.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure or missing undo data.
    pub fn disconnect(&mut self, block: &Block, hash: &BlockHash, height: Height) -> Result<(), StoreError> {
        let key = hash.as_byte_array();
        let undo = staged_or(&self.staged.undo, self.group.map(|g| &g.undo), key, || {
            Ok(self.undo.get(key)?.map(|g| g.value().to_vec()))
        })?
        .ok_or_else(|| corrupt("undo", format!("none for {hash}")))?;
        let undo = decode_undo(&undo).map_err(|e| corrupt("undo", e))?;
        for (id, previous) in &undo {
            self.set_account(id, previous.as_ref());
        }
        let staged = &mut self.staged;
        staged.bytes += 72;
        staged.undo.insert(*key, None);
        staged.main_chain.insert(height.0, None);
        for (index, tx) in block.txs.iter().enumerate() {
            let txid = tx.txid();
            staged.bytes += 44;
            staged.tx_positions.insert(*txid.as_byte_array(), None);
            staged.chain_txs.insert(tx_position(height, index as u32), None);
            for party in parties(tx) {
                staged.bytes += 32;
                staged.history.insert(history_key(&party, height, index as u32), None);
            }
        }
        Ok(())
    }
}

/// Rewrites a closed store as layout 1 kept it, for the upgrade test: the tx index as txid →
/// height LE | index LE | block hash | transaction in `txs`, history rows holding their txid, and
/// schema number 1 (`index`, `blocks`, `undo`, `main_chain` and `accounts` are the same in both).
#[cfg(test)]
pub(crate) fn rewrite_as_layout_1(path: &Path) {
    const TXS_1: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("txs");
    const HISTORY_1: TableDefinition<&[u8; 32], &[u8; 32]> = TableDefinition::new("history");
    let db = Database::open(path).expect("the store opens in redb");
    let txn = db.begin_write().expect("write");
    let mut txs = Vec::new();
    let mut txid_at = HashMap::new();
    for row in txn.open_table(TX_POSITIONS).expect("table").iter().expect("rows") {
        let (txid, position) = row.expect("row");
        let (txid, position) = (*txid.value(), *position.value());
        let (height, index) = decode_tx_position(&position);
        let block = *txn.open_table(MAIN_CHAIN).expect("table").get(height.0).expect("read").expect("at").value();
        let tx = txn.open_table(CHAIN_TXS).expect("table").get(&position).expect("read").expect("tx").value().to_vec();
        let record = [&height.0.to_le_bytes()[..], &index.to_le_bytes(), &block, &tx].concat();
        txs.push((txid, record));
        txid_at.insert(position, txid);
    }
    let history: Vec<[u8; 32]> =
        txn.open_table(HISTORY).expect("table").iter().expect("rows").map(|row| *row.expect("row").0.value()).collect();
    assert!(txn.delete_table(TX_POSITIONS).expect("delete"));
    assert!(txn.delete_table(CHAIN_TXS).expect("delete"));
    assert!(txn.delete_table(HISTORY).expect("delete"));
    let mut table = txn.open_table(TXS_1).expect("table");
    for (txid, record) in &txs {
        table.insert(txid, record.as_slice()).expect("insert");
    }
    drop(table);
    let mut table = txn.open_table(HISTORY_1).expect("table");
    for key in &history {
        let position: [u8; 12] = key[20..].try_into().expect("12 bytes");
        table.insert(key, &txid_at[&position]).expect("insert");
    }
    drop(table);
    txn.open_table(META).expect("table").insert("schema", 1u32.to_le_bytes().as_slice()).expect("insert");
    txn.commit().expect("commit");
    assert!(!txs.is_empty() && !history.is_empty(), "the store had transactions to rewrite");
}

#[cfg(test)]
mod tests;
