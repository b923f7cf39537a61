//! `oxcoin`: the consensus core of OxCoin, shared by the node (`oxminer`) and the wallet
//! (`oxwallet`).
//!
//! The crate is pure and synchronous: no I/O, no clock, no threads, no async runtime. Everything
//! that depends on the outside world comes in as an argument — the current time, the chain
//! context of a block, the account state — so every rule can be tested, fuzzed and benchmarked
//! without a node.
//!
//! Data flows one way: bytes are decoded strictly ([`encode`], [`tx`], [`block`]), checked by the
//! pure rules ([`rules`]) under a network's parameters ([`params`]), and only then applied by the
//! node. Validity comes in three tiers: *structural* (the decoders and type constructors),
//! *semantic* (the stateless checks in [`rules`]) and *contextual* (the checks that need chain
//! context or account state, also in [`rules`], fed by the node).
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod address;
pub mod amount;
pub mod block;
pub mod codes;
pub mod encode;
pub mod hash;
pub mod keyfile;
pub mod merkle;
pub mod mnemonic;
pub mod params;
pub mod pow;
pub mod rules;
pub mod signature;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod tx;

pub use address::{AccountId, Address, AddressError};
pub use amount::{Amount, ParseAmountError};
pub use block::{Block, Header};
pub use codes::ErrorCode;
pub use encode::{Decode, DecodeError, Encode};
pub use hash::{BlockHash, MerkleRoot, Txid};
pub use params::{ChainParams, Height, Network};
pub use pow::{CompactTarget, Target, Work};
pub use tx::{Coinbase, Memo, Transfer, Tx};
