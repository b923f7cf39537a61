//! RFC 6962 Merkle Tree Hash over a block's txids.
//!
//! RFC 6962 §2.1 defines the tree top-down: `MTH({}) = SHA-256("")`, a leaf hashes as
//! `SHA-256(0x00 || d)`, and a list of `n > 1` entries splits at the largest power of two `k < n`
//! into `SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`. The same tree comes out bottom-up: pair
//! adjacent nodes level by level and carry an unpaired last node up unchanged. Splitting at the
//! largest power of two keeps every left subtree perfect, so the odd node at any level is always
//! the right edge of the tree and is never hashed with a neighbour until it meets a left subtree
//! of its own height. The unit tests check this equivalence against the recursive definition.
//!
//! The bottom-up form needs one buffer of leaf hashes, overwritten in place level by level, and
//! no allocation per node.

use crate::hash::{MerkleRoot, Txid};
use sha2::{Digest, Sha256};

/// The prefix byte RFC 6962 puts before a leaf's data.
const LEAF_PREFIX: u8 = 0x00;
/// The prefix byte RFC 6962 puts before the two child hashes of an interior node.
const NODE_PREFIX: u8 = 0x01;

/// Computes the RFC 6962 hash of one leaf: SHA-256(0x00 || `data`).
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update([LEAF_PREFIX]).chain_update(data).finalize().into()
}

/// Computes the RFC 6962 hash of an interior node: SHA-256(0x01 || `left` || `right`).
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new().chain_update([NODE_PREFIX]).chain_update(left).chain_update(right).finalize().into()
}

/// Computes the RFC 6962 Merkle Tree Hash of `leaves`, in order (SHA-256 of nothing when empty).
pub fn merkle_root<T: AsRef<[u8]>>(leaves: &[T]) -> [u8; 32] {
    tree_hash(leaves.iter().map(AsRef::as_ref))
}

/// Computes a block's Merkle root: the RFC 6962 Merkle Tree Hash over the txids' internal bytes,
/// in block order (coinbase first).
pub fn merkle_root_of_txids(txids: &[Txid]) -> MerkleRoot {
    // Consensus: "Merkle root = the RFC 6962 Merkle Tree Hash (SHA-256, 0x00 leaf / 0x01 node
    // prefixes, split at the largest power of two) over the txids' internal bytes, coinbase first."
    MerkleRoot::from_byte_array(tree_hash(txids.iter().map(|txid| txid.as_byte_array().as_slice())))
}

/// Hashes the leaves, then folds the levels bottom-up in the same buffer.
fn tree_hash<'a>(leaves: impl ExactSizeIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut level: Vec<[u8; 32]> = Vec::with_capacity(leaves.len());
    level.extend(leaves.map(leaf_hash));
    if level.is_empty() {
        return Sha256::digest(b"").into();
    }
    let mut len = level.len();
    while len > 1 {
        let pairs = len / 2;
        // Writing slot `i` only ever overwrites slots `2i` and `2i + 1`, already read.
        for i in 0..pairs {
            level[i] = node_hash(&level[2 * i], &level[2 * i + 1]);
        }
        if len % 2 == 1 {
            // The unpaired last node moves up a level unchanged.
            level[pairs] = level[len - 1];
        }
        len = len.div_ceil(2);
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6962 §2.1 word for word: split at the largest power of two smaller than `n`.
    fn reference_mth(leaves: &[Vec<u8>]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest(b"").into(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = largest_power_of_two_below(n);
                node_hash(&reference_mth(&leaves[..k]), &reference_mth(&leaves[k..]))
            }
        }
    }

    fn largest_power_of_two_below(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    #[track_caller]
    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).expect("test hex is 32 bytes");
        out
    }

    #[test]
    fn empty_tree_is_sha256_of_nothing() {
        let expected = hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(merkle_root::<&[u8]>(&[]), expected);
        assert_eq!(merkle_root_of_txids(&[]).to_byte_array(), expected);
    }

    #[test]
    fn single_leaf_is_its_leaf_hash() {
        // RFC 6962 vector: the leaf hash of the empty string.
        let expected = hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(merkle_root(&[b""]), expected);
    }

    #[test]
    fn three_leaves_split_two_and_one() {
        let leaves = [b"a", b"b", b"c"];
        let left = node_hash(&leaf_hash(b"a"), &leaf_hash(b"b"));
        assert_eq!(merkle_root(&leaves), node_hash(&left, &leaf_hash(b"c")));
    }

    #[test]
    fn leaf_and_node_prefixes_separate_domains() {
        // A node over two leaves must not equal a leaf whose data is the two leaf hashes.
        let (l, r) = (leaf_hash(b"l"), leaf_hash(b"r"));
        let mut concatenated = [0u8; 64];
        concatenated[..32].copy_from_slice(&l);
        concatenated[32..].copy_from_slice(&r);
        assert_ne!(node_hash(&l, &r), leaf_hash(&concatenated));
    }

    #[test]
    fn txid_root_hashes_internal_bytes() {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        let txids = [Txid::from_byte_array(bytes), Txid::from_byte_array([7; 32])];
        let expected = merkle_root(&[bytes, [7; 32]]);
        assert_eq!(merkle_root_of_txids(&txids).to_byte_array(), expected);
    }

    #[test]
    fn every_size_up_to_70_matches_the_recursive_definition() {
        let leaves: Vec<Vec<u8>> = (0u8..70).map(|i| vec![i; usize::from(i % 5)]).collect();
        for n in 0..=leaves.len() {
            assert_eq!(merkle_root(&leaves[..n]), reference_mth(&leaves[..n]), "size {n}");
        }
    }

    #[test]
    fn a_full_block_of_txids_matches_the_recursive_definition() {
        let txids: Vec<Txid> = (0u32..6_800)
            .map(|i| {
                let mut bytes = [0u8; 32];
                bytes[..4].copy_from_slice(&i.to_le_bytes());
                Txid::from_byte_array(bytes)
            })
            .collect();
        let as_leaves: Vec<Vec<u8>> = txids.iter().map(|t| t.as_byte_array().to_vec()).collect();
        assert_eq!(merkle_root_of_txids(&txids).to_byte_array(), reference_mth(&as_leaves));
    }

    proptest! {
        #[test]
        fn bottom_up_equals_rfc_6962_recursion(
            leaves in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..300),
        ) {
            prop_assert_eq!(merkle_root(&leaves), reference_mth(&leaves));
        }

        #[test]
        fn changing_any_txid_changes_the_root(
            txids in prop::collection::vec(any::<[u8; 32]>(), 1..64),
            index in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut txids: Vec<Txid> = txids.into_iter().map(Txid::from_byte_array).collect();
            let before = merkle_root_of_txids(&txids);
            let i = index.index(txids.len());
            let mut bytes = txids[i].to_byte_array();
            bytes[0] ^= flip;
            txids[i] = Txid::from_byte_array(bytes);
            prop_assert_ne!(merkle_root_of_txids(&txids), before);
        }
    }
}
