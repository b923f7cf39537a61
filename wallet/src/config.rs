//! The optional config file `wallet.toml`: defaults for the network, the node and the data folder.
//! Command-line flags win over it.

use anyhow::Context;
use oxcoin::Network;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What `wallet.toml` may set; every key is optional and unknown keys are refused.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The network used when `--network` is not given.
    pub network: Option<Network>,
    /// The node's URL, for the config's `network` only (another `--network` ignores it).
    pub node: Option<String>,
    /// The folder holding `<network>/<wallet>.json`.
    pub data_dir: Option<PathBuf>,
}

/// Parses config text.
///
/// # Errors
/// The TOML parser's message, which names the line and the offending key.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))
}

/// The default config file: `wallet.toml` in the platform config folder (`~/.config/oxcoin`).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "OxCoin", "oxcoin").map(|d| d.config_dir().join("wallet.toml"))
}

/// Reads the config: `explicit` must exist; the default file is read only when it exists.
///
/// # Errors
/// An unreadable or invalid file.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None => match default_path() {
            Some(path) if path.exists() => path,
            _ => return Ok(FileConfig::default()),
        },
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading config {}", path.display()))?;
    parse(&text).map_err(|message| anyhow::anyhow!("config {}: {message}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_sets_nothing_and_unknown_keys_are_refused() {
        assert_eq!(parse(""), Ok(FileConfig::default()));
        let error = parse("nodes = \"x\"").unwrap_err();
        assert!(error.contains("nodes"), "{error}");
        assert!(parse("network = \"moon\"").is_err());
    }

    #[test]
    fn the_shipped_annotated_config_parses() {
        let text = include_str!("../../config/wallet.toml");
        let config = parse(text).expect("config/wallet.toml parses");
        assert_eq!(config.network, Some(Network::Dev));
        assert_eq!(config.node.as_deref(), Some("http://127.0.0.1:28334"));
    }
}
