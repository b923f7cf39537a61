//! Node settings, layered: built-in defaults < TOML config file < `OXMINER_*` environment <
//! command-line flags. The file refuses unknown keys, so a typo is an error naming the key.

use crate::api::ratelimit::{Limit, RateLimitConfig};
use crate::mempool::MempoolConfig;
use clap::{Args, ValueEnum};
use oxcoin::{Address, Network};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default of `db_cache_mib` ([`crate::store::DEFAULT_CACHE_BYTES`]).
pub const DEFAULT_DB_CACHE_MIB: usize = crate::store::DEFAULT_CACHE_BYTES / (1024 * 1024);
/// Smallest `db_cache_mib` (0 is a mistake, not a setting).
pub const MIN_DB_CACHE_MIB: usize = 1;
/// Largest `db_cache_mib` (64 GiB): a typo's guard, far above any chain's store.
pub const MAX_DB_CACHE_MIB: usize = 64 * 1024;

/// Log line format.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `oxminer run`; each can also come from its `OXMINER_*` variable.
#[derive(Debug, Default, Clone, Args)]
pub struct RunArgs {
    /// Network to join: main, test or dev.
    #[arg(long, env = "OXMINER_NETWORK", value_parser = clap::value_parser!(Network))]
    pub network: Option<Network>,
    /// TOML configuration file.
    #[arg(long, env = "OXMINER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data folder; each network uses its own subfolder (default: the platform data dir).
    #[arg(long, env = "OXMINER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address and port of the API, dashboard and peer server (default 127.0.0.1:<network port>).
    #[arg(long, env = "OXMINER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// A peer to connect to (repeatable), e.g. http://127.0.0.1:28335.
    #[arg(long = "peer", env = "OXMINER_PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Use only the given peers: no peer exchange, no remembered peers.
    #[arg(long, env = "OXMINER_CONNECT_ONLY")]
    pub connect_only: bool,
    /// Address that receives the block rewards (default: the default wallet, created if missing).
    #[arg(long, env = "OXMINER_REWARD_ADDRESS")]
    pub reward_address: Option<String>,
    /// Mining threads (default: all cores).
    #[arg(long, env = "OXMINER_THREADS")]
    pub threads: Option<usize>,
    /// Do not mine.
    #[arg(long, env = "OXMINER_NO_MINE")]
    pub no_mine: bool,
    /// Log format.
    #[arg(long, env = "OXMINER_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Most pending transfers in the mempool (default 100,000).
    #[arg(long, env = "OXMINER_MEMPOOL_MAX_COUNT")]
    pub mempool_max_count: Option<usize>,
    /// Largest sum of the pending transfers' sizes, in bytes (default 64 MiB).
    #[arg(long, env = "OXMINER_MEMPOOL_MAX_BYTES")]
    pub mempool_max_bytes: Option<usize>,
    /// The store's page cache in MiB (default 32; Bitcoin Core's -dbcache): more syncs faster
    /// and holds more memory.
    #[arg(long, env = "OXMINER_DB_CACHE_MIB")]
    pub db_cache_mib: Option<usize>,
    /// Rebuild the store from its own blocks before starting: every block is validated again
    /// into a new file that then replaces the old one (Bitcoin Core's -reindex). A flag only,
    /// never from the file or the environment, so it runs once.
    #[arg(long)]
    pub reindex: bool,
}

/// The config file's `[mempool]` table.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolFileConfig {
    /// Most pending transfers.
    pub max_count: Option<usize>,
    /// Largest sum of the pending transfers' encoded sizes, in bytes.
    pub max_bytes: Option<usize>,
}

/// The config file's `[rate_limit]` table: requests a second per client address.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitFileConfig {
    /// Sustained rate on the public API and dashboard (0: unlimited).
    pub api_rate: Option<u32>,
    /// Burst on the public API and dashboard.
    pub api_burst: Option<u32>,
    /// Sustained rate on the peer routes (0: unlimited).
    pub p2p_rate: Option<u32>,
    /// Burst on the peer routes.
    pub p2p_burst: Option<u32>,
    /// Addresses never limited.
    pub exempt: Option<Vec<std::net::IpAddr>>,
}

/// The config file's keys; every one optional.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Network to join.
    pub network: Option<Network>,
    /// Data folder.
    pub data_dir: Option<PathBuf>,
    /// Listen address.
    pub listen: Option<SocketAddr>,
    /// Peers to connect to.
    pub peers: Vec<String>,
    /// Use only the configured peers.
    pub connect_only: Option<bool>,
    /// Reward address.
    pub reward_address: Option<String>,
    /// Mining threads.
    pub threads: Option<usize>,
    /// Whether to mine.
    pub mine: Option<bool>,
    /// Log format.
    pub log_format: Option<LogFormat>,
    /// Most peers kept.
    pub max_peers: Option<usize>,
    /// The store's page cache in MiB.
    pub db_cache_mib: Option<usize>,
    /// Mempool bounds.
    pub mempool: MempoolFileConfig,
    /// Per-address request limits.
    pub rate_limit: RateLimitFileConfig,
}

/// Why the settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for these keys.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (names the key and line).
        message: String,
    },
    /// The reward address is not an address of this network.
    #[error("reward address {address:?}: {reason}")]
    RewardAddress {
        /// What was given.
        address: String,
        /// Why it is refused.
        reason: String,
    },
    /// Zero mining threads.
    #[error("threads must be at least 1")]
    ZeroThreads,
    /// A mempool bound of zero.
    #[error("mempool {0} must be at least 1")]
    ZeroMempoolBound(&'static str),
    /// A store cache outside the range the node accepts.
    #[error("db_cache_mib must be between {MIN_DB_CACHE_MIB} and {MAX_DB_CACHE_MIB}, not {0}")]
    DbCache(usize),
    /// No data dir given and no platform data dir known.
    #[error("no data directory: pass --data-dir (the platform data directory could not be determined)")]
    NoDataDir,
}

/// The node's settings after layering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Network.
    pub network: Network,
    /// Root data folder (the network's folder is inside it).
    pub data_dir: PathBuf,
    /// API/peer listen address.
    pub listen: SocketAddr,
    /// Peers to connect to.
    pub peers: Vec<String>,
    /// Use only `peers`.
    pub connect_only: bool,
    /// Reward address; `None` means the default wallet.
    pub reward_address: Option<Address>,
    /// Mining threads.
    pub threads: usize,
    /// Whether to mine.
    pub mine: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Most peers kept.
    pub max_peers: usize,
    /// The store's page cache in MiB.
    pub db_cache_mib: usize,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// Per-address request limits of the HTTP server.
    pub rate_limit: RateLimitConfig,
}

impl Settings {
    /// Settings for in-process tests: `network` with its data in `dir`, API on a free port, one
    /// thread, not mining, the other values their defaults.
    #[cfg(test)]
    pub(crate) fn for_tests(network: Network, dir: &Path) -> Self {
        Self {
            network,
            data_dir: dir.to_path_buf(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            peers: Vec::new(),
            connect_only: false,
            reward_address: None,
            threads: 1,
            mine: false,
            log_format: LogFormat::Text,
            max_peers: 8,
            db_cache_mib: DEFAULT_DB_CACHE_MIB,
            mempool: MempoolConfig::default(),
            rate_limit: RateLimitConfig::default(),
        }
    }

    /// The store's page cache in bytes.
    pub fn db_cache_bytes(&self) -> usize {
        self.db_cache_mib.saturating_mul(1024 * 1024)
    }

    /// The folder of this network's files: `<data_dir>/<network>`.
    pub fn network_dir(&self) -> PathBuf {
        self.data_dir.join(self.network.as_str())
    }

    /// Layers defaults < `args.config` file < environment and flags (both already in `args`).
    ///
    /// # Errors
    /// [`ConfigError`] for an unreadable or invalid file, or an invalid value.
    pub fn load(args: &RunArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_config_file(path)?,
            None => FileConfig::default(),
        };
        Self::layer(file, args, default_data_dir())
    }

    /// Layers an already parsed file under the flags; `platform_dir` is the default data dir.
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid value.
    pub fn layer(file: FileConfig, args: &RunArgs, platform_dir: Option<PathBuf>) -> Result<Self, ConfigError> {
        let network = args.network.or(file.network).unwrap_or(Network::Main);
        let params = network.params();
        let data_dir = args.data_dir.clone().or(file.data_dir).or(platform_dir).ok_or(ConfigError::NoDataDir)?;
        let listen =
            args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], params.default_port)));
        let mut peers = file.peers;
        peers.extend(args.peers.iter().cloned());
        let reward_address = match args.reward_address.clone().or(file.reward_address) {
            Some(text) => Some(
                Address::parse_for(&text, network)
                    .map_err(|e| ConfigError::RewardAddress { address: text.clone(), reason: e.to_string() })?,
            ),
            None => None,
        };
        let threads = args.threads.or(file.threads).unwrap_or_else(default_threads);
        if threads == 0 {
            return Err(ConfigError::ZeroThreads);
        }
        let db_cache_mib = args.db_cache_mib.or(file.db_cache_mib).unwrap_or(DEFAULT_DB_CACHE_MIB);
        if !(MIN_DB_CACHE_MIB..=MAX_DB_CACHE_MIB).contains(&db_cache_mib) {
            return Err(ConfigError::DbCache(db_cache_mib));
        }
        let defaults = MempoolConfig::default();
        let mempool = MempoolConfig {
            max_count: args.mempool_max_count.or(file.mempool.max_count).unwrap_or(defaults.max_count),
            max_bytes: args.mempool_max_bytes.or(file.mempool.max_bytes).unwrap_or(defaults.max_bytes),
        };
        if mempool.max_count == 0 {
            return Err(ConfigError::ZeroMempoolBound("max_count"));
        }
        if mempool.max_bytes == 0 {
            return Err(ConfigError::ZeroMempoolBound("max_bytes"));
        }
        let limits = RateLimitConfig::default();
        let r = file.rate_limit;
        let rate_limit = RateLimitConfig {
            api: Limit { rate: r.api_rate.unwrap_or(limits.api.rate), burst: r.api_burst.unwrap_or(limits.api.burst) },
            p2p: Limit { rate: r.p2p_rate.unwrap_or(limits.p2p.rate), burst: r.p2p_burst.unwrap_or(limits.p2p.burst) },
            exempt: r.exempt.unwrap_or(limits.exempt),
        };
        Ok(Self {
            network,
            data_dir,
            listen,
            peers,
            connect_only: args.connect_only || file.connect_only.unwrap_or(false),
            reward_address,
            threads,
            mine: !args.no_mine && file.mine.unwrap_or(true),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            max_peers: file.max_peers.unwrap_or(8),
            db_cache_mib,
            mempool,
            rate_limit,
        })
    }
}

/// Reads and parses a config file.
///
/// # Errors
/// [`ConfigError::Read`] or [`ConfigError::Parse`] (which names an unknown key).
pub fn read_config_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    parse_config(&text).map_err(|message| ConfigError::Parse { path: path.to_owned(), message })
}

/// Parses config text.
///
/// # Errors
/// The parser's message, naming the offending key and line.
pub fn parse_config(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
}

/// The platform data folder (`~/.local/share/oxcoin` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "OxCoin", "oxcoin").map(|d| d.data_dir().to_path_buf())
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> RunArgs {
        RunArgs::default()
    }

    #[test]
    fn defaults_give_a_main_node_on_localhost_mining_with_all_cores() {
        let s = Settings::layer(FileConfig::default(), &args(), Some("/data".into())).unwrap();
        assert_eq!(s.network, Network::Main);
        assert_eq!(s.listen, "127.0.0.1:8334".parse().unwrap());
        assert!(s.mine && s.threads >= 1 && s.reward_address.is_none());
        assert_eq!(s.network_dir(), PathBuf::from("/data/main"));
    }

    #[test]
    fn the_file_overrides_defaults_and_flags_override_the_file() {
        let file = parse_config("network = \"dev\"\nthreads = 3\nmine = false\nlisten = \"127.0.0.1:9999\"\n").unwrap();
        let s = Settings::layer(file, &args(), Some("/d".into())).unwrap();
        assert_eq!((s.network, s.threads, s.mine), (Network::Dev, 3, false));
        assert_eq!(s.listen.port(), 9999);

        let file = parse_config("network = \"dev\"\nthreads = 3\n").unwrap();
        let flags = RunArgs { network: Some(Network::Test), threads: Some(1), ..args() };
        let s = Settings::layer(file, &flags, Some("/d".into())).unwrap();
        assert_eq!((s.network, s.threads), (Network::Test, 1));
        assert_eq!(s.listen.port(), 18334, "the default port follows the network");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = parse_config("netwrok = \"dev\"\n").unwrap_err();
        assert!(err.contains("netwrok"), "{err}");
        let err = parse_config("threads = \"many\"\n").unwrap_err();
        assert!(err.contains("threads"), "{err}");
    }

    #[test]
    fn a_reward_address_of_another_network_is_refused() {
        let dev = Address::new(Network::Dev, oxcoin::AccountId::from_byte_array([1; 20])).to_string();
        let flags = RunArgs { reward_address: Some(dev.clone()), ..args() };
        let err = Settings::layer(FileConfig::default(), &flags, Some("/d".into())).unwrap_err();
        assert!(matches!(err, ConfigError::RewardAddress { .. }), "{err}");
        let flags = RunArgs { network: Some(Network::Dev), reward_address: Some(dev), ..args() };
        assert!(Settings::layer(FileConfig::default(), &flags, Some("/d".into())).unwrap().reward_address.is_some());
    }

    #[test]
    fn rate_limits_come_from_the_file_or_the_defaults() {
        let s = Settings::layer(FileConfig::default(), &args(), Some("/d".into())).unwrap();
        assert_eq!(s.rate_limit, RateLimitConfig::default());
        let file = parse_config("[rate_limit]\napi_rate = 5\nexempt = [\"10.0.0.1\"]\n").unwrap();
        let s = Settings::layer(file, &args(), Some("/d".into())).unwrap();
        assert_eq!(s.rate_limit.api, Limit { rate: 5, burst: RateLimitConfig::default().api.burst });
        assert_eq!(s.rate_limit.exempt, vec!["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
        let err = parse_config("[rate_limit]\nexempt = [\"localhost\"]\n").unwrap_err();
        assert!(err.contains("exempt") || err.contains("IP"), "{err}");
    }

    #[test]
    fn mempool_bounds_layer_defaults_file_then_flags() {
        let s = Settings::layer(FileConfig::default(), &args(), Some("/d".into())).unwrap();
        assert_eq!(s.mempool, MempoolConfig::default());
        assert_eq!(s.mempool.max_count, 100_000);

        let file = parse_config("[mempool]\nmax_count = 500\nmax_bytes = 65536\n").unwrap();
        let s = Settings::layer(file, &args(), Some("/d".into())).unwrap();
        assert_eq!(s.mempool, MempoolConfig { max_count: 500, max_bytes: 65_536 });

        let file = parse_config("[mempool]\nmax_count = 500\nmax_bytes = 65536\n").unwrap();
        let flags = RunArgs { mempool_max_count: Some(3), ..args() };
        let s = Settings::layer(file, &flags, Some("/d".into())).unwrap();
        assert_eq!(s.mempool, MempoolConfig { max_count: 3, max_bytes: 65_536 });

        let err = parse_config("[mempool]\nmax_cont = 5\n").unwrap_err();
        assert!(err.contains("max_cont"), "{err}");
        let flags = RunArgs { mempool_max_bytes: Some(0), ..args() };
        let err = Settings::layer(FileConfig::default(), &flags, Some("/d".into())).unwrap_err();
        assert!(matches!(err, ConfigError::ZeroMempoolBound("max_bytes")), "{err}");
    }

    #[test]
    fn the_store_cache_layers_defaults_file_then_flags_and_refuses_zero_and_absurd_sizes() {
        let s = Settings::layer(FileConfig::default(), &args(), Some("/d".into())).unwrap();
        assert_eq!(s.db_cache_mib, 32);
        assert_eq!(s.db_cache_bytes(), crate::store::DEFAULT_CACHE_BYTES);

        let file = parse_config("db_cache_mib = 128\n").unwrap();
        let s = Settings::layer(file, &args(), Some("/d".into())).unwrap();
        assert_eq!(s.db_cache_bytes(), 128 * 1024 * 1024);

        let file = parse_config("db_cache_mib = 128\n").unwrap();
        let flags = RunArgs { db_cache_mib: Some(64), ..args() };
        assert_eq!(Settings::layer(file, &flags, Some("/d".into())).unwrap().db_cache_mib, 64);

        for refused in [0, MAX_DB_CACHE_MIB + 1, usize::MAX] {
            let flags = RunArgs { db_cache_mib: Some(refused), ..args() };
            let err = Settings::layer(FileConfig::default(), &flags, Some("/d".into())).unwrap_err();
            assert!(matches!(err, ConfigError::DbCache(n) if n == refused), "{err}");
            assert!(err.to_string().contains("db_cache_mib must be between 1 and 65536"), "{err}");
        }
        assert!(parse_config("db_cache_mib = -1\n").is_err());
    }

    #[test]
    fn zero_threads_is_refused() {
        let flags = RunArgs { threads: Some(0), ..args() };
        assert!(matches!(Settings::layer(FileConfig::default(), &flags, None), Err(ConfigError::NoDataDir)));
        let flags = RunArgs { threads: Some(0), data_dir: Some("/d".into()), ..args() };
        assert!(matches!(Settings::layer(FileConfig::default(), &flags, None), Err(ConfigError::ZeroThreads)));
    }

    #[test]
    fn every_file_in_the_config_folder_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let mut parsed = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // wallet.toml belongs to oxwallet, whose own test parses it.
            if path.extension().is_some_and(|e| e == "toml") && !path.ends_with("wallet.toml") {
                read_config_file(&path).unwrap_or_else(|e| panic!("{e}"));
                parsed += 1;
            }
        }
        assert!(parsed >= 2, "config/ holds miner.toml and dev.toml");
    }
}
