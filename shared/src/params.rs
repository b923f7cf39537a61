//! Networks and their consensus parameters (SPEC §2), with each network's hard-coded genesis block.

use crate::address::AccountId;
use crate::amount::Amount;
use crate::block::{Block, Header};
use crate::hash::{BlockHash, sha256};
use crate::pow::CompactTarget;
use crate::tx::{Coinbase, Tx};
use std::fmt;
use std::str::FromStr;

/// One of the three OxCoin networks. They never accept each other's addresses or signatures.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The real network.
    Main,
    /// A public test network with the main network's rules and worthless coins.
    Test,
    /// A local development network: minimum difficulty, fast maturity, blocks on demand.
    Dev,
}

impl Network {
    /// Every network, in a fixed order.
    pub const ALL: [Network; 3] = [Network::Main, Network::Test, Network::Dev];

    /// Returns the lowercase name used on command lines, in folders and in `/status`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Network::Main => "main",
            Network::Test => "test",
            Network::Dev => "dev",
        }
    }

    /// Returns this network's consensus parameters.
    pub fn params(self) -> &'static ChainParams {
        match self {
            Network::Main => &MAIN,
            Network::Test => &TEST,
            Network::Dev => &DEV,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {0:?}: expected main, test or dev")]
pub struct ParseNetworkError(String);

impl FromStr for Network {
    type Err = ParseNetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Network::ALL.into_iter().find(|n| n.as_str() == s).ok_or_else(|| ParseNetworkError(s.to_owned()))
    }
}

/// The height of a block: the number of blocks before it (genesis is 0).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    /// The genesis height.
    pub const GENESIS: Height = Height(0);

    /// Returns the next height, or `None` at `u64::MAX`.
    pub const fn next(self) -> Option<Height> {
        match self.0.checked_add(1) {
            Some(h) => Some(Height(h)),
            None => None,
        }
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// How a network sets the required bits of the next block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DifficultyRule {
    /// ASERT (aserti3-2d) anchored at genesis, with this half-life in seconds.
    Asert {
        /// Seconds for the target to double (or halve) when blocks run one half-life late (early).
        half_life: i64,
    },
    /// Always the proof-of-work limit, like Bitcoin's regtest.
    PowLimit,
}

/// The fields of a network's genesis block that are not derived.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GenesisParams {
    /// Header time, Unix seconds.
    pub time: u32,
    /// Header bits.
    pub bits: CompactTarget,
    /// Header nonce that solves the proof of work.
    pub nonce: u32,
    /// The coinbase's extra nonce (rolled when a whole 32-bit nonce range had no solution).
    pub extra_nonce: u64,
    /// The published phrase whose SHA-256 (first 20 bytes) receives the genesis coinbase.
    /// Nobody holds a key for it, so the genesis reward is unspendable in practice.
    pub phrase: &'static str,
    /// The hash the genesis header must have (display order), checked by a test.
    pub hash: &'static str,
}

/// Consensus and network parameters of one network (SPEC §2).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ChainParams {
    /// Which network these are.
    pub network: Network,
    /// Bech32m human-readable prefix of addresses.
    pub address_prefix: &'static str,
    /// Chain id inside every signed transfer.
    pub chain_id: u32,
    /// Default TCP port of the API and peer server.
    pub default_port: u16,
    /// Target seconds between blocks.
    pub target_spacing: i64,
    /// How the required bits are computed.
    pub difficulty: DifficultyRule,
    /// The easiest target allowed.
    pub pow_limit: CompactTarget,
    /// Blocks before a coinbase is credited: block h's reward is credited when h + maturity connects.
    pub coinbase_maturity: u64,
    /// Subsidy of the first halving era.
    pub initial_subsidy: Amount,
    /// Blocks between halvings.
    pub halving_interval: u64,
    /// Largest canonical block encoding, in bytes.
    pub max_block_size: usize,
    /// How far past the node's clock a block's time may be, in seconds.
    pub max_future_block_time: u32,
    /// Number of previous blocks whose median time a new block must exceed.
    pub median_time_span: usize,
    /// Minimum fee per byte of a transfer's own encoding, in grains.
    pub min_fee_rate: u64,
    /// The genesis block.
    pub genesis: GenesisParams,
}

impl ChainParams {
    /// Returns the account the genesis coinbase pays: the first 20 bytes of SHA-256 of the
    /// published phrase, which no key hashes to in practice.
    pub fn genesis_reward_account(&self) -> AccountId {
        let digest = sha256(self.genesis.phrase.as_bytes());
        let mut id = [0u8; 20];
        id.copy_from_slice(&digest[..20]);
        AccountId::from_byte_array(id)
    }

    /// Builds this network's genesis block with the given coinbase extra nonce and header nonce
    /// (the miner of `examples/mine_genesis.rs` searches them; [`Self::genesis_block`] uses the
    /// hard-coded solution).
    pub fn genesis_block_with(&self, extra_nonce: u64, nonce: u32) -> Block {
        let coinbase = Tx::Coinbase(Coinbase {
            height: 0,
            to: self.genesis_reward_account(),
            amount: self.initial_subsidy,
            extra_nonce,
        });
        let header = Header {
            version: 1,
            prev_hash: BlockHash::ZERO,
            merkle_root: crate::merkle::merkle_root_of_txids(&[coinbase.txid()]),
            time: self.genesis.time,
            bits: self.genesis.bits,
            nonce,
        };
        Block { header, txs: vec![coinbase] }
    }

    /// Builds this network's hard-coded genesis block.
    pub fn genesis_block(&self) -> Block {
        self.genesis_block_with(self.genesis.extra_nonce, self.genesis.nonce)
    }
}

/// Genesis time of every network: 2026-11-30 00:00:00 UTC.
const GENESIS_TIME: u32 = 1_795_996_800;

const SUBSIDY: Amount = match Amount::from_oxc(50) {
    Some(a) => a,
    None => panic!("50 OXC fits in u64"),
};

/// Main network parameters.
pub static MAIN: ChainParams = MAIN_PARAMS;

/// Test network parameters: main's rules, its own prefix, chain id, port and genesis.
pub static TEST: ChainParams = ChainParams {
    network: Network::Test,
    address_prefix: "oxt",
    chain_id: 2,
    default_port: 18334,
    genesis: GenesisParams {
        time: GENESIS_TIME,
        bits: CompactTarget::from_consensus(0x1d01_473c),
        nonce: 1_329_535_034,
        extra_nonce: 3,
        phrase: "OxCoin test genesis, 30 Nov 2026: nobody holds a key for this address",
        hash: "00000000333a6f33b5457b0960886bce54c1543b78b8595e61e62b1a8cfefe3e",
    },
    ..MAIN_PARAMS
};

/// Dev network parameters: minimum difficulty always, maturity 2, one-second pacing.
pub static DEV: ChainParams = ChainParams {
    network: Network::Dev,
    address_prefix: "oxd",
    chain_id: 3,
    default_port: 28334,
    target_spacing: 1,
    difficulty: DifficultyRule::PowLimit,
    pow_limit: CompactTarget::from_consensus(0x207f_ffff),
    coinbase_maturity: 2,
    genesis: GenesisParams {
        time: GENESIS_TIME,
        bits: CompactTarget::from_consensus(0x207f_ffff),
        nonce: 3,
        extra_nonce: 0,
        phrase: "OxCoin dev genesis, 30 Nov 2026: nobody holds a key for this address",
        hash: "33e0e0de476593d52517fcd380eaa90f4581bd2ff0c99976de2a6c61fa226827",
    },
    ..MAIN_PARAMS
};

// Struct-update syntax needs a const, not a static.
const MAIN_PARAMS: ChainParams = ChainParams {
    network: Network::Main,
    address_prefix: "ox",
    chain_id: 1,
    default_port: 8334,
    target_spacing: 60,
    difficulty: DifficultyRule::Asert { half_life: 3600 },
    pow_limit: CompactTarget::from_consensus(0x1f00_ffff),
    coinbase_maturity: 100,
    initial_subsidy: SUBSIDY,
    halving_interval: 210_000,
    max_block_size: 1_000_000,
    max_future_block_time: 600,
    median_time_span: 11,
    min_fee_rate: 1,
    genesis: GenesisParams {
        time: GENESIS_TIME,
        bits: CompactTarget::from_consensus(0x1d01_473c),
        nonce: 2_894_490_993,
        extra_nonce: 1,
        phrase: "OxCoin main genesis, 30 Nov 2026: nobody holds a key for this address",
        hash: "000000003a4a46527f3fdc8c42d45f9286545f8c2d25270505db803ae098b269",
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Encode;
    use crate::rules;

    #[test]
    fn each_genesis_block_has_its_hard_coded_hash_and_valid_proof_of_work() {
        for network in Network::ALL {
            let params = network.params();
            let genesis = params.genesis_block();
            let hash = genesis.header.hash();
            assert_eq!(hash.to_string(), params.genesis.hash, "{network}");
            assert_eq!(genesis.header.validate_pow(params.pow_limit), Ok(hash), "{network}");
            assert_eq!(genesis.header.bits, params.genesis.bits);
            assert_eq!(genesis.header.merkle_root, genesis.compute_merkle_root());
            assert!(genesis.encoded_len() <= params.max_block_size);
        }
    }

    #[test]
    fn genesis_pays_at_most_the_subsidy_to_the_hash_of_its_phrase() {
        for network in Network::ALL {
            let params = network.params();
            let genesis = params.genesis_block();
            let [Tx::Coinbase(coinbase)] = genesis.txs.as_slice() else { panic!("genesis holds one coinbase") };
            assert_eq!(coinbase.height, 0);
            assert!(coinbase.amount <= rules::subsidy(Height::GENESIS, params));
            assert_eq!(coinbase.to.as_bytes()[..], sha256(params.genesis.phrase.as_bytes())[..20]);
        }
    }

    #[test]
    fn networks_differ_in_every_identity_and_genesis() {
        let [main, test, dev] = Network::ALL.map(Network::params);
        for (a, b) in [(main, test), (main, dev), (test, dev)] {
            assert_ne!(a.chain_id, b.chain_id);
            assert_ne!(a.address_prefix, b.address_prefix);
            assert_ne!(a.default_port, b.default_port);
            assert_ne!(a.genesis_block().header.hash(), b.genesis_block().header.hash());
        }
    }

    #[test]
    fn pow_limits_and_genesis_bits_are_valid_targets_within_the_limit() {
        for network in Network::ALL {
            let params = network.params();
            let limit = params.pow_limit.to_target().expect("pow limit decodes");
            let genesis = params.genesis.bits.to_target().expect("genesis bits decode");
            assert!(genesis <= limit, "{network}");
        }
    }

    #[test]
    fn main_and_test_genesis_bits_average_a_minute_on_a_56_mhs_machine() {
        // Calibration (docs/protocol.md): 2 cores × ~28 MH/s of SHA-NI nonce search.
        for params in [&MAIN, &TEST] {
            let work = params.genesis.bits.to_target().expect("valid").to_work();
            let hashes = u128::from_be_bytes(work.to_be_bytes()[16..].try_into().expect("16 bytes"));
            let seconds = hashes as f64 / 56e6;
            assert!((59.0..61.0).contains(&seconds), "{seconds}");
        }
    }

    #[test]
    fn network_names_parse_and_print() {
        for network in Network::ALL {
            assert_eq!(network.to_string().parse::<Network>(), Ok(network));
        }
        assert!("mainnet".parse::<Network>().is_err());
    }
}
