//! Tests of the dashboard, `/metrics`, `/healthz` and `/readyz` against a real node (store in a
//! temp dir, dev network), through actix's test service.

use super::app;
use super::dashboard::{CONTENT_SECURITY_POLICY, METRICS_CONTENT_TYPE, PeerView, not_ready_reason_of};
use crate::config::{FileConfig, RunArgs, Settings};
use crate::node::Node;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use oxcoin::address::AccountId;
use oxcoin::encode::Encode;
use oxcoin::hash::BlockHash;
use oxcoin::testkit::{self, account_of, key};
use oxcoin::{Block, ChainParams, Network};
use serde_json::{Value, json};
use std::sync::Arc;

const COOKIE: &str = "test-cookie-0123456789abcdef";

fn open_node() -> (Arc<Node>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let args = RunArgs {
        network: Some(Network::Dev),
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".parse().expect("a socket address")),
        threads: Some(1),
        no_mine: true,
        ..RunArgs::default()
    };
    let settings = Settings::layer(FileConfig::default(), &args, None).expect("dev settings");
    let node = Node::open(settings, Some(AccountId::default()), COOKIE.to_owned()).expect("the node opens");
    (node, dir)
}

fn dev() -> &'static ChainParams {
    Network::Dev.params()
}

/// Status, headers and body text of a request.
macro_rules! fetch {
    ($app:expr, $req:expr) => {{
        let response = test::call_service(&$app, $req.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = String::from_utf8_lossy(&test::read_body(response).await).into_owned();
        (status, headers, body)
    }};
}

fn header(headers: &actix_web::http::header::HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The value of the sample line `series` (name and labels exactly as rendered).
#[track_caller]
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .parse()
        .expect("a number")
}

/// The URL of `asset` as the page links it (`/assets/<name>?v=<version>`).
#[track_caller]
fn linked(page: &str, asset: &str) -> String {
    let start = page.find(&format!("/assets/{asset}?v=")).unwrap_or_else(|| panic!("{asset} is linked"));
    let end = start + page[start..].find('"').expect("the URL is quoted");
    page[start..end].to_owned()
}

#[actix_web::test]
async fn the_page_and_its_assets_are_embedded_with_a_strict_policy() {
    let (node, _dir) = open_node();
    let app = test::init_service(app(Arc::clone(&node))).await;

    let (status, headers, page) = fetch!(app, TestRequest::get().uri("/"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&headers, "content-security-policy"), CONTENT_SECURITY_POLICY);
    for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'"] {
        assert!(CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"), "no unsafe-inline or unsafe-eval");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    let etag = header(&headers, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");

    // Nothing inline, nothing from elsewhere: every script and style comes from /assets.
    assert!(!page.contains("{{v}}"), "asset URLs are versioned");
    assert!(!page.contains("<style"), "no inline style element");
    assert!(!page.contains(" style="), "no style attribute");
    assert!(!page.contains(" on"), "no inline event handler");
    assert_eq!(page.matches("<script").count(), page.matches("<script src=\"/assets/").count(), "no inline script");
    assert!(!page.contains("https://") && !page.contains("http://"), "no external URL");
    for id in ["height", "since", "difficulty", "hashrate-local", "hashrate-net", "mempool-count", "peer-count"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "the page has #{id}");
    }
    for id in ["chart-intervals", "chart-difficulty", "blocks", "peers", "mempool", "lookup", "sync", "result"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "the page has #{id}");
    }

    // Revalidation: the same ETag gets a 304 without a body.
    let (status, headers, body) =
        fetch!(app, TestRequest::get().uri("/").insert_header(("if-none-match", etag.as_str())));
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&headers, "etag"), etag);
    let (status, _, _) = fetch!(app, TestRequest::get().uri("/").insert_header(("if-none-match", "\"other\"")));
    assert_eq!(status, StatusCode::OK);

    // The script: served by its versioned URL and cached for good; no eval, no innerHTML.
    let js_url = linked(&page, "dashboard.js");
    let (status, headers, js) = fetch!(app, TestRequest::get().uri(&js_url));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&headers, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(js, include_str!("../../assets/dashboard.js"));
    for banned in ["eval(", "new Function", "innerHTML", "outerHTML", "document.write", "setAttribute('style'"] {
        assert!(!js.contains(banned), "the script uses {banned}");
    }
    for route in ["/status", "/blocks?from=", "/peers", "/mempool", "/addresses/", "/txs/", "/blocks/"] {
        assert!(js.contains(route), "the script polls {route}");
    }
    // An old or missing version is revalidated instead.
    let (status, headers, _) = fetch!(app, TestRequest::get().uri("/assets/dashboard.js?v=old"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    let (status, headers, css) = fetch!(app, TestRequest::get().uri(&linked(&page, "dashboard.css")));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/css; charset=utf-8");
    assert!(css.contains("prefers-color-scheme: dark") && css.contains("@media (max-width"), "dark mode and phones");
    let (status, headers, _) = fetch!(app, TestRequest::get().uri(&linked(&page, "favicon.svg")));
    assert_eq!((status, header(&headers, "content-type").as_str()), (StatusCode::OK, "image/svg+xml"));

    // Unknown assets and wrong methods answer the API's JSON errors.
    let (status, _, body) = fetch!(app, TestRequest::get().uri("/assets/secret.txt"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(serde_json::from_str::<Value>(&body).expect("JSON")["error"]["code"], "not_found");
    let (status, _, _) = fetch!(app, TestRequest::get().uri("/assets/../Cargo.toml"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in ["/", "/assets/dashboard.js", "/metrics", "/healthz", "/readyz"] {
        let (status, headers, body) = fetch!(app, TestRequest::post().uri(path));
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "POST {path}");
        assert_eq!(header(&headers, "allow"), "GET", "POST {path}");
        assert_eq!(serde_json::from_str::<Value>(&body).expect("JSON")["error"]["code"], "method_not_allowed");
    }
}

#[actix_web::test]
async fn health_and_readiness() {
    let (node, _dir) = open_node();
    let app = test::init_service(app(Arc::clone(&node))).await;
    let (status, headers, body) = fetch!(app, TestRequest::get().uri("/healthz"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(serde_json::from_str::<Value>(&body).expect("JSON"), json!({"status": "alive"}));
    // No peers: nothing to be behind, so ready.
    node.generate(2, account_of(&key(1, 0))).expect("blocks");
    let (status, _, body) = fetch!(app, TestRequest::get().uri("/readyz"));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).expect("JSON"), json!({"status": "ready", "height": 2}));
}

#[test]
fn readiness_waits_for_sync_and_for_peers_with_more_work() {
    let ours = {
        let mut work = [0u8; 32];
        work[31] = 10;
        work
    };
    let with_work = |w: u8| {
        let mut work = [0u8; 32];
        work[31] = w;
        Some(work)
    };
    let peer = |url: &str, height: u64, chain_work| PeerView { url: url.to_owned(), height, chain_work };
    assert_eq!(not_ready_reason_of(false, &ours, 5, &[]), None);
    let equal = [peer("http://127.0.0.1:1", 5, with_work(10)), peer("http://127.0.0.1:2", 1, with_work(3))];
    assert_eq!(not_ready_reason_of(false, &ours, 5, &equal), None, "equal or less work is not behind");
    assert_eq!(not_ready_reason_of(false, &ours, 5, &[peer("http://127.0.0.1:3", 9, None)]), None, "unknown work");
    let syncing = not_ready_reason_of(true, &ours, 5, &equal).expect("not ready while syncing");
    assert!(syncing.contains("syncing"), "{syncing}");
    // Only one byte more, in the most significant place: compared as a 256-bit number.
    let mut more = [0u8; 32];
    more[0] = 1;
    let ahead = [peer("http://127.0.0.1:1", 5, with_work(10)), peer("http://127.0.0.1:4", 4, Some(more))];
    let behind = not_ready_reason_of(false, &ours, 5, &ahead).expect("not ready behind a peer");
    assert!(behind.contains("http://127.0.0.1:4") && behind.contains("behind"), "{behind}");
}

/// A solved child of `parent` with the bits the chain requires and a time after its median.
fn child_of(node: &Node, parent: BlockHash, height: u64, to: AccountId) -> Block {
    let ctx = node.chain_read().context_for(&parent, crate::node::unix_now()).expect("the parent is indexed");
    let mut block = testkit::block(dev(), parent, height, ctx.median_time_past + 1, to, Vec::new());
    block.header.bits = ctx.required_bits;
    testkit::reseal(&mut block, dev());
    block
}

#[actix_web::test]
async fn metrics_count_blocks_reorgs_refusals_and_requests_by_route() {
    let (node, _dir) = open_node();
    let app = test::init_service(app(Arc::clone(&node))).await;
    let miner = account_of(&key(2, 0));
    node.generate(1, miner).expect("a block");

    // A competing branch from genesis, one block longer: a reorg of depth 1.
    let genesis = dev().genesis_block().header.hash();
    let b1 = child_of(&node, genesis, 1, account_of(&key(3, 0)));
    let post_block = |b: &Block| TestRequest::post().uri("/api/v1/blocks").set_json(json!({"raw_hex": b.encode_hex()}));
    let (status, _, body) = fetch!(app, post_block(&b1));
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(body.contains("side"), "{body}");
    let b2 = child_of(&node, b1.header.hash(), 2, account_of(&key(3, 0)));
    let (status, _, body) = fetch!(app, post_block(&b2));
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(node.height().0, 2);

    // Refusals: a block with a bad proof of work, a transfer without funds, a body that does not parse.
    let mut high = child_of(&node, b2.header.hash(), 3, miner);
    while high.header.validate_pow(dev().pow_limit).is_ok() {
        high.header.nonce = high.header.nonce.wrapping_add(1);
    }
    let (status, _, _) = fetch!(app, post_block(&high));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let broke = testkit::transfer(dev(), &key(7, 0), miner, 1, 1_000, 0);
    let post_tx = |body: Value| TestRequest::post().uri("/api/v1/txs").set_json(body);
    let (status, _, _) = fetch!(app, post_tx(json!({"raw_hex": broke.encode_hex()})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = fetch!(app, post_tx(json!({"raw_hex": "zz"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Requests by route pattern: two different heights count under one route.
    for path in ["/api/v1/blocks/1", "/api/v1/blocks/2", "/api/v1/blocks/77", "/no/such/path"] {
        let _ = fetch!(app, TestRequest::get().uri(path));
    }

    let (status, headers, text) = fetch!(app, TestRequest::get().uri("/metrics"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), METRICS_CONTENT_TYPE);
    assert_eq!(sample(&text, "oxminer_height"), 2.0);
    // Dev work per block at the easiest target is 2; genesis included.
    assert_eq!(sample(&text, "oxminer_chain_work"), 6.0);
    assert_eq!(sample(&text, "oxminer_peers{state=\"connected\"}"), 0.0);
    assert_eq!(sample(&text, "oxminer_mempool_transactions"), 0.0);
    assert_eq!(sample(&text, "oxminer_blocks_connected_total"), 3.0);
    assert_eq!(sample(&text, "oxminer_blocks_disconnected_total"), 1.0);
    assert_eq!(sample(&text, "oxminer_reorg_max_depth"), 1.0);
    assert_eq!(sample(&text, "oxminer_reorg_depth_count"), 1.0);
    assert_eq!(sample(&text, "oxminer_reorg_depth_bucket{le=\"1\"}"), 1.0);
    assert_eq!(sample(&text, "oxminer_refusals_total{kind=\"block\",code=\"high_hash\"}"), 1.0);
    assert_eq!(sample(&text, "oxminer_refusals_total{kind=\"transfer\",code=\"insufficient_funds\"}"), 1.0);
    let txs = "method=\"POST\",route=\"/api/v1/txs\"";
    assert_eq!(sample(&text, &format!("oxminer_http_errors_total{{{txs},code=\"insufficient_funds\"}}")), 1.0);
    assert_eq!(sample(&text, &format!("oxminer_http_errors_total{{{txs},code=\"malformed\"}}")), 1.0);
    let blocks = "method=\"POST\",route=\"/api/v1/blocks\"";
    assert_eq!(sample(&text, &format!("oxminer_http_errors_total{{{blocks},code=\"high_hash\"}}")), 1.0);
    assert_eq!(sample(&text, &format!("oxminer_http_requests_total{{{blocks},status=\"202\"}}")), 2.0);
    let by_id = "method=\"GET\",route=\"/api/v1/blocks/{id}\"";
    assert_eq!(sample(&text, &format!("oxminer_http_requests_total{{{by_id},status=\"200\"}}")), 2.0);
    assert_eq!(sample(&text, &format!("oxminer_http_requests_total{{{by_id},status=\"404\"}}")), 1.0);
    assert_eq!(sample(&text, &format!("oxminer_http_request_duration_seconds_count{{{by_id}}}")), 3.0);
    let unmatched = "method=\"GET\",route=\"unmatched\"";
    assert_eq!(sample(&text, &format!("oxminer_http_requests_total{{{unmatched},status=\"404\"}}")), 1.0);
    assert!(!text.contains("/api/v1/blocks/1\"") && !text.contains("/no/such/path"), "raw paths never become labels");
}
