//! `new` and `restore`: a key from a fresh or a typed recovery phrase, into a new keyfile.

use super::{Context, random};
use crate::cli::NewArgs;
use crate::password::is_interactive;
use anyhow::Context as _;
use oxcoin::keyfile::Keyfile;
use oxcoin::mnemonic::{Mnemonic, derive_signing_key};
use serde::Serialize;
use std::io::{BufRead, Read, Write};
use zeroize::Zeroizing;

/// `new`: 32 random bytes → 24 words → key; shows the address and the phrase once.
///
/// # Errors
/// The keyfile exists, no password source, or a write failure.
pub(super) fn new(context: &Context, args: &NewArgs) -> anyhow::Result<()> {
    context.keystore.check_free(&args.name, args.force)?;
    let password = password_for(context, args)?;
    let entropy = Zeroizing::new(random::<32>()?);
    let mnemonic = Mnemonic::from_entropy(&entropy);
    let created = create(context, args, &mnemonic, password.as_ref())?;
    let phrase = mnemonic.phrase();
    if context.json {
        return crate::output::print_json(&Created { phrase: Some(&phrase), ..created });
    }
    created.print();
    println!();
    println!("Recovery phrase, shown this once. Write it down and keep it offline: anyone who has it can");
    println!("spend this wallet's coins, and it is the only way to restore the wallet if the keyfile is lost.");
    println!();
    let words: Vec<&str> = phrase.split(' ').collect();
    for (row, chunk) in words.chunks(4).enumerate() {
        let line: Vec<String> =
            chunk.iter().enumerate().map(|(i, w)| format!("{:>2}. {w:<9}", row * 4 + i + 1)).collect();
        println!("  {}", line.join("  ").trim_end());
    }
    Ok(())
}

/// `restore`: the phrase from a prompt (terminal) or stdin; the same key and address as `new`.
///
/// # Errors
/// The keyfile exists, a bad phrase, no password source, or a write failure.
pub(super) fn restore(context: &Context, args: &NewArgs) -> anyhow::Result<()> {
    context.keystore.check_free(&args.name, args.force)?;
    let phrase = read_phrase()?;
    let mnemonic = Mnemonic::parse(&phrase)?;
    let password = password_for(context, args)?;
    let created = create(context, args, &mnemonic, password.as_ref())?;
    if context.json {
        return crate::output::print_json(&created);
    }
    created.print();
    Ok(())
}

/// The new keyfile's password, or none with `--no-password`.
fn password_for(context: &Context, args: &NewArgs) -> anyhow::Result<Option<Zeroizing<String>>> {
    if args.no_password {
        return Ok(None);
    }
    context.password().new_password(&args.name).map(Some)
}

/// Derives the key, seals it if asked, and writes the keyfile.
fn create<'a>(
    context: &'a Context,
    args: &'a NewArgs,
    mnemonic: &Mnemonic,
    password: Option<&Zeroizing<String>>,
) -> anyhow::Result<Created<'a>> {
    let key = derive_signing_key(mnemonic);
    let keyfile = match password {
        Some(password) => {
            Keyfile::new_encrypted(&args.name, context.network, &key, password.as_bytes(), random()?, random()?)?
        }
        None => Keyfile::new_plain(&args.name, context.network, &key)?,
    };
    let path = context.keystore.write(&args.name, &keyfile.to_json(), args.force)?;
    Ok(Created {
        name: &args.name,
        network: context.network.as_str(),
        address: keyfile.address().to_string(),
        keyfile: path.display().to_string(),
        encrypted: keyfile.is_encrypted(),
        phrase: None,
    })
}

/// What `new` and `restore` report.
#[derive(Serialize)]
struct Created<'a> {
    name: &'a str,
    network: &'static str,
    address: String,
    keyfile: String,
    encrypted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    phrase: Option<&'a str>,
}

impl Created<'_> {
    fn print(&self) {
        let state = if self.encrypted { "encrypted" } else { "NOT encrypted" };
        println!("Wallet {:?} on the {} network ({state}): {}", self.name, self.network, self.keyfile);
        println!("Address: {}", self.address);
        if !self.encrypted {
            eprintln!(
                "oxwallet: warning: the keyfile is not encrypted; anyone who can read it can spend. Encrypt it with: oxwallet --network {} encrypt --wallet {}",
                self.network, self.name
            );
        }
    }
}

/// Reads the phrase: one line at a prompt on a terminal, else all of stdin (at most 4 KiB).
fn read_phrase() -> anyhow::Result<Zeroizing<String>> {
    let mut phrase = Zeroizing::new(String::with_capacity(512));
    if is_interactive() {
        eprint!("Recovery phrase (24 words): ");
        std::io::stderr().flush().ok();
        std::io::stdin().lock().read_line(&mut phrase).context("reading the recovery phrase")?;
    } else {
        std::io::stdin().take(4096).read_to_string(&mut phrase).context("reading the recovery phrase from stdin")?;
    }
    Ok(phrase)
}
