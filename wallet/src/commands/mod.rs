//! One module per command, and the context they share: the resolved network, folders, node URL
//! and output mode.

mod address;
mod balance;
mod change_password;
mod encrypt;
mod history;
mod list;
mod new;
mod send;
mod tx;

use crate::cli::{Cli, Command};
use crate::client::Client;
use crate::config;
use crate::keystore::{Keystore, Loaded};
use crate::password::{self, Source};
use anyhow::Context as _;
use oxcoin::Network;
use oxcoin::keyfile::Keyfile;
use std::path::PathBuf;

/// What every command needs, resolved from the flags, the config and the defaults.
#[derive(Debug)]
pub struct Context {
    /// The network.
    pub network: Network,
    /// The data folder.
    pub data_dir: PathBuf,
    /// The network's keyfiles.
    pub keystore: Keystore,
    /// The node's URL.
    pub node: String,
    /// `--json`.
    pub json: bool,
    /// `--password-file`.
    pub password_file: Option<PathBuf>,
}

impl Context {
    /// Resolves flags over the config over the defaults.
    ///
    /// # Errors
    /// A bad config file, or no data folder.
    pub fn resolve(cli: &Cli) -> anyhow::Result<Self> {
        let file = config::load(cli.config.as_deref())?;
        let network = cli.network.or(file.network).unwrap_or(Network::Main);
        let data_dir = match cli.data_dir.clone().or(file.data_dir) {
            Some(dir) => dir,
            None => directories::ProjectDirs::from("org", "OxCoin", "oxcoin")
                .map(|d| d.data_dir().to_path_buf())
                .context("no home folder to keep keyfiles in: pass --data-dir DIR")?,
        };
        // The config's node belongs to the config's network.
        let configured_node = file.node.filter(|_| file.network.unwrap_or(Network::Main) == network);
        let node = cli
            .node
            .clone()
            .or(configured_node)
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", network.params().default_port));
        Ok(Self {
            network,
            keystore: Keystore::new(&data_dir, network),
            data_dir,
            node,
            json: cli.json,
            password_file: cli.password_file.clone(),
        })
    }

    /// The node's client.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn client(&self) -> anyhow::Result<Client> {
        Client::new(&self.node)
    }

    /// The password source of `--password-file` / `OXWALLET_PASSWORD`.
    pub fn password(&self) -> Source {
        Source { file: self.password_file.clone(), env: password::PASSWORD_ENV }
    }

    /// Loads a wallet.
    ///
    /// # Errors
    /// See [`Keystore::load`].
    pub fn load(&self, name: &str) -> anyhow::Result<Loaded> {
        self.keystore.load(name)
    }

    /// Writes a newly sealed keyfile over `loaded` (atomically) and reports it: `done` is the
    /// sentence, with `{wallet}` standing for the quoted name.
    ///
    /// # Errors
    /// A write failure.
    pub fn replace_sealed(&self, wallet: &str, loaded: &Loaded, sealed: &Keyfile, done: &str) -> anyhow::Result<()> {
        self.keystore.write(wallet, &sealed.to_json(), true)?;
        if self.json {
            return crate::output::print_json(&serde_json::json!({
                "name": wallet,
                "keyfile": loaded.path.display().to_string(),
                "encrypted": true,
            }));
        }
        println!("{}: {}", done.replace("{wallet}", &format!("{wallet:?}")), loaded.path.display());
        Ok(())
    }

    /// Unlocks a loaded keyfile, asking for its password if it is encrypted.
    ///
    /// # Errors
    /// No password available, or the wrong one.
    pub fn unlock(&self, keyfile: &Keyfile) -> anyhow::Result<ed25519_dalek::SigningKey> {
        let key = if keyfile.is_encrypted() {
            let password = self.password().existing(keyfile.name())?;
            keyfile.unlock(Some(password.as_bytes()))
        } else {
            keyfile.unlock(None)
        };
        key.with_context(|| format!("wallet {:?}", keyfile.name()))
    }
}

/// Runs one command.
///
/// # Errors
/// Whatever stopped it.
pub fn dispatch(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::New(args) => new::new(context, &args),
        Command::Restore(args) => new::restore(context, &args),
        Command::List => list::run(context),
        Command::Address(args) => address::run(context, &args.wallet),
        Command::Encrypt(args) => encrypt::run(context, &args.wallet),
        Command::ChangePassword(args) => change_password::run(context, &args),
        Command::Balance(args) => balance::run(context, &args.wallet),
        Command::Send(args) => send::run(context, &args),
        Command::History(args) => history::run(context, &args),
        Command::Tx(args) => tx::run(context, &args.txid),
    }
}

/// Fresh random bytes from the OS.
///
/// # Errors
/// The OS has none to give.
pub(crate) fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the OS gave no random bytes: {e}"))?;
    Ok(bytes)
}
