//! Record encodings of the store, and what it does with records that do not decode.

use super::*;
use oxcoin::params::DEV;

fn entry(status: BlockStatus) -> IndexEntry {
    let genesis = DEV.genesis_block();
    IndexEntry {
        header: genesis.header,
        height: Height(7),
        chain_work: Work::from_be_bytes([3; 32]),
        status,
        coinbase: (AccountId::from_byte_array([9; 20]), Amount::from_grains(42)),
        size: 1234,
        tx_count: 5,
    }
}

#[test]
fn index_entries_round_trip_with_every_status() {
    for status in
        [BlockStatus::Valid, BlockStatus::Invalid(ErrorCode::BadBits), BlockStatus::Invalid(ErrorCode::BadPrevBlock)]
    {
        let e = entry(status);
        assert_eq!(IndexEntry::from_bytes(&e.to_bytes()), Ok(e));
    }
    let mut bytes = entry(BlockStatus::Valid).to_bytes();
    bytes.push(0);
    assert!(IndexEntry::from_bytes(&bytes).is_err(), "trailing bytes are corruption");
}

#[test]
fn every_stored_code_survives_a_round_trip() {
    for code in STORED_CODES {
        assert_eq!(code_from_byte(code_to_byte(code)), code);
    }
}

#[test]
fn undo_records_round_trip_and_truncation_is_refused() {
    let undo: Undo = vec![
        (AccountId::from_byte_array([1; 20]), None),
        (AccountId::from_byte_array([2; 20]), Some(Account { balance: Amount::from_grains(5), nonce: 9 })),
    ];
    let bytes = encode_undo(&undo);
    assert_eq!(decode_undo(&bytes), Ok(undo));
    assert!(decode_undo(&bytes[..bytes.len() - 1]).is_err());
    // A huge count with no bytes behind it must not allocate for it.
    assert!(decode_undo(&u32::MAX.to_le_bytes()).is_err());
}

#[test]
fn history_keys_sort_by_account_then_height_then_index() {
    let a = AccountId::from_byte_array([1; 20]);
    let b = AccountId::from_byte_array([2; 20]);
    let mut keys = [history_key(&b, Height(0), 0), history_key(&a, Height(2), 0), history_key(&a, Height(1), 7)];
    keys.sort();
    assert_eq!(keys, [history_key(&a, Height(1), 7), history_key(&a, Height(2), 0), history_key(&b, Height(0), 0)]);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chain.redb");
    std::fs::write(&path, b"this is not a redb file, just some bytes that happen to be here").expect("write");
    let genesis = DEV.genesis_block();
    assert!(Store::open(&path, &genesis, "dev", DEFAULT_CACHE_BYTES).is_err());
}

/// Rewrites one row of a closed store's file with redb directly, as damage or another version would.
fn rewrite(path: &Path, edit: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>) {
    let db = Database::open(path).expect("the file opens");
    let txn = db.begin_write().expect("write");
    edit(&txn).expect("edit");
    txn.commit().expect("commit");
}

#[test]
fn a_store_of_a_newer_layout_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chain.redb");
    let genesis = DEV.genesis_block();
    drop(Store::open(&path, &genesis, "dev", DEFAULT_CACHE_BYTES).expect("a new store"));
    let newer = SCHEMA_VERSION + 1;
    rewrite(&path, |txn| {
        txn.open_table(META)?.insert("schema", newer.to_le_bytes().as_slice())?;
        Ok(())
    });
    let refused = |result: Result<Store, StoreError>| match result {
        Err(StoreError::Incompatible(why)) => why,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a store of layout {newer} was opened"),
    };
    let why = refused(Store::open(&path, &genesis, "dev", DEFAULT_CACHE_BYTES));
    assert!(why.contains(&format!("has layout {newer}")) && why.contains("newer oxminer"), "{why}");
    // Nor can a reindex take its blocks.
    let why = refused(Store::open_blocks(&path, "dev", DEFAULT_CACHE_BYTES));
    assert!(why.contains("cannot read"), "{why}");
    let db = Database::open(&path).expect("the file opens");
    let txn = db.begin_read().expect("read");
    let meta = txn.open_table(META).expect("meta");
    assert_eq!(stored_schema(&meta).expect("schema"), newer, "the refusal wrote nothing");
}

#[test]
fn a_tx_index_row_naming_a_missing_transaction_is_reported_as_corruption() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chain.redb");
    let genesis = DEV.genesis_block();
    let coinbase = genesis.txids()[0];
    let (owner, _) = coinbase_of(&genesis);
    let store = Store::open(&path, &genesis, "dev", DEFAULT_CACHE_BYTES).expect("a new store");
    assert!(store.tx(&coinbase).expect("read").is_some());
    assert_eq!(store.history(&owner, None, 10).expect("read").len(), 1);
    drop(store);
    rewrite(&path, |txn| {
        let position = *txn.open_table(TX_POSITIONS)?.get(coinbase.as_byte_array())?.expect("indexed").value();
        txn.open_table(CHAIN_TXS)?.remove(&position)?;
        Ok(())
    });
    let store = Store::open(&path, &genesis, "dev", DEFAULT_CACHE_BYTES).expect("the store still opens");
    let is_chain_txs_corruption = |e: StoreError| matches!(e, StoreError::Corrupt { table: "chain_txs", .. });
    assert!(store.contains_tx(&coinbase).expect("read"), "the index row is still there");
    assert!(store.tx(&coinbase).map_err(is_chain_txs_corruption).expect_err("a lookup fails"));
    assert!(store.history(&owner, None, 10).map_err(is_chain_txs_corruption).expect_err("history fails"));
}
