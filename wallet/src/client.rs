//! A small blocking client for the node's HTTP API (SPEC §6): HTTP/1.1 over a `TcpStream`, one
//! request per connection, timeouts on every wait. No async runtime: the wallet makes a handful
//! of requests and exits.

use anyhow::{Context, bail};
use oxcoin::{Address, ErrorCode, Network};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Time to connect to the node.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time to wait for each read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// No answer of the API the wallet uses comes near this.
const MAX_RESPONSE: u64 = 8 * 1024 * 1024;

/// A refusal from the node: `{"error": {"code", "message"}}` with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the node answered {status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The snake_case code.
    pub code: String,
    /// The node's message.
    pub message: String,
}

impl ApiError {
    /// Tells whether this is `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code.as_str()
    }
}

/// A node's API at a URL.
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    host: String,
    port: u16,
    prefix: String,
}

impl Client {
    /// Parses `http://host[:port][/prefix]`.
    ///
    /// # Errors
    /// Another scheme or a malformed URL.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let url = url.trim_end_matches('/').to_owned();
        let Some(rest) = url.strip_prefix("http://") else {
            if url.starts_with("https://") {
                bail!(
                    "--node {url}: https is not supported; reach the node over plain http (e.g. through an SSH tunnel)"
                );
            }
            bail!("--node {url:?} is not a URL like http://127.0.0.1:8334");
        };
        let (authority, prefix) = rest.split_once('/').map_or((rest, String::new()), |(a, p)| (a, format!("/{p}")));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                let port =
                    port.parse().map_err(|_| anyhow::anyhow!("--node {url:?}: the port {port:?} is not a number"))?;
                (host.to_owned(), port)
            }
            _ => (authority.to_owned(), 80),
        };
        if host.is_empty() {
            bail!("--node {url:?} has no host");
        }
        Ok(Self { url, host, port, prefix })
    }

    /// The URL as given (without a trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET /api/v1/status`, checked to be a node of `network`.
    ///
    /// # Errors
    /// Node unreachable, or on another network.
    pub fn status_for(&self, network: Network) -> anyhow::Result<Status> {
        let status: Status = self.get("/status")?;
        if status.network != network.as_str() {
            bail!(
                "the node at {} is on the {} network, but this wallet is on {}; pass --node with the URL of a {network} node",
                self.url,
                status.network,
                network
            );
        }
        Ok(status)
    }

    /// `GET /api/v1/addresses/{address}`.
    ///
    /// # Errors
    /// Node unreachable or refusing.
    pub fn address(&self, address: &Address) -> anyhow::Result<AddressInfo> {
        self.get(&format!("/addresses/{address}"))
    }

    /// `GET /api/v1/addresses/{address}/txs?limit=`.
    ///
    /// # Errors
    /// Node unreachable or refusing.
    pub fn history(&self, address: &Address, limit: u64) -> anyhow::Result<History> {
        self.get(&format!("/addresses/{address}/txs?limit={limit}"))
    }

    /// `GET /api/v1/fees`.
    ///
    /// # Errors
    /// Node unreachable or refusing.
    pub fn fees(&self) -> anyhow::Result<Fees> {
        self.get("/fees")
    }

    /// `GET /api/v1/txs/{txid}`; `None` when the node knows no such transaction.
    ///
    /// # Errors
    /// Node unreachable or refusing.
    pub fn tx(&self, txid: &str) -> anyhow::Result<Option<TxDetail>> {
        match self.call("GET", &format!("/txs/{txid}"), None)? {
            Ok(body) => Ok(Some(self.decode(&body)?)),
            Err(error) if error.is(ErrorCode::NotFound) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// `POST /api/v1/txs {"raw_hex"}`: the txid, or the node's refusal.
    ///
    /// # Errors
    /// Node unreachable (the outer error); a refusal is the inner one.
    pub fn submit(&self, raw_hex: &str) -> anyhow::Result<Result<String, ApiError>> {
        let body = serde_json::json!({ "raw_hex": raw_hex }).to_string();
        Ok(match self.call("POST", "/txs", Some(&body))? {
            Ok(body) => Ok(self.decode::<Submitted>(&body)?.txid),
            Err(error) => Err(error),
        })
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let body = self.call("GET", path, None)??;
        self.decode(&body)
    }

    fn decode<T: DeserializeOwned>(&self, body: &str) -> anyhow::Result<T> {
        serde_json::from_str(body)
            .with_context(|| format!("the node at {} gave an answer this wallet cannot read", self.url))
    }

    /// One request under `/api/v1`: the body of a 2xx answer, or the node's error.
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<Result<String, ApiError>> {
        let (status, text) = self
            .request(method, &format!("{}/api/v1{path}", self.prefix), body)
            .map_err(|error| anyhow::anyhow!("cannot reach the node at {}: {}", self.url, describe(&error)))?;
        if (200..300).contains(&status) {
            return Ok(Ok(text));
        }
        #[derive(Deserialize)]
        struct Body {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            code: String,
            message: String,
        }
        Ok(Err(match serde_json::from_str::<Body>(&text) {
            Ok(Body { error }) => ApiError { status, code: error.code, message: error.message },
            Err(_) => ApiError {
                status,
                code: "http".into(),
                message: format!("{} answered HTTP {status} without an API error: is it an OxCoin node?", self.url),
            },
        }))
    }

    fn request(&self, method: &str, target: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        let addrs: Vec<SocketAddr> =
            (self.host.trim_start_matches('[').trim_end_matches(']'), self.port).to_socket_addrs()?.collect();
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "the host name resolves to no address");
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(error) => last = error,
            }
        }
        let mut stream = stream.ok_or(last)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let body = body.unwrap_or("");
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: oxwallet/{}\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.host,
            self.port,
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream.take(MAX_RESPONSE).read_to_end(&mut raw)?;
        parse_response(&raw)
    }
}

/// Splits an HTTP/1.1 answer read to its end into status and body (length-delimited, chunked, or
/// up to the close).
fn parse_response(raw: &[u8]) -> std::io::Result<(u16, String)> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "the answer is not HTTP");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(bad)?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad())?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(bad)?;
    if !status_line.starts_with("HTTP/1.") {
        return Err(bad());
    }
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = if chunked {
        dechunk(rest).ok_or_else(bad)?
    } else if let Some(length) = length {
        rest.get(..length)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the answer was cut short"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// A short lowercase reason for an I/O failure.
fn describe(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "no answer in time".into(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => "the connection was closed".into(),
        _ => {
            let text = error.to_string();
            // Drop the "(os error N)" tail.
            text.split(" (os error").next().unwrap_or(&text).to_lowercase()
        }
    }
}

/// `GET /status` (the fields the wallet uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// `main`, `test` or `dev`.
    pub network: String,
    /// The tip's height.
    pub height: u64,
}

/// `GET /addresses/{address}`, in grains.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct AddressInfo {
    /// Spendable now.
    pub balance: u64,
    /// Rewards not credited yet.
    pub immature: u64,
    /// Pending transfers to the address.
    pub pending_in: u64,
    /// Pending amount + fee from the address.
    pub pending_out: u64,
    /// The nonce in the tip's state.
    pub nonce: u64,
    /// The nonce of the next transfer, pending ones included.
    pub next_nonce: u64,
}

/// `GET /addresses/{address}/txs`.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    /// Rows, pending first then newest first.
    pub txs: Vec<HistoryRow>,
}

/// One history row.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct HistoryRow {
    /// The transaction.
    pub txid: String,
    /// `coinbase` or `transfer`.
    pub kind: String,
    /// `in`, `out`, `self` or `reward`.
    pub direction: String,
    /// The other party, none for a reward.
    pub counterparty: Option<String>,
    /// Grains moved.
    pub amount: u64,
    /// Grains of fee.
    pub fee: u64,
    /// Its block's height; none while pending.
    pub height: Option<u64>,
    /// Unix seconds.
    pub time: u64,
    /// 0 while pending.
    pub confirmations: u64,
    /// `pending`, `confirmed` or `immature`.
    pub status: String,
}

/// `GET /fees`.
#[derive(Debug, Clone, Deserialize)]
pub struct Fees {
    /// Grains per byte, the consensus minimum.
    pub min_fee_rate: u64,
    /// Grains per byte likely to get into the next block.
    pub suggested_fee_rate: u64,
}

/// `GET /txs/{txid}` (the fields the wallet shows).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct TxDetail {
    /// The txid.
    pub txid: String,
    /// `coinbase` or `transfer`.
    pub kind: String,
    /// Encoded size in bytes.
    pub size: u64,
    /// Its block's height (none while pending).
    pub height: Option<u64>,
    /// The sender (transfers).
    pub from: Option<String>,
    /// The recipient.
    pub to: String,
    /// Grains paid.
    pub amount: u64,
    /// Fee in grains (transfers).
    pub fee: Option<u64>,
    /// The sender's nonce (transfers).
    pub nonce: Option<u64>,
    /// The memo as text (transfers).
    pub memo: Option<String>,
    /// `pending` or `confirmed`.
    pub status: String,
    /// Its block (none while pending).
    pub block_hash: Option<String>,
    /// 0 while pending.
    pub confirmations: u64,
    /// When the node received it, while pending.
    pub received: Option<u64>,
}

#[derive(Deserialize)]
struct Submitted {
    txid: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let c = Client::new("http://127.0.0.1:28334/").expect("url");
        assert_eq!(
            (c.host.as_str(), c.port, c.prefix.as_str(), c.url()),
            ("127.0.0.1", 28334, "", "http://127.0.0.1:28334")
        );
        let c = Client::new("http://node.example/ox").expect("url");
        assert_eq!((c.host.as_str(), c.port, c.prefix.as_str()), ("node.example", 80, "/ox"));
        assert!(Client::new("https://x").is_err());
        assert!(Client::new("127.0.0.1:8334").is_err());
        assert!(Client::new("http://h:port").is_err());
    }

    #[test]
    fn reads_length_delimited_chunked_and_closed_answers() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain).expect("ok"), (200, "{}".into()));
        let chunked = b"HTTP/1.1 422 X\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).expect("ok"), (422, "abcde".into()));
        let closed = b"HTTP/1.1 200 OK\r\n\r\nall";
        assert_eq!(parse_response(closed).expect("ok"), (200, "all".into()));
        assert!(parse_response(b"SSH-2.0\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
    }
}
