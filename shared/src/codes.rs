//! The error codes of the HTTP API (SPEC §6), one list shared by the rules, the node and the
//! docs, with the status each is answered with.

use std::fmt;

/// A machine-readable refusal code, as carried in `{"error": {"code": …}}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ErrorCode {
    /// The input cannot be parsed (the message names the field).
    Malformed,
    /// The body is over the route's limit, or a block over the maximum size.
    TooLarge,
    /// The transfer is already in the mempool or the chain.
    Duplicate,
    /// The transfer is signed for another network.
    WrongChain,
    /// The memo is longer than 128 bytes.
    MemoTooLong,
    /// The memo is not UTF-8.
    InvalidMemo,
    /// The amount is zero.
    ZeroAmount,
    /// The fee is below the minimum fee rate times the transfer's size.
    FeeTooLow,
    /// The signature does not verify strictly.
    InvalidSignature,
    /// The nonce was already used.
    NonceTooLow,
    /// The nonce is too far ahead of the sender's next nonce.
    NonceGap,
    /// The sender cannot pay amount plus fee.
    InsufficientFunds,
    /// Crediting the recipient would overflow a balance (impossible while the supply rule holds).
    BalanceOverflow,
    /// A pending transfer with the same sender and nonce has a fee that this one does not beat by 10 %.
    ReplacementUnderpriced,
    /// The mempool is full and this transfer pays too little to evict anything.
    MempoolFull,
    /// The header's hash does not meet its target, or its bits are unusable.
    HighHash,
    /// The header's bits are not the required bits.
    BadBits,
    /// The block time is not after the median time of the previous 11 blocks.
    TimeTooOld,
    /// The block time is more than 10 minutes past the node's clock.
    TimeTooNew,
    /// The header's Merkle root does not match the transactions.
    BadMerkleRoot,
    /// The block does not start with a coinbase.
    NoCoinbase,
    /// Two transactions of the block have the same txid.
    DuplicateTx,
    /// The coinbase is repeated, has the wrong height, or claims the wrong amount.
    BadCoinbase,
    /// A transfer of the block breaks a transfer rule.
    InvalidTx,
    /// The block builds on a block known to be invalid.
    BadPrevBlock,
    /// The admin token is missing or wrong.
    Unauthorized,
    /// The route exists only on the dev network.
    Forbidden,
    /// Nothing is known under that id.
    NotFound,
    /// The client sends too many requests.
    RateLimited,
}

impl ErrorCode {
    /// Returns the snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::WrongChain => "wrong_chain",
            ErrorCode::MemoTooLong => "memo_too_long",
            ErrorCode::InvalidMemo => "invalid_memo",
            ErrorCode::ZeroAmount => "zero_amount",
            ErrorCode::FeeTooLow => "fee_too_low",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::NonceTooLow => "nonce_too_low",
            ErrorCode::NonceGap => "nonce_gap",
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::BalanceOverflow => "balance_overflow",
            ErrorCode::ReplacementUnderpriced => "replacement_underpriced",
            ErrorCode::MempoolFull => "mempool_full",
            ErrorCode::HighHash => "high_hash",
            ErrorCode::BadBits => "bad_bits",
            ErrorCode::TimeTooOld => "time_too_old",
            ErrorCode::TimeTooNew => "time_too_new",
            ErrorCode::BadMerkleRoot => "bad_merkle_root",
            ErrorCode::NoCoinbase => "no_coinbase",
            ErrorCode::DuplicateTx => "duplicate_tx",
            ErrorCode::BadCoinbase => "bad_coinbase",
            ErrorCode::InvalidTx => "invalid_tx",
            ErrorCode::BadPrevBlock => "bad_prev_block",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RateLimited => "rate_limited",
        }
    }

    /// Returns the HTTP status this code is answered with.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::Malformed => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Duplicate | ErrorCode::ReplacementUnderpriced => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::MempoolFull => 503,
            ErrorCode::WrongChain
            | ErrorCode::MemoTooLong
            | ErrorCode::InvalidMemo
            | ErrorCode::ZeroAmount
            | ErrorCode::FeeTooLow
            | ErrorCode::InvalidSignature
            | ErrorCode::NonceTooLow
            | ErrorCode::NonceGap
            | ErrorCode::InsufficientFunds
            | ErrorCode::BalanceOverflow
            | ErrorCode::HighHash
            | ErrorCode::BadBits
            | ErrorCode::TimeTooOld
            | ErrorCode::TimeTooNew
            | ErrorCode::BadMerkleRoot
            | ErrorCode::NoCoinbase
            | ErrorCode::DuplicateTx
            | ErrorCode::BadCoinbase
            | ErrorCode::InvalidTx
            | ErrorCode::BadPrevBlock => 422,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
