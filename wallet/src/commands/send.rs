//! `send`: checks everything locally first (amount, address, memo, confirmation), then asks the
//! node for the nonce and fee rate, signs locally, confirms, submits, and optionally waits.

use super::Context;
use crate::cli::SendArgs;
use crate::client::{AddressInfo, ApiError, Client};
use crate::output::oxc;
use crate::password::is_interactive;
use anyhow::{Context as _, bail};
use oxcoin::encode::Encode;
use oxcoin::tx::{MAX_MEMO_LEN, TRANSFER_BASE_LEN, UnsignedTransfer};
use oxcoin::{Address, Amount, ErrorCode, Memo};
use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

/// Sends `--amount` to `--to`.
///
/// # Errors
/// Any bad input (before anything is signed or sent), the node's refusal as a sentence, or a
/// timeout of `--wait`.
pub(super) fn run(context: &Context, args: &SendArgs) -> anyhow::Result<()> {
    // Local checks first: nothing leaves the machine for a typo.
    let amount: Amount = args.amount.parse().with_context(|| format!("--amount {:?}", args.amount))?;
    if amount == Amount::ZERO {
        bail!("--amount is 0: send at least 0.00000001 OXC");
    }
    let to = Address::parse_for(args.to.trim(), context.network).with_context(|| format!("--to {}", args.to))?;
    let fee = match args.fee.as_str() {
        "auto" => None,
        text => Some(text.parse::<Amount>().with_context(|| format!("--fee {text:?} (an amount in OXC, or auto)"))?),
    };
    if args.memo.len() > MAX_MEMO_LEN {
        bail!("--memo is {} bytes; a memo holds at most {MAX_MEMO_LEN} bytes", args.memo.len());
    }
    let memo = Memo::try_from(args.memo.as_str())?;
    if !args.yes && !is_interactive() {
        bail!("not sending without confirmation: stdin is not a terminal, so pass --yes to send from a script");
    }
    let loaded = context.load(&args.wallet)?;
    let from = loaded.keyfile.address();

    let client = context.client()?;
    client.status_for(context.network)?;
    let info = client.address(&from)?;
    let size = (TRANSFER_BASE_LEN + memo.len()) as u64;
    let fee = match fee {
        Some(fee) => fee,
        None => {
            let fees = client.fees()?;
            Amount::from_grains(fees.suggested_fee_rate.max(fees.min_fee_rate).saturating_mul(size))
        }
    };
    let total = amount.checked_add(fee).context("amount plus fee is more than any balance can hold")?;
    let unsigned = UnsignedTransfer {
        chain_id: context.network.params().chain_id,
        to: to.account(),
        amount,
        fee,
        nonce: info.next_nonce,
        memo,
    };

    let summary = [
        format!("  from    {from} (wallet {:?})", args.wallet),
        format!("  to      {to}"),
        format!("  amount  {}", oxc(amount.to_grains())),
        format!("  fee     {}", oxc(fee.to_grains())),
        format!("  total   {}", oxc(total.to_grains())),
        format!("  nonce   {}", unsigned.nonce),
        format!("  memo    {}", if args.memo.is_empty() { "(none)" } else { &args.memo }),
    ];
    let key = context.unlock(&loaded.keyfile)?;
    let transfer = unsigned.sign(&key);
    drop(key);
    let raw_hex = hex::encode(transfer.encode());

    if !args.yes {
        eprintln!("About to send on the {} network:", context.network);
        for line in &summary {
            eprintln!("{line}");
        }
        eprint!("Send? [y/N] ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).context("reading the answer")?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
            bail!("cancelled: nothing was sent");
        }
    }

    let txid = match client.submit(&raw_hex)? {
        Ok(txid) => txid,
        Err(refusal) => bail!(explain(&refusal, &client, amount, fee, info.next_nonce, &info)),
    };

    let confirmations = match args.wait {
        Some(target) if target > 0 => Some(wait(&client, &txid, target, Duration::from_secs(args.timeout))?),
        _ => None,
    };
    if context.json {
        return crate::output::print_json(&serde_json::json!({
            "txid": txid,
            "from": from.to_string(),
            "to": to.to_string(),
            "amount": amount.to_grains(),
            "fee": fee.to_grains(),
            "nonce": info.next_nonce,
            "memo": args.memo,
            "confirmations": confirmations,
        }));
    }
    if args.yes {
        for line in &summary {
            eprintln!("{line}");
        }
    }
    println!("{txid}");
    if let Some(n) = confirmations {
        eprintln!("confirmed: {n} confirmation{}", if n == 1 { "" } else { "s" });
    }
    Ok(())
}

/// Turns a refusal code into a sentence for the user.
fn explain(refusal: &ApiError, client: &Client, amount: Amount, fee: Amount, nonce: u64, info: &AddressInfo) -> String {
    let node = client.url();
    let code = |c: ErrorCode| refusal.is(c);
    let sentence = if code(ErrorCode::InsufficientFunds) {
        format!(
            "the node says this wallet cannot pay {} plus the {} fee: spendable {}, of which {} is already promised to pending transfers",
            oxc(amount.to_grains()),
            oxc(fee.to_grains()),
            oxc(info.balance),
            oxc(info.pending_out)
        )
    } else if code(ErrorCode::FeeTooLow) {
        format!(
            "the node says the fee of {} is too low ({}); use --fee auto or a higher fee",
            oxc(fee.to_grains()),
            refusal.message
        )
    } else if code(ErrorCode::NonceTooLow) {
        format!(
            "the node says nonce {nonce} was already used: another transfer from this wallet went first; run the command again"
        )
    } else if code(ErrorCode::NonceGap) {
        format!("the node says nonce {nonce} is too far ahead of this wallet's transfers; run the command again")
    } else if code(ErrorCode::Duplicate) {
        "the node already has this very transfer; nothing new was sent".to_owned()
    } else if code(ErrorCode::ReplacementUnderpriced) {
        format!(
            "a pending transfer from this wallet already uses nonce {nonce}; a replacement must pay at least 10 % more fee than it"
        )
    } else if code(ErrorCode::MempoolFull) {
        "the node's mempool is full and this fee is too low to get in; try again later or with a higher --fee"
            .to_owned()
    } else if code(ErrorCode::WrongChain) {
        "the node says the transfer is signed for another network".to_owned()
    } else if code(ErrorCode::InvalidSignature) {
        "the node says the signature is invalid: the keyfile may be damaged; restore it from its recovery phrase"
            .to_owned()
    } else if code(ErrorCode::ZeroAmount) {
        "the node refuses a transfer of 0 OXC".to_owned()
    } else if code(ErrorCode::MemoTooLong) || code(ErrorCode::InvalidMemo) {
        format!("the node refuses the memo: {}", refusal.message)
    } else if code(ErrorCode::RateLimited) {
        "the node is rate-limiting this client; wait a moment and try again".to_owned()
    } else {
        format!("the node refused the transfer ({}: {})", refusal.code, refusal.message)
    };
    format!("{sentence} [node {node}, code {}]; nothing was sent", refusal.code)
}

/// Polls the transaction until it has `target` confirmations or `timeout` passes.
fn wait(client: &Client, txid: &str, target: u64, timeout: Duration) -> anyhow::Result<u64> {
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let mut seen = 0;
    loop {
        if let Some(tx) = client.tx(txid)? {
            seen = tx.confirmations;
            if progress {
                eprint!("\rwaiting for {target} confirmation(s): {seen}/{target}, {} s ", started.elapsed().as_secs());
                std::io::stderr().flush().ok();
            }
            if seen >= target {
                if progress {
                    eprintln!();
                }
                return Ok(seen);
            }
        }
        if started.elapsed() >= timeout {
            if progress {
                eprintln!();
            }
            bail!(
                "sent {txid}, but it has {seen} of {target} confirmations after {} s; it may still confirm: check with `oxwallet tx {txid}`",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code `POST /txs` can answer becomes its own sentence, never the generic fallback.
    #[test]
    fn every_transfer_refusal_code_has_its_own_sentence() {
        let client = Client::new("http://127.0.0.1:28334").expect("url");
        let info = AddressInfo { balance: 5, immature: 0, pending_in: 0, pending_out: 1, nonce: 0, next_nonce: 0 };
        let codes = [
            ErrorCode::Duplicate,
            ErrorCode::WrongChain,
            ErrorCode::MemoTooLong,
            ErrorCode::InvalidMemo,
            ErrorCode::ZeroAmount,
            ErrorCode::FeeTooLow,
            ErrorCode::InvalidSignature,
            ErrorCode::NonceTooLow,
            ErrorCode::NonceGap,
            ErrorCode::InsufficientFunds,
            ErrorCode::ReplacementUnderpriced,
            ErrorCode::MempoolFull,
            ErrorCode::RateLimited,
        ];
        for code in codes {
            let refusal =
                ApiError { status: code.http_status(), code: code.as_str().to_owned(), message: "why".to_owned() };
            let text = explain(&refusal, &client, Amount::ONE_OXC, Amount::ONE_GRAIN, 3, &info);
            assert!(!text.contains("the node refused the transfer ("), "{code}: {text}");
            assert!(text.ends_with("nothing was sent") && text.contains(code.as_str()), "{text}");
        }
    }
}
