//! Mines a network's genesis block once, to hard-code it in `params.rs`:
//! `cargo run --release -p oxcoin --example mine_genesis -- main`.
//!
//! Uses SHA-256 midstate (the header's first 64 bytes are compressed once per extra nonce) and
//! every core; it runs once per network, so it stays simple rather than fast.

use oxcoin::params::GenesisParams;
use oxcoin::{Header, Network};
use rayon::prelude::*;
use sha2::block_api::compress256;
use std::sync::atomic::{AtomicBool, Ordering};

const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

fn main() {
    let network: Network = std::env::args().nth(1).unwrap_or_else(|| "dev".into()).parse().expect("network name");
    let genesis: &GenesisParams = &network.params().genesis;
    let target = genesis.bits.to_target().expect("genesis bits are a valid target");
    for extra_nonce in 0u64.. {
        let header = network.params().genesis_block_with(extra_nonce, 0).header;
        let bytes = header.to_bytes();
        let mut midstate = SHA256_IV;
        compress256(&mut midstate, &[bytes[..64].try_into().expect("64 bytes")]);
        let found = AtomicBool::new(false);
        let nonce = (0u32..1 << 16)
            .into_par_iter()
            .flat_map_iter(|high| (0u32..1 << 16).map(move |low| high << 16 | low))
            .find_any(|&nonce| {
                if found.load(Ordering::Relaxed) {
                    return false;
                }
                let mut tail = [0u8; 64];
                tail[..12].copy_from_slice(&bytes[64..76]);
                tail[12..16].copy_from_slice(&nonce.to_le_bytes());
                tail[16] = 0x80;
                tail[56..].copy_from_slice(&(80u64 * 8).to_be_bytes());
                let mut state = midstate;
                compress256(&mut state, &[tail]);
                let mut second = [0u8; 64];
                for (i, word) in state.iter().enumerate() {
                    second[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
                }
                second[32] = 0x80;
                second[56..].copy_from_slice(&(32u64 * 8).to_be_bytes());
                let mut hash_state = SHA256_IV;
                compress256(&mut hash_state, &[second]);
                let mut hash = [0u8; 32];
                for (i, word) in hash_state.iter().enumerate() {
                    hash[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
                }
                let ok = target.is_met_by(&oxcoin::BlockHash::from_byte_array(hash));
                if ok {
                    found.store(true, Ordering::Relaxed);
                }
                ok
            });
        if let Some(nonce) = nonce {
            let solved = Header { nonce, ..header };
            println!("network {network} extra_nonce {extra_nonce} nonce {nonce} hash {}", solved.hash());
            assert_eq!(solved.validate_pow(network.params().pow_limit), Ok(solved.hash()));
            return;
        }
        eprintln!("extra nonce {extra_nonce} exhausted, rolling");
    }
}
