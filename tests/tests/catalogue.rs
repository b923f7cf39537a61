//! The hostile-input catalogue (issue #6), in the manner of Bitcoin Core's `feature_block.py`
//! and `invalid_txs.py`: one live dev node per group, a table of hostile requests, and for
//! each one the status, the error code, and a snapshot of tip, mempool and the involved
//! accounts taken before and after (they must be equal), plus `/status` still answering.
//!
//! Four groups, one node each: transfers, blocks, HTTP (then 100 slow clients and a
//! 5,000-request flood), peer routes. Adding a case is one `c.push(Case::new(name, request,
//! status, code))`; a failure names every case that went wrong. Requests are raw HTTP/1.1
//! bytes sent over a fresh loopback connection, so the HTTP-level cases (lying
//! `Content-Length`, bad framing) use the same runner as the JSON ones.

use oxcoin::block::{Block, Header};
use oxcoin::rules;
use oxcoin::testkit::{self, account_of, key, transfer, transfer_with_memo};
use oxcoin::tx::{Coinbase, PublicKey, Tx};
use oxcoin::{AccountId, Address, Amount, BlockHash, CompactTarget, Decode, Encode, Height, Memo, Network, Transfer};
use oxcoin_tests::{NodeProcess, dechunk, http};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEV: &oxcoin::ChainParams = &oxcoin::params::DEV;
const TXS: &str = "/api/v1/txs";
const BLOCKS: &str = "/api/v1/blocks";
const JSON: Option<&str> = Some("application/json");

// ---------------------------------------------------------------------------------------------
// Raw HTTP over loopback
// ---------------------------------------------------------------------------------------------

/// One HTTP answer read off a socket.
#[derive(Debug, Default)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    json: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Builds a request with `Connection: close` and a truthful `Content-Length`.
fn request(method: &str, path: &str, content_type: Option<&str>, body: &[u8], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if !extra
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn post(path: &str, body: impl AsRef<[u8]>) -> Vec<u8> {
    request("POST", path, JSON, body.as_ref(), &[])
}

fn get(path: &str) -> Vec<u8> {
    request("GET", path, None, b"", &[])
}

/// Sends `bytes` on a new connection (half-closing it afterwards when asked) and reads the
/// first answer; an answer-less close gives status 0.
fn exchange(addr: SocketAddr, bytes: &[u8], half_close: bool) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    // The server may answer (and close) before it has read everything: a failed write is
    // not the node's failure, the answer is what counts.
    let _ = stream.write_all(bytes);
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw)
        && raw.is_empty()
        && e.kind() != std::io::ErrorKind::ConnectionReset
    {
        return Err(e);
    }
    Ok(parse_answer(&raw))
}

/// Parses the first final answer (interim `1xx` answers such as `100 Continue` are skipped).
fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let mut text: &str = &text;
    let (head, rest, status) = loop {
        let Some((head, rest)) = text.split_once("\r\n\r\n") else { return Answer::default() };
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if !(100..200).contains(&status) {
            break (head, rest, status);
        }
        text = rest;
    };
    let mut lines = head.split("\r\n");
    lines.next();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse::<usize>().ok());
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.get(..length.unwrap_or(rest.len()).min(rest.len())).unwrap_or("").to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Answer { status, headers, body, json }
}

// ---------------------------------------------------------------------------------------------
// The catalogue runner
// ---------------------------------------------------------------------------------------------

/// What a hostile input must leave as it was.
#[derive(PartialEq, Debug)]
struct State {
    height: Value,
    best_hash: Value,
    mempool_count: Value,
    mempool_bytes: Value,
    mempool_txids: Vec<Value>,
    /// The whole `/addresses/{a}` answer of every watched address.
    accounts: Vec<Value>,
}

impl State {
    fn take(addr: SocketAddr, watched: &[String]) -> Result<Self, String> {
        let ok = |path: &str| match http(addr, "GET", path, None, &[]) {
            Ok(r) if r.status == 200 => Ok(r.json),
            Ok(r) => Err(format!("GET {path} answered {}: {}", r.status, r.body)),
            Err(e) => Err(format!("GET {path} failed: {e}")),
        };
        let status = ok("/api/v1/status")?;
        let mempool = ok("/api/v1/mempool")?;
        let accounts = watched.iter().map(|a| ok(&format!("/api/v1/addresses/{a}"))).collect::<Result<_, _>>()?;
        Ok(Self {
            height: status["height"].clone(),
            best_hash: status["best_hash"].clone(),
            mempool_count: mempool["count"].clone(),
            mempool_bytes: mempool["bytes"].clone(),
            mempool_txids: mempool["transfers"].as_array().into_iter().flatten().map(|t| t["txid"].clone()).collect(),
            accounts,
        })
    }
}

/// One hostile input and what the node must answer.
struct Case {
    name: String,
    request: Vec<u8>,
    /// Built just before sending instead of `request` (clock-dependent inputs).
    build: Option<Box<dyn Fn() -> Vec<u8>>>,
    half_close: bool,
    expect_status: u16,
    /// `error.code` of a refusal; for a 2xx answer, its `status` field; `""` for an answer
    /// the HTTP layer gives before any route runs (no JSON body).
    expect_code: &'static str,
    expect_message: Option<String>,
    expect_header: Option<(&'static str, &'static str)>,
}

impl Case {
    fn new(name: impl Into<String>, request: Vec<u8>, expect_status: u16, expect_code: &'static str) -> Self {
        Self {
            name: name.into(),
            request,
            build: None,
            half_close: false,
            expect_status,
            expect_code,
            expect_message: None,
            expect_header: None,
        }
    }

    fn later(
        name: impl Into<String>,
        build: impl Fn() -> Vec<u8> + 'static,
        expect_status: u16,
        expect_code: &'static str,
    ) -> Self {
        Self { build: Some(Box::new(build)), ..Self::new(name, Vec::new(), expect_status, expect_code) }
    }

    /// The error message must contain `text`.
    fn message(mut self, text: impl Into<String>) -> Self {
        self.expect_message = Some(text.into());
        self
    }

    /// The answer must carry header `name` containing `value`.
    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.expect_header = Some((name, value));
        self
    }

    /// Half-closes the connection after sending (the client stops sending and waits).
    fn half_close(mut self) -> Self {
        self.half_close = true;
        self
    }

    /// What is wrong with `answer`, if anything.
    fn judge(&self, answer: &Answer) -> Option<String> {
        let code = if (200..300).contains(&answer.status) {
            answer.json["status"].as_str().unwrap_or("")
        } else {
            answer.code()
        };
        let short = &answer.body[..answer.body.len().min(300)];
        if (answer.status, code) != (self.expect_status, self.expect_code) {
            return Some(format!(
                "expected {} {:?}, got {} {code:?}: {short}",
                self.expect_status, self.expect_code, answer.status
            ));
        }
        if answer.status >= 400 && !self.expect_code.is_empty() {
            let message = answer.json["error"]["message"].as_str().unwrap_or("");
            if message.is_empty() {
                return Some(format!("no error message: {short}"));
            }
            if let Some(want) = &self.expect_message
                && !message.contains(want.as_str())
            {
                return Some(format!("message {message:?} lacks {want:?}"));
            }
        }
        if let Some((name, want)) = self.expect_header
            && !answer.header(name).is_some_and(|v| v.contains(want))
        {
            return Some(format!("header {name} should contain {want:?}, got {:?}", answer.header(name)));
        }
        None
    }
}

/// Runs every case against the node at `addr`; fails naming each case that went wrong.
fn run(addr: SocketAddr, watched: &[String], cases: Vec<Case>) -> usize {
    let count = cases.len();
    let mut failures = Vec::new();
    for case in cases {
        let before = match State::take(addr, watched) {
            Ok(state) => state,
            Err(e) => panic!("before case {}: the node does not answer: {e}", case.name),
        };
        let bytes = case.build.as_ref().map_or_else(|| case.request.clone(), |build| build());
        match exchange(addr, &bytes, case.half_close) {
            Ok(answer) => {
                if let Some(problem) = case.judge(&answer) {
                    failures.push(format!("{}: {problem}", case.name));
                }
            }
            Err(e) => failures.push(format!("{}: no answer: {e}", case.name)),
        }
        match State::take(addr, watched) {
            Ok(after) if after == before => {}
            Ok(after) => failures.push(format!("{}: state changed\nbefore {before:?}\nafter  {after:?}", case.name)),
            Err(e) => panic!("after case {}: the node no longer answers: {e}", case.name),
        }
    }
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
    count
}

/// The node's log must show no panic.
#[track_caller]
fn assert_no_panic(node: &NodeProcess) {
    let log = node.log();
    assert!(!log.contains("panicked"), "the node panicked:\n{log}");
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

fn address_of(account: AccountId) -> String {
    Address::new(Network::Dev, account).to_string()
}

fn addr(seed: u8) -> String {
    address_of(account_of(&key(seed, 0)))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// Sleeps until a new second has just begun, so that a request sent at once reaches the node
/// within the same second of its clock (for the one-second boundary of `time_too_new`).
fn wait_for_fresh_second() {
    loop {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").subsec_nanos();
        if nanos < 20_000_000 {
            return;
        }
        std::thread::sleep(Duration::from_nanos(u64::from(1_000_000_000 - nanos)));
    }
}

fn raw_tx_body(t: &Transfer) -> String {
    json!({"raw_hex": t.encode_hex()}).to_string()
}

/// The JSON-field form of a transfer (`None` when its memo is not UTF-8, which JSON cannot carry).
fn fields(t: &Transfer) -> Option<Value> {
    let memo = std::str::from_utf8(t.memo.as_bytes()).ok()?;
    Some(json!({
        "chain_id": t.chain_id,
        "from_pubkey": hex::encode(t.from.0),
        "to": address_of(t.to),
        "amount": t.amount.to_grains(),
        "fee": t.fee.to_grains(),
        "nonce": t.nonce,
        "memo": memo,
        "signature": hex::encode(t.signature),
    }))
}

/// Pushes the case in its raw form and, where JSON can carry it, in its field form.
fn both(cases: &mut Vec<Case>, name: &str, t: &Transfer, status: u16, code: &'static str) {
    cases.push(Case::new(format!("{name} (raw_hex)"), post(TXS, raw_tx_body(t)), status, code));
    if let Some(f) = fields(t) {
        cases.push(Case::new(format!("{name} (fields)"), post(TXS, f.to_string()), status, code));
    }
}

/// A field-form body with `edit` applied.
fn fields_with(t: &Transfer, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut f = fields(t).expect("a UTF-8 memo");
    edit(f.as_object_mut().expect("an object"));
    f.to_string()
}

fn edited(t: &Transfer, edit: impl FnOnce(&mut Transfer)) -> Transfer {
    let mut t = t.clone();
    edit(&mut t);
    t
}

/// Raw transfer bytes with `edit` applied, as a `POST /txs` request.
fn raw_bytes_case(name: &str, t: &Transfer, edit: impl FnOnce(&mut Vec<u8>), status: u16, code: &'static str) -> Case {
    let mut bytes = t.encode();
    edit(&mut bytes);
    Case::new(name, post(TXS, json!({"raw_hex": hex::encode(bytes)}).to_string()), status, code)
}

/// The group ℓ of Ed25519, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `s + ℓ`: the same scalar, non-canonically encoded (a malleated signature).
fn malleate(signature: [u8; 64]) -> [u8; 64] {
    let mut out = signature;
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(signature[32 + i]) + u16::from(ELL[i]) + carry;
        out[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "s + ℓ < 2^256");
    out
}

fn hex32(text: &str) -> [u8; 32] {
    let mut out = [0; 32];
    hex::decode_to_slice(text, &mut out).expect("64 hex digits");
    out
}

/// The eight points of small order (curve25519-dalek's `EIGHT_TORSION`), plus non-canonical
/// encodings of the identity (y = p + 1; x sign bit set with x = 0).
fn small_order_keys() -> Vec<(&'static str, [u8; 32])> {
    vec![
        ("identity", hex32("0100000000000000000000000000000000000000000000000000000000000000")),
        ("order 8 (a)", hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")),
        ("order 4 (y=0, sign)", hex32("0000000000000000000000000000000000000000000000000000000000000080")),
        ("order 8 (b)", hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")),
        ("order 2 (y=-1)", hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")),
        ("order 8 (c)", hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")),
        ("order 4 (all zero)", hex32("0000000000000000000000000000000000000000000000000000000000000000")),
        ("order 8 (d)", hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")),
        ("identity, y = p + 1", hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")),
        ("identity, sign bit set", hex32("0100000000000000000000000000000000000000000000000000000000000080")),
    ]
}

/// A non-canonical encoding (y + p, y ≤ 18) of a point of large order, found by trial.
fn non_canonical_large_order_key() -> [u8; 32] {
    (1u8..=18)
        .map(|y| {
            let mut bytes = [0xff; 32];
            bytes[0] = 0xed + y;
            bytes[31] = 0x7f;
            bytes
        })
        .find(|b| ed25519_dalek::VerifyingKey::from_bytes(b).is_ok_and(|k| !k.is_weak()))
        .expect("some y + p below 2^255 decodes to a point of large order")
}

// ---------------------------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------------------------

#[test]
fn hostile_transfers_are_refused_with_their_code_and_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let (alice, bob, carol) = (key(1, 0), key(2, 0), key(3, 0));
    let (bob_id, carol_id) = (account_of(&bob), account_of(&carol));
    node.generate(4, &addr(1));
    // Confirmed: alice → bob 1,000,000 grains (alice's nonce 0). Bob then holds exactly that.
    let confirmed = transfer(DEV, &alice, bob_id, 1_000_000, 1_000, 0);
    assert_eq!(node.post(TXS, &json!({"raw_hex": confirmed.encode_hex()})).status, 202);
    node.generate(1, &addr(9));
    // Pending: alice nonce 1 and bob nonce 0, so the mempool is not empty.
    let pending = transfer(DEV, &alice, carol_id, 5_000, 1_000, 1);
    let bob_pending = transfer(DEV, &bob, carol_id, 1_000, 1_000, 0);
    for t in [&pending, &bob_pending] {
        let r = node.post(TXS, &json!({"raw_hex": t.encode_hex()}));
        assert_eq!(r.status, 202, "{}", r.body);
    }
    let watched = [addr(1), addr(2), addr(3), addr(9)];

    // A valid next transfer of alice (nonce 2), flipped field by field below.
    let good = transfer_with_memo(DEV, &alice, bob_id, 1_000, 1_000, 2, b"hi".to_vec());
    let mut c = Vec::new();

    // Each rule of SPEC §6, in check order, in both forms.
    both(&mut c, "duplicate of a pending transfer", &pending, 409, "duplicate");
    both(&mut c, "duplicate of a confirmed transfer", &confirmed, 409, "duplicate");
    both(
        &mut c,
        "wrong_chain: main",
        &transfer(&oxcoin::params::MAIN, &alice, bob_id, 1_000, 1_000, 2),
        422,
        "wrong_chain",
    );
    both(
        &mut c,
        "wrong_chain: test",
        &transfer(&oxcoin::params::TEST, &alice, bob_id, 1_000, 1_000, 2),
        422,
        "wrong_chain",
    );
    let memo = |m: &[u8]| transfer_with_memo(DEV, &alice, bob_id, 1_000, 1_000, 2, m.to_vec());
    both(&mut c, "memo_too_long: 129 bytes", &memo(&[b'm'; 129]), 422, "memo_too_long");
    both(&mut c, "memo_too_long: 255 bytes", &memo(&[b'm'; 255]), 422, "memo_too_long");
    both(&mut c, "memo_too_long before invalid_memo", &memo(&[0xff; 129]), 422, "memo_too_long");
    both(&mut c, "invalid_memo: 0xff", &memo(&[0xff]), 422, "invalid_memo");
    both(&mut c, "invalid_memo: truncated sequence", &memo(&[b'a', 0xc3]), 422, "invalid_memo");
    both(&mut c, "invalid_memo: overlong NUL", &memo(&[0xc0, 0x80]), 422, "invalid_memo");
    both(&mut c, "invalid_memo: UTF-16 surrogate", &memo(&[0xed, 0xa0, 0x80]), 422, "invalid_memo");
    let mut memo_128 = memo(&[b'm'; 128]);
    memo_128.signature[0] ^= 1;
    both(&mut c, "memo of 128 bytes passes the length rule", &memo_128, 422, "invalid_signature");
    both(&mut c, "zero_amount", &transfer(DEV, &alice, bob_id, 0, 1_000, 2), 422, "zero_amount");
    both(&mut c, "zero_amount before fee_too_low", &transfer(DEV, &alice, bob_id, 0, 0, 2), 422, "zero_amount");
    both(&mut c, "fee_too_low: size − 1", &transfer(DEV, &alice, bob_id, 1, 145, 2), 422, "fee_too_low");
    both(&mut c, "fee_too_low: zero", &transfer(DEV, &alice, bob_id, 1, 0, 2), 422, "fee_too_low");
    let with_memo = transfer_with_memo(DEV, &alice, bob_id, 1, 155, 2, vec![b'x'; 10]);
    both(&mut c, "fee_too_low counts the memo", &with_memo, 422, "fee_too_low");
    let fee_exact = edited(&transfer(DEV, &alice, bob_id, 1, 146, 2), |t| t.signature[40] ^= 1);
    both(&mut c, "fee = size passes the fee rule", &fee_exact, 422, "invalid_signature");
    both(&mut c, "nonce_too_low", &transfer(DEV, &alice, bob_id, 7, 1_000, 0), 422, "nonce_too_low");
    both(&mut c, "nonce_gap: N + 64", &transfer(DEV, &alice, bob_id, 7, 1_000, 65), 422, "nonce_gap");
    both(&mut c, "nonce_gap: u64::MAX", &transfer(DEV, &alice, bob_id, 7, 1_000, u64::MAX), 422, "nonce_gap");
    let last_in_window = transfer(DEV, &alice, bob_id, 1_000_000 * 100_000_000, 1_000, 64);
    both(&mut c, "nonce N + 63 passes the window", &last_in_window, 422, "insufficient_funds");
    // Bob holds 1,000,000 grains with 2,000 pending: 998,000 are left.
    both(
        &mut c,
        "insufficient_funds: one grain short",
        &transfer(DEV, &bob, carol_id, 997_001, 1_000, 1),
        422,
        "insufficient_funds",
    );
    both(
        &mut c,
        "insufficient_funds: amount u64::MAX",
        &transfer(DEV, &bob, carol_id, u64::MAX, 146, 1),
        422,
        "insufficient_funds",
    );
    both(
        &mut c,
        "insufficient_funds: amount + fee = 2^64",
        &transfer(DEV, &bob, carol_id, u64::MAX - 145, 146, 1),
        422,
        "insufficient_funds",
    );
    both(
        &mut c,
        "insufficient_funds: fee u64::MAX",
        &transfer(DEV, &bob, carol_id, 1, u64::MAX, 1),
        422,
        "insufficient_funds",
    );
    both(
        &mut c,
        "insufficient_funds: from a new account",
        &transfer(DEV, &key(7, 0), bob_id, 1, 1_000, 0),
        422,
        "insufficient_funds",
    );
    both(
        &mut c,
        "replacement_underpriced: fee × 1.099",
        &transfer(DEV, &alice, carol_id, 5_000, 1_099, 1),
        409,
        "replacement_underpriced",
    );
    both(
        &mut c,
        "replacement_underpriced: same fee",
        &transfer(DEV, &alice, bob_id, 5_000, 1_000, 1),
        409,
        "replacement_underpriced",
    );

    // Each signed field flipped after signing: the earliest rule it breaks is reported.
    let flips: Vec<(&str, Transfer, &'static str)> = vec![
        ("chain id → 1", edited(&good, |t| t.chain_id = 1), "wrong_chain"),
        ("chain id → 3 + 256", edited(&good, |t| t.chain_id = 3 + 256), "wrong_chain"),
        ("chain id → u32::MAX", edited(&good, |t| t.chain_id = u32::MAX), "wrong_chain"),
        (
            "from → bob's key",
            edited(&good, |t| t.from = PublicKey(bob.verifying_key().to_bytes())),
            "invalid_signature",
        ),
        ("from → one bit", edited(&good, |t| t.from.0[7] ^= 0x10), "invalid_signature"),
        (
            "to → one bit",
            edited(&good, |t| {
                t.to = AccountId::from_byte_array({
                    let mut b = *t.to.as_bytes();
                    b[0] ^= 1;
                    b
                })
            }),
            "invalid_signature",
        ),
        ("amount + 1", edited(&good, |t| t.amount = Amount::from_grains(1_001)), "invalid_signature"),
        ("amount → 0", edited(&good, |t| t.amount = Amount::from_grains(0)), "zero_amount"),
        ("fee + 1", edited(&good, |t| t.fee = Amount::from_grains(1_001)), "invalid_signature"),
        ("fee → size − 1", edited(&good, |t| t.fee = Amount::from_grains(147)), "fee_too_low"),
        ("nonce + 1", edited(&good, |t| t.nonce = 3), "invalid_signature"),
        ("nonce → 0", edited(&good, |t| t.nonce = 0), "invalid_signature"),
        ("memo hi → ho", edited(&good, |t| t.memo = Memo::new(b"ho".to_vec()).expect("short")), "invalid_signature"),
        ("memo → empty", edited(&good, |t| t.memo = Memo::new(Vec::new()).expect("short")), "invalid_signature"),
        ("memo → not UTF-8", edited(&good, |t| t.memo = Memo::new(vec![0xff, b'i']).expect("short")), "invalid_memo"),
        ("memo → 129 bytes", edited(&good, |t| t.memo = Memo::new(vec![b'h'; 129]).expect("short")), "memo_too_long"),
        ("signature R bit", edited(&good, |t| t.signature[3] ^= 0x04), "invalid_signature"),
        ("signature s bit", edited(&good, |t| t.signature[40] ^= 0x01), "invalid_signature"),
        ("signature s + ℓ (malleated)", edited(&good, |t| t.signature = malleate(t.signature)), "invalid_signature"),
        ("signature all zero", edited(&good, |t| t.signature = [0; 64]), "invalid_signature"),
        ("signature all 0xff", edited(&good, |t| t.signature = [0xff; 64]), "invalid_signature"),
    ];
    for (name, t, code) in &flips {
        both(&mut c, &format!("signed field flipped: {name}"), t, 422, code);
    }

    // Small-order and non-canonical keys, with alice's signature and with the (R = identity,
    // s = 0) signature that a cofactorless non-strict check would accept under a weak key.
    let mut identity_sig = [0u8; 64];
    identity_sig[0] = 1;
    for (name, k) in small_order_keys() {
        assert!(
            ed25519_dalek::VerifyingKey::from_bytes(&k).map_or(true, |v| v.is_weak()),
            "{name} is a small-order encoding"
        );
        let weak = edited(&good, |t| t.from = PublicKey(k));
        both(&mut c, &format!("small-order key {name}"), &weak, 422, "invalid_signature");
        let forged = edited(&weak, |t| t.signature = identity_sig);
        c.push(Case::new(
            format!("small-order key {name}, signature (identity, 0)"),
            post(TXS, raw_tx_body(&forged)),
            422,
            "invalid_signature",
        ));
    }
    let non_canonical = edited(&good, |t| t.from = PublicKey(non_canonical_large_order_key()));
    both(&mut c, "non-canonical large-order key", &non_canonical, 422, "invalid_signature");

    // Encodings: trailing, missing, re-framed bytes; kinds other than transfer.
    c.push(raw_bytes_case("raw: one trailing byte", &good, |b| b.push(0), 400, "malformed"));
    c.push(raw_bytes_case(
        "raw: one byte short",
        &good,
        |b| {
            b.pop();
        },
        400,
        "malformed",
    ));
    c.push(raw_bytes_case("raw: memo_len one longer than the memo", &good, |b| b[81] += 1, 400, "malformed"));
    c.push(raw_bytes_case("raw: memo_len one shorter than the memo", &good, |b| b[81] -= 1, 400, "malformed"));
    c.push(raw_bytes_case("raw: memo_len 255, bytes missing", &good, |b| b[81] = 255, 400, "malformed"));
    c.push(raw_bytes_case("raw: kind 0 (coinbase) on a transfer's bytes", &good, |b| b[0] = 0, 400, "malformed"));
    c.push(raw_bytes_case("raw: kind 2", &good, |b| b[0] = 2, 400, "malformed"));
    c.push(raw_bytes_case("raw: kind 255", &good, |b| b[0] = 255, 400, "malformed"));
    c.push(raw_bytes_case("raw: header only", &good, |b| b.truncate(1), 400, "malformed"));
    let coinbase = Tx::Coinbase(Coinbase { height: 6, to: bob_id, amount: Amount::ONE_OXC, extra_nonce: 0 });
    c.push(Case::new(
        "raw: a coinbase",
        post(TXS, json!({"raw_hex": coinbase.encode_hex()}).to_string()),
        400,
        "malformed",
    ));
    let raw_good = good.encode_hex();
    let raw_cases: Vec<(&str, String)> = vec![
        ("raw_hex empty", String::new()),
        ("raw_hex odd length", raw_good[1..].to_owned()),
        ("raw_hex not hex", format!("zz{}", &raw_good[2..])),
        ("raw_hex with a 0x prefix", format!("0x{raw_good}")),
        ("raw_hex with an inner space", format!("{} {}", &raw_good[..20], &raw_good[20..])),
        ("raw_hex with a NUL", format!("{raw_good}\u{0}")),
    ];
    for (name, hex) in raw_cases {
        c.push(Case::new(name, post(TXS, json!({"raw_hex": hex}).to_string()), 400, "malformed"));
    }
    let mut field_cases: Vec<(&str, String)> = vec![
        ("raw_hex and a field together", json!({"raw_hex": raw_good, "nonce": 2}).to_string()),
        ("raw_hex as a number", r#"{"raw_hex": 12}"#.to_owned()),
        (
            "kind coinbase",
            fields_with(&good, |f| {
                f.insert("kind".into(), json!("coinbase"));
            }),
        ),
        (
            "kind Transfer (case)",
            fields_with(&good, |f| {
                f.insert("kind".into(), json!("Transfer"));
            }),
        ),
        (
            "kind as a number",
            fields_with(&good, |f| {
                f.insert("kind".into(), json!(1));
            }),
        ),
        (
            "missing signature",
            fields_with(&good, |f| {
                f.remove("signature");
            }),
        ),
        (
            "missing to",
            fields_with(&good, |f| {
                f.remove("to");
            }),
        ),
        (
            "nonce null",
            fields_with(&good, |f| {
                f.insert("nonce".into(), Value::Null);
            }),
        ),
        (
            "from_pubkey 62 hex digits",
            fields_with(&good, |f| {
                f.insert("from_pubkey".into(), json!("ab".repeat(31)));
            }),
        ),
        (
            "from_pubkey 66 hex digits",
            fields_with(&good, |f| {
                f.insert("from_pubkey".into(), json!("ab".repeat(33)));
            }),
        ),
        (
            "signature 130 hex digits",
            fields_with(&good, |f| {
                f.insert("signature".into(), json!("ab".repeat(65)));
            }),
        ),
        (
            "signature not hex",
            fields_with(&good, |f| {
                f.insert("signature".into(), json!("zz".repeat(64)));
            }),
        ),
        (
            "to: a main-network address",
            fields_with(&good, |f| {
                f.insert("to".into(), json!(Address::new(Network::Main, bob_id).to_string()));
            }),
        ),
        (
            "to: bad checksum",
            fields_with(&good, |f| {
                let mut a = addr(2);
                let last = if a.ends_with('q') { 'p' } else { 'q' };
                a.pop();
                a.push(last);
                f.insert("to".into(), json!(a));
            }),
        ),
        (
            "to: mixed case",
            fields_with(&good, |f| {
                f.insert("to".into(), json!(addr(2).replacen('d', "D", 1)));
            }),
        ),
        (
            "amount negative",
            fields_with(&good, |f| {
                f.insert("amount".into(), json!(-1));
            }),
        ),
        (
            "amount fractional",
            fields_with(&good, |f| {
                f.insert("amount".into(), json!(1.5));
            }),
        ),
        (
            "amount as a string",
            fields_with(&good, |f| {
                f.insert("amount".into(), json!("1000"));
            }),
        ),
        (
            "fee 1e3",
            fields_with(&good, |f| {
                f.insert("fee".into(), json!(1e3));
            }),
        ),
        (
            "chain_id 2^32",
            fields_with(&good, |f| {
                f.insert("chain_id".into(), json!(1u64 << 32));
            }),
        ),
        (
            "memo of 256 bytes",
            fields_with(&good, |f| {
                f.insert("memo".into(), json!("m".repeat(256)));
            }),
        ),
        (
            "memo as an array",
            fields_with(&good, |f| {
                f.insert("memo".into(), json!([104, 105]));
            }),
        ),
        (
            "unknown field",
            fields_with(&good, |f| {
                f.insert("from".into(), json!(addr(1)));
            }),
        ),
    ];
    let good_fields = fields(&good).expect("UTF-8 memo").to_string();
    field_cases.push(("memo: lone surrogate escape", good_fields.replace(r#""memo":"hi""#, r#""memo":"\ud800""#)));
    field_cases.push(("amount 2^64", good_fields.replace(r#""amount":1000"#, r#""amount":18446744073709551616"#)));
    field_cases.push(("duplicate key amount", good_fields.replacen('{', r#"{"amount":1,"#, 1)));
    for (name, body) in field_cases {
        c.push(Case::new(format!("fields: {name}"), post(TXS, body), 400, "malformed"));
    }
    // The control: the flipped transfers above are refused for their flip, not for their base.
    let count = run(node.addr, &watched, c);
    let r = node.post(TXS, &json!({"raw_hex": good.encode_hex()}));
    assert_eq!(r.status, 202, "the unflipped transfer is valid: {}", r.body);
    assert_no_panic(&node);
    eprintln!("transfer catalogue: {count} cases");
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

/// The node's tip block, rebuilt from `GET /blocks/tip`.
fn tip_block(node: &NodeProcess) -> (Block, u64) {
    let tip = node.get("/api/v1/blocks/tip").json;
    let header = Header::decode_hex(tip["header_hex"].as_str().expect("header_hex")).expect("80 bytes");
    let txs = tip["txs"]
        .as_array()
        .expect("txs")
        .iter()
        .map(|t| Tx::decode_hex(t["raw_hex"].as_str().expect("raw_hex")).expect("a tx"))
        .collect();
    (Block { header, txs }, tip["height"].as_u64().expect("height"))
}

/// Median time past for the block after the tip (SPEC §4; upper middle).
fn median_time_past(node: &NodeProcess, tip_height: u64) -> u32 {
    let from = tip_height.saturating_sub(10);
    let blocks = node.get(&format!("/api/v1/blocks?from={from}&limit=11")).json;
    let mut times: Vec<u32> = blocks["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|b| u32::try_from(b["time"].as_u64().expect("time")).expect("u32"))
        .collect();
    assert_eq!(times.len(), 11);
    assert_eq!(rules::median_time_past(&times), {
        times.sort_unstable();
        times[times.len() / 2]
    });
    times[times.len() / 2]
}

fn block_case(name: &str, block: &Block, status: u16, code: &'static str) -> Case {
    Case::new(name, post(BLOCKS, json!({"raw_hex": block.encode_hex()}).to_string()), status, code)
}

fn coinbase_mut(block: &mut Block) -> &mut Coinbase {
    match block.txs.first_mut() {
        Some(Tx::Coinbase(c)) => c,
        _ => panic!("the block starts with a coinbase"),
    }
}

/// `block` with `edit` applied, then resealed (Merkle root and proof of work again).
fn resealed(block: &Block, edit: impl FnOnce(&mut Block)) -> Block {
    let mut b = block.clone();
    edit(&mut b);
    testkit::reseal(&mut b, DEV);
    b
}

/// `block` with `edit` applied to its body only: the header (and hash) stay as they were.
fn body_edited(block: &Block, edit: impl FnOnce(&mut Block)) -> Block {
    let mut b = block.clone();
    edit(&mut b);
    b
}

/// A header edit, then proof of work solved again (the Merkle root is left alone).
fn header_edited(block: &Block, edit: impl FnOnce(&mut Header)) -> Block {
    let mut b = block.clone();
    edit(&mut b.header);
    testkit::solve(&mut b.header, DEV);
    b
}

fn unsolved(block: &Block) -> Block {
    let mut b = block.clone();
    while b.header.validate_pow(DEV.pow_limit).is_ok() {
        b.header.nonce = b.header.nonce.wrapping_add(1);
    }
    b
}

/// A block of exactly `size` bytes on the tip: valid header, coinbase, then transfers of
/// alice's key with bad signatures (valid memos of at most 128 bytes, distinct nonces).
fn block_of_size(base: &Block, size: usize) -> Block {
    let junk = |nonce: u64, memo: usize| {
        let mut t = transfer_with_memo(DEV, &key(1, 0), AccountId::default(), 1, 1_000, nonce, vec![b'x'; memo]);
        t.signature = [2; 64];
        t
    };
    let mut b = base.clone();
    b.txs.truncate(1);
    let full = 2 + oxcoin::tx::TRANSFER_BASE_LEN + 128;
    let mut nonce = 0;
    while size - b.encoded_len() >= full + 2 + oxcoin::tx::TRANSFER_BASE_LEN {
        b.txs.push(Tx::Transfer(junk(nonce, 128)));
        nonce += 1;
    }
    let rest = size - b.encoded_len() - 2 - oxcoin::tx::TRANSFER_BASE_LEN;
    b.txs.push(Tx::Transfer(junk(nonce, rest)));
    testkit::reseal(&mut b, DEV);
    assert_eq!(b.encoded_len(), size);
    b
}

#[test]
fn hostile_blocks_are_refused_with_their_code_and_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let alice = key(1, 0);
    let (alice_id, bob_id, miner) = (account_of(&alice), account_of(&key(2, 0)), account_of(&key(9, 0)));
    node.generate(12, &addr(1));
    let pending = transfer(DEV, &alice, bob_id, 7_000, 1_000, 0);
    assert_eq!(node.post(TXS, &json!({"raw_hex": pending.encode_hex()})).status, 202);
    let watched = [addr(1), addr(2), addr(9)];
    let (tip, height) = tip_block(&node);
    assert_eq!(height, 12);
    let tip_hash = tip.header.hash();
    let h = height + 1;
    let mtp = median_time_past(&node, height);
    // Alice's rewards of blocks 1..=10 are credited; the next block credits block 11's.
    let alice_balance = node.get(&format!("/api/v1/addresses/{}", addr(1))).json["balance"].as_u64().expect("balance");
    assert_eq!(alice_balance, 500 * 100_000_000);
    let spendable = alice_balance + 50 * 100_000_000;

    let next = |time: u32, transfers: Vec<Transfer>| testkit::block(DEV, tip_hash, h, time, miner, transfers);
    let pay = transfer(DEV, &alice, bob_id, 100_000_000, 1_000, 0);
    // The block that the catalogue finally submits correctly: time MTP + 1, a paying transfer,
    // coinbase = subsidy + fee. Its hash first meets three wrong bodies.
    let good = next(mtp + 1, vec![pay.clone()]);
    let orphan_child = testkit::block(DEV, good.header.hash(), h + 1, mtp + 2, miner, Vec::new());
    let empty = next(mtp + 1, Vec::new());
    let plus_grain = |b: &Block| {
        resealed(b, |b| coinbase_mut(b).amount = coinbase_mut(b).amount.checked_add(Amount::ONE_GRAIN).expect("small"))
    };

    let mut c = Vec::new();
    // Parse (400).
    for (name, hex) in [
        ("raw_hex empty", String::new()),
        ("raw_hex not hex", "zz".repeat(100)),
        ("raw_hex odd length", good.encode_hex()[1..].to_owned()),
        ("a lone header", hex::encode(good.header.to_bytes())),
        ("tx_count 1, no transaction", format!("{}01000000", hex::encode(good.header.to_bytes()))),
        ("tx_count u32::MAX", format!("{}ffffffff{}", hex::encode(good.header.to_bytes()), "00".repeat(200))),
        ("trailing byte", format!("{}00", good.encode_hex())),
        ("one byte short", {
            let x = good.encode_hex();
            x[..x.len() - 2].to_owned()
        }),
    ] {
        c.push(Case::new(
            format!("block: {name}"),
            post(BLOCKS, json!({"raw_hex": hex}).to_string()),
            400,
            "malformed",
        ));
    }
    let framed = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = good.encode();
        edit(&mut bytes);
        post(BLOCKS, json!({"raw_hex": hex::encode(bytes)}).to_string())
    };
    // Offsets: header 80, tx_count 4, then the coinbase's u16 length at 84.
    c.push(Case::new("block: tx length prefix one short", framed(&|b| b[84] -= 1), 400, "malformed"));
    c.push(Case::new("block: tx length prefix one long", framed(&|b| b[84] += 1), 400, "malformed"));
    c.push(Case::new("block: kind 2 inside", framed(&|b| b[86] = 2), 400, "malformed"));
    c.push(Case::new("block: tx_count one more", framed(&|b| b[80] += 1), 400, "malformed"));
    c.push(Case::new(
        "block: unknown field",
        post(BLOCKS, json!({"raw_hex": good.encode_hex(), "force": true}).to_string()),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "block: hex instead of raw_hex",
        post(BLOCKS, json!({"hex": good.encode_hex()}).to_string()),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "block: raw_hex twice",
        post(BLOCKS, format!(r#"{{"raw_hex":"{}","raw_hex":"00"}}"#, good.encode_hex())),
        400,
        "malformed",
    ));
    c.push(Case::new("block: raw_hex as an array", post(BLOCKS, r#"{"raw_hex":["00"]}"#), 400, "malformed"));

    // Size (413 too_large, before everything else but parsing) on both sides of 1,000,000.
    let at_limit = block_of_size(&next(mtp + 1, Vec::new()), DEV.max_block_size);
    let over_limit = block_of_size(&next(mtp + 1, Vec::new()), DEV.max_block_size + 1);
    c.push(
        block_case("size 1,000,000 passes the size rule", &at_limit, 422, "invalid_tx")
            .message("transaction 1: invalid_signature"),
    );
    c.push(block_case("size 1,000,001", &over_limit, 413, "too_large"));
    c.push(block_case("size 1,000,001 with a bad proof of work", &unsolved(&over_limit), 413, "too_large"));
    c.push(Case::new(
        "body over the /blocks limit",
        post(BLOCKS, json!({"raw_hex": "00".repeat(DEV.max_block_size + 600)}).to_string()),
        413,
        "too_large",
    ));

    // Known (200) comes before proof of work.
    c.push(block_case("the tip again", &tip, 200, "known"));
    c.push(block_case("genesis again", &DEV.genesis_block(), 200, "known"));

    // Proof of work (high_hash): before the parent lookup, so orphans need it too.
    c.push(block_case("high_hash: nonce misses the target", &unsolved(&empty), 422, "high_hash"));
    let mut unknown_parent = [7u8; 32];
    unknown_parent[0] = 1;
    let orphan = testkit::block(DEV, BlockHash::from_byte_array(unknown_parent), h + 5, mtp + 1, miner, Vec::new());
    c.push(block_case("high_hash on an unknown parent", &unsolved(&orphan), 422, "high_hash"));
    for (name, bits) in [
        ("bits above the pow limit", 0x2100_ffff),
        ("bits zero", 0),
        ("bits with a zero mantissa", 0x2000_0000),
        ("bits negative", 0x2080_0001),
        ("bits overflowing", 0xff12_3456),
    ] {
        let mut b = empty.clone();
        b.header.bits = CompactTarget::from_consensus(bits);
        c.push(block_case(&format!("high_hash: {name}"), &b, 422, "high_hash"));
    }

    // Unknown parent: kept as an orphan (the orphan pool changes, nothing else).
    c.push(block_case("orphan: unknown parent", &orphan, 202, "orphan"));
    c.push(block_case("orphan: the same again", &orphan, 202, "orphan"));
    c.push(block_case("orphan: child of the block still to come", &orphan_child, 202, "orphan"));
    // The parent lookup comes before bits, time and body: an orphan is judged once its parent is known.
    let stray = |edit: &dyn Fn(&mut Block)| {
        let mut b = orphan.clone();
        edit(&mut b);
        testkit::solve(&mut b.header, DEV);
        b
    };
    c.push(block_case(
        "orphan before bad_bits",
        &stray(&|b| b.header.bits = CompactTarget::from_consensus(0x207f_fffe)),
        202,
        "orphan",
    ));
    c.push(block_case("orphan before time_too_old", &stray(&|b| b.header.time = 0), 202, "orphan"));
    c.push(block_case("orphan before bad_merkle_root", &stray(&|b| b.txs.clear()), 202, "orphan"));

    // Bits (bad_bits): compared as raw u32 values.
    c.push(block_case(
        "bad_bits: pow limit − 1",
        &header_edited(&empty, |hd| hd.bits = CompactTarget::from_consensus(0x207f_fffe)),
        422,
        "bad_bits",
    ));
    c.push(block_case(
        "bad_bits: harder target",
        &header_edited(&empty, |hd| hd.bits = CompactTarget::from_consensus(0x207f_0000)),
        422,
        "bad_bits",
    ));
    c.push(block_case(
        "bad_bits before time_too_old",
        &header_edited(&empty, |hd| {
            hd.bits = CompactTarget::from_consensus(0x207f_fffe);
            hd.time = 0;
        }),
        422,
        "bad_bits",
    ));

    // Time: MTP fails, MTP + 1 passes (shown by a later rule); now + 600 passes, now + 601 fails.
    let old = header_edited(&empty, |hd| hd.time = mtp);
    c.push(block_case(
        "time_too_old before bad_merkle_root",
        &body_edited(&old, |b| coinbase_mut(b).extra_nonce = 1),
        422,
        "time_too_old",
    ));
    c.push(block_case("time_too_old: time = MTP", &old, 422, "time_too_old"));
    c.push(block_case(
        "time_too_old: time = MTP − 1",
        &header_edited(&empty, |hd| hd.time = mtp - 1),
        422,
        "time_too_old",
    ));
    c.push(block_case("time_too_old: time 0", &header_edited(&empty, |hd| hd.time = 0), 422, "time_too_old"));
    c.push(block_case("time_too_old is remembered for the hash", &old, 422, "time_too_old"));
    let child_of_old = testkit::block(DEV, old.header.hash(), h + 1, mtp + 2, miner, Vec::new());
    c.push(block_case("bad_prev_block: child of a time_too_old block", &child_of_old, 422, "bad_prev_block"));
    c.push(block_case(
        "bad_prev_block before bad_bits",
        &header_edited(&child_of_old, |hd| hd.bits = CompactTarget::from_consensus(0x207f_fffe)),
        422,
        "bad_prev_block",
    ));
    c.push(block_case(
        "bad_prev_block before bad_merkle_root",
        &body_edited(&child_of_old, |b| b.txs.clear()),
        422,
        "bad_prev_block",
    ));
    c.push(block_case("time = MTP + 1 passes the time rule", &plus_grain(&empty), 422, "bad_coinbase"));
    let future = move |seconds: u32, greedy: bool| {
        let mut b =
            testkit::block(DEV, tip_hash, h, u32::try_from(unix_now()).expect("u32") + seconds, miner, Vec::new());
        if greedy {
            coinbase_mut(&mut b).amount = coinbase_mut(&mut b).amount.checked_add(Amount::ONE_GRAIN).expect("small");
            testkit::reseal(&mut b, DEV);
        }
        post(BLOCKS, json!({"raw_hex": b.encode_hex()}).to_string())
    };
    c.push(Case::later("time = now + 600 passes the time rule", move || future(600, true), 422, "bad_coinbase"));
    c.push(Case::later(
        "time_too_new: now + 601",
        move || {
            wait_for_fresh_second();
            future(601, false)
        },
        422,
        "time_too_new",
    ));
    c.push(block_case("time_too_new: u32::MAX", &header_edited(&empty, |hd| hd.time = u32::MAX), 422, "time_too_new"));

    // A body that is not the header's (bad_merkle_root) marks nothing: three wrong bodies for
    // the hash of `good`, which is submitted correctly at the end.
    let wrong_bodies = [
        ("coinbase extra_nonce changed", body_edited(&good, |b| coinbase_mut(b).extra_nonce = 99)),
        (
            "transfer dropped",
            body_edited(&good, |b| {
                b.txs.pop();
            }),
        ),
        ("transfer repeated", body_edited(&good, |b| b.txs.push(Tx::Transfer(pay.clone())))),
        (
            "coinbase amount + 1 grain",
            body_edited(&good, |b| {
                coinbase_mut(b).amount = coinbase_mut(b).amount.checked_add(Amount::ONE_GRAIN).expect("small")
            }),
        ),
    ];
    for (name, b) in &wrong_bodies {
        assert_eq!(b.header.hash(), good.header.hash());
        c.push(block_case(&format!("bad_merkle_root: {name}"), b, 422, "bad_merkle_root"));
    }
    c.push(block_case(
        "bad_merkle_root: zero root",
        &header_edited(&empty, |hd| hd.merkle_root = Default::default()),
        422,
        "bad_merkle_root",
    ));

    // Body rules, each past the Merkle check (resealed).
    let coinbase = Tx::Coinbase(*coinbase_mut(&mut empty.clone()));
    c.push(block_case("no_coinbase: empty block", &resealed(&empty, |b| b.txs.clear()), 422, "no_coinbase"));
    c.push(block_case(
        "no_coinbase: a transfer first",
        &resealed(&empty, |b| b.txs = vec![Tx::Transfer(pay.clone())]),
        422,
        "no_coinbase",
    ));
    c.push(block_case("no_coinbase: coinbase second", &resealed(&good, |b| b.txs.reverse()), 422, "no_coinbase"));
    c.push(block_case(
        "no_coinbase before duplicate_tx",
        &resealed(&empty, |b| b.txs = vec![Tx::Transfer(pay.clone()), Tx::Transfer(pay.clone())]),
        422,
        "no_coinbase",
    ));
    c.push(
        block_case(
            "duplicate_tx: a transfer twice",
            &next(mtp + 1, vec![pay.clone(), pay.clone()]),
            422,
            "duplicate_tx",
        )
        .message("transaction 2"),
    );
    c.push(block_case(
        "duplicate_tx: two equal coinbases",
        &resealed(&empty, |b| b.txs.push(coinbase.clone())),
        422,
        "duplicate_tx",
    ));
    c.push(
        block_case(
            "bad_coinbase: a second coinbase",
            &resealed(&empty, |b| {
                let mut second = *coinbase_mut(b);
                second.extra_nonce = 1;
                b.txs.push(Tx::Coinbase(second));
            }),
            422,
            "bad_coinbase",
        )
        .message("second coinbase"),
    );
    c.push(
        block_case(
            "bad_coinbase: second coinbase after a transfer",
            &resealed(&good, |b| {
                let mut second = *coinbase_mut(b);
                second.extra_nonce = 1;
                b.txs.push(Tx::Coinbase(second));
            }),
            422,
            "bad_coinbase",
        )
        .message("transaction 2"),
    );
    for (name, height) in [("h − 1", h - 1), ("h + 1", h + 1), ("0", 0), ("u64::MAX", u64::MAX)] {
        c.push(
            block_case(
                &format!("bad_coinbase: height {name}"),
                &resealed(&empty, |b| coinbase_mut(b).height = height),
                422,
                "bad_coinbase",
            )
            .message("coinbase height"),
        );
    }
    c.push(
        block_case("bad_coinbase: amount + 1 grain", &plus_grain(&good), 422, "bad_coinbase")
            .message("coinbase claims"),
    );
    c.push(
        block_case(
            "bad_coinbase: amount − 1 grain",
            &resealed(&good, |b| coinbase_mut(b).amount = Amount::from_grains(coinbase_mut(b).amount.to_grains() - 1)),
            422,
            "bad_coinbase",
        )
        .message("coinbase claims"),
    );
    c.push(block_case(
        "bad_coinbase: fees not claimed",
        &resealed(&good, |b| coinbase_mut(b).amount = rules::subsidy(Height(h), DEV)),
        422,
        "bad_coinbase",
    ));
    c.push(block_case(
        "bad_coinbase: amount 0",
        &resealed(&empty, |b| coinbase_mut(b).amount = Amount::from_grains(0)),
        422,
        "bad_coinbase",
    ));
    c.push(block_case(
        "duplicate_tx before the coinbase amount",
        &resealed(&next(mtp + 1, vec![pay.clone(), pay.clone()]), |b| coinbase_mut(b).amount = Amount::from_grains(1)),
        422,
        "duplicate_tx",
    ));

    // invalid_tx names the transfer's index and its code.
    let t = |from: u8, amount: u64, fee: u64, nonce: u64| transfer(DEV, &key(from, 0), bob_id, amount, fee, nonce);
    let forged = edited(&t(1, 5, 1_000, 0), |t| t.signature[50] ^= 1);
    let invalid_txs: Vec<(&str, Vec<Transfer>, &str)> = vec![
        ("funds one grain short", vec![t(1, spendable - 999, 1_000, 0)], "transaction 1: insufficient_funds"),
        ("amount + fee overflowing u64", vec![t(1, u64::MAX - 145, 146, 0)], "transaction 1: insufficient_funds"),
        ("sender without funds", vec![t(5, 1, 1_000, 0)], "transaction 1: insufficient_funds"),
        ("nonce reused in the block", vec![t(1, 5, 1_000, 0), t(1, 6, 1_000, 0)], "transaction 2: nonce_too_low"),
        ("nonce ahead", vec![t(1, 5, 1_000, 1)], "transaction 1: nonce_gap"),
        (
            "nonce ahead at index 3",
            vec![t(1, 5, 1_000, 0), t(1, 5, 1_000, 1), t(1, 5, 1_000, 3)],
            "transaction 3: nonce_gap",
        ),
        ("bad signature", vec![forged.clone()], "transaction 1: invalid_signature"),
        (
            "bad signature at index 2",
            vec![t(1, 5, 1_000, 0), edited(&t(1, 5, 1_000, 1), |t| t.signature[1] ^= 1)],
            "transaction 2: invalid_signature",
        ),
        (
            "wrong chain",
            vec![transfer(&oxcoin::params::MAIN, &alice, bob_id, 5, 1_000, 0)],
            "transaction 1: wrong_chain",
        ),
        ("zero amount", vec![t(1, 0, 1_000, 0)], "transaction 1: zero_amount"),
        ("fee too low", vec![t(1, 5, 145, 0)], "transaction 1: fee_too_low"),
        (
            "memo too long",
            vec![transfer_with_memo(DEV, &alice, bob_id, 5, 1_000, 0, vec![b'm'; 129])],
            "transaction 1: memo_too_long",
        ),
        (
            "memo not UTF-8",
            vec![transfer_with_memo(DEV, &alice, bob_id, 5, 1_000, 0, vec![0xfe])],
            "transaction 1: invalid_memo",
        ),
        (
            "small-order key",
            vec![edited(&t(1, 5, 1_000, 0), |t| t.from = PublicKey(small_order_keys()[0].1))],
            "transaction 1: invalid_signature",
        ),
    ];
    for (name, transfers, message) in invalid_txs {
        c.push(
            block_case(&format!("invalid_tx: {name}"), &next(mtp + 1, transfers), 422, "invalid_tx").message(message),
        );
    }
    c.push(block_case(
        "funds exactly enough pass the funds rule",
        &plus_grain(&next(mtp + 1, vec![t(1, spendable - 1_000, 1_000, 0)])),
        422,
        "bad_coinbase",
    ));
    c.push(block_case(
        "invalid_tx before the coinbase amount",
        &plus_grain(&next(mtp + 1, vec![forged])),
        422,
        "invalid_tx",
    ));
    // After a bad_merkle_root, the hash is not poisoned: same wrong body, same answer.
    c.push(block_case("bad_merkle_root again for the same hash", &wrong_bodies[0].1, 422, "bad_merkle_root"));

    let count = run(node.addr, &watched, c);

    // The correct body for the hash that four wrong bodies failed is accepted, and the orphan
    // waiting on it connects after it.
    let r = node.post(BLOCKS, &json!({"raw_hex": good.encode_hex()}));
    assert_eq!((r.status, r.json["status"].as_str()), (202, Some("connected")), "{}", r.body);
    let status = node.get("/api/v1/status").json;
    assert_eq!(status["height"].as_u64(), Some(h + 1), "the orphan child connected: {status}");
    assert_eq!(status["best_hash"].as_str(), Some(orphan_child.header.hash().to_string().as_str()));
    let r = node.post(BLOCKS, &json!({"raw_hex": good.encode_hex()}));
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("known")), "{}", r.body);
    let bob = node.get(&format!("/api/v1/addresses/{}", address_of(bob_id))).json;
    assert_eq!(bob["balance"].as_u64(), Some(100_000_000), "{bob}");
    let alice_after = node.get(&format!("/api/v1/addresses/{}", address_of(alice_id))).json;
    assert_eq!(alice_after["nonce"].as_u64(), Some(1), "{alice_after}");
    // The pending transfer with the same nonce as the block's lost its place.
    assert_eq!(node.get("/api/v1/mempool").json["count"].as_u64(), Some(0));
    assert_no_panic(&node);
    eprintln!("block catalogue: {count} cases");
}

// ---------------------------------------------------------------------------------------------
// HTTP level
// ---------------------------------------------------------------------------------------------

/// A request whose `Content-Length` is `declared`, followed by `body` as it is.
fn lying(path: &str, declared: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path, JSON, body, &[("Content-Length", declared)])
}

fn with_type(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path, Some(content_type), body, &[])
}

/// A `POST /txs` body of exactly `size` bytes: `t` in raw form, padded with spaces.
fn padded(t: &Transfer, size: usize) -> String {
    let body = raw_tx_body(t);
    format!("{body}{}", " ".repeat(size - body.len()))
}

/// Sends requests on one keep-alive connection (reconnecting whenever the node closes it) and
/// returns each answer's status; `None` marks a request that got no answer.
fn keep_alive_burst(addr: SocketAddr, requests: &[Vec<u8>]) -> Vec<Option<u16>> {
    let connect = || {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        (stream, reader)
    };
    let (mut stream, mut reader) = connect();
    let mut statuses = Vec::with_capacity(requests.len());
    for req in requests {
        let mut answer = None;
        for _attempt in 0..2 {
            if stream.write_all(req).is_ok()
                && let Some((status, close)) = read_one(&mut reader)
            {
                answer = Some(status);
                if close {
                    (stream, reader) = connect();
                }
                break;
            }
            (stream, reader) = connect();
        }
        statuses.push(answer);
    }
    statuses
}

/// Reads one answer with a `Content-Length` body; its status and whether the node closes.
fn read_one(reader: &mut BufReader<TcpStream>) -> Option<(u16, bool)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let (mut length, mut close) = (0usize, false);
    loop {
        line.clear();
        reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "connection" => close = value.trim().eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((status, close))
}

#[test]
fn hostile_http_is_refused_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let alice = key(1, 0);
    let bob_id = account_of(&key(2, 0));
    node.generate(3, &addr(1));
    let pending = transfer(DEV, &alice, bob_id, 7_000, 1_000, 0);
    assert_eq!(node.post(TXS, &json!({"raw_hex": pending.encode_hex()})).status, 202);
    let watched = [addr(1), addr(2)];
    let cookie = node.cookie();
    let bearer = format!("Bearer {cookie}");
    let admin = |path: &str, body: &str| request("POST", path, JSON, body.as_bytes(), &[("Authorization", &bearer)]);
    let forged = edited(&transfer(DEV, &alice, bob_id, 5, 1_000, 1), |t| t.signature[9] ^= 1);

    let mut c = Vec::new();
    // Truncated and trailing JSON.
    for (name, body) in [
        ("empty body", ""),
        ("a lone brace", "{"),
        ("cut inside a string", r#"{"raw_hex": "01"#),
        ("cut after a key", r#"{"raw_hex""#),
        ("cut after a colon", r#"{"raw_hex":"#),
        ("no closing brace", r#"{"raw_hex":"00""#),
        ("trailing brace", r#"{"raw_hex":"00"}}"#),
        ("two documents", r#"{"raw_hex":"00"} {}"#),
        ("a trailing comma", r#"{"raw_hex":"00",}"#),
        ("single quotes", "{'raw_hex':'00'}"),
        ("a comment", r#"{"raw_hex":"00" /* x */}"#),
        ("NaN", r#"{"amount": NaN}"#),
        ("a BOM", "\u{feff}{\"raw_hex\":\"00\"}"),
        ("invalid UTF-8 is no JSON", "{\"raw_hex\":\"\u{fffd}\"}"),
    ] {
        c.push(Case::new(format!("json: {name}"), post(TXS, body), 400, "malformed"));
    }
    c.push(Case::new("json: raw invalid UTF-8 bytes", post(TXS, b"{\"memo\":\"\xff\xfe\"}"), 400, "malformed"));
    // Wrong types.
    for (name, path, body) in [
        ("an array", TXS, "[]"),
        ("a string", TXS, r#""raw_hex""#),
        ("null", TXS, "null"),
        ("a number", TXS, "42"),
        ("true", TXS, "true"),
        ("raw_hex a number", TXS, r#"{"raw_hex": 1}"#),
        ("raw_hex an object", TXS, r#"{"raw_hex": {}}"#),
        ("raw_hex null and nothing else", TXS, r#"{"raw_hex": null}"#),
        ("block raw_hex null", BLOCKS, r#"{"raw_hex": null}"#),
        ("block raw_hex true", BLOCKS, r#"{"raw_hex": true}"#),
        ("block body an array", BLOCKS, r#"["00"]"#),
    ] {
        c.push(Case::new(format!("type: {name}"), post(path, body), 400, "malformed"));
    }
    // Duplicate and unknown fields.
    c.push(
        Case::new("duplicate key on /txs", post(TXS, r#"{"raw_hex":"00","raw_hex":"01"}"#), 400, "malformed")
            .message("duplicate"),
    );
    c.push(
        Case::new("duplicate key on /blocks", post(BLOCKS, r#"{"raw_hex":"00","raw_hex":"00"}"#), 400, "malformed")
            .message("duplicate"),
    );
    c.push(
        Case::new("unknown field on /txs", post(TXS, r#"{"raw_hex":"00","x":1}"#), 400, "malformed")
            .message("unknown field"),
    );
    c.push(Case::new(
        "admin: duplicate key on /admin/mining",
        admin("/api/v1/admin/mining", r#"{"enabled":false,"enabled":true}"#),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "admin: unknown field on /admin/mining",
        admin("/api/v1/admin/mining", r#"{"enabled":true,"threads":64}"#),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "admin: unknown field on /admin/peers",
        admin("/api/v1/admin/peers", r#"{"url":"http://127.0.0.1:9","x":1}"#),
        400,
        "malformed",
    ));
    let generate = |body: Value| admin("/api/v1/dev/generate", &body.to_string());
    c.push(Case::new(
        "admin: generate with an unknown field",
        generate(json!({"count": 1, "address": addr(1), "x": 1})),
        400,
        "malformed",
    ));
    c.push(Case::new("admin: generate 0 blocks", generate(json!({"count": 0, "address": addr(1)})), 400, "malformed"));
    c.push(Case::new(
        "admin: generate 1001 blocks",
        generate(json!({"count": 1001, "address": addr(1)})),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "admin: generate to a main address",
        generate(json!({"count": 1, "address": Address::new(Network::Main, bob_id).to_string()})),
        400,
        "malformed",
    ));
    c.push(Case::new("admin: generate count -1", generate(json!({"count": -1, "address": addr(1)})), 400, "malformed"));
    // Deep nesting: refused at the first wrong token, never recursed into.
    let deep = |open: &str, n: usize| open.repeat(n);
    c.push(Case::new("20,000-deep array on /blocks", post(BLOCKS, deep("[", 20_000)), 400, "malformed"));
    c.push(Case::new(
        "20,000-deep closed array on /blocks",
        post(BLOCKS, format!("{}{}", deep("[", 20_000), deep("]", 20_000))),
        400,
        "malformed",
    ));
    c.push(Case::new("20,000-deep object on /blocks", post(BLOCKS, deep(r#"{"a":"#, 20_000)), 400, "malformed"));
    c.push(Case::new(
        "20,000-deep under raw_hex on /blocks",
        post(BLOCKS, format!(r#"{{"raw_hex":{}"#, deep("[", 20_000))),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "2,000-deep array on /txs",
        post(TXS, format!("{}{}", deep("[", 2_000), deep("]", 2_000))),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "2,000-deep under kind on /txs",
        post(TXS, format!(r#"{{"kind":{}"#, deep("[", 2_000))),
        400,
        "malformed",
    ));
    c.push(Case::new("20,000-deep array on /txs is too large", post(TXS, deep("[", 20_000)), 413, "too_large"));
    // Body limits: checked from Content-Length before reading, and while reading.
    c.push(Case::new(
        "/txs body of exactly 4096 bytes is read",
        post(TXS, padded(&forged, 4096)),
        422,
        "invalid_signature",
    ));
    c.push(Case::new("/txs body of 4097 bytes", post(TXS, padded(&forged, 4097)), 413, "too_large"));
    c.push(Case::new(
        "/blocks body over 2 MB + 1 KiB",
        post(BLOCKS, format!(r#"{{"raw_hex":"{}"}}"#, "0".repeat(2 * DEV.max_block_size + 1024))),
        413,
        "too_large",
    ));
    c.push(Case::new(
        "admin body of 4097 bytes",
        admin("/api/v1/admin/mining", &format!(r#"{{"enabled":true}}{}"#, " ".repeat(4081))),
        413,
        "too_large",
    ));
    let chunk = format!("1000\r\n{}\r\n", " ".repeat(4096));
    let chunked = format!("{chunk}{chunk}0\r\n\r\n");
    c.push(Case::new(
        "chunked body over 4 KiB",
        request("POST", TXS, JSON, chunked.as_bytes(), &[("Transfer-Encoding", "chunked")]),
        413,
        "too_large",
    ));
    // Lying Content-Length.
    let body = raw_tx_body(&forged);
    c.push(Case::new("Content-Length 10, more sent", lying(TXS, "10", body.as_bytes()), 400, "malformed"));
    c.push(
        Case::new(
            "Content-Length 4000, less sent, then half-closed",
            lying(TXS, "4000", body.as_bytes()),
            400,
            "malformed",
        )
        .half_close(),
    );
    c.push(Case::new("Content-Length 10^12", lying(TXS, "1000000000000", body.as_bytes()), 413, "too_large"));
    c.push(Case::new(
        "Content-Length 10^12 on /blocks",
        lying(BLOCKS, "1000000000000", body.as_bytes()),
        413,
        "too_large",
    ));
    c.push(Case::new("Content-Length not a number", lying(TXS, "abc", body.as_bytes()), 400, ""));
    c.push(Case::new("Content-Length negative", lying(TXS, "-1", body.as_bytes()), 400, ""));
    c.push(Case::new(
        "Content-Length twice, different",
        request(
            "POST",
            TXS,
            JSON,
            body.as_bytes(),
            &[("Content-Length", "5"), ("Content-Length", &body.len().to_string())],
        ),
        400,
        "",
    ));
    c.push(Case::new(
        "Content-Length with chunked",
        request("POST", TXS, JSON, b"0\r\n\r\n", &[("Content-Length", "5"), ("Transfer-Encoding", "chunked")]),
        400,
        "",
    ));
    c.push(Case::new(
        "chunk size not hex",
        request("POST", TXS, JSON, b"zz\r\n{}\r\n0\r\n\r\n", &[("Transfer-Encoding", "chunked")]),
        400,
        "malformed",
    ));
    // Content types.
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "text/json",
        "application/jsonx",
    ] {
        c.push(
            Case::new(format!("Content-Type {ct}"), with_type(TXS, ct, body.as_bytes()), 400, "malformed")
                .message("Content-Type"),
        );
    }
    c.push(
        Case::new("no Content-Type", request("POST", TXS, None, body.as_bytes(), &[]), 400, "malformed")
            .message("Content-Type"),
    );
    c.push(Case::new("no Content-Type on /blocks", request("POST", BLOCKS, None, b"{}", &[]), 400, "malformed"));
    // Content-Encoding is not decoded, so a compressed body (or a decompression bomb) is just bytes that are not JSON.
    let gzip = hex::decode("1f8b08000000000002ffab562a4a2c8fcf48ad50b252323054aa0500a32f829b10000000").expect("hex");
    c.push(Case::new(
        "gzip-encoded body",
        request("POST", TXS, JSON, &gzip, &[("Content-Encoding", "gzip")]),
        400,
        "malformed",
    ));
    c.push(Case::new(
        "Expect: 100-continue with Content-Length 10^12",
        request("POST", TXS, JSON, b"", &[("Content-Length", "1000000000000"), ("Expect", "100-continue")]),
        413,
        "too_large",
    ));
    // Methods and paths.
    for (method, path, allow) in [
        ("GET", TXS, "POST"),
        ("PUT", BLOCKS, "POST"),
        ("DELETE", "/api/v1/status", "GET"),
        ("POST", "/api/v1/mempool", "GET"),
        ("PATCH", "/api/v1/admin/peers", "DELETE"),
        ("GET", "/api/v1/dev/generate", "POST"),
        ("POST", "/api/v1/openapi.json", "GET"),
        ("OPTIONS", TXS, "POST"),
        ("TRACE", "/api/v1/status", "GET"),
    ] {
        c.push(
            Case::new(format!("{method} {path}"), request(method, path, None, b"", &[]), 405, "method_not_allowed")
                .header("allow", allow),
        );
    }
    for path in [
        "/assets/../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/api/v1/nope",
        "/api/v2/status",
        "/api/v1/txs/",
        "/../../etc/passwd",
        "/api/v1/status%00",
        "/p2p/nope",
        "/api/v1/blocks/1/2",
    ] {
        c.push(Case::new(format!("unknown path {path}"), get(path), 404, "not_found"));
    }
    for path in [
        "/api/v1/blocks/notahash".to_owned(),
        "/api/v1/blocks/99999999999999999999999".to_owned(),
        format!("/api/v1/blocks/{}", "z".repeat(64)),
        "/api/v1/blocks/-1".to_owned(),
        "/api/v1/txs/zz".to_owned(),
        format!("/api/v1/txs/{}", "0".repeat(63)),
        "/api/v1/addresses/ox1garbage".to_owned(),
        format!("/api/v1/addresses/{}", Address::new(Network::Main, bob_id)),
        "/api/v1/blocks?limit=0".to_owned(),
        "/api/v1/blocks?limit=101".to_owned(),
        "/api/v1/blocks?from=-1".to_owned(),
        "/api/v1/blocks?foo=1".to_owned(),
        format!("/api/v1/addresses/{}/txs?limit=abc", addr(1)),
        format!("/api/v1/addresses/{}/txs?before=zz", addr(1)),
        "/p2p/hello?bogus=1".to_owned(),
        "/api/v1/blocks?limit=1&limit=2".to_owned(),
        "/api/v1/blocks?from=18446744073709551616".to_owned(),
        "/api/v1/blocks/%2e%2e".to_owned(),
        format!("/api/v1/txs/{}", "a".repeat(10_000)),
        format!("/api/v1/addresses/{}", "q".repeat(200)),
    ] {
        c.push(Case::new(format!("bad parameter {path}"), get(&path), 400, "malformed"));
    }
    c.push(Case::new("unknown block height", get("/api/v1/blocks/999999"), 404, "not_found"));
    c.push(Case::new(
        "history page after a txid of another address",
        get(&format!("/api/v1/addresses/{}/txs?before={}", addr(5), pending.txid())),
        404,
        "not_found",
    ));
    c.push(Case::new("unknown txid", get(&format!("/api/v1/txs/{}", "0".repeat(64))), 404, "not_found"));
    // The admin token.
    let gen_body = json!({"count": 1, "address": addr(1)}).to_string();
    for (name, auth) in [
        ("none", None),
        ("wrong", Some("Bearer x".to_owned())),
        ("Basic", Some("Basic eDp5".to_owned())),
        ("with a suffix", Some(format!("{bearer}x"))),
        ("cut short", Some(bearer[..bearer.len() - 1].to_owned())),
        ("lowercase scheme", Some(format!("bearer {cookie}"))),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        c.push(
            Case::new(
                format!("generate with token {name}"),
                request("POST", "/api/v1/dev/generate", JSON, gen_body.as_bytes(), &headers),
                401,
                "unauthorized",
            )
            .header("www-authenticate", "Bearer"),
        );
    }
    c.push(Case::new(
        "mining switch without a token",
        post("/api/v1/admin/mining", r#"{"enabled":true}"#),
        401,
        "unauthorized",
    ));
    c.push(Case::new(
        "peer removal without a token",
        request("DELETE", "/api/v1/admin/peers", JSON, br#"{"url":"http://127.0.0.1:9"}"#, &[]),
        401,
        "unauthorized",
    ));
    // HTTP itself: refused by the server before any route runs (no JSON body there).
    let status_with = |extra: &str| {
        format!("GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").into_bytes()
    };
    c.push(Case::new("not HTTP", b"GARBAGE\r\n\r\n".to_vec(), 400, ""));
    c.push(Case::new("binary noise", (0..=255u8).cycle().take(1024).collect(), 400, ""));
    c.push(Case::new(
        "HTTP/2.0 request line",
        b"GET /api/v1/status HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        400,
        "",
    ));
    c.push(Case::new("a 100 KB URI", get(&format!("/api/v1/status?{}", "a".repeat(100_000))), 400, ""));
    c.push(Case::new(
        "200 headers",
        status_with(&(0..200).map(|i| format!("X-{i}: 1\r\n")).collect::<String>()),
        431,
        "",
    ));
    c.push(Case::new("a 1 MB header", status_with(&format!("X-A: {}\r\n", "a".repeat(1_000_000))), 431, ""));

    let count = run(node.addr, &watched, c);
    let before = State::take(node.addr, &watched).expect("state");

    // Slow clients: 50 connections that send their headers a byte at a time, and 50 that send
    // headers and then withhold the body. Meanwhile another client is served.
    let slow_request = b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut slow: Vec<TcpStream> = (0..50).map(|_| TcpStream::connect(node.addr).expect("connect")).collect();
    let withheld: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(node.addr).expect("connect");
            s.write_all(&lying(TXS, "2000", br#"{"raw_hex":"#)).expect("headers");
            s
        })
        .collect();
    for (i, byte) in slow_request.iter().enumerate() {
        for s in &mut slow {
            s.write_all(&[*byte]).expect("one byte");
        }
        if i == slow_request.len() / 2 {
            for _ in 0..5 {
                let r = http(node.addr, "GET", "/api/v1/status", None, &[]).expect("served while 100 clients stall");
                assert_eq!(r.status, 200, "{}", r.body);
            }
            let r = exchange(node.addr, &post(TXS, raw_tx_body(&forged)), false).expect("served");
            assert_eq!((r.status, r.code()), (422, "invalid_signature"), "{}", r.body);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for mut s in slow {
        s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let answer = parse_answer(&raw);
        // Served once complete, or timed out by the node if the machine was too slow: both fine.
        assert!(matches!(answer.status, 200 | 408), "a slow client got {} {}", answer.status, answer.body);
    }
    drop(withheld);
    assert_eq!(State::take(node.addr, &watched).expect("state"), before, "slow clients changed nothing");

    // A flood from one client: 5,000 requests on 5 keep-alive connections.
    let mixed: Vec<Vec<u8>> = (0..1_000)
        .map(|i| {
            if i % 2 == 0 {
                b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec()
            } else {
                b"POST /api/v1/txs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"raw_hex\":\"zz\"}".to_vec()
            }
        })
        .collect();
    let mixed = Arc::new(mixed);
    let floods: Vec<_> = (0..5)
        .map(|_| {
            let (mixed, addr) = (Arc::clone(&mixed), node.addr);
            std::thread::spawn(move || keep_alive_burst(addr, &mixed))
        })
        .collect();
    let mut answered = 0;
    for flood in floods {
        for (i, status) in flood.join().expect("flood thread").into_iter().enumerate() {
            let expected = if i % 2 == 0 { 200 } else { 400 };
            assert!(status == Some(expected) || status == Some(429), "flood request {i}: {status:?}");
            answered += 1;
        }
    }
    assert_eq!(answered, 5_000);
    assert_eq!(State::take(node.addr, &watched).expect("state"), before, "the flood changed nothing");
    let r = exchange(node.addr, &post(TXS, raw_tx_body(&forged)), false).expect("served after the flood");
    assert_eq!((r.status, r.code()), (422, "invalid_signature"), "{}", r.body);
    assert_no_panic(&node);
    eprintln!("HTTP catalogue: {count} cases, then 100 slow clients and a 5,000-request flood");
}

// ---------------------------------------------------------------------------------------------
// Peer routes
// ---------------------------------------------------------------------------------------------

#[test]
fn hostile_peer_traffic_is_refused_bans_no_local_process_and_adds_no_stranger() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let alice = key(1, 0);
    let bob_id = account_of(&key(2, 0));
    node.generate(3, &addr(1));
    let pending = transfer(DEV, &alice, bob_id, 7_000, 1_000, 0);
    assert_eq!(node.post(TXS, &json!({"raw_hex": pending.encode_hex()})).status, 202);
    let watched = [addr(1), addr(2), addr(9)];
    let (tip, height) = tip_block(&node);
    let good =
        testkit::block(DEV, tip.header.hash(), height + 1, tip.header.time + 1, account_of(&key(9, 0)), Vec::new());
    let raw = good.encode();
    let binary = |bytes: &[u8]| with_type("/p2p/block", "application/octet-stream", bytes);
    let forged = edited(&transfer(DEV, &alice, bob_id, 5, 1_000, 1), |t| t.signature[9] ^= 1);
    let hash = |i: usize| format!("{:064x}", i);

    let mut c = Vec::new();
    // Block relay, JSON and binary.
    for (name, body) in [
        ("a lone brace", "{".to_owned()),
        ("raw_hex not hex", r#"{"raw_hex":"zz"}"#.to_owned()),
        ("raw_hex one byte", r#"{"raw_hex":"00"}"#.to_owned()),
        ("unknown field", json!({"raw_hex": good.encode_hex(), "x": 1}).to_string()),
        ("from a number", json!({"raw_hex": good.encode_hex(), "from": 5}).to_string()),
        ("20,000-deep array", "[".repeat(20_000)),
        ("an array", "[]".to_owned()),
    ] {
        c.push(Case::new(format!("/p2p/block: {name}"), post("/p2p/block", body), 400, "malformed"));
    }
    c.push(Case::new(
        "/p2p/block: unknown query parameter",
        post("/p2p/block?bogus=1", json!({"raw_hex": good.encode_hex()}).to_string()),
        400,
        "malformed",
    ));
    c.push(Case::new("/p2p/block binary: text", binary(b"hello"), 400, "malformed"));
    c.push(Case::new("/p2p/block binary: empty", binary(b""), 400, "malformed"));
    c.push(Case::new("/p2p/block binary: a lone header", binary(&raw[..80]), 400, "malformed"));
    c.push(Case::new("/p2p/block binary: truncated by 1", binary(&raw[..raw.len() - 1]), 400, "malformed"));
    c.push(Case::new("/p2p/block binary: truncated in the coinbase", binary(&raw[..100]), 400, "malformed"));
    c.push(Case::new("/p2p/block binary: a trailing byte", binary(&[raw.as_slice(), &[0]].concat()), 400, "malformed"));
    c.push(Case::new(
        "/p2p/block binary: hex instead of bytes",
        binary(good.encode_hex().as_bytes()),
        400,
        "malformed",
    ));
    c.push(
        Case::new(
            "/p2p/block: JSON as text/plain",
            with_type("/p2p/block", "text/plain", json!({"raw_hex": good.encode_hex()}).to_string().as_bytes()),
            400,
            "malformed",
        )
        .message("Content-Type"),
    );
    c.push(
        Case::new(
            "/p2p/block: JSON without Content-Type",
            request("POST", "/p2p/block", None, json!({"raw_hex": good.encode_hex()}).to_string().as_bytes(), &[]),
            400,
            "malformed",
        )
        .message("Content-Type"),
    );
    c.push(Case::new(
        "/p2p/block binary: over max size + 1",
        binary(&vec![0; DEV.max_block_size + 2]),
        413,
        "too_large",
    ));
    c.push(Case::new(
        "/p2p/block binary: Content-Length 10^12",
        request("POST", "/p2p/block", Some("application/octet-stream"), &raw, &[("Content-Length", "1000000000000")]),
        413,
        "too_large",
    ));
    c.push(Case::new(
        "/p2p/block binary: wrong body for the header",
        binary(&body_edited(&good, |b| coinbase_mut(b).extra_nonce = 5).encode()),
        422,
        "bad_merkle_root",
    ));
    c.push(Case::new("/p2p/block binary: proof of work missing", binary(&unsolved(&good).encode()), 422, "high_hash"));
    c.push(Case::new("/p2p/block binary: the tip again", binary(&tip.encode()), 200, "known"));
    // Transfer relay.
    for (name, body) in [
        ("a lone brace", "{".to_owned()),
        ("raw_hex not hex", r#"{"raw_hex":"zz"}"#.to_owned()),
        ("raw_hex empty", r#"{"raw_hex":""}"#.to_owned()),
        ("a coinbase", json!({"raw_hex": tip.txs[0].encode_hex()}).to_string()),
        ("a trailing byte", json!({"raw_hex": format!("{}00", forged.encode_hex())}).to_string()),
        ("unknown field", json!({"raw_hex": forged.encode_hex(), "x": 1}).to_string()),
        ("missing raw_hex", r#"{"from":"http://127.0.0.1:1"}"#.to_owned()),
    ] {
        c.push(Case::new(format!("/p2p/tx: {name}"), post("/p2p/tx", body), 400, "malformed"));
    }
    c.push(Case::new(
        "/p2p/tx: text/plain",
        with_type("/p2p/tx", "text/plain", raw_tx_body(&forged).as_bytes()),
        400,
        "malformed",
    ));
    c.push(Case::new("/p2p/tx: forged signature", post("/p2p/tx", raw_tx_body(&forged)), 422, "invalid_signature"));
    c.push(Case::new("/p2p/tx: the pending transfer again", post("/p2p/tx", raw_tx_body(&pending)), 409, "duplicate"));
    c.push(Case::new(
        "/p2p/tx: raw_hex of 9,000 digits",
        post("/p2p/tx", json!({"raw_hex": "ab".repeat(4_500)}).to_string()),
        413,
        "too_large",
    ));
    // The transfer relay has the limit of `POST /api/v1/txs`, not a block's.
    c.push(Case::new(
        "/p2p/tx: body of exactly 4096 bytes is read",
        post("/p2p/tx", padded(&forged, 4096)),
        422,
        "invalid_signature",
    ));
    c.push(Case::new("/p2p/tx: body of 4097 bytes", post("/p2p/tx", padded(&forged, 4097)), 413, "too_large"));
    c.push(Case::new("/p2p/tx: a 100 KB body", post("/p2p/tx", padded(&forged, 100_000)), 413, "too_large"));
    c.push(Case::new(
        "/p2p/tx: Content-Length 10^12",
        lying("/p2p/tx", "1000000000000", raw_tx_body(&forged).as_bytes()),
        413,
        "too_large",
    ));
    // Sync requests.
    let many: Vec<String> = (0..65).map(hash).collect();
    for (path, name, body) in [
        ("/p2p/locate", "a lone brace", "{".to_owned()),
        ("/p2p/locate", "a bad hash", r#"{"locator":["zz"]}"#.to_owned()),
        ("/p2p/locate", "65 hashes", json!({"locator": many}).to_string()),
        ("/p2p/locate", "locator a number", r#"{"locator":5}"#.to_owned()),
        ("/p2p/locate", "unknown field", r#"{"locator":[],"x":1}"#.to_owned()),
        ("/p2p/locate", "limit negative", r#"{"locator":[],"limit":-1}"#.to_owned()),
        ("/p2p/locate", "8,000-deep array", "[".repeat(8_000)),
        ("/p2p/blocks", "a lone brace", "{".to_owned()),
        ("/p2p/blocks", "a bad hash", r#"{"hashes":["zz"]}"#.to_owned()),
        ("/p2p/blocks", "65 hashes", json!({"hashes": many}).to_string()),
        ("/p2p/blocks", "hashes a string", r#"{"hashes":"x"}"#.to_owned()),
        ("/p2p/blocks", "missing hashes", "{}".to_owned()),
    ] {
        c.push(Case::new(format!("{path}: {name}"), post(path, body), 400, "malformed"));
    }
    c.push(Case::new(
        "/p2p/locate: body over 8 KiB",
        post("/p2p/locate", format!(r#"{{"locator":[]}}{}"#, " ".repeat(8_200))),
        413,
        "too_large",
    ));
    c.push(Case::new(
        "/p2p/blocks: text/plain",
        with_type("/p2p/blocks", "text/plain", br#"{"hashes":[]}"#),
        400,
        "malformed",
    ));
    for (method, path, allow) in [
        ("GET", "/p2p/block", "POST"),
        ("GET", "/p2p/tx", "POST"),
        ("PUT", "/p2p/hello", "GET"),
        ("DELETE", "/p2p/locate", "POST"),
        ("POST", "/p2p/mempool", "GET"),
    ] {
        c.push(
            Case::new(format!("{method} {path}"), request(method, path, None, b"", &[]), 405, "method_not_allowed")
                .header("allow", allow),
        );
    }

    let count = run(node.addr, &watched, c);
    // Loopback stands for every local process: no ban, and the node still takes a good block.
    let bans = std::fs::read_to_string(node.network_dir().join("bans.json")).unwrap_or_default();
    assert!(!bans.contains("127.0.0.1"), "a loopback peer was banned: {bans}");
    let r = exchange(node.addr, &binary(&raw), false).expect("answer");
    assert_eq!((r.status, r.json["status"].as_str()), (202, Some("connected")), "{}", r.body);

    // A hello announcing somebody else's address adds no peer, so the node never polls a third
    // party on a stranger's word; the caller's own address is polled (the control).
    let own = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let other = TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback too");
    for listener in [&own, &other] {
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let r = http(node.addr, "GET", &format!("/p2p/hello?url={url}"), None, &[]).expect("hello");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let (mut polls_own, mut polls_other) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while polls_own < 3 && Instant::now() < deadline {
        polls_own += usize::from(own.accept().is_ok());
        polls_other += usize::from(other.accept().is_ok());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(polls_own >= 3, "the node never polled the caller's own URL");
    assert_eq!(polls_other, 0, "the node polled a URL that the caller does not own");
    assert_no_panic(&node);
    eprintln!("peer catalogue: {count} cases");
}
