//! Fuzzes `Block::decode` and `Block::decode_hex` (SPEC §3, block).
//!
//! Invariants checked:
//! - decoding never panics and never allocates for more transactions than the input could hold
//!   (run with libFuzzer's default `-rss_limit_mb`/`-malloc_limit_mb` to catch that);
//! - anything that decodes re-encodes to exactly the input bytes, and `encoded_len` is its length;
//! - decode∘encode is the identity;
//! - a `TooManyTransactions` refusal is truthful: the bytes left could not hold that many
//!   transactions of the smallest kind;
//! - `decode_hex` of the input's hex (either case) gives the same result as `decode`;
//! - txids, the Merkle root and the header hash of a decoded block never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::block::HEADER_LEN;
use oxcoin::tx::COINBASE_LEN;
use oxcoin::{Block, Decode, DecodeError, Encode};

fuzz_target!(|data: &[u8]| {
    let decoded = Block::decode(data);
    match &decoded {
        Ok(block) => {
            let bytes = block.encode();
            assert_eq!(bytes, data, "a decoded block re-encodes to its input");
            assert_eq!(block.encoded_len(), data.len());
            assert_eq!(Block::decode(&bytes).as_ref(), Ok(block));
            assert_eq!(block.txids().len(), block.txs.len());
            let _ = block.compute_merkle_root();
            let _ = block.header.hash();
        }
        Err(DecodeError::TooManyTransactions { count, remaining }) => {
            assert_eq!(*remaining, data.len() - HEADER_LEN - 4);
            assert!(*remaining < *count as usize * (2 + COINBASE_LEN));
        }
        Err(_) => {}
    }
    let hex = oxcoin_hex(data);
    assert_eq!(Block::decode_hex(&hex), decoded);
    assert_eq!(Block::decode_hex(&hex.to_uppercase()), decoded);
});

/// Lowercase hex, written here so the target needs no dependency besides `oxcoin`.
fn oxcoin_hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}
