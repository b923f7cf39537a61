//! RFC 6962 §2.1 Merkle Tree Hash vectors (transparency-dev/merkle, see `data/README.md`).

use oxcoin::hash::Txid;
use oxcoin::merkle::{leaf_hash, merkle_root, merkle_root_of_txids};
use serde_json::Value;

const VECTORS: &str = include_str!("data/rfc6962/mth_leaves_roots_0_8.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("vector file is JSON")
}

#[track_caller]
fn hex_list(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| hex::decode(v.as_str().expect("a hex string")).expect("valid hex"))
        .collect()
}

/// The eight leaf inputs hash to the listed level-0 node hashes: SHA-256(0x00 || leaf).
#[test]
fn leaf_hashes_match() {
    let v = vectors();
    let leaves = hex_list(&v["leaf_inputs_hex"]);
    let expected = hex_list(&v["leaf_hashes_hex"]);
    assert_eq!(leaves.len(), 8);
    assert_eq!(expected.len(), 8);
    for (leaf, hash) in leaves.iter().zip(&expected) {
        assert_eq!(leaf_hash(leaf).as_slice(), hash.as_slice());
    }
}

/// The tree over the first `size` leaves has the listed root, for every size 0..=8 (size 0 is
/// SHA-256 of the empty string).
#[test]
fn roots_for_sizes_0_to_8_match() {
    let v = vectors();
    let leaves = hex_list(&v["leaf_inputs_hex"]);
    let roots = v["roots_by_size"].as_array().expect("a list");
    assert_eq!(roots.len(), 9);
    for entry in roots {
        let size = usize::try_from(entry["size"].as_u64().expect("a size")).expect("small size");
        let root = hex::decode(entry["root_hex"].as_str().expect("hex")).expect("valid hex");
        assert_eq!(merkle_root(&leaves[..size]).as_slice(), root.as_slice(), "size {size}");
    }
}

/// The block form hashes each txid's 32 internal bytes as a leaf, exactly like the generic form.
#[test]
fn txid_form_agrees_with_the_generic_form_on_vector_hashes() {
    let v = vectors();
    let hashes = hex_list(&v["leaf_hashes_hex"]);
    for size in 0..=hashes.len() {
        let txids: Vec<Txid> =
            hashes[..size].iter().map(|h| Txid::from_byte_array(h.as_slice().try_into().expect("32 bytes"))).collect();
        assert_eq!(merkle_root_of_txids(&txids).to_byte_array(), merkle_root(&hashes[..size]), "size {size}");
    }
}
