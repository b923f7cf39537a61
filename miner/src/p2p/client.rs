//! The awc side of peer-to-peer, on its own thread (awc's client is not `Send`): a task per
//! peer polls its `/p2p/hello`; a supervisor starts those tasks, picks the peer to sync from
//! and exchanges peer lists; a relay task sends each new block or transfer once to every peer
//! but its sender. Every request has a timeout, so a silent peer stalls nothing.

use super::logic::{self, PeerTip, SeenSet};
use super::wire::{BlocksRequest, HelloJson, LocateJson, LocateRequest, MAX_BLOCKS, PeerUrlsJson, RawBlocksJson};
use super::{PeerManager, RelayItem};
use crate::chain::Accepted;
use crate::node::Node;
use oxcoin::hash::BlockHash;
use oxcoin::{Block, Decode, Height};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Timeout of every request to a peer, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How often each peer is polled.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How often the supervisor looks at the table.
const TICK: Duration = Duration::from_millis(250);
/// How often peer lists are exchanged.
const EXCHANGE_EVERY: Duration = Duration::from_secs(10);
/// Largest answer body read from a peer.
const MAX_ANSWER: usize = 40 * 1024 * 1024;
/// Items remembered as relayed.
const SEEN: usize = 50_000;
/// How often the connected peers are saved to the peers file.
const SAVE_EVERY: Duration = Duration::from_secs(30);

/// Starts the client thread for `node`; it ends when the node is dropped.
///
/// # Errors
/// The thread or its runtime cannot start.
pub fn spawn(node: Weak<Node>, manager: Arc<PeerManager>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("p2p".into()).spawn(move || {
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, run(node, manager));
    })?;
    Ok(())
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connector(awc::Connector::new().timeout(REQUEST_TIMEOUT))
        .disable_redirects()
        .finish()
}

/// Why a request to a peer failed.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("timed out")]
    Timeout,
    #[error("{0}")]
    Failed(String),
}

async fn get_json<T: DeserializeOwned>(client: &awc::Client, url: String) -> Result<T, RequestError> {
    let request = async {
        let mut response = client.get(&url).send().await.map_err(|e| RequestError::Failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(RequestError::Failed(format!("status {}", response.status())));
        }
        response.json::<T>().limit(MAX_ANSWER).await.map_err(|e| RequestError::Failed(e.to_string()))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, request).await.map_err(|_| RequestError::Timeout)?
}

async fn post_json<B: Serialize, T: DeserializeOwned>(
    client: &awc::Client,
    url: String,
    body: &B,
) -> Result<T, RequestError> {
    let request = async {
        let mut response = client.post(&url).send_json(body).await.map_err(|e| RequestError::Failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(RequestError::Failed(format!("status {}", response.status())));
        }
        response.json::<T>().limit(MAX_ANSWER).await.map_err(|e| RequestError::Failed(e.to_string()))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, request).await.map_err(|_| RequestError::Timeout)?
}

/// Our network name, genesis hash and chain work.
fn our_chain(node: &Node) -> (String, String, [u8; 32]) {
    let chain = node.chain_read();
    let genesis = chain.hash_at(Height(0)).map(|h| h.to_string()).unwrap_or_default();
    (node.params().network.as_str().to_owned(), genesis, chain.tip().chain_work.to_be_bytes())
}

async fn run(node: Weak<Node>, manager: Arc<PeerManager>) {
    if let Some(queue) = manager.take_relay_queue() {
        tokio::task::spawn_local(relay(node.clone(), Arc::clone(&manager), queue));
    }
    let client = client();
    let mut last_exchange = Instant::now();
    let mut last_save = Instant::now();
    loop {
        let Some(strong) = node.upgrade() else { return };
        let ours = our_chain(&strong).2;
        drop(strong);
        for peer in manager.peers() {
            if manager.mark_polled(&peer.url) {
                tokio::task::spawn_local(poll_peer(node.clone(), Arc::clone(&manager), peer.url));
            }
        }
        if !manager.syncing() {
            let tips: Vec<PeerTip> = manager
                .connected()
                .into_iter()
                .filter_map(|p| p.chain_work.map(|chain_work| PeerTip { url: p.url, chain_work }))
                .collect();
            if let Some(best) = logic::pick_sync_peer(&tips, &ours) {
                manager.syncing.store(true, Ordering::Relaxed);
                let (node, manager, url) = (node.clone(), Arc::clone(&manager), best.url.clone());
                tokio::task::spawn_local(async move {
                    let client = self::client();
                    if let Err(e) = sync_from(&node, &manager, &client, &url).await {
                        tracing::info!(peer = url, error = e, "sync stopped");
                    }
                    manager.syncing.store(false, Ordering::Relaxed);
                });
            }
        }
        if !manager.connect_only() && last_exchange.elapsed() >= EXCHANGE_EVERY {
            last_exchange = Instant::now();
            for peer in manager.connected() {
                if let Ok(list) = get_json::<PeerUrlsJson>(&client, format!("{}/p2p/peers", peer.url)).await {
                    for url in list.peers.iter().take(64) {
                        if let Ok(true) = manager.add(url, false) {
                            tracing::info!(peer = url, via = peer.url, "learned a peer");
                        }
                    }
                }
            }
        }
        if !manager.connect_only() && last_save.elapsed() >= SAVE_EVERY {
            last_save = Instant::now();
            if let Some(strong) = node.upgrade() {
                let path = strong.settings().network_dir().join(super::PEERS_FILE);
                if let Err(e) = super::save_peers(&path, &manager) {
                    tracing::warn!(file = %path.display(), error = %e, "cannot save the peers");
                }
            }
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Polls one peer until it leaves the table or the node stops.
async fn poll_peer(node: Weak<Node>, manager: Arc<PeerManager>, url: String) {
    let client = client();
    let hello_url = format!("{url}/p2p/hello?url={}", manager.own_url());
    let mut was_up = false;
    while manager.knows(&url) {
        let Some(strong) = node.upgrade() else { return };
        let (network, genesis, _) = our_chain(&strong);
        drop(strong);
        match get_json::<HelloJson>(&client, hello_url.clone()).await {
            Ok(hello) if hello.network != network || hello.genesis != genesis => {
                tracing::warn!(peer = url, network = hello.network, "peer is on another chain; dropped");
                manager.remove(&url);
                return;
            }
            Ok(hello) => match hex_work(&hello.chain_work) {
                Some(work) => {
                    if !was_up {
                        tracing::info!(peer = url, height = hello.height, "peer connected");
                        was_up = true;
                    }
                    manager.answered(&url, hello.height, work);
                }
                None => manager.failed(&url),
            },
            Err(e) => {
                if was_up {
                    tracing::info!(peer = url, error = %e, "peer stopped answering");
                    was_up = false;
                }
                manager.failed(&url);
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn hex_work(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok().map(|()| out)
}

/// Our best chain's block locator, as shown hashes.
fn locator(node: &Node) -> Vec<String> {
    let chain = node.chain_read();
    logic::locator_heights(chain.height().0)
        .into_iter()
        .filter_map(|h| chain.hash_at(Height(h)))
        .map(|h| h.to_string())
        .collect()
}

/// Headers-first sync from `url`: locate the fork point, download the blocks after it in
/// batches and submit each, until the peer has nothing more.
async fn sync_from(
    node: &Weak<Node>,
    manager: &Arc<PeerManager>,
    client: &awc::Client,
    url: &str,
) -> Result<(), String> {
    let started = Instant::now();
    let mut fetched = 0u64;
    loop {
        let strong = node.upgrade().ok_or("node stopped")?;
        let locator = locator(&strong);
        drop(strong);
        let located: LocateJson = post_json(
            client,
            format!("{url}/p2p/locate"),
            &LocateRequest { locator, limit: Some(super::wire::MAX_LOCATE as u64) },
        )
        .await
        .map_err(|e| format!("locate: {e}"))?;
        let mut hashes = Vec::with_capacity(located.hashes.len());
        for text in &located.hashes {
            match text.parse::<BlockHash>() {
                Ok(hash) => hashes.push(hash),
                Err(_) => {
                    manager.ban(url, "unparsable hash in a locate answer");
                    return Err("bad locate answer".into());
                }
            }
        }
        let unknown: Vec<BlockHash> = {
            let strong = node.upgrade().ok_or("node stopped")?;
            let chain = strong.chain_read();
            hashes.iter().copied().filter(|h| chain.entry(h).is_none()).collect()
        };
        if unknown.is_empty() {
            return Ok(());
        }
        for batch in unknown.chunks(MAX_BLOCKS) {
            let request = BlocksRequest { hashes: batch.iter().map(ToString::to_string).collect() };
            let answer: RawBlocksJson =
                post_json(client, format!("{url}/p2p/blocks"), &request).await.map_err(|e| format!("blocks: {e}"))?;
            if answer.blocks.is_empty() {
                return Err("the peer sent no blocks".into());
            }
            let (node2, manager2, url2, wanted) = (node.clone(), Arc::clone(manager), url.to_owned(), batch.to_vec());
            let outcome = tokio::task::spawn_blocking(move || submit_batch(&node2, &manager2, &url2, &wanted, &answer))
                .await
                .map_err(|e| format!("submitting: {e}"))??;
            fetched += outcome as u64;
            let strong = node.upgrade().ok_or("node stopped")?;
            let height = strong.height().0;
            drop(strong);
            let target = manager.peers().iter().find(|p| p.url == url).map_or(0, |p| p.height);
            let rate = fetched as f64 / started.elapsed().as_secs_f64().max(0.001);
            tracing::info!(peer = url, height, target, blocks_per_s = format!("{rate:.1}"), "syncing");
            if outcome < batch.len() {
                break;
            }
        }
        if hashes.len() < super::wire::MAX_LOCATE {
            return Ok(());
        }
    }
}

/// Decodes and submits one downloaded batch; returns how many blocks were taken. Bans the
/// peer for data that is its fault.
fn submit_batch(
    node: &Weak<Node>,
    manager: &PeerManager,
    url: &str,
    wanted: &[BlockHash],
    answer: &RawBlocksJson,
) -> Result<usize, String> {
    let node = node.upgrade().ok_or("node stopped")?;
    for (i, text) in answer.blocks.iter().enumerate() {
        let block = hex::decode(text).ok().and_then(|raw| Block::decode(&raw).ok());
        let Some(block) = block else {
            manager.ban(url, "sent a malformed block");
            return Err("malformed block".into());
        };
        let hash = block.header.hash();
        if wanted.get(i) != Some(&hash) {
            manager.ban(url, "sent a block that was not asked for");
            return Err("unexpected block".into());
        }
        manager.note_origin(&hash.to_string(), url);
        match node.submit_block(block) {
            Ok(Accepted::Orphan) => return Err(format!("block {hash} is an orphan here")),
            Ok(_) => {}
            Err(e) if logic::bans_for_block(e.code()) => {
                manager.ban(url, &format!("sent invalid block {hash}: {e}"));
                return Err(e.to_string());
            }
            Err(e) => return Err(format!("our store failed: {e}")),
        }
    }
    Ok(answer.blocks.len())
}

/// Sends each queued item once to every peer but its sender.
async fn relay(
    node: Weak<Node>,
    manager: Arc<PeerManager>,
    mut queue: tokio::sync::mpsc::UnboundedReceiver<RelayItem>,
) {
    let client = client();
    let mut seen = SeenSet::new(SEEN);
    while let Some(item) = queue.recv().await {
        if node.upgrade().is_none() {
            return;
        }
        if !seen.insert(item.id().to_owned()) {
            continue;
        }
        let origin = manager.origin(item.id());
        let (path, raw) = match &item {
            RelayItem::Block { raw, .. } => ("block", raw),
            RelayItem::Transfer { raw, .. } => ("tx", raw),
        };
        let body = super::wire::RelayRequest { raw_hex: hex::encode(raw), from: Some(manager.own_url().to_owned()) };
        let body = Arc::new(body);
        for peer in manager.connected() {
            if origin.as_deref() == Some(peer.url.as_str()) {
                continue;
            }
            let (client, body) = (client.clone(), Arc::clone(&body));
            let url = format!("{}/p2p/{path}", peer.url);
            tokio::task::spawn_local(async move {
                match tokio::time::timeout(REQUEST_TIMEOUT, client.post(&url).send_json(&*body)).await {
                    Err(_) => tracing::debug!(url, "relay timed out"),
                    Ok(Err(e)) => tracing::debug!(url, error = %e, "relay failed"),
                    Ok(Ok(_)) => {}
                }
            });
        }
    }
}
