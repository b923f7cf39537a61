//! Payloads of the `/p2p` routes: JSON, with blocks and transfers as canonical hex, and
//! canonical binary for block download and block relay ([`BINARY`]).

use serde::{Deserialize, Serialize};

/// Most hashes one `POST /p2p/locate` answers.
pub const MAX_LOCATE: usize = 500;
/// Most blocks one `POST /p2p/blocks` asks for.
pub const MAX_BLOCKS: usize = 64;
/// Raw bytes after which `POST /p2p/blocks` stops adding blocks (at least one is sent).
pub const MAX_BLOCKS_BYTES: usize = 8 * 1024 * 1024;
/// Most locator hashes accepted.
pub const MAX_LOCATOR: usize = 64;

/// `GET /p2p/hello` query: the caller's announced URL, if it has one.
#[derive(Deserialize, Serialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct HelloQuery {
    /// The caller's URL, `http://host:port`.
    pub url: Option<String>,
}

/// `GET /p2p/hello` answer: who we are and our best chain.
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct HelloJson {
    /// Network name.
    pub network: String,
    /// Genesis hash.
    pub genesis: String,
    /// Best block hash.
    pub tip: String,
    /// Best height.
    pub height: u64,
    /// Best chain work, 64 hex digits big-endian.
    pub chain_work: String,
    /// The URL this node announces.
    pub url: String,
}

/// `POST /p2p/locate` body.
#[derive(Deserialize, Serialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LocateRequest {
    /// Block locator: hashes from the tip back to genesis.
    pub locator: Vec<String>,
    /// Most hashes wanted (at most [`MAX_LOCATE`]).
    pub limit: Option<u64>,
}

/// `POST /p2p/locate` answer.
#[derive(Deserialize, Serialize, Debug)]
pub struct LocateJson {
    /// Best-chain hashes after the first locator hash on our best chain, lowest first.
    pub hashes: Vec<String>,
    /// Height of the first hash.
    #[serde(default)]
    pub first_height: u64,
}

/// `POST /p2p/blocks` body.
#[derive(Deserialize, Serialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct BlocksRequest {
    /// Hashes of the blocks wanted (at most [`MAX_BLOCKS`]).
    pub hashes: Vec<String>,
}

/// `POST /p2p/blocks` answer.
#[derive(Deserialize, Serialize, Debug)]
pub struct RawBlocksJson {
    /// Canonical blocks in hex, in the order asked, stopping at the first unknown one or the
    /// byte budget.
    pub blocks: Vec<String>,
}

/// `POST /p2p/block` and `POST /p2p/tx` body.
#[derive(Deserialize, Serialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RelayRequest {
    /// Canonical encoding in hex.
    pub raw_hex: String,
    /// The sender's announced URL.
    pub from: Option<String>,
}

/// `GET /p2p/peers` answer.
#[derive(Deserialize, Serialize, Debug)]
pub struct PeerUrlsJson {
    /// URLs of peers that answered lately.
    pub peers: Vec<String>,
}

/// The bans file of the network folder.
#[derive(Deserialize, Serialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct BansJson {
    /// Bans in force.
    pub bans: Vec<BanJson>,
}

/// One ban.
#[derive(Deserialize, Serialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct BanJson {
    /// A peer URL, or `ip:<address>`.
    pub key: String,
    /// End of the ban, Unix seconds.
    pub until: u64,
}

/// `GET /p2p/mempool` answer: pending transfers for a peer that just connected.
#[derive(Deserialize, Serialize, Debug)]
pub struct MempoolTxsJson {
    /// Canonical transfers in hex, highest fee rate first, at most [`MAX_MEMPOOL_TXS`].
    pub txs: Vec<String>,
}

/// Most transfers one `GET /p2p/mempool` answers.
pub const MAX_MEMPOOL_TXS: usize = 5_000;

/// Content type of binary payloads: `POST /p2p/blocks` answers with length-prefixed canonical
/// blocks (`u32` little-endian length, then the bytes) when asked with this `Accept`, and
/// `POST /p2p/block` takes one canonical block with this `Content-Type`.
pub const BINARY: &str = "application/octet-stream";
