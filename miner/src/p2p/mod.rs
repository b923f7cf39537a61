//! Peer-to-peer: the peer table shared with the API ([`PeerManager`]), the JSON payloads of the
//! `/p2p` routes ([`wire`]), the pure sync and relay decisions ([`logic`]), and the awc client
//! that polls peers, syncs and relays ([`client`], on its own thread).
//!
//! The node calls [`PeerManager::blocks_connected`] and [`PeerManager::transfer_accepted`] after
//! each accepted block or transfer; both only queue the item, the client thread sends it.

pub mod client;
pub mod logic;
pub mod wire;

use crate::node::Node;
use logic::{BanList, SeenSet};
use oxcoin::{Block, Encode, Transfer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A peer is "connected" when it answered within this time.
pub const CONNECTED_WITHIN: Duration = Duration::from_secs(10);
/// A peer learned from others (not configured) is dropped after this many failures in a row.
const MAX_FAILURES: u32 = 10;
/// How many item origins are remembered (to skip relaying an item back to its sender).
const ORIGINS: usize = 10_000;
/// File name of the remembered peers, in the network folder.
pub const PEERS_FILE: &str = "peers.json";
/// File name of the bans in force, in the network folder.
pub const BANS_FILE: &str = "bans.json";
/// Most sync requests (from orphan blocks) waiting for the supervisor.
const MAX_SYNC_REQUESTS: usize = 8;

/// One known peer.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Its URL, `http://host:port`.
    pub url: String,
    /// Given by `--peer`, the config or the admin API: kept however often it fails.
    pub manual: bool,
    /// Its best height at its last answer.
    pub height: u64,
    /// Its chain work at its last answer, big-endian; `None` until it answered.
    pub chain_work: Option<[u8; 32]>,
    /// When it last answered, Unix seconds (0: never).
    pub last_seen: u64,
    /// When it last answered.
    pub last_answer: Option<Instant>,
    /// Failed polls in a row.
    pub failures: u32,
    /// A client task polls it.
    pub(crate) polled: bool,
}

/// An item to relay: canonical bytes and the id peers know it by.
#[derive(Clone, Debug)]
pub enum RelayItem {
    /// A block newly connected to the best chain.
    Block {
        /// Its hash as shown.
        hash: String,
        /// Canonical encoding.
        raw: Vec<u8>,
    },
    /// A transfer newly admitted to the mempool.
    Transfer {
        /// Its txid as shown.
        txid: String,
        /// Canonical encoding.
        raw: Vec<u8>,
    },
}

impl RelayItem {
    /// The item's id (block hash or txid).
    pub fn id(&self) -> &str {
        match self {
            RelayItem::Block { hash, .. } => hash,
            RelayItem::Transfer { txid, .. } => txid,
        }
    }
}

#[derive(Debug)]
struct State {
    peers: Vec<Peer>,
    bans: BanList,
    /// Which peer sent an item (block hash or txid).
    origins: std::collections::HashMap<String, String>,
    origin_order: SeenSet<String>,
    /// Peers the operator removed: not re-learned from hellos or exchange until added again.
    removed: std::collections::HashSet<String>,
    /// Peers that sent an orphan block: sync from them next, whatever their announced work.
    sync_requests: std::collections::VecDeque<String>,
}

/// What `/status` says about syncing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyncStatus {
    /// A download from a peer is running.
    pub syncing: bool,
    /// The best height known: ours, or a connected peer's with more work.
    pub target_height: u64,
    /// Our height ÷ the target height, 1 when there is nothing to catch up.
    pub progress: f64,
}

/// The peers of a node: who they are, what they last said, who is banned; and the queue of
/// items to relay. Shared by the API handlers and the client thread.
#[derive(Debug)]
pub struct PeerManager {
    own_url: String,
    max_peers: usize,
    connect_only: bool,
    state: Mutex<State>,
    relay: UnboundedSender<RelayItem>,
    relay_rx: Mutex<Option<UnboundedReceiver<RelayItem>>>,
    syncing: AtomicBool,
    /// Where bans are kept between runs (none in unit tests).
    bans_file: Option<std::path::PathBuf>,
}

impl PeerManager {
    /// A manager announcing `own_url`, keeping up to `max_peers`, with peer exchange off when
    /// `connect_only`.
    pub fn new(own_url: String, max_peers: usize, connect_only: bool) -> Self {
        Self::with_bans_file(own_url, max_peers, connect_only, None)
    }

    /// Like [`PeerManager::new`], keeping bans in `bans_file` (loaded now, saved at each ban).
    pub fn with_bans_file(
        own_url: String,
        max_peers: usize,
        connect_only: bool,
        bans_file: Option<std::path::PathBuf>,
    ) -> Self {
        let (relay, rx) = unbounded_channel();
        let bans = bans_file.as_deref().map(load_bans).unwrap_or_default();
        Self {
            own_url,
            max_peers,
            connect_only,
            state: Mutex::new(State {
                peers: Vec::new(),
                bans,
                origins: std::collections::HashMap::new(),
                origin_order: SeenSet::new(ORIGINS),
                removed: std::collections::HashSet::new(),
                sync_requests: std::collections::VecDeque::new(),
            }),
            relay,
            relay_rx: Mutex::new(Some(rx)),
            syncing: AtomicBool::new(false),
            bans_file,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The URL this node announces.
    pub fn own_url(&self) -> &str {
        &self.own_url
    }

    /// Whether peer exchange is off (`--connect-only`).
    pub fn connect_only(&self) -> bool {
        self.connect_only
    }

    /// Adds a peer; `manual` peers (flags, config, admin API) may exceed `max_peers` and are
    /// never dropped for failing, and adding one manually lifts an earlier removal. Returns
    /// whether it is new.
    ///
    /// # Errors
    /// A message when the URL is unusable, our own, or banned, when the operator removed it (for
    /// a learned peer), or when the table is full for a learned peer.
    pub fn add(&self, url: &str, manual: bool) -> Result<bool, String> {
        let url = logic::normalize_peer_url(url)?;
        if url == self.own_url {
            return Err(format!("url: {url} is this node"));
        }
        let mut state = self.state();
        if state.bans.is_banned(&url, crate::node::unix_now()) {
            return Err(format!("url: {url} is banned"));
        }
        if manual {
            state.removed.remove(&url);
        } else if state.removed.contains(&url) {
            return Err(format!("url: {url} was removed by the operator"));
        }
        if let Some(peer) = state.peers.iter_mut().find(|p| p.url == url) {
            peer.manual |= manual;
            return Ok(false);
        }
        if !manual && state.peers.len() >= self.max_peers {
            return Err(format!("peer table full ({} peers)", self.max_peers));
        }
        state.peers.push(Peer {
            url,
            manual,
            height: 0,
            chain_work: None,
            last_seen: 0,
            last_answer: None,
            failures: 0,
            polled: false,
        });
        Ok(true)
    }

    /// Drops a peer (one on another chain); returns whether it was known.
    pub fn remove(&self, url: &str) -> bool {
        let url = logic::normalize_peer_url(url).unwrap_or_else(|_| url.to_owned());
        let mut state = self.state();
        let before = state.peers.len();
        state.peers.retain(|p| p.url != url);
        state.peers.len() != before
    }

    /// The operator removes a peer: dropped, and not re-learned from its own hellos or from
    /// peer exchange until added again by hand. Returns whether it was known.
    pub fn remove_by_operator(&self, url: &str) -> bool {
        let url = logic::normalize_peer_url(url).unwrap_or_else(|_| url.to_owned());
        let known = self.remove(&url);
        if known {
            self.state().removed.insert(url);
        }
        known
    }

    /// Bans `key` (a peer URL or [`logic::ip_key`]) for 24 h, drops the peer, and saves the
    /// bans.
    pub fn ban(&self, key: &str, reason: &str) {
        tracing::warn!(peer = key, reason, "peer banned for 24 h");
        let entries = {
            let mut state = self.state();
            let now = crate::node::unix_now();
            state.bans.ban(key, now);
            state.peers.retain(|p| p.url != key);
            state.bans.entries(now)
        };
        if let Some(path) = &self.bans_file
            && let Err(e) = save_bans(path, &entries)
        {
            tracing::warn!(file = %path.display(), error = %e, "cannot save the bans");
        }
    }

    /// Returns whether `key` (a peer URL or [`logic::ip_key`]) is banned now.
    pub fn is_banned(&self, key: &str) -> bool {
        self.state().bans.is_banned(key, crate::node::unix_now())
    }

    /// Asks for a sync from `url` (a peer that sent an orphan block), ahead of the usual choice.
    pub fn request_sync(&self, url: &str) {
        let mut state = self.state();
        if !state.sync_requests.iter().any(|u| u == url) && state.sync_requests.len() < MAX_SYNC_REQUESTS {
            state.sync_requests.push_back(url.to_owned());
        }
    }

    fn take_sync_request(&self) -> Option<String> {
        let mut state = self.state();
        while let Some(url) = state.sync_requests.pop_front() {
            if state.peers.iter().any(|p| p.url == url) {
                return Some(url);
            }
        }
        None
    }

    /// Syncing state for `/status`, given our height and chain work (big-endian).
    pub fn sync_status(&self, height: u64, chain_work: &[u8; 32]) -> SyncStatus {
        let best = self
            .connected()
            .iter()
            .filter(|p| p.chain_work.is_some_and(|w| w > *chain_work))
            .map(|p| p.height)
            .max()
            .unwrap_or(height);
        let target_height = best.max(height);
        let progress = if target_height == 0 { 1.0 } else { (height as f64 / target_height as f64).min(1.0) };
        SyncStatus { syncing: self.syncing(), target_height, progress }
    }

    /// A copy of the peer table.
    pub fn peers(&self) -> Vec<Peer> {
        self.state().peers.clone()
    }

    /// The peers that answered within [`CONNECTED_WITHIN`].
    pub fn connected(&self) -> Vec<Peer> {
        let now = Instant::now();
        self.state()
            .peers
            .iter()
            .filter(|p| p.last_answer.is_some_and(|t| now.duration_since(t) < CONNECTED_WITHIN))
            .cloned()
            .collect()
    }

    /// Records a peer's answer to a poll.
    pub fn answered(&self, url: &str, height: u64, chain_work: [u8; 32]) {
        if let Some(peer) = self.state().peers.iter_mut().find(|p| p.url == url) {
            peer.height = height;
            peer.chain_work = Some(chain_work);
            peer.last_seen = crate::node::unix_now();
            peer.last_answer = Some(Instant::now());
            peer.failures = 0;
        }
    }

    /// Records a failed poll; a learned peer failing too often is dropped.
    pub fn failed(&self, url: &str) {
        let mut state = self.state();
        if let Some(peer) = state.peers.iter_mut().find(|p| p.url == url) {
            peer.failures = peer.failures.saturating_add(1);
            peer.chain_work = None;
            if !peer.manual && peer.failures >= MAX_FAILURES {
                tracing::info!(peer = url, "dropping a peer that stopped answering");
                state.peers.retain(|p| p.url != url);
            }
        }
    }

    /// Remembers that `from` sent the item `id`, so it is not relayed back.
    pub fn note_origin(&self, id: &str, from: &str) {
        let mut state = self.state();
        if state.origin_order.len() >= ORIGINS {
            state.origins.clear();
            state.origin_order = SeenSet::new(ORIGINS);
        }
        state.origin_order.insert(id.to_owned());
        state.origins.insert(id.to_owned(), from.to_owned());
    }

    /// Who sent the item `id`, if a peer did.
    pub fn origin(&self, id: &str) -> Option<String> {
        self.state().origins.get(id).cloned()
    }

    /// Queues newly connected blocks for relay.
    pub fn blocks_connected(&self, blocks: &[Block]) {
        for block in blocks {
            let _ = self.relay.send(RelayItem::Block { hash: block.header.hash().to_string(), raw: block.encode() });
        }
    }

    /// Queues a newly admitted transfer for relay.
    pub fn transfer_accepted(&self, transfer: &Transfer, txid: &oxcoin::Txid) {
        let _ = self.relay.send(RelayItem::Transfer { txid: txid.to_string(), raw: transfer.encode() });
    }

    /// Whether any peer is known: with none, relaying would be wasted work on the ingest path.
    pub fn has_peers(&self) -> bool {
        !self.state().peers.is_empty()
    }

    /// Whether a sync is running.
    pub fn syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }

    fn take_relay_queue(&self) -> Option<UnboundedReceiver<RelayItem>> {
        self.relay_rx.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn mark_polled(&self, url: &str) -> bool {
        let mut state = self.state();
        match state.peers.iter_mut().find(|p| p.url == url) {
            Some(peer) if !peer.polled => {
                peer.polled = true;
                true
            }
            _ => false,
        }
    }

    fn knows(&self, url: &str) -> bool {
        self.state().peers.iter().any(|p| p.url == url)
    }
}

/// Builds the peer manager of `node` from its settings (`--peer`, config), hands it to the node
/// and starts the client thread.
///
/// # Errors
/// The thread cannot start.
pub fn start(node: &Arc<Node>) -> anyhow::Result<()> {
    let settings = node.settings();
    let manager = Arc::new(PeerManager::with_bans_file(
        format!("http://{}", settings.listen),
        settings.max_peers,
        settings.connect_only,
        Some(settings.network_dir().join(BANS_FILE)),
    ));
    for url in &settings.peers {
        if let Err(e) = manager.add(url, true) {
            tracing::warn!(peer = url, error = e, "peer ignored");
        }
    }
    if !settings.connect_only {
        for url in load_peers(&settings.network_dir().join(PEERS_FILE)) {
            let _ = manager.add(&url, false);
        }
    }
    node.set_peer_manager(Arc::clone(&manager));
    client::spawn(Arc::downgrade(node), manager)
}

/// Reads the remembered peers (an absent or unreadable file is no peers).
pub fn load_peers(path: &std::path::Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else { return Vec::new() };
    match serde_json::from_slice::<wire::PeerUrlsJson>(&bytes) {
        Ok(list) => list.peers,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "remembered peers ignored");
            Vec::new()
        }
    }
}

/// Reads the bans in force (an absent or unreadable file is none).
fn load_bans(path: &std::path::Path) -> BanList {
    let Ok(bytes) = std::fs::read(path) else { return BanList::default() };
    match serde_json::from_slice::<wire::BansJson>(&bytes) {
        Ok(list) => BanList::from_entries(list.bans.into_iter().map(|b| (b.key, b.until)), crate::node::unix_now()),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "saved bans ignored");
            BanList::default()
        }
    }
}

fn save_bans(path: &std::path::Path, entries: &[(String, u64)]) -> std::io::Result<()> {
    let bans = entries.iter().map(|(key, until)| wire::BanJson { key: key.clone(), until: *until }).collect();
    let json = serde_json::to_vec_pretty(&wire::BansJson { bans }).map_err(std::io::Error::other)?;
    crate::node::write_atomically(path, &json, 0o644)
}

/// Remembers the connected peers (atomically, so a crash leaves the old list or the new one).
///
/// # Errors
/// The I/O error.
pub fn save_peers(path: &std::path::Path, manager: &PeerManager) -> std::io::Result<()> {
    let peers = manager.connected().into_iter().map(|p| p.url).collect();
    let json = serde_json::to_vec_pretty(&wire::PeerUrlsJson { peers }).map_err(std::io::Error::other)?;
    crate::node::write_atomically(path, &json, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_keeps_manual_peers_and_bounds_learned_ones() {
        let m = PeerManager::new("http://127.0.0.1:1".into(), 1, false);
        assert!(m.add("http://127.0.0.1:1", false).is_err(), "ourselves");
        assert_eq!(m.add("http://127.0.0.1:2/", false), Ok(true));
        assert_eq!(m.add("http://127.0.0.1:2", true), Ok(false));
        assert!(m.add("http://127.0.0.1:3", false).is_err(), "full");
        assert_eq!(m.add("http://127.0.0.1:3", true), Ok(true), "manual peers go past max_peers");
        m.ban("http://127.0.0.1:3", "test");
        assert!(m.add("http://127.0.0.1:3", true).is_err());
        assert_eq!(m.peers().len(), 1);
        assert!(m.remove("http://127.0.0.1:2"));
        assert!(!m.remove("http://127.0.0.1:2"));
    }

    #[test]
    fn learned_peers_that_keep_failing_are_dropped() {
        let m = PeerManager::new("http://127.0.0.1:1".into(), 8, false);
        m.add("http://127.0.0.1:2", false).unwrap();
        m.add("http://127.0.0.1:3", true).unwrap();
        for _ in 0..MAX_FAILURES {
            m.failed("http://127.0.0.1:2");
            m.failed("http://127.0.0.1:3");
        }
        let urls: Vec<String> = m.peers().into_iter().map(|p| p.url).collect();
        assert_eq!(urls, vec!["http://127.0.0.1:3".to_owned()]);
        assert!(m.connected().is_empty());
        m.answered("http://127.0.0.1:3", 5, [1; 32]);
        assert_eq!(m.connected().len(), 1);
    }

    #[test]
    fn a_peer_the_operator_removed_is_not_relearned_until_added_by_hand() {
        let m = PeerManager::new("http://127.0.0.1:1".into(), 8, false);
        m.add("http://127.0.0.1:2", true).unwrap();
        assert!(!m.remove_by_operator("http://127.0.0.1:9"), "unknown");
        assert!(m.add("http://127.0.0.1:9", false).is_ok(), "an unknown peer removed is not remembered");
        assert!(m.remove_by_operator("http://127.0.0.1:2/"));
        assert!(m.add("http://127.0.0.1:2", false).unwrap_err().contains("removed by the operator"));
        assert_eq!(m.add("http://127.0.0.1:2", true), Ok(true), "by hand again");
        m.remove("http://127.0.0.1:2");
        assert_eq!(m.add("http://127.0.0.1:2", false), Ok(true), "the removal was lifted");
    }

    #[test]
    fn orphan_senders_are_synced_from_first_once_each() {
        let m = PeerManager::new("http://127.0.0.1:1".into(), 8, false);
        m.add("http://127.0.0.1:2", false).unwrap();
        m.request_sync("http://127.0.0.1:3");
        m.request_sync("http://127.0.0.1:2");
        m.request_sync("http://127.0.0.1:2");
        assert_eq!(m.take_sync_request().as_deref(), Some("http://127.0.0.1:2"), "unknown peers are skipped");
        assert_eq!(m.take_sync_request(), None, "asked once");
    }

    #[test]
    fn sync_status_targets_the_highest_peer_with_more_work() {
        let m = PeerManager::new("http://127.0.0.1:1".into(), 8, false);
        let ours = [5u8; 32];
        assert_eq!(m.sync_status(10, &ours), SyncStatus { syncing: false, target_height: 10, progress: 1.0 });
        m.add("http://127.0.0.1:2", false).unwrap();
        m.add("http://127.0.0.1:3", false).unwrap();
        m.answered("http://127.0.0.1:2", 40, [6; 32]);
        m.answered("http://127.0.0.1:3", 90, [4; 32]);
        let status = m.sync_status(10, &ours);
        assert_eq!(status.target_height, 40, "a higher peer with less work is no target");
        assert!((status.progress - 0.25).abs() < 1e-9);
        assert_eq!(m.sync_status(0, &[0; 32]).progress, 0.0);
    }

    #[test]
    fn bans_are_kept_in_the_network_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BANS_FILE);
        let m = PeerManager::with_bans_file("http://127.0.0.1:1".into(), 8, false, Some(path.clone()));
        m.ban("ip:10.0.0.9", "test");
        let again = PeerManager::with_bans_file("http://127.0.0.1:1".into(), 8, false, Some(path.clone()));
        assert!(again.is_banned("ip:10.0.0.9"));
        assert!(!again.is_banned("ip:10.0.0.8"));
        std::fs::write(&path, b"{\"bans\": 3}").unwrap();
        let fresh = PeerManager::with_bans_file("http://127.0.0.1:1".into(), 8, false, Some(path));
        assert!(!fresh.is_banned("ip:10.0.0.9"), "a broken file is ignored, with a warning");
    }

    #[test]
    fn connected_peers_are_remembered_in_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PEERS_FILE);
        assert!(load_peers(&path).is_empty());
        let m = PeerManager::new("http://127.0.0.1:1".into(), 8, false);
        m.add("http://127.0.0.1:2", false).unwrap();
        m.add("http://127.0.0.1:3", false).unwrap();
        m.answered("http://127.0.0.1:3", 1, [0; 32]);
        save_peers(&path, &m).unwrap();
        assert_eq!(load_peers(&path), vec!["http://127.0.0.1:3".to_owned()]);
        std::fs::write(&path, b"not json").unwrap();
        assert!(load_peers(&path).is_empty());
    }
}
