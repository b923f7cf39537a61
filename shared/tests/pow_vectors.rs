//! Proof of work against real vectors: Bitcoin mainnet headers and the aserti3-2d test runs
//! (sources and what each check means: `tests/data/README.md`).

use oxcoin::block::Header;
use oxcoin::pow::{AsertAnchor, CompactTarget, PowError, asert_next_target, validate_pow};
use oxcoin::{BlockHash, Decode, Encode};

/// Bitcoin's proof-of-work limit, also the pow limit of the aserti3-2d runs.
const BITCOIN_POW_LIMIT: u32 = 0x1d00_ffff;
const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
const HEIGHT_1111_HASH: &str = "00000000ca59764b4ff11d88ea67e641dba94a17520ebd10f1631b21a18d5805";

const MAINNET_0_10: &str = include_str!("data/bitcoin_headers/mainnet_0_10.json");
const MAINNET_RETARGET: &str = include_str!("data/bitcoin_headers/mainnet_retarget_32256.json");
const NAKAMOTO_1_1111: &str = include_str!("data/bitcoin_headers/nakamoto_headers_1_1111.hex.txt");

const ASERT_RUNS: [(&str, &str); 12] = [
    ("run01", include_str!("data/asert/run01")),
    ("run02", include_str!("data/asert/run02")),
    ("run03", include_str!("data/asert/run03")),
    ("run04", include_str!("data/asert/run04")),
    ("run05", include_str!("data/asert/run05")),
    ("run06", include_str!("data/asert/run06")),
    ("run07", include_str!("data/asert/run07")),
    ("run08", include_str!("data/asert/run08")),
    ("run09", include_str!("data/asert/run09")),
    ("run10", include_str!("data/asert/run10")),
    ("run11", include_str!("data/asert/run11")),
    ("run12", include_str!("data/asert/run12")),
];

#[derive(serde::Deserialize)]
struct HeaderFile {
    headers: Vec<HeaderVector>,
}

#[derive(serde::Deserialize)]
struct HeaderVector {
    height: u64,
    header_hex: String,
    hash: String,
    version: u32,
    prev_hash: String,
    merkle_root: String,
    time: u32,
    bits: String,
    nonce: u32,
}

fn limit() -> CompactTarget {
    CompactTarget::from_consensus(BITCOIN_POW_LIMIT)
}

#[track_caller]
fn parse_bits(text: &str) -> u32 {
    let digits = text.strip_prefix("0x").expect("bits are written 0x…");
    u32::from_str_radix(digits, 16).expect("bits are hex")
}

#[track_caller]
fn load(json: &str) -> Vec<HeaderVector> {
    serde_json::from_str::<HeaderFile>(json).expect("vector file is valid JSON").headers
}

/// Checks what holds for every real header: it decodes, re-encodes to the same bytes, meets its
/// bits under Bitcoin's limit, its bits survive a compact round trip, and a flipped nonce fails.
#[track_caller]
fn check_header(height: u64, hex_text: &str) -> Header {
    let header = Header::decode_hex(hex_text).unwrap_or_else(|e| panic!("height {height}: {e}"));
    assert_eq!(header.encode_hex(), hex_text, "height {height}: re-encoding");
    let mut bytes = [0u8; 80];
    hex::decode_to_slice(hex_text, &mut bytes).expect("header is hex");
    assert_eq!(Header::from_bytes(&bytes), header, "height {height}: from_bytes");

    let hash = header.hash();
    assert_eq!(validate_pow(hash, header.bits, limit()), Ok(hash), "height {height}: pow");
    assert_eq!(header.validate_pow(limit()), Ok(hash), "height {height}: Header::validate_pow");

    let target = header.bits.to_target().expect("real bits decode");
    assert_eq!(target.to_compact_lossy(), header.bits, "height {height}: compact round trip");
    assert!(target.is_met_by(&hash));

    let mut tampered = header;
    tampered.nonce ^= 1;
    let bad = tampered.hash();
    assert_eq!(
        validate_pow(bad, tampered.bits, limit()),
        Err(PowError::HighHash { hash: bad, bits: header.bits.to_consensus() }),
        "height {height}: flipped nonce"
    );
    header
}

#[track_caller]
fn check_fields(vector: &HeaderVector) -> Header {
    let height = vector.height;
    let header = check_header(height, &vector.header_hex);
    assert_eq!(header.hash().to_string(), vector.hash, "height {height}: hash");
    assert_eq!(header.version, vector.version, "height {height}: version");
    assert_eq!(header.prev_hash.to_string(), vector.prev_hash, "height {height}: prev_hash");
    assert_eq!(header.merkle_root.to_string(), vector.merkle_root, "height {height}: merkle_root");
    assert_eq!(header.time, vector.time, "height {height}: time");
    assert_eq!(header.bits.to_consensus(), parse_bits(&vector.bits), "height {height}: bits");
    assert_eq!(header.nonce, vector.nonce, "height {height}: nonce");
    header
}

#[test]
fn mainnet_headers_0_to_10_decode_hash_and_meet_their_bits() {
    let vectors = load(MAINNET_0_10);
    assert_eq!(vectors.len(), 11);
    let mut prev = BlockHash::ZERO;
    for (expected_height, vector) in (0u64..).zip(&vectors) {
        assert_eq!(vector.height, expected_height);
        let header = check_fields(vector);
        assert_eq!(header.prev_hash, prev, "height {}: links to its parent", vector.height);
        prev = header.hash();
    }
    assert_eq!(vectors[0].hash, GENESIS_HASH);
    let genesis = Header::decode_hex(&vectors[0].header_hex).expect("genesis decodes");
    assert_eq!(genesis.hash().to_string(), GENESIS_HASH);
}

#[test]
fn genesis_with_bits_above_the_limit_is_refused() {
    let vectors = load(MAINNET_0_10);
    let mut genesis = Header::decode_hex(&vectors[0].header_hex).expect("genesis decodes");
    genesis.bits = CompactTarget::from_consensus(0x1d01_ffff);
    assert_eq!(genesis.validate_pow(limit()), Err(PowError::AboveLimit { bits: 0x1d01_ffff }));
}

#[test]
fn mainnet_headers_around_the_first_retarget_meet_their_bits() {
    let vectors = load(MAINNET_RETARGET);
    let heights: Vec<u64> = vectors.iter().map(|v| v.height).collect();
    assert_eq!(heights, [30240, 32255, 32256]);
    let headers: Vec<Header> = vectors.iter().map(check_fields).collect();
    assert_eq!(headers[2].prev_hash, headers[1].hash(), "32256 links to 32255");
    assert_eq!(headers[2].bits.to_consensus(), 0x1d00_d86a);
    assert_eq!(headers[2].hash().to_string(), "000000004f2886a170adb7204cb0c7a824217dd24d11a74423d564c4e0904967");
}

#[test]
fn nakamoto_headers_1_to_1111_link_from_genesis_and_meet_their_bits() {
    let first_eleven = load(MAINNET_0_10);
    let lines: Vec<&str> = NAKAMOTO_1_1111.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1111);
    let mut prev: BlockHash = GENESIS_HASH.parse().expect("genesis hash parses");
    for (height, line) in (1u64..).zip(&lines) {
        let header = check_header(height, line.trim());
        assert_eq!(header.prev_hash, prev, "height {height}: links to its parent");
        prev = header.hash();
        if let Some(vector) = first_eleven.get(usize::try_from(height).expect("small height")) {
            assert_eq!(line.trim(), vector.header_hex, "height {height}: same header in both sources");
        }
    }
    assert_eq!(prev.to_string(), HEIGHT_1111_HASH);
}

/// One aserti3-2d run: the anchor from its `##` header lines and its rows.
struct AsertRun {
    anchor_height: u64,
    anchor_parent_time: i64,
    anchor_bits: u32,
    start_height: u64,
    start_time: i64,
    iterations: usize,
    /// (iteration, evaluation height, evaluation time, bits required of the next block).
    rows: Vec<(usize, u64, i64, u32)>,
}

#[track_caller]
fn parse_run(name: &str, text: &str) -> AsertRun {
    let mut fields = std::collections::HashMap::new();
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("##") {
            if let Some((key, value)) = rest.split_once(':') {
                fields.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        } else if line.is_empty() || line.starts_with('#') {
            continue;
        } else {
            let cols: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cols.len(), 4, "{name}: row {line:?}");
            rows.push((
                cols[0].parse().expect("iteration"),
                cols[1].parse().expect("height"),
                cols[2].parse().expect("time"),
                parse_bits(cols[3]),
            ));
        }
    }
    let field = |key: &str| fields.get(key).unwrap_or_else(|| panic!("{name}: no {key:?} line")).clone();
    // run01–run10 call it "anchor ancestor time", run11–run12 "anchor parent time": same field.
    let parent_time = fields.get("anchor parent time").cloned().unwrap_or_else(|| field("anchor ancestor time"));
    AsertRun {
        anchor_height: field("anchor height").parse().expect("anchor height"),
        anchor_parent_time: parent_time.parse().expect("anchor parent time"),
        anchor_bits: parse_bits(&field("anchor nBits")),
        start_height: field("start height").parse().expect("start height"),
        start_time: field("start time").parse().expect("start time"),
        iterations: field("iterations").parse().expect("iterations"),
        rows,
    }
}

#[test]
fn asert_aserti3_2d_runs_match_every_row() {
    let pow_limit = limit().to_target().expect("Bitcoin's limit decodes");
    let mut checked = 0usize;
    for (name, text) in ASERT_RUNS {
        let run = parse_run(name, text);
        assert_eq!(run.rows.len(), run.iterations, "{name}: row count");
        assert_eq!((run.rows[0].1, run.rows[0].2), (run.start_height, run.start_time), "{name}: first row");
        let anchor = AsertAnchor {
            height: run.anchor_height,
            parent_time: run.anchor_parent_time,
            target: CompactTarget::from_consensus(run.anchor_bits).to_target().expect("anchor bits decode"),
        };
        for (index, &(iteration, height, time, expected)) in run.rows.iter().enumerate() {
            assert_eq!(iteration, index + 1, "{name}: iterations are numbered from 1");
            // The row's block is the parent; its bits are those required of the next block.
            let next = asert_next_target(&anchor, 600, 172_800, pow_limit, height, time);
            assert_eq!(
                next.to_compact_lossy().to_consensus(),
                expected,
                "{name} iteration {iteration}: parent height {height} time {time}"
            );
            checked += 1;
        }
    }
    println!("aserti3-2d: {checked} rows checked");
    assert_eq!(checked, 14_000);
}
