//! `change-password`: opens the keyfile with the old password and seals it under a new one.

use super::{Context, random};
use crate::cli::ChangePasswordArgs;
use crate::password::{NEW_PASSWORD_ENV, Source};
use anyhow::bail;
use oxcoin::keyfile::Keyfile;

/// Re-encrypts the keyfile in place (atomically); a wrong old password leaves it untouched.
///
/// # Errors
/// Not encrypted, a wrong or missing password, or a write failure.
pub(super) fn run(context: &Context, args: &ChangePasswordArgs) -> anyhow::Result<()> {
    let wallet = args.wallet.as_str();
    let loaded = context.load(wallet)?;
    if !loaded.keyfile.is_encrypted() {
        bail!("wallet {wallet:?} is not encrypted; give it a password with: oxwallet encrypt --wallet {wallet}");
    }
    let key = context.unlock(&loaded.keyfile)?;
    let new = Source { file: args.new_password_file.clone(), env: NEW_PASSWORD_ENV }.new_password(wallet)?;
    let sealed =
        Keyfile::new_encrypted(loaded.keyfile.name(), context.network, &key, new.as_bytes(), random()?, random()?)?;
    context.replace_sealed(wallet, &loaded, &sealed, "The password of wallet {wallet} is changed")
}
