//! The node's own behaviour outside the API: the saved mempool's reload in two steps.

use super::*;
use oxcoin::testkit::{account_of, key, transfer};

fn open(dir: &Path) -> Arc<Node> {
    Node::open(Settings::for_tests(oxcoin::Network::Dev, dir), None, "cookie".into()).expect("the node opens")
}

#[test]
fn the_store_is_opened_with_the_configured_cache() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let settings = Settings { db_cache_mib: 7, ..Settings::for_tests(oxcoin::Network::Dev, dir.path()) };
    let node = Node::open(settings, None, "cookie".into()).expect("the node opens");
    assert_eq!(node.chain_read().store().cache_bytes(), 7 * 1024 * 1024);
}

#[test]
fn a_saved_mempool_larger_than_one_reload_step_is_kept_whole_however_shutdown_falls() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // The pool takes at most 64 pending transfers per sender: 72 senders × 64.
    let senders: Vec<_> = (1..=72u8).map(|seed| key(seed, 0)).collect();
    let node = open(dir.path());
    for sender in &senders {
        node.generate(1, account_of(sender)).expect("a block");
    }
    node.generate(2, account_of(&key(200, 0))).expect("maturity");
    let params = oxcoin::Network::Dev.params();
    let transfers: Vec<Transfer> = senders
        .iter()
        .flat_map(|sender| {
            (0..64).map(move |nonce| transfer(params, sender, account_of(&key(201, 0)), 1, 1_000, nonce))
        })
        .collect();
    let count = transfers.len();
    assert!(count > RELOAD_CHUNK);
    drop(node);
    let now = unix_now();
    let file = mempool::file_bytes(transfers.iter().map(|t| (t, now)));
    std::fs::write(dir.path().join("dev").join(MEMPOOL_FILE), file).expect("write the saved pool");

    // Reopen and stop at once: the second step may be running, done or not started.
    let node = open(dir.path());
    assert!(
        node.mempool().len() >= RELOAD_CHUNK,
        "the first step is in before the node serves: {}",
        node.mempool().len()
    );
    node.shutdown();
    drop(node);
    let saved = Mempool::from_bytes(&std::fs::read(dir.path().join("dev").join(MEMPOOL_FILE)).expect("read"))
        .expect("a mempool file");
    assert_eq!(saved.len(), count, "nothing saved was lost");

    // Given time, the whole pool is back.
    let node = open(dir.path());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while node.mempool().len() < count {
        assert!(std::time::Instant::now() < deadline, "only {} of {count} reloaded", node.mempool().len());
        std::thread::sleep(Duration::from_millis(20));
    }
    node.shutdown();
}
