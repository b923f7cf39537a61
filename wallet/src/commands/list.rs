//! `list`: the network's keyfiles, their addresses and whether they are encrypted.

use super::Context;
use serde::Serialize;

/// Lists the keyfiles; a keyfile that cannot be read is listed with the reason.
///
/// # Errors
/// The folder cannot be listed.
pub(super) fn run(context: &Context) -> anyhow::Result<()> {
    let wallets = context.keystore.list()?;
    if context.json {
        #[derive(Serialize)]
        struct Row {
            name: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            address: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            encrypted: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<String>,
        }
        let rows: Vec<Row> = wallets
            .into_iter()
            .map(|(name, keyfile)| match keyfile {
                Ok(k) => {
                    Row { name, address: Some(k.address().to_string()), encrypted: Some(k.is_encrypted()), error: None }
                }
                Err(e) => Row { name, address: None, encrypted: None, error: Some(format!("{e:#}")) },
            })
            .collect();
        return crate::output::print_json(&serde_json::json!({
            "network": context.network.as_str(),
            "folder": context.keystore.dir().display().to_string(),
            "wallets": rows,
        }));
    }
    if wallets.is_empty() {
        println!(
            "No wallets on the {} network in {}. Create one with: oxwallet --network {} new",
            context.network,
            context.keystore.dir().display(),
            context.network
        );
        return Ok(());
    }
    let mut table = crate::output::table(&["name", "address", "encrypted"]);
    for (name, keyfile) in wallets {
        match keyfile {
            Ok(k) => table.add_row([name, k.address().to_string(), if k.is_encrypted() { "yes" } else { "NO" }.into()]),
            Err(e) => {
                eprintln!("oxwallet: warning: wallet {name:?} cannot be read: {e:#}");
                table.add_row([name, "(unreadable, see the warning above)".into(), String::new()])
            }
        };
    }
    println!("Wallets on the {} network in {}", context.network, context.keystore.dir().display());
    println!("{}", crate::output::render(&table));
    Ok(())
}
