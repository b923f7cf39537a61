//! The node's on-disk store: one redb file holding blocks, the block index, undo data, account
//! state, the tx index and per-address history. Connecting or disconnecting blocks happens in one
//! write transaction that commits durably (fsync) or not at all.
//!
//! Tables (keys are fixed-width byte arrays; integers big-endian inside keys so they sort):
//! - `index`: block hash → [`IndexEntry`] (header, height, chain work, status, coinbase)
//! - `blocks`: block hash → canonical block bytes
//! - `undo`: block hash → the accounts a connected block changed, with their previous values
//! - `main_chain`: height → block hash of the best chain
//! - `accounts`: account id → balance u64 | nonce u64
//! - `txs`: txid → height u64 | index u32 | block hash | canonical tx (best chain only)
//! - `history`: account id | height u64 BE | index u32 BE → txid (best chain only)

use oxcoin::address::AccountId;
use oxcoin::block::{Block, HEADER_LEN, Header};
use oxcoin::encode::{Decode, DecodeError, Encode, Reader};
use oxcoin::hash::{BlockHash, Txid};
use oxcoin::pow::Work;
use oxcoin::rules::{Account, AccountState};
use oxcoin::tx::Tx;
use oxcoin::{Amount, ErrorCode, Height};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

const INDEX: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("index");
const BLOCKS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("blocks");
const UNDO: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("undo");
const MAIN_CHAIN: TableDefinition<u64, &[u8; 32]> = TableDefinition::new("main_chain");
const ACCOUNTS: TableDefinition<&[u8; 20], &[u8; 16]> = TableDefinition::new("accounts");
const TXS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("txs");
const HISTORY: TableDefinition<&[u8; 32], &[u8; 32]> = TableDefinition::new("history");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Version of the table layout, stored in `meta` so a future layout can refuse an old file.
const SCHEMA_VERSION: u32 = 1;

/// Size of redb's own page cache. Its default, 1 GiB, fills with every page a crash repair or a
/// long run of queries reads and stays resident; the OS page cache keeps the file's hot pages
/// anyway. 32 MiB holds the block index of a 100,000-block chain while it loads at start.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

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

fn history_key(account: &AccountId, height: Height, index: u32) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..20].copy_from_slice(account.as_bytes());
    key[20..28].copy_from_slice(&height.0.to_be_bytes());
    key[28..].copy_from_slice(&index.to_be_bytes());
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
    /// Inside [`Store::set_deferred`]: commits are atomic but reach the disk with the next durable one.
    defer: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (or creates) the store at `path`, creating every table, and writes `genesis` as
    /// the first block of a new store. Refuses a store of another network or layout.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or belongs to another network.
    pub fn open(path: &Path, genesis: &Block, network: &str) -> Result<Self, StoreError> {
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path)?;
        let store = Self { db, defer: std::sync::atomic::AtomicBool::new(false) };
        let txn = store.begin_write()?;
        let fresh = {
            let mut meta = txn.open_table(META)?;
            let fresh = meta.get("schema")?.is_none();
            if fresh {
                meta.insert("schema", SCHEMA_VERSION.to_le_bytes().as_slice())?;
                meta.insert("network", network.as_bytes())?;
            } else {
                let schema = meta.get("schema")?.map(|g| g.value().to_vec()).unwrap_or_default();
                if schema != SCHEMA_VERSION.to_le_bytes() {
                    return Err(StoreError::Incompatible(format!(
                        "has layout version {schema:?}, expected {SCHEMA_VERSION}"
                    )));
                }
                let stored = meta.get("network")?.map(|g| g.value().to_vec()).unwrap_or_default();
                if stored != network.as_bytes() {
                    return Err(StoreError::Incompatible(format!(
                        "belongs to network {:?}, not {network}",
                        String::from_utf8_lossy(&stored)
                    )));
                }
            }
            // Create every table so readers never meet a missing one.
            txn.open_table(INDEX)?;
            txn.open_table(BLOCKS)?;
            txn.open_table(UNDO)?;
            txn.open_table(MAIN_CHAIN)?;
            txn.open_table(ACCOUNTS)?;
            txn.open_table(TXS)?;
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
            store.write(|w| w.connect(genesis, &hash, Height::GENESIS, &HashMap::new()))?;
        }
        Ok(store)
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
        let table = txn.open_table(TXS)?;
        let Some(guard) = table.get(txid.as_byte_array())? else { return Ok(None) };
        decode_tx_location(guard.value()).map(Some).map_err(|e| corrupt("txs", e))
    }

    /// Returns whether a transaction is in the best chain.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn contains_tx(&self, txid: &Txid) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(TXS)?.get(txid.as_byte_array())?.is_some())
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
        let txs = txn.open_table(TXS)?;
        let start = history_key(account, Height(0), 0);
        let end = match before {
            Some((height, index)) => history_key(account, height, index),
            None => history_key(account, Height(u64::MAX), u32::MAX),
        };
        let mut out = Vec::new();
        for item in history.range::<&[u8; 32]>(&start..&end)?.rev().take(limit) {
            let (_, txid) = item?;
            let guard = txs.get(txid.value())?.ok_or_else(|| corrupt("history", "names a txid missing from txs"))?;
            out.push(decode_tx_location(guard.value()).map_err(|e| corrupt("txs", e))?);
        }
        Ok(out)
    }

    /// Defers commits (`true`): each stays atomic, but they reach the disk together with the
    /// next durable commit, which `set_deferred(false)` makes at once (a crash before it loses
    /// them all, leaving the state before the first). Whoever defers must keep what it commits
    /// from being shown until then — [`crate::chain::Chain::batch`] holds the chain. One fsync
    /// instead of one per block while syncing.
    ///
    /// # Errors
    /// The durable commit fails; the deferred commits may then be lost at the next crash.
    pub fn set_deferred(&self, on: bool) -> Result<(), StoreError> {
        let was = self.defer.swap(on, std::sync::atomic::Ordering::Relaxed);
        if was && !on {
            self.begin_write()?.commit()?;
        }
        Ok(())
    }

    /// Runs `f` in one write transaction and commits durably if it succeeds (deferred inside
    /// [`Store::set_deferred`]); on error nothing it wrote is kept.
    ///
    /// # Errors
    /// `f`'s error, or a [`StoreError`] converted into `E`.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<T, E>) -> Result<T, E> {
        let mut txn = self.begin_write()?;
        if self.defer.load(std::sync::atomic::Ordering::Relaxed) {
            txn.set_durability(redb::Durability::None).map_err(StoreError::from)?;
        }
        let result = {
            let mut writer = Writer {
                index: txn.open_table(INDEX).map_err(StoreError::from)?,
                blocks: txn.open_table(BLOCKS).map_err(StoreError::from)?,
                accounts: txn.open_table(ACCOUNTS).map_err(StoreError::from)?,
                undo: txn.open_table(UNDO).map_err(StoreError::from)?,
                main_chain: txn.open_table(MAIN_CHAIN).map_err(StoreError::from)?,
                txs: txn.open_table(TXS).map_err(StoreError::from)?,
                history: txn.open_table(HISTORY).map_err(StoreError::from)?,
            };
            f(&mut writer)
        };
        match result {
            Ok(value) => {
                txn.commit().map_err(StoreError::from)?;
                Ok(value)
            }
            Err(error) => {
                txn.abort().map_err(StoreError::from)?;
                Err(error)
            }
        }
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

fn encode_tx_location(height: Height, index: u32, block_hash: &BlockHash, tx: &Tx) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 4 + 32 + tx.encoded_len());
    out.extend_from_slice(&height.0.to_le_bytes());
    out.extend_from_slice(&index.to_le_bytes());
    out.extend_from_slice(block_hash.as_byte_array());
    tx.encode_to(&mut out);
    out
}

fn decode_tx_location(bytes: &[u8]) -> Result<TxLocation, DecodeError> {
    let mut r = Reader::new(bytes);
    let height = Height(r.read_u64()?);
    let index = r.read_u32()?;
    let block_hash = BlockHash::from_byte_array(r.read_array()?);
    let tx = Tx::decode_from(&mut r)?;
    r.finish()?;
    Ok(TxLocation { height, index, block_hash, tx })
}

/// The tables of one write transaction: connects and disconnects blocks of the best chain.
pub struct Writer<'txn> {
    index: redb::Table<'txn, &'static [u8; 32], &'static [u8]>,
    blocks: redb::Table<'txn, &'static [u8; 32], &'static [u8]>,
    accounts: redb::Table<'txn, &'static [u8; 20], &'static [u8; 16]>,
    undo: redb::Table<'txn, &'static [u8; 32], &'static [u8]>,
    main_chain: redb::Table<'txn, u64, &'static [u8; 32]>,
    txs: redb::Table<'txn, &'static [u8; 32], &'static [u8]>,
    history: redb::Table<'txn, &'static [u8; 32], &'static [u8; 32]>,
}

impl Writer<'_> {
    /// Stores a block and its index entry, without connecting it.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn put_block(&mut self, hash: &BlockHash, entry: &IndexEntry, raw: &[u8]) -> Result<(), StoreError> {
        self.blocks.insert(hash.as_byte_array(), raw)?;
        self.put_entry(hash, entry)
    }

    /// Writes an index entry.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn put_entry(&mut self, hash: &BlockHash, entry: &IndexEntry) -> Result<(), StoreError> {
        self.index.insert(hash.as_byte_array(), entry.to_bytes().as_slice())?;
        Ok(())
    }

    /// Reads accounts as this transaction sees them (earlier writes included).
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn accounts(
        &self,
        ids: impl IntoIterator<Item = AccountId>,
    ) -> Result<HashMap<AccountId, Account>, StoreError> {
        let mut out = HashMap::new();
        for id in ids {
            let account = self.accounts.get(id.as_bytes())?.map(|g| decode_account(g.value())).unwrap_or_default();
            out.insert(id, account);
        }
        Ok(out)
    }

    fn account_if_present(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.accounts.get(id.as_bytes())?.map(|g| decode_account(g.value())))
    }

    /// Connects a validated block on top of the best chain: applies `changes`, records its
    /// undo data, its transactions and their history rows, and makes it the tip.
    ///
    /// # Errors
    /// [`StoreError`] on I/O failure.
    pub fn connect(
        &mut self,
        block: &Block,
        hash: &BlockHash,
        height: Height,
        changes: &HashMap<AccountId, Account>,
    ) -> Result<(), StoreError> {
        let mut undo = Undo::with_capacity(changes.len());
        for (id, account) in changes {
            undo.push((*id, self.account_if_present(id)?));
            self.accounts.insert(id.as_bytes(), &encode_account(account))?;
        }
        self.undo.insert(hash.as_byte_array(), encode_undo(&undo).as_slice())?;
        self.main_chain.insert(height.0, hash.as_byte_array())?;
        for (index, tx) in block.txs.iter().enumerate() {
            let index = index as u32;
            let txid = tx.txid();
            self.txs.insert(txid.as_byte_array(), encode_tx_location(height, index, hash, tx).as_slice())?;
            for party in parties(tx) {
                self.history.insert(&history_key(&party, height, index), txid.as_byte_array())?;
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
        let undo = {
            let guard =
                self.undo.get(hash.as_byte_array())?.ok_or_else(|| corrupt("undo", format!("none for {hash}")))?;
            decode_undo(guard.value()).map_err(|e| corrupt("undo", e))?
        };
        for (id, previous) in &undo {
            match previous {
                Some(account) => {
                    self.accounts.insert(id.as_bytes(), &encode_account(account))?;
                }
                None => {
                    self.accounts.remove(id.as_bytes())?;
                }
            }
        }
        self.undo.remove(hash.as_byte_array())?;
        self.main_chain.remove(height.0)?;
        for (index, tx) in block.txs.iter().enumerate() {
            let txid = tx.txid();
            self.txs.remove(txid.as_byte_array())?;
            for party in parties(tx) {
                self.history.remove(&history_key(&party, height, index as u32))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
