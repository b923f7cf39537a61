//! `encrypt`: seals an unencrypted keyfile under a new password.

use super::{Context, random};
use anyhow::bail;

/// Encrypts the keyfile in place (atomically).
///
/// # Errors
/// Already encrypted, no password, or a write failure; the file is then unchanged.
pub(super) fn run(context: &Context, wallet: &str) -> anyhow::Result<()> {
    let loaded = context.load(wallet)?;
    if loaded.keyfile.is_encrypted() {
        bail!(
            "wallet {wallet:?} is already encrypted; to change its password use: oxwallet change-password --wallet {wallet}"
        );
    }
    let password = context.password().new_password(wallet)?;
    let sealed = loaded.keyfile.encrypt(password.as_bytes(), random()?, random()?)?;
    context.replace_sealed(wallet, &loaded, &sealed, "Wallet {wallet} is now encrypted")
}
