//! The JSON shapes of the API: answers (built from the chain's types) and request bodies
//! (which refuse unknown and duplicate fields). Amounts are integer grains; hashes are the
//! byte-reversed hex Bitcoin tools print; `bits` is 8 hex digits.

use crate::chain::Chain;
use crate::mempool::Entry;
use crate::store::{BlockStatus, IndexEntry};
use oxcoin::encode::Encode;
use oxcoin::hash::BlockHash;
use oxcoin::pow::CompactTarget;
use oxcoin::{Address, Block, ChainParams, Height, Network, Tx};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Formats compact bits as bitcoind does: 8 lowercase hex digits.
pub fn bits_hex(bits: CompactTarget) -> String {
    format!("{:08x}", bits.to_consensus())
}

/// Reads an optional decimal query parameter; numbers are read here rather than by serde so
/// that the error names the parameter.
///
/// # Errors
/// 400 `malformed` naming `field`.
pub fn query_number(value: Option<&str>, field: &str) -> Result<Option<u64>, crate::api::ApiError> {
    let Some(v) = value else { return Ok(None) };
    let n: u64 =
        v.parse().map_err(|e| crate::api::ApiError::malformed(format!("{field}: {v:?} is not a count: {e}")))?;
    // The documented range is OpenAPI's int64, which every JSON client can hold.
    if n > i64::MAX as u64 {
        return Err(crate::api::ApiError::malformed(format!("{field}: at most {}", i64::MAX)));
    }
    Ok(Some(n))
}

/// Confirmations of a best-chain block at `height` under a tip at `tip`.
pub fn confirmations(tip: Height, height: Height) -> u64 {
    tip.0.saturating_sub(height.0).saturating_add(1)
}

/// `GET /status`.
#[derive(Serialize, ToSchema, Debug)]
pub struct StatusJson {
    /// `main`, `test` or `dev`.
    #[schema(example = "dev")]
    pub network: String,
    /// Version of the node software.
    pub version: String,
    /// Height of the best chain's tip.
    pub height: u64,
    /// Hash of the tip.
    pub best_hash: String,
    /// Cumulative work of the best chain, 64 hex digits (as bitcoind's `chainwork`).
    pub chain_work: String,
    /// The tip's compact target, 8 hex digits.
    #[schema(example = "207fffff")]
    pub bits: String,
    /// How many times harder the tip's target is than the network's easiest (display only).
    pub difficulty: f64,
    /// Pending transfers.
    pub mempool: MempoolSummary,
    /// Connected peers.
    pub peers: u64,
    /// Whether blocks are being downloaded from a peer.
    pub syncing: bool,
    /// The best height known: ours, or that of a connected peer with more work.
    pub target_height: u64,
    /// `height` ÷ `target_height`, from 0 to 1 (1 when there is nothing to catch up).
    pub progress: f64,
    /// The local miner.
    pub mining: MiningJson,
}

/// Size of the mempool.
#[derive(Serialize, ToSchema, Debug)]
pub struct MempoolSummary {
    /// Number of pending transfers.
    pub count: u64,
    /// Sum of their encoded sizes in bytes.
    pub bytes: u64,
}

/// The local miner's state.
#[derive(Serialize, ToSchema, Debug)]
pub struct MiningJson {
    /// Whether the miner is running.
    pub enabled: bool,
    /// Mining threads (configured, when the miner is not running).
    pub threads: u64,
    /// Hashes per second over the last seconds.
    pub hashrate: f64,
}

/// Kind of a transaction.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    /// A block reward (kind 0).
    Coinbase,
    /// A signed payment (kind 1).
    Transfer,
}

/// A transaction: its id, kind, canonical bytes and decoded fields. Fields of the other kind
/// are absent.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TxJson {
    /// SHA-256d of the canonical encoding.
    pub txid: String,
    /// `coinbase` or `transfer`.
    pub kind: TxKind,
    /// The canonical encoding, hex.
    pub raw_hex: String,
    /// Size of the canonical encoding in bytes.
    pub size: u64,
    /// Coinbase: the height it was mined at. In `GET /txs/{txid}`: the height of the block
    /// holding the transaction (absent while pending).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Transfer: the chain id it is signed for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u32>,
    /// Transfer: the sender's address (derived from `from_pubkey`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Transfer: the sender's Ed25519 public key, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_pubkey: Option<String>,
    /// The recipient's address.
    pub to: String,
    /// Grains paid to the recipient.
    pub amount: u64,
    /// Transfer: grains paid to the miner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee: Option<u64>,
    /// Transfer: the sender's transfer count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// Transfer: the memo as text (invalid UTF-8 replaced by U+FFFD; `memo_hex` is exact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Transfer: the memo's bytes, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo_hex: Option<String>,
    /// Transfer: the Ed25519 signature, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Coinbase: the miner's extra nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_nonce: Option<u64>,
}

impl TxJson {
    /// Describes `tx` with the addresses of `network`.
    pub fn new(tx: &Tx, network: Network) -> Self {
        let raw = tx.encode();
        let mut json = Self {
            txid: tx.txid().to_string(),
            kind: TxKind::Coinbase,
            size: raw.len() as u64,
            raw_hex: hex::encode(&raw),
            height: None,
            chain_id: None,
            from: None,
            from_pubkey: None,
            to: String::new(),
            amount: 0,
            fee: None,
            nonce: None,
            memo: None,
            memo_hex: None,
            signature: None,
            extra_nonce: None,
        };
        match tx {
            Tx::Coinbase(c) => {
                json.height = Some(c.height);
                json.to = Address::new(network, c.to).to_string();
                json.amount = c.amount.to_grains();
                json.extra_nonce = Some(c.extra_nonce);
            }
            Tx::Transfer(t) => {
                json.kind = TxKind::Transfer;
                json.chain_id = Some(t.chain_id);
                json.from = Some(Address::new(network, t.sender()).to_string());
                json.from_pubkey = Some(hex::encode(t.from.0));
                json.to = Address::new(network, t.to).to_string();
                json.amount = t.amount.to_grains();
                json.fee = Some(t.fee.to_grains());
                json.nonce = Some(t.nonce);
                json.memo = Some(String::from_utf8_lossy(t.memo.as_bytes()).into_owned());
                json.memo_hex = Some(hex::encode(t.memo.as_bytes()));
                json.signature = Some(hex::encode(t.signature));
            }
        }
        json
    }
}

/// Whether a transaction is in the best chain yet.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// In the mempool.
    Pending,
    /// In a block of the best chain.
    Confirmed,
}

/// `GET /txs/{txid}`: the transaction and where it stands.
#[derive(Serialize, ToSchema, Debug)]
pub struct TxDetailJson {
    /// The transaction (its `height` is the height of its block, absent while pending).
    #[serde(flatten)]
    pub tx: TxJson,
    /// `pending` or `confirmed`.
    pub status: TxStatus,
    /// Hash of the block holding it (null while pending).
    pub block_hash: Option<String>,
    /// Blocks on top of (and including) its block; 0 while pending.
    pub confirmations: u64,
    /// Pending: when this node received it, Unix seconds (null once confirmed).
    pub received: Option<u64>,
}

/// A block: its header fields, where it stands, and its transactions.
#[derive(Serialize, ToSchema, Debug)]
pub struct BlockJson {
    /// SHA-256d of the header.
    pub hash: String,
    /// Height (on its own branch for a side-branch block).
    pub height: u64,
    /// Blocks from the tip down to this one on the best chain; 0 off the best chain.
    pub confirmations: u64,
    /// Whether the block is on the best chain.
    pub main_chain: bool,
    /// Why the block was refused (a rule's code), or null for a valid block.
    pub invalid: Option<String>,
    /// The 80-byte header, hex.
    pub header_hex: String,
    /// Header version.
    pub version: u32,
    /// Hash of the previous block.
    pub prev_hash: String,
    /// RFC 6962 Merkle root of the txids (byte-reversed hex, like the hashes).
    pub merkle_root: String,
    /// Header time, Unix seconds.
    pub time: u32,
    /// Compact target, 8 hex digits.
    #[schema(example = "207fffff")]
    pub bits: String,
    /// Header nonce.
    pub nonce: u32,
    /// Size of the canonical block encoding in bytes.
    pub size: u64,
    /// Cumulative work of the chain up to this block, 64 hex digits.
    pub chain_work: String,
    /// Number of transactions.
    pub tx_count: u64,
    /// The transactions, coinbase first.
    pub txs: Vec<TxJson>,
}

impl BlockJson {
    /// Describes a stored block with its index entry, as seen from `chain`'s tip.
    pub fn new(chain: &Chain, hash: BlockHash, entry: &IndexEntry, block: &Block) -> Self {
        let network = chain.params().network;
        let main_chain = chain.is_on_main_chain(&hash);
        let header = &block.header;
        Self {
            hash: hash.to_string(),
            height: entry.height.0,
            confirmations: if main_chain { confirmations(chain.height(), entry.height) } else { 0 },
            main_chain,
            invalid: match entry.status {
                BlockStatus::Valid => None,
                BlockStatus::Invalid(code) => Some(code.as_str().to_owned()),
            },
            header_hex: hex::encode(header.to_bytes()),
            version: header.version,
            prev_hash: header.prev_hash.to_string(),
            merkle_root: header.merkle_root.to_string(),
            time: header.time,
            bits: bits_hex(header.bits),
            nonce: header.nonce,
            size: block.encoded_len() as u64,
            chain_work: entry.chain_work.to_hex(),
            tx_count: block.txs.len() as u64,
            txs: block.txs.iter().map(|tx| TxJson::new(tx, network)).collect(),
        }
    }
}

/// `GET /blocks`.
#[derive(Serialize, ToSchema, Debug)]
pub struct BlocksJson {
    /// Best-chain blocks, ascending by height.
    pub blocks: Vec<BlockJson>,
}

/// Query of `GET /blocks`.
#[derive(Deserialize, IntoParams, Debug)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BlocksQuery {
    /// First height (default: the tip's height − limit + 1, so the latest blocks). Past the
    /// tip, the list is empty.
    #[param(value_type = Option<u64>)]
    pub from: Option<String>,
    /// Most blocks, 1 to 100 (default 10).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// `POST /blocks` body.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SubmitBlockRequest {
    /// The canonical block encoding, hex.
    pub raw_hex: String,
}

/// What became of a submitted block.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum SubmitBlockStatus {
    /// Now the tip of the best chain (202).
    Connected,
    /// Stored on a side branch with less work; it may win later (202).
    Side,
    /// Its parent is unknown: kept in the bounded orphan pool (202).
    Orphan,
    /// Already stored (200).
    Known,
}

/// `POST /blocks` answer.
#[derive(Serialize, ToSchema, Debug)]
pub struct SubmitBlockJson {
    /// What became of the block.
    pub status: SubmitBlockStatus,
    /// The block's hash.
    pub hash: String,
}

/// `POST /txs` body: a transfer as JSON fields, or `{"raw_hex": "…"}` alone (its canonical
/// encoding). Unknown and repeated fields are refused.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct SubmitTxRequest {
    /// The canonical transfer encoding, hex; when given, no other field may be.
    pub raw_hex: Option<String>,
    /// Optional; only `transfer` can be submitted.
    #[schema(example = "transfer")]
    pub kind: Option<String>,
    /// Chain id the transfer is signed for (1 main, 2 test, 3 dev).
    pub chain_id: Option<u32>,
    /// The sender's Ed25519 public key, 64 hex digits.
    pub from_pubkey: Option<String>,
    /// The recipient, an address of this node's network.
    pub to: Option<String>,
    /// Grains sent.
    pub amount: Option<u64>,
    /// Grains offered to the miner.
    pub fee: Option<u64>,
    /// The sender's next nonce.
    pub nonce: Option<u64>,
    /// Text, at most 128 bytes of UTF-8 (default empty).
    pub memo: Option<String>,
    /// Ed25519 signature over `oxcoin-tx-v1` followed by the encoding without the signature, 128 hex digits.
    pub signature: Option<String>,
}

/// `POST /txs` answer.
#[derive(Serialize, ToSchema, Debug)]
pub struct SubmitTxJson {
    /// The accepted transfer's id.
    pub txid: String,
}

/// `GET /addresses/{address}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct AddressJson {
    /// The address.
    pub address: String,
    /// Grains the tip's state credits (spendable now).
    pub balance: u64,
    /// Block rewards not credited yet.
    pub immature: u64,
    /// Sum of pending transfers to the address (not added to `balance`).
    pub pending_in: u64,
    /// Sum of amount + fee of pending transfers from the address (not taken from `balance`).
    pub pending_out: u64,
    /// The account's nonce in the tip's state.
    pub nonce: u64,
    /// The nonce the next new transfer should carry, pending transfers included.
    pub next_nonce: u64,
}

/// Which way a history row moved value, seen from the address.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Received.
    In,
    /// Sent.
    Out,
    /// Sent to itself.
    #[serde(rename = "self")]
    SelfTransfer,
    /// A block reward.
    Reward,
}

/// Where a history row stands.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStatus {
    /// In the mempool.
    Pending,
    /// In the best chain (for a reward: credited).
    Confirmed,
    /// A reward not credited yet (younger than the coinbase maturity).
    Immature,
}

/// One row of an address's history.
#[derive(Serialize, ToSchema, Debug)]
pub struct HistoryRow {
    /// The transaction.
    pub txid: String,
    /// `coinbase` or `transfer`.
    pub kind: TxKind,
    /// `in`, `out`, `self` or `reward`.
    pub direction: Direction,
    /// The other party's address (the recipient when sending, the sender when receiving,
    /// the address itself for `self`); null for a reward.
    pub counterparty: Option<String>,
    /// Grains moved (the coinbase amount for a reward).
    pub amount: u64,
    /// The transfer's fee, paid by its sender (0 for a reward).
    pub fee: u64,
    /// Height of its block; null while pending.
    pub height: Option<u64>,
    /// Its block's time, or when this node received it while pending; Unix seconds.
    pub time: u64,
    /// 0 while pending.
    pub confirmations: u64,
    /// `pending`, `confirmed` or `immature`.
    pub status: HistoryStatus,
}

/// `GET /addresses/{address}/txs`.
#[derive(Serialize, ToSchema, Debug)]
pub struct HistoryJson {
    /// Newest first: pending rows (newest received first), then confirmed ones (highest block
    /// first, last in block first).
    pub txs: Vec<HistoryRow>,
}

/// Query of `GET /addresses/{address}/txs`.
#[derive(Deserialize, IntoParams, Debug)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Most rows, 1 to 500 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// A txid of this history (pending or confirmed): only rows after it in this order are
    /// listed. Pass the last row of a page to get the next page.
    pub before: Option<String>,
}

/// A pending transfer in `GET /mempool`.
#[derive(Serialize, ToSchema, Debug)]
pub struct MempoolTxJson {
    /// The transfer.
    #[serde(flatten)]
    pub tx: TxJson,
    /// Fee per byte of its own encoding, in grains (display only).
    pub fee_rate: f64,
    /// When this node received it, Unix seconds.
    pub received: u64,
}

impl MempoolTxJson {
    /// Describes a pending entry.
    pub fn new(entry: &Entry, network: Network) -> Self {
        let rate = entry.fee_rate();
        Self {
            tx: TxJson::new(&Tx::Transfer(entry.transfer.clone()), network),
            fee_rate: rate.fee().to_grains() as f64 / rate.size() as f64,
            received: entry.received,
        }
    }
}

/// `GET /mempool`.
#[derive(Serialize, ToSchema, Debug)]
pub struct MempoolJson {
    /// Number of pending transfers.
    pub count: u64,
    /// Sum of their encoded sizes in bytes.
    pub bytes: u64,
    /// Up to 100 pending transfers, highest fee rate first.
    pub transfers: Vec<MempoolTxJson>,
}

/// `GET /fees`.
#[derive(Serialize, ToSchema, Debug)]
pub struct FeesJson {
    /// The consensus minimum, grains per byte of a transfer's encoding.
    pub min_fee_rate: u64,
    /// A rate likely to get into the next block, grains per byte.
    pub suggested_fee_rate: u64,
    /// Size of a transfer with an empty memo, in bytes.
    pub typical_size: u64,
    /// `suggested_fee_rate × typical_size`, in grains.
    pub typical_fee: u64,
}

impl FeesJson {
    /// Builds the answer from the suggested rate.
    pub fn new(params: &ChainParams, suggested: u64) -> Self {
        let typical_size = oxcoin::tx::TRANSFER_BASE_LEN as u64;
        Self {
            min_fee_rate: params.min_fee_rate,
            suggested_fee_rate: suggested,
            typical_size,
            typical_fee: suggested.saturating_mul(typical_size),
        }
    }
}

/// A connected peer.
#[derive(Serialize, ToSchema, Debug)]
pub struct PeerJson {
    /// Its announced URL.
    pub url: String,
    /// Its best height.
    pub height: u64,
    /// When it last answered, Unix seconds.
    pub last_seen: u64,
}

/// `GET /peers`.
#[derive(Serialize, ToSchema, Debug)]
pub struct PeersJson {
    /// Connected peers (none until peer-to-peer arrives).
    pub peers: Vec<PeerJson>,
}

/// `POST /admin/mining` body and answer.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct MiningRequest {
    /// Whether the miner should run.
    pub enabled: bool,
}

/// `POST` / `DELETE /admin/peers` body.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PeerRequest {
    /// The peer's URL, `http://host:port`.
    pub url: String,
}

/// `POST /dev/generate` body.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// Blocks to mine, 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub count: u64,
    /// Address of this network receiving the rewards.
    pub address: String,
}

/// `POST /dev/generate` answer.
#[derive(Serialize, ToSchema, Debug)]
pub struct GenerateJson {
    /// Hashes of the mined blocks, lowest first, each connected.
    pub hashes: Vec<String>,
}
