//! Fixtures for tests and benches: deterministic keys, signed transfers, solved blocks, and a
//! small in-memory reference chain that connects blocks through the real rules.
//!
//! Compiled only for this crate's tests and with the `testkit` feature; never in a release
//! binary. Params are always passed explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use crate::address::AccountId;
use crate::amount::Amount;
use crate::block::{Block, Header};
use crate::encode::Encode;
use crate::hash::BlockHash;
use crate::params::{ChainParams, Height};
use crate::rules::{self, Account, BlockChanges, BlockContext, BlockError, ParentInfo};
use crate::tx::{Coinbase, Memo, Transfer, Tx, UnsignedTransfer};
use ed25519_dalek::SigningKey;
use std::collections::HashMap;

/// A deterministic signing key: the secret is `seed` repeated, plus `index` in the last bytes.
pub fn key(seed: u8, index: u32) -> SigningKey {
    let mut secret = [seed; 32];
    secret[28..].copy_from_slice(&index.to_le_bytes());
    SigningKey::from_bytes(&secret)
}

/// The account of a signing key.
pub fn account_of(key: &SigningKey) -> AccountId {
    AccountId::from_public_key(&key.verifying_key().to_bytes())
}

/// The oracle the batched signature check is tested against: ed25519-dalek's own
/// `VerifyingKey::from_bytes` and `verify_strict`.
pub fn dalek_verify_strict(key: &[u8; 32], signature: &[u8; 64], message: &[u8]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(key)
        .is_ok_and(|key| key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok())
}

/// A signed transfer on `params`' chain with an empty memo.
pub fn transfer(params: &ChainParams, from: &SigningKey, to: AccountId, amount: u64, fee: u64, nonce: u64) -> Transfer {
    transfer_with_memo(params, from, to, amount, fee, nonce, Vec::new())
}

/// A signed transfer with a memo.
pub fn transfer_with_memo(
    params: &ChainParams,
    from: &SigningKey,
    to: AccountId,
    amount: u64,
    fee: u64,
    nonce: u64,
    memo: Vec<u8>,
) -> Transfer {
    UnsignedTransfer {
        chain_id: params.chain_id,
        to,
        amount: Amount::from_grains(amount),
        fee: Amount::from_grains(fee),
        nonce,
        memo: Memo::new(memo).expect("test memos are at most 255 bytes"),
    }
    .sign(from)
}

/// Increments the nonce until the header meets its own bits.
pub fn solve(header: &mut Header, params: &ChainParams) {
    while header.validate_pow(params.pow_limit).is_err() {
        header.nonce = header.nonce.wrapping_add(1);
    }
}

/// Builds a block on `prev` at `height` with a coinbase of subsidy + fees to `reward_to`,
/// the right Merkle root, and solved proof of work.
pub fn block(
    params: &ChainParams,
    prev: BlockHash,
    height: u64,
    time: u32,
    reward_to: AccountId,
    transfers: Vec<Transfer>,
) -> Block {
    let fees = Amount::checked_sum(transfers.iter().map(|t| t.fee)).unwrap();
    let coinbase = Coinbase {
        height,
        to: reward_to,
        amount: rules::subsidy(Height(height), params).checked_add(fees).unwrap(),
        extra_nonce: 0,
    };
    let mut txs = vec![Tx::Coinbase(coinbase)];
    txs.extend(transfers.into_iter().map(Tx::Transfer));
    let mut block = Block {
        header: Header {
            version: 1,
            prev_hash: prev,
            merkle_root: Default::default(),
            time,
            bits: params.pow_limit,
            nonce: 0,
        },
        txs,
    };
    reseal(&mut block, params);
    block
}

/// Recomputes the Merkle root and solves the proof of work again after `block` was edited.
pub fn reseal(block: &mut Block, params: &ChainParams) {
    block.header.merkle_root = block.compute_merkle_root();
    solve(&mut block.header, params);
}

/// A minimal reference chain: blocks, account state, and the context of the next block,
/// connected through [`rules::check_block`]. No forks: enough to drive the rules end to end.
pub struct Chain {
    pub params: &'static ChainParams,
    pub blocks: Vec<Block>,
    pub state: HashMap<AccountId, Account>,
    /// The clock the next block is judged against.
    pub now: u64,
}

impl Chain {
    /// Starts at the network's genesis block.
    pub fn new(params: &'static ChainParams) -> Self {
        let genesis = params.genesis_block();
        let now = u64::from(genesis.header.time) + 1_000_000;
        Self { params, blocks: vec![genesis], state: HashMap::new(), now }
    }

    pub fn tip(&self) -> &Block {
        self.blocks.last().unwrap()
    }

    pub fn next_height(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// The context the next block is judged in.
    pub fn next_context(&self) -> BlockContext {
        let height = Height(self.next_height());
        let tip = &self.tip().header;
        let times: Vec<u32> =
            self.blocks.iter().rev().take(self.params.median_time_span).map(|b| b.header.time).collect();
        let matured_reward = rules::matured_reward_height(height, self.params).map(|h| {
            let coinbase = self.blocks[h.0 as usize].txs[0].as_coinbase().unwrap();
            (coinbase.to, coinbase.amount)
        });
        BlockContext {
            height,
            required_bits: rules::required_bits(
                ParentInfo { height: Height(height.0 - 1), time: tip.time },
                self.params,
            ),
            median_time_past: rules::median_time_past(&times),
            now: self.now,
            matured_reward,
        }
    }

    /// A valid next block (time: tip + spacing) paying `reward_to`, with `transfers`.
    pub fn next_block(&self, reward_to: AccountId, transfers: Vec<Transfer>) -> Block {
        let time = self.tip().header.time + self.params.target_spacing as u32;
        let mut block = block(self.params, self.tip().header.hash(), self.next_height(), time, reward_to, transfers);
        block.header.bits = self.next_context().required_bits;
        solve(&mut block.header, self.params);
        block
    }

    /// Checks `block` as the next block without connecting it.
    pub fn check(&self, block: &Block) -> Result<BlockChanges, BlockError> {
        rules::check_block(block, &self.next_context(), self.params, &self.state, |txs, _| {
            rules::precheck_sequential(txs, self.params)
        })
    }

    /// Checks and connects `block`.
    pub fn connect(&mut self, block: Block) -> Result<(), BlockError> {
        assert_eq!(block.header.prev_hash, self.tip().header.hash(), "test blocks extend the tip");
        let changes = self.check(&block)?;
        self.state.extend(changes.accounts);
        self.blocks.push(block);
        Ok(())
    }

    /// Mines `count` empty blocks paying `reward_to`.
    pub fn mine_empty(&mut self, count: usize, reward_to: AccountId) {
        for _ in 0..count {
            let block = self.next_block(reward_to, Vec::new());
            self.connect(block).unwrap();
        }
    }

    pub fn balance(&self, id: &AccountId) -> Amount {
        self.state.get(id).map(|a| a.balance).unwrap_or_default()
    }
}

/// Encoded size of a block, for boundary tests.
pub fn size(block: &Block) -> usize {
    block.encoded_len()
}
