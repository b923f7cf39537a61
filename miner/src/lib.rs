//! `oxminer`: the OxCoin node. It keeps and validates the chain in an embedded store, mines
//! with every core, and serves the HTTP API.
//!
//! Layout: [`config`] layers the settings; [`store`] is the redb file; [`chain`] the block
//! index, acceptance pipeline and reorgs; [`mempool`] the pending transfers; [`mining`] the
//! nonce search; [`node`] wires them; [`api`] serves them over HTTP; [`p2p`] syncs and relays
//! with peers; [`recovery`] checks the store at start and rebuilds it (`--reindex`);
//! [`metrics`] counts for `/metrics`; [`devnet`] runs a local dev network. `main.rs` only
//! parses the command line and calls [`run`].

pub mod api;
pub mod chain;
pub mod config;
pub mod devnet;
mod malloc;
pub mod mempool;
pub mod metrics;
pub mod mining;
pub mod node;
pub mod p2p;
pub mod recovery;
pub mod store;

use crate::config::{LogFormat, RunArgs, Settings};
use crate::node::{COOKIE_FILE, Node, write_atomically};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::Path;
use std::sync::Arc;

/// Command line of `oxminer` (SPEC §5).
#[derive(Debug, Parser)]
#[command(name = "oxminer", version, about = "OxCoin node: validates, stores, mines and serves the chain")]
pub struct Cli {
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `run`, accepted without the word `run` too.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `oxminer` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node (the default).
    Run(RunArgs),
    /// Measure the nonce-search hash rate, in MH/s, for each thread count from 1 to N.
    Bench {
        /// Highest thread count to measure (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Start a local dev network: peered nodes on 127.0.0.1 and funded wallets, until Ctrl-C.
    Devnet(devnet::DevnetArgs),
}

/// Runs the parsed command line.
///
/// # Errors
/// Anything that stops the node from starting, as a message for the operator.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Bench { threads, seconds }) => {
            mining::bench::run_to_stdout(threads, seconds).map_err(anyhow::Error::msg)
        }
        Some(Command::Run(args)) => run_node(&args),
        Some(Command::Devnet(args)) => devnet::run(&args),
        None => run_node(&cli.run),
    }
}

fn run_node(args: &RunArgs) -> anyhow::Result<()> {
    let settings = Settings::load(args)?;
    init_logging(settings.log_format);
    let _ = malloc::limit_arenas();
    // Named so `top -H` shows what is busy: signature checks run on rayon's global pool.
    if let Err(e) = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("verify-{i}")).build_global() {
        tracing::debug!(error = %e, "rayon's global pool was already running");
    }
    let dir = settings.network_dir();
    create_private_dir(&dir)?;
    let reward = node::reward_account(&settings, settings.mine)?;
    let cookie = hex::encode(random_bytes::<32>()?);
    let listener = std::net::TcpListener::bind(settings.listen)
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let store = dir.join(node::STORE_FILE);
    if args.reindex {
        recovery::reindex(&dir, settings.network.params(), settings.db_cache_bytes())?;
    }
    // The database may panic on pages damaged outside it; the start checks catch what it trusts.
    let node = recovery::guarded(|| {
        let node = Node::open(settings.clone(), reward, cookie.clone())?;
        recovery::verify_at_start(&node.chain_read())?;
        Ok(node)
    })
    .map_err(|e| {
        // Another network's store, or another layout: the message says what to do; the file is sound.
        let incompatible = e.chain().any(|c| matches!(c.downcast_ref(), Some(store::StoreError::Incompatible(_))));
        if incompatible { e } else { anyhow::anyhow!("{e:#}\n{}", recovery::recovery_hint(&store)) }
    })?;
    if args.reindex {
        recovery::finish(&dir);
    }
    // The cookie exists before the API answers its first request.
    write_atomically(&dir.join(COOKIE_FILE), cookie.as_bytes(), 0o600)
        .with_context(|| format!("writing {}", dir.join(COOKIE_FILE).display()))?;
    tracing::info!(
        network = %settings.network,
        height = node.height().0,
        listen = %listener.local_addr().map_or_else(|_| settings.listen.to_string(), |a| a.to_string()),
        data = %dir.display(),
        "node started"
    );
    if settings.mine {
        node.start_mining()?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("api")
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    p2p::start(&node).context("starting peer-to-peer")?;
    let served = runtime.block_on(serve_until_signal(Arc::clone(&node), listener));
    node.shutdown();
    served?;
    tracing::info!("stopped");
    Ok(())
}

async fn serve_until_signal(node: Arc<Node>, listener: std::net::TcpListener) -> anyhow::Result<()> {
    let server = api::server(Arc::clone(&node), listener)?;
    let handle = server.handle();
    let mut server = tokio::spawn(server);
    tokio::select! {
        result = &mut server => {
            result.context("the API server task failed")??;
            anyhow::bail!("the API server stopped unexpectedly");
        }
        () = shutdown_signal() => {
            tracing::info!("stopping");
            handle.stop(true).await;
            let _ = server.await;
        }
        error = store_failure(Arc::clone(&node)) => {
            let store = node.settings().network_dir().join(node::STORE_FILE);
            tracing::error!(file = %store.display(), %error, "the store failed: stopping");
            handle.stop(true).await;
            let _ = server.await;
            anyhow::bail!(
                "the store {} refuses writes after an I/O error (the first one is logged above, e.g. no space \
                 left on device): {error}\nThe node stopped; nothing it showed as committed is lost. If the disk \
                 is full, free space and start the node again; if the disk fails, move the network folder to a \
                 sound disk first.",
                store.display()
            );
        }
    }
    Ok(())
}

/// How often the store is checked for a latched I/O failure.
const STORE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Resolves once the store has met an I/O error (a full or failing disk): the database refuses
/// every later operation then, so the node stops instead of serving errors (Bitcoin Core's
/// `AbortNode`). What the failed commit held was never shown.
async fn store_failure(node: Arc<Node>) -> store::StoreError {
    loop {
        tokio::time::sleep(STORE_CHECK_EVERY).await;
        let node = Arc::clone(&node);
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || node.chain_read().store().check_writable()).await {
            return error;
        }
    }
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Fills an array from the system's random source.
///
/// # Errors
/// The random source fails.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
    Ok(bytes)
}

/// Creates a folder readable by its owner only.
pub(crate) fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}
