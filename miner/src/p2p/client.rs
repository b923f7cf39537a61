//! The awc side of peer-to-peer, on its own thread (awc's client is not `Send`): a task per
//! peer polls its `/p2p/hello`; a supervisor starts those tasks, picks the peer to sync from
//! and exchanges peer lists; a relay task sends each new block or transfer once to every peer
//! but its sender. Every request has a timeout, so a silent peer stalls nothing.

use super::logic::{self, PeerTip, SeenSet};
use super::wire::{
    BINARY, BlocksRequest, HelloJson, LocateJson, LocateRequest, MAX_BLOCKS, MempoolTxsJson, PeerUrlsJson,
};
use super::{PeerManager, RelayItem};
use crate::chain::Accepted;
use crate::node::Node;
use oxcoin::Txid;
use oxcoin::hash::BlockHash;
use oxcoin::{Block, Decode, Height, Tx};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{HashSet, VecDeque};
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
/// Most block batches downloading at once during a sync.
const MAX_DOWNLOADS: usize = 8;
/// Most transactions submitted under one hold of the chain while syncing (API readers wait
/// for at most one group; ~0.5 s here). Downloaded batches that are ready while the previous
/// group is still being connected join the next group, up to this many transactions: one
/// write transaction and one fsync for all of them.
const GROUP_TXS: usize = 8_000;
/// How often a running sync logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Starts the client thread for `node`; it ends when the node is dropped.
///
/// # Errors
/// The thread or its runtime cannot start.
pub fn spawn(node: Weak<Node>, manager: Arc<PeerManager>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().thread_name("p2p-blocking").enable_all().build()?;
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
            // A peer that sent us an orphan first: it knows blocks we lack, whatever it announced.
            let chosen =
                manager.take_sync_request().or_else(|| logic::pick_sync_peer(&tips, &ours).map(|b| b.url.clone()));
            if let Some(url) = chosen {
                manager.syncing.store(true, Ordering::Relaxed);
                let (node, manager) = (node.clone(), Arc::clone(&manager));
                tokio::task::spawn_local(async move {
                    if let Err(e) = sync_from(&node, &manager, &url).await {
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
                        tokio::task::spawn_local(take_mempool(node.clone(), Arc::clone(&manager), url.clone()));
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

/// Why a block download failed.
#[derive(Debug)]
enum FetchError {
    /// The peer sent data that is its fault (unparsable, or blocks not asked for): ban it.
    Bad(&'static str),
    /// The request failed or timed out.
    Failed(RequestError),
}

/// Downloads `wanted` from `peer` as binary: the blocks it has, in order (a prefix of `wanted`).
async fn fetch_blocks(client: &awc::Client, peer: &str, wanted: &[BlockHash]) -> Result<Vec<Block>, FetchError> {
    let request = BlocksRequest { hashes: wanted.iter().map(ToString::to_string).collect() };
    let fetch = async {
        let mut response = client
            .post(format!("{peer}/p2p/blocks"))
            .insert_header((awc::http::header::ACCEPT, BINARY))
            .send_json(&request)
            .await
            .map_err(|e| RequestError::Failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(RequestError::Failed(format!("status {}", response.status())));
        }
        response.body().limit(MAX_ANSWER).await.map_err(|e| RequestError::Failed(e.to_string()))
    };
    let body = tokio::time::timeout(REQUEST_TIMEOUT, fetch)
        .await
        .map_err(|_| FetchError::Failed(RequestError::Timeout))?
        .map_err(FetchError::Failed)?;
    let mut blocks = Vec::new();
    let mut rest = &body[..];
    while !rest.is_empty() {
        let Some((len, after)) = rest.split_first_chunk::<4>() else { return Err(FetchError::Bad("truncated length")) };
        let len = u32::from_le_bytes(*len) as usize;
        let Some((raw, after)) = after.split_at_checked(len) else { return Err(FetchError::Bad("truncated block")) };
        let block = Block::decode(raw).map_err(|_| FetchError::Bad("sent a malformed block"))?;
        if wanted.get(blocks.len()) != Some(&block.header.hash()) {
            return Err(FetchError::Bad("sent a block that was not asked for"));
        }
        blocks.push(block);
        rest = after;
    }
    Ok(blocks)
}

/// A batch being downloaded: the hashes, the peer asked, the download task.
type Download = (Vec<BlockHash>, String, tokio::task::JoinHandle<Result<Vec<Block>, FetchError>>);

/// Downloaded and checked blocks waiting for the group being connected, with the txids whose
/// signatures passed.
#[derive(Default)]
struct Ready {
    blocks: Vec<(Block, String)>,
    verified: HashSet<Txid>,
    txs: usize,
}

/// The group being connected (a `spawn_blocking` task), if any.
type Submitting = Option<tokio::task::JoinHandle<Result<(), String>>>;

/// Waits for the group being connected, then starts connecting everything in `ready`.
async fn start_group(
    node: &Weak<Node>,
    manager: &Arc<PeerManager>,
    submitting: &mut Submitting,
    ready: &mut Ready,
) -> Result<(), String> {
    finish_group(submitting).await?;
    let Ready { blocks, verified, .. } = std::mem::take(ready);
    let (node, manager) = (node.clone(), Arc::clone(manager));
    *submitting = Some(tokio::task::spawn_blocking(move || submit_batch(&node, &manager, blocks, &verified)));
    Ok(())
}

/// Waits for the group being connected, if any.
async fn finish_group(submitting: &mut Submitting) -> Result<(), String> {
    match submitting.take() {
        Some(group) => group.await.map_err(|e| format!("submitting: {e}"))?,
        None => Ok(()),
    }
}

/// Headers-first sync from `url`: locate the fork point on its chain, then download the
/// blocks after it in batches of [`MAX_BLOCKS`] — several at once, spread over every connected
/// peer high enough to have them — and submit them in order while later batches arrive. A
/// batch a helper peer lacks is fetched from `url`. Loops until `url` has nothing more.
///
/// A locate answers at most [`super::wire::MAX_LOCATE`] hashes. The next locate starts after
/// the last hash of the previous answer, while that answer's last group is still being
/// connected and its checked blocks wait: the pipeline does not drain between rounds.
async fn sync_from(node: &Weak<Node>, manager: &Arc<PeerManager>, url: &str) -> Result<(), String> {
    let client = client();
    let started = Instant::now();
    let mut fetched = 0u64;
    let mut last_log = Instant::now();
    let mut submitting: Submitting = None;
    let mut ready = Ready::default();
    // The last hash of the previous full locate answer, which the next one continues from.
    let mut continue_after: Option<BlockHash> = None;
    loop {
        let strong = node.upgrade().ok_or("node stopped")?;
        let mut locator = locator(&strong);
        drop(strong);
        if let Some(last) = continue_after.take() {
            locator.insert(0, last.to_string());
            locator.truncate(super::wire::MAX_LOCATOR);
        }
        let located: LocateJson = post_json(
            &client,
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
        let unknown: Vec<(u64, BlockHash)> = {
            let strong = node.upgrade().ok_or("node stopped")?;
            let chain = strong.chain_read();
            (located.first_height..).zip(hashes.iter().copied()).filter(|(_, h)| chain.entry(h).is_none()).collect()
        };
        if unknown.is_empty() {
            break;
        }
        let batches: Vec<(u64, Vec<BlockHash>)> = unknown
            .chunks(MAX_BLOCKS)
            .map(|c| (c.last().map_or(0, |(h, _)| *h), c.iter().map(|(_, h)| *h).collect()))
            .collect();
        let helpers: Vec<(String, u64)> =
            manager.connected().into_iter().filter(|p| p.url != url).map(|p| (p.url, p.height)).collect();
        let window = (2 * (1 + helpers.len())).min(MAX_DOWNLOADS);
        let final_round = hashes.len() < super::wire::MAX_LOCATE;
        let mut short = false;
        let mut downloads: VecDeque<Download> = VecDeque::new();
        let mut next = 0usize;
        while next < batches.len() || !downloads.is_empty() {
            while downloads.len() < window && next < batches.len() {
                let (top, wanted) = &batches[next];
                let mut sources: Vec<&str> = vec![url];
                sources.extend(helpers.iter().filter(|(_, h)| h >= top).map(|(u, _)| u.as_str()));
                let source = sources[next % sources.len()].to_owned();
                let (client, peer, want) = (client.clone(), source.clone(), wanted.clone());
                let task = tokio::task::spawn_local(async move { fetch_blocks(&client, &peer, &want).await });
                downloads.push_back((wanted.clone(), source, task));
                next += 1;
            }
            let Some((wanted, source, task)) = downloads.pop_front() else { break };
            let got = match task.await {
                Ok(Ok(blocks)) => blocks,
                Ok(Err(FetchError::Bad(why))) => {
                    manager.ban(&source, why);
                    if source == url {
                        return Err(why.into());
                    }
                    Vec::new()
                }
                Ok(Err(FetchError::Failed(e))) if source == url => return Err(format!("blocks: {e}")),
                Ok(Err(FetchError::Failed(_))) | Err(_) => Vec::new(),
            };
            let mut blocks: Vec<(Block, String)> = got.into_iter().map(|b| (b, source.clone())).collect();
            if blocks.len() < wanted.len() && source != url {
                match fetch_blocks(&client, url, &wanted[blocks.len()..]).await {
                    Ok(rest) => blocks.extend(rest.into_iter().map(|b| (b, url.to_owned()))),
                    Err(FetchError::Bad(why)) => {
                        manager.ban(url, why);
                        return Err(why.into());
                    }
                    Err(FetchError::Failed(e)) => return Err(format!("blocks: {e}")),
                }
            }
            if blocks.is_empty() {
                return Err("the peer sent no blocks".into());
            }
            let taken = blocks.len();
            // This batch's signatures are checked now, on rayon's pool and off the chain, while
            // the previous batch is still being connected (store work, one thread): they overlap.
            let params = node.upgrade().ok_or("node stopped")?.params();
            let (blocks, verified) = tokio::task::spawn_blocking(move || {
                let verified = verify_ahead(&blocks, params);
                (blocks, verified)
            })
            .await
            .map_err(|e| format!("checking signatures: {e}"))?;
            ready.txs += blocks.iter().map(|(b, _)| b.txs.len()).sum::<usize>();
            ready.blocks.extend(blocks);
            ready.verified.extend(verified);
            fetched += taken as u64;
            short = taken < wanted.len();
            let last = short || final_round && next == batches.len() && downloads.is_empty();
            let busy = submitting.as_ref().is_some_and(|s| !s.is_finished());
            if !busy || last || ready.txs >= GROUP_TXS {
                start_group(node, manager, &mut submitting, &mut ready).await?;
            }
            if last_log.elapsed() >= PROGRESS_EVERY || next == batches.len() && downloads.is_empty() {
                last_log = Instant::now();
                let strong = node.upgrade().ok_or("node stopped")?;
                let height = strong.height().0;
                drop(strong);
                let target = manager.peers().iter().find(|p| p.url == url).map_or(0, |p| p.height).max(height);
                let rate = fetched as f64 / started.elapsed().as_secs_f64().max(0.001);
                tracing::info!(peer = url, height, target, blocks_per_s = format!("{rate:.1}"), "syncing");
            }
            if short {
                break;
            }
        }
        if short {
            // The peer's chain changed under us: locate again from our own tip.
            finish_group(&mut submitting).await?;
        } else if final_round {
            break;
        } else {
            continue_after = hashes.last().copied();
        }
    }
    if !ready.blocks.is_empty() {
        start_group(node, manager, &mut submitting, &mut ready).await?;
    }
    finish_group(&mut submitting).await
}

/// Submits downloaded blocks in order, each with the peer it came from, in groups of up to
/// [`GROUP_TXS`] transactions that share one hold of the chain and one durable commit; bans a
/// peer for a block that breaks a rule.
fn submit_batch(
    node: &Weak<Node>,
    manager: &PeerManager,
    blocks: Vec<(Block, String)>,
    verified: &HashSet<Txid>,
) -> Result<(), String> {
    let node = node.upgrade().ok_or("node stopped")?;
    let mut blocks = blocks.into_iter().peekable();
    while blocks.peek().is_some() {
        let mut group = Vec::new();
        let mut sources = Vec::new();
        let mut hashes: Vec<BlockHash> = Vec::new();
        let mut txs = 0usize;
        while let Some((block, source)) = blocks.next_if(|(b, _)| group.is_empty() || txs + b.txs.len() <= GROUP_TXS) {
            let hash = block.header.hash();
            txs += block.txs.len();
            manager.note_origin(&hash.to_string(), &source);
            group.push(block);
            sources.push(source);
            hashes.push(hash);
        }
        for ((result, source), hash) in
            node.submit_blocks(group, verified.clone()).into_iter().zip(&sources).zip(&hashes)
        {
            match result {
                Ok(Accepted::Orphan) => return Err(format!("block {hash} is an orphan here")),
                Ok(_) => {}
                Err(e) if logic::bans_for_block(e.code()) => {
                    manager.ban(source, &format!("sent invalid block {hash}: {e}"));
                    return Err(e.to_string());
                }
                Err(e) => return Err(format!("our store failed: {e}")),
            }
        }
    }
    Ok(())
}

/// The txids of `blocks`' transfers whose stateless checks and signature pass, checked on
/// rayon's pool as one job (a failing transfer is simply left out: the chain checks it again
/// and reports it).
fn verify_ahead(blocks: &[(Block, String)], params: &'static oxcoin::ChainParams) -> HashSet<Txid> {
    use rayon::prelude::*;
    let transfers: Vec<&oxcoin::Transfer> =
        blocks.iter().flat_map(|(block, _)| block.txs.iter().filter_map(Tx::as_transfer)).collect();
    let checked = crate::chain::precheck_parallel(&transfers, params);
    transfers.par_iter().zip(checked).filter(|(_, checked)| checked.is_ok()).map(|(t, _)| t.txid()).collect()
}

/// Takes the pending transfers of a peer that just connected (BIP 35's `mempool`), banning it
/// only for transfers invalid in themselves.
async fn take_mempool(node: Weak<Node>, manager: Arc<PeerManager>, url: String) {
    let client = client();
    let Ok(answer) = get_json::<MempoolTxsJson>(&client, format!("{url}/p2p/mempool")).await else { return };
    let outcome = tokio::task::spawn_blocking(move || {
        let node = node.upgrade()?;
        let mut taken = 0usize;
        for text in answer.txs.iter().take(super::wire::MAX_MEMPOOL_TXS) {
            let transfer = match hex::decode(text).ok().map(|raw| Tx::decode(&raw)) {
                Some(Ok(Tx::Transfer(t))) => t,
                _ => {
                    manager.ban(&url, "sent a malformed pending transfer");
                    return Some(taken);
                }
            };
            manager.note_origin(&transfer.txid().to_string(), &url);
            match node.submit_transfer(transfer) {
                Ok(_) => taken += 1,
                Err(e) if logic::bans_for_transfer(e.code()) => {
                    manager.ban(&url, &format!("sent an invalid pending transfer: {e}"));
                    return Some(taken);
                }
                Err(_) => {}
            }
        }
        Some(taken)
    })
    .await;
    if let Ok(Some(taken)) = outcome
        && taken > 0
    {
        tracing::info!(count = taken, "took pending transfers from a new peer");
    }
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
        let own = manager.own_url().to_owned();
        // Blocks travel as binary (half the bytes of hex, no JSON); transfers as small JSON.
        let (path, content_type, body): (String, &str, actix_web::web::Bytes) = match &item {
            RelayItem::Block { raw, .. } => (format!("/p2p/block?from={own}"), BINARY, raw.clone().into()),
            RelayItem::Transfer { raw, .. } => {
                let body = super::wire::RelayRequest { raw_hex: hex::encode(raw), from: Some(own) };
                match serde_json::to_vec(&body) {
                    Ok(json) => ("/p2p/tx".to_owned(), "application/json", json.into()),
                    Err(_) => continue,
                }
            }
        };
        for peer in manager.connected() {
            if origin.as_deref() == Some(peer.url.as_str()) {
                continue;
            }
            let (client, body) = (client.clone(), body.clone());
            let url = format!("{}{path}", peer.url);
            tokio::task::spawn_local(async move {
                let send = client.post(&url).content_type(content_type).send_body(body);
                match tokio::time::timeout(REQUEST_TIMEOUT, send).await {
                    Err(_) => tracing::debug!(url, "relay timed out"),
                    Ok(Err(e)) => tracing::debug!(url, error = %e, "relay failed"),
                    Ok(Ok(_)) => {}
                }
            });
        }
    }
}
