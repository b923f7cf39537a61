//! RFC 6962 Merkle Tree Hash over a block's txids.

use crate::hash::{MerkleRoot, Txid};

/// Computes the Merkle root of txids (placeholder until the helper lands RFC 6962).
pub fn merkle_root_of_txids(txids: &[Txid]) -> MerkleRoot {
    let _ = txids;
    todo!()
}
