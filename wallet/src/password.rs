//! Passwords: from a file or an environment variable for scripts, else from the terminal
//! (without echo; a new one is typed twice). Never from a command-line argument, which other
//! users can see.

use anyhow::{Context, bail};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The variable holding the password for scripts.
pub const PASSWORD_ENV: &str = "OXWALLET_PASSWORD";
/// The variable holding the new password of `change-password` for scripts.
pub const NEW_PASSWORD_ENV: &str = "OXWALLET_NEW_PASSWORD";

/// Where a password may come from, besides the terminal.
#[derive(Debug, Clone)]
pub struct Source {
    /// A file whose first line is the password.
    pub file: Option<PathBuf>,
    /// An environment variable holding it.
    pub env: &'static str,
}

impl Source {
    /// The password given by file or environment, if any.
    ///
    /// # Errors
    /// An unreadable file, or an empty password.
    pub fn given(&self) -> anyhow::Result<Option<Zeroizing<String>>> {
        if let Some(file) = &self.file {
            return read_file(file).map(Some);
        }
        match std::env::var(self.env) {
            Ok(value) if value.is_empty() => bail!("{} is set but empty", self.env),
            Ok(value) => Ok(Some(Zeroizing::new(value))),
            Err(_) => Ok(None),
        }
    }

    /// The password of an existing keyfile: given, or asked once on the terminal.
    ///
    /// # Errors
    /// No source and no terminal, or a read failure.
    pub fn existing(&self, wallet: &str) -> anyhow::Result<Zeroizing<String>> {
        if let Some(password) = self.given()? {
            return Ok(password);
        }
        if !is_interactive() {
            bail!(
                "wallet {wallet:?} is encrypted and there is no terminal to ask its password on: use --password-file FILE or {}",
                self.env
            );
        }
        prompt(&format!("Password of wallet {wallet:?}: "))
    }

    /// A new password: given, or typed twice on the terminal. `None` when there is neither and
    /// `allow_none` is set.
    ///
    /// # Errors
    /// No source and no terminal (unless `allow_none`), mismatching or empty entries.
    pub fn new_password(&self, wallet: &str) -> anyhow::Result<Zeroizing<String>> {
        if let Some(password) = self.given()? {
            return Ok(password);
        }
        if !is_interactive() {
            bail!(
                "no password for wallet {wallet:?} and no terminal to ask one on: use --password-file FILE or {} (or --no-password for an unencrypted keyfile, where the command offers it)",
                self.env
            );
        }
        let first = prompt(&format!("New password for wallet {wallet:?}: "))?;
        if first.is_empty() {
            bail!("the password is empty: nothing was written");
        }
        let second = prompt("Type it again: ")?;
        if first != second {
            bail!("the two passwords differ: nothing was written");
        }
        Ok(first)
    }
}

/// Tells whether the user can be asked: stdin is a terminal.
pub fn is_interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks on the terminal without echo.
fn prompt(text: &str) -> anyhow::Result<Zeroizing<String>> {
    rpassword::prompt_password(text).map(Zeroizing::new).context("reading the password from the terminal")
}

/// Reads the first line of `path`, without its line ending.
fn read_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading the password file {}", path.display()))?,
    );
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!("the password file {} is empty", path.display());
    }
    Ok(Zeroizing::new(line.to_owned()))
}
