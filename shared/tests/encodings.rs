//! Property tests of every consensus encoding (SPEC §3): round trips for each wire type, the exact
//! byte layout of transfers, coinbases, headers and blocks, and decoders that refuse every
//! malformed input with its specific error and never panic.

use ed25519_dalek::{Signature, VerifyingKey};
use oxcoin::address::AccountId;
use oxcoin::block::{Block, HEADER_LEN, Header};
use oxcoin::encode::{Decode, DecodeError, Encode};
use oxcoin::hash::{BlockHash, MerkleRoot, Txid};
use oxcoin::pow::CompactTarget;
use oxcoin::tx::{
    COINBASE_LEN, Coinbase, PublicKey, SIGNING_DOMAIN, TRANSFER_BASE_LEN, Transfer, Tx, UnsignedTransfer,
};
use oxcoin::{Address, Amount, Memo, Network, testkit};
use proptest::collection::vec;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::fmt::{Debug, Display};
use std::str::FromStr;

/// Bytes of a block before its first transaction: the header and the u32 transaction count.
const BLOCK_PREFIX_LEN: usize = HEADER_LEN + 4;

/// The smallest a transaction can be inside a block: a u16 length prefix and a coinbase.
const MIN_TX_IN_BLOCK: usize = 2 + COINBASE_LEN;

// ---------------------------------------------------------------------------------------------
// Strategies: every field over its whole range, so that decoding is shown to accept everything
// the rules (checked later, elsewhere) may refuse.
// ---------------------------------------------------------------------------------------------

fn header() -> impl Strategy<Value = Header> {
    (any::<u32>(), any::<[u8; 32]>(), any::<[u8; 32]>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
        |(version, prev_hash, merkle_root, time, bits, nonce)| Header {
            version,
            prev_hash: BlockHash::from_byte_array(prev_hash),
            merkle_root: MerkleRoot::from_byte_array(merkle_root),
            time,
            bits: CompactTarget::from_consensus(bits),
            nonce,
        },
    )
}

fn coinbase() -> impl Strategy<Value = Coinbase> {
    (any::<u64>(), any::<[u8; 20]>(), any::<u64>(), any::<u64>()).prop_map(|(height, to, amount, extra_nonce)| {
        Coinbase { height, to: AccountId::from_byte_array(to), amount: Amount::from_grains(amount), extra_nonce }
    })
}

/// Any chain id, key, recipient, amounts and nonce; a memo of 0..=255 arbitrary bytes (over the
/// 128-byte rule and not necessarily UTF-8); any 64 bytes as the signature.
fn transfer() -> impl Strategy<Value = Transfer> {
    (
        any::<u32>(),
        any::<[u8; 32]>(),
        any::<[u8; 20]>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        vec(any::<u8>(), 0..=255),
        any::<[u8; 64]>(),
    )
        .prop_map(|(chain_id, from, to, amount, fee, nonce, memo, signature)| Transfer {
            chain_id,
            from: PublicKey(from),
            to: AccountId::from_byte_array(to),
            amount: Amount::from_grains(amount),
            fee: Amount::from_grains(fee),
            nonce,
            memo: Memo::new(memo).expect("at most 255 bytes"),
            signature,
        })
}

fn tx() -> impl Strategy<Value = Tx> {
    prop_oneof![coinbase().prop_map(Tx::Coinbase), transfer().prop_map(Tx::Transfer)]
}

/// A header and 0..8 transactions of either kind in any order (decoding does not care which
/// comes first; the rules do).
fn block() -> impl Strategy<Value = Block> {
    (header(), vec(tx(), 0..8)).prop_map(|(header, txs)| Block { header, txs })
}

/// A valid encoding and a list of `(index, non-zero mask)` byte flips to apply to it.
fn flips(max: usize) -> impl Strategy<Value = Vec<(prop::sample::Index, u8)>> {
    vec((any::<prop::sample::Index>(), 1..=u8::MAX), 1..=max)
}

fn apply_flips(bytes: &mut [u8], flips: &[(prop::sample::Index, u8)]) {
    if bytes.is_empty() {
        return;
    }
    for (index, mask) in flips {
        let at = index.index(bytes.len());
        bytes[at] ^= mask;
    }
}

// ---------------------------------------------------------------------------------------------
// Shared checks.
// ---------------------------------------------------------------------------------------------

/// `decode(encode(x)) == x`, `encoded_len` matches, and the hex form round trips (either case).
fn check_round_trip<T: Encode + Decode + PartialEq + Debug>(value: &T) -> Result<Vec<u8>, TestCaseError> {
    let bytes = value.encode();
    prop_assert_eq!(value.encoded_len(), bytes.len());
    let mut appended = vec![0xa5];
    value.encode_to(&mut appended);
    prop_assert_eq!(&appended[1..], &bytes[..], "encode_to appends exactly the encoding");
    let decoded = T::decode(&bytes);
    prop_assert_eq!(decoded.as_ref(), Ok(value));
    let hex = value.encode_hex();
    prop_assert_eq!(&hex, &hex::encode(&bytes));
    let from_hex = T::decode_hex(&hex);
    prop_assert_eq!(from_hex.as_ref(), Ok(value));
    let from_upper_hex = T::decode_hex(&hex.to_uppercase());
    prop_assert_eq!(from_upper_hex.as_ref(), Ok(value));
    Ok(bytes)
}

/// Whatever decodes is canonical: re-encoding gives back exactly the input bytes.
fn check_canonical<T: Encode + Decode + Debug>(bytes: &[u8]) -> Result<Option<T>, TestCaseError> {
    match T::decode(bytes) {
        Ok(value) => {
            prop_assert_eq!(value.encode(), bytes, "decoded {:?}", value);
            prop_assert_eq!(value.encoded_len(), bytes.len());
            Ok(Some(value))
        }
        Err(_) => Ok(None),
    }
}

/// Runs every decoder on `bytes`: none may panic, and each success must be canonical.
fn check_every_decoder(bytes: &[u8]) -> Result<(), TestCaseError> {
    check_canonical::<Header>(bytes)?;
    check_canonical::<Coinbase>(bytes)?;
    check_canonical::<Transfer>(bytes)?;
    let tx = check_canonical::<Tx>(bytes)?;
    // The kind-specific decoders accept exactly the bytes `Tx` decodes to their kind.
    let as_coinbase = Coinbase::decode(bytes).ok().map(Tx::Coinbase);
    let as_transfer = Transfer::decode(bytes).ok().map(Tx::Transfer);
    prop_assert_eq!(&tx, &as_coinbase.or(as_transfer));
    check_canonical::<Block>(bytes)?;
    prop_assert_eq!(Block::decode_hex(&hex::encode(bytes)), Block::decode(bytes));
    Ok(())
}

/// An `UnexpectedEnd` must describe the input it came from: a field at `offset` needing more
/// than the `available` bytes that are left of `len`.
fn check_unexpected_end(error: &DecodeError, len: usize) -> Result<(), TestCaseError> {
    match *error {
        DecodeError::UnexpectedEnd { offset, needed, available } => {
            prop_assert!(needed > available, "{error:?}");
            prop_assert!(offset + available <= len, "{error:?} for {len} bytes");
            Ok(())
        }
        _ => Err(TestCaseError::fail(format!("expected UnexpectedEnd for {len} bytes, got {error:?}"))),
    }
}

/// Every strict prefix of a single transaction's (or header's) encoding ends early, with the
/// error placed at the end of the input; one byte more is exactly one trailing byte.
fn check_truncations_and_trailing<T: Decode + Debug>(bytes: &[u8], extra: u8) -> Result<(), TestCaseError> {
    for len in 0..bytes.len() {
        match T::decode(&bytes[..len]) {
            Ok(value) => return Err(TestCaseError::fail(format!("{len}-byte prefix decoded to {value:?}"))),
            // A flat encoding is read field by field, so the failing field runs off the end.
            Err(DecodeError::UnexpectedEnd { offset, needed, available }) => {
                prop_assert!(needed > available && offset + available == len, "{offset} {needed} {available} {len}");
            }
            Err(error) => return Err(TestCaseError::fail(format!("{len}-byte prefix: {error:?}"))),
        }
    }
    let mut longer = bytes.to_vec();
    longer.push(extra);
    prop_assert_eq!(T::decode(&longer).err(), Some(DecodeError::TrailingBytes(1)));
    Ok(())
}

/// Parsing never panics, and a success prints back to the lowercase input and parses again.
fn check_parse_display<T>(s: &str) -> Result<(), TestCaseError>
where
    T: FromStr + Display + PartialEq + Debug,
    T::Err: Debug,
{
    if let Ok(value) = s.parse::<T>() {
        let shown = value.to_string();
        prop_assert_eq!(&shown, &s.to_ascii_lowercase());
        prop_assert_eq!(shown.parse::<T>().ok(), Some(value));
    }
    Ok(())
}

fn sha256d(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(bytes)).into()
}

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn header_round_trips(header in header()) {
        let bytes = check_round_trip(&header)?;
        prop_assert_eq!(bytes.len(), HEADER_LEN);
        prop_assert_eq!(&bytes[..], &header.to_bytes()[..]);
        prop_assert_eq!(header.hash().to_byte_array(), sha256d(&bytes));
    }

    #[test]
    fn any_80_bytes_are_a_header_that_re_encodes_to_them(bytes in any::<[u8; HEADER_LEN]>()) {
        let header = Header::decode(&bytes);
        prop_assert_eq!(header.map(|h| h.encode()), Ok(bytes.to_vec()));
        prop_assert_eq!(Header::from_bytes(&bytes).to_bytes(), bytes);
    }

    #[test]
    fn coinbase_round_trips(coinbase in coinbase()) {
        let bytes = check_round_trip(&coinbase)?;
        prop_assert_eq!(bytes.len(), COINBASE_LEN);
        prop_assert_eq!(Tx::decode(&bytes), Ok(Tx::Coinbase(coinbase)));
        prop_assert_eq!(coinbase.txid().to_byte_array(), sha256d(&bytes));
    }

    #[test]
    fn any_bytes_after_kind_0_are_a_coinbase(body in any::<[u8; COINBASE_LEN - 1]>()) {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&body);
        prop_assert!(check_canonical::<Coinbase>(&bytes)?.is_some());
    }

    #[test]
    fn transfer_round_trips(transfer in transfer()) {
        let bytes = check_round_trip(&transfer)?;
        prop_assert_eq!(bytes.len(), TRANSFER_BASE_LEN + transfer.memo.len());
        prop_assert_eq!(Tx::decode(&bytes), Ok(Tx::Transfer(transfer.clone())));
        prop_assert_eq!(transfer.txid().to_byte_array(), sha256d(&bytes));
        let mut message = SIGNING_DOMAIN.to_vec();
        message.extend_from_slice(&bytes[..bytes.len() - 64]);
        prop_assert_eq!(transfer.signing_message(), message);
    }

    #[test]
    fn tx_round_trips(tx in tx()) {
        let bytes = check_round_trip(&tx)?;
        prop_assert_eq!(tx.txid().to_byte_array(), sha256d(&bytes));
        match &tx {
            Tx::Coinbase(c) => prop_assert_eq!(c.encode(), bytes),
            Tx::Transfer(t) => prop_assert_eq!(t.encode(), bytes),
        }
    }

    #[test]
    fn block_round_trips(block in block()) {
        let bytes = check_round_trip(&block)?;
        prop_assert_eq!(&bytes[..HEADER_LEN], &block.header.encode()[..]);
        prop_assert_eq!(&bytes[HEADER_LEN..BLOCK_PREFIX_LEN], &(block.txs.len() as u32).to_le_bytes()[..]);
        let mut at = BLOCK_PREFIX_LEN;
        for tx in &block.txs {
            let encoding = tx.encode();
            prop_assert_eq!(&bytes[at..at + 2], &(encoding.len() as u16).to_le_bytes()[..]);
            prop_assert_eq!(&bytes[at + 2..at + 2 + encoding.len()], &encoding[..]);
            at += 2 + encoding.len();
        }
        prop_assert_eq!(at, bytes.len());
    }

    #[test]
    fn truncated_or_extended_header_coinbase_transfer_and_tx_are_refused(
        header in header(),
        coinbase in coinbase(),
        transfer in transfer(),
        extra in any::<u8>(),
    ) {
        check_truncations_and_trailing::<Header>(&header.encode(), extra)?;
        check_truncations_and_trailing::<Coinbase>(&coinbase.encode(), extra)?;
        check_truncations_and_trailing::<Transfer>(&transfer.encode(), extra)?;
        check_truncations_and_trailing::<Tx>(&coinbase.encode(), extra)?;
        check_truncations_and_trailing::<Tx>(&transfer.encode(), extra)?;
    }

    #[test]
    fn truncated_or_extended_blocks_are_refused(block in block(), extra in any::<u8>()) {
        let bytes = block.encode();
        let count = block.txs.len() as u32;
        for len in 0..bytes.len() {
            match Block::decode(&bytes[..len]) {
                Ok(value) => return Err(TestCaseError::fail(format!("{len}-byte prefix decoded to {value:?}"))),
                // Refused before allocating: the count cannot fit in what is left.
                Err(DecodeError::TooManyTransactions { count: announced, remaining }) => {
                    prop_assert_eq!(announced, count);
                    prop_assert_eq!(remaining, len - BLOCK_PREFIX_LEN);
                    prop_assert!(remaining < count as usize * MIN_TX_IN_BLOCK);
                }
                Err(error) => check_unexpected_end(&error, len)?,
            }
        }
        let mut longer = bytes.clone();
        longer.push(extra);
        prop_assert_eq!(Block::decode(&longer), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn a_length_prefix_off_by_one_is_refused(
        block in block().prop_filter("needs a transaction", |b| !b.txs.is_empty()),
        pick in any::<prop::sample::Index>(),
        extra in any::<u8>(),
    ) {
        let index = pick.index(block.txs.len());
        let start = BLOCK_PREFIX_LEN + block.txs[..index].iter().map(|tx| 2 + tx.encoded_len()).sum::<usize>();
        let tx_len = block.txs[index].encoded_len();
        let bytes = block.encode();

        // One byte more inside the transaction's slot: its fields do not use all of it.
        let mut padded = bytes.clone();
        padded[start..start + 2].copy_from_slice(&(tx_len as u16 + 1).to_le_bytes());
        padded.insert(start + 2 + tx_len, extra);
        prop_assert_eq!(
            Block::decode(&padded),
            Err(DecodeError::TransactionLength { index, declared: tx_len + 1, actual: tx_len })
        );

        // A slot one byte short: the transaction's last field runs off the end of its slot,
        // even though the block goes on; the offset counts from the start of the block.
        let mut short = bytes;
        short[start..start + 2].copy_from_slice(&(tx_len as u16 - 1).to_le_bytes());
        match Block::decode(&short) {
            Err(DecodeError::UnexpectedEnd { offset, needed, available }) => {
                prop_assert!(needed > available && offset + available == start + 2 + tx_len - 1);
            }
            other => return Err(TestCaseError::fail(format!("a short slot gave {other:?}"))),
        }
    }

    #[test]
    fn flipped_bytes_never_panic_and_whatever_decodes_is_canonical(tx in tx(), block in block(), flips in flips(4)) {
        let mut tx_bytes = tx.encode();
        apply_flips(&mut tx_bytes, &flips);
        check_every_decoder(&tx_bytes)?;
        let mut block_bytes = block.encode();
        apply_flips(&mut block_bytes, &flips);
        check_every_decoder(&block_bytes)?;
        let mut header_bytes = block.header.encode();
        apply_flips(&mut header_bytes, &flips);
        prop_assert!(check_canonical::<Header>(&header_bytes)?.is_some());
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in vec(any::<u8>(), 0..600)) {
        check_every_decoder(&bytes)?;
    }

    #[test]
    fn kind_led_bytes_never_panic_any_decoder(kind in 0u8..3, rest in vec(any::<u8>(), 0..600)) {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&rest);
        check_every_decoder(&bytes)?;
    }

    #[test]
    fn block_decode_hex_never_panics(s in any::<String>(), hexish in "[0-9a-fA-F]{0,400}") {
        for s in [s, hexish] {
            match Block::decode_hex(&s) {
                Ok(block) => prop_assert_eq!(block.encode_hex(), s.to_ascii_lowercase()),
                Err(DecodeError::InvalidHex) => prop_assert!(hex::decode(&s).is_err()),
                Err(_) => {}
            }
        }
    }

    #[test]
    fn any_bits_decode_without_panicking(bits in any::<u32>()) {
        if let Ok(target) = CompactTarget::from_consensus(bits).to_target() {
            let again = target.to_compact_lossy();
            prop_assert_eq!(again.to_target(), Ok(target));
            let _ = target.to_work();
        }
    }

    #[test]
    fn address_parsing_never_panics(
        any_string in any::<String>(),
        bech32ish in "(ox|oxt|oxd|OX|OXT|OXD|bc)1[qpzry9x8gf2tvdw0s3jn54khce6mua7lbio1A-Z]{0,95}",
    ) {
        check_parse_display::<Address>(&any_string)?;
        check_parse_display::<Address>(&bech32ish)?;
    }

    #[test]
    fn any_one_character_changed_in_an_address_is_refused(
        account in any::<[u8; 20]>(),
        network in prop::sample::select(Network::ALL.to_vec()),
        at in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let shown = Address::new(network, AccountId::from_byte_array(account)).to_string();
        check_parse_display::<Address>(&shown)?;
        check_parse_display::<Address>(&shown.to_uppercase())?;
        let at = at.index(shown.len());
        let original = shown.as_bytes()[at] as char;
        prop_assume!(replacement != original);
        let mut changed = shown.clone();
        changed.replace_range(at..at + 1, replacement.encode_utf8(&mut [0; 4]));
        prop_assert!(changed.parse::<Address>().is_err(), "{} parsed", changed);
    }

    #[test]
    fn amount_parsing_never_panics_and_successes_print_back(
        any_string in any::<String>(),
        decimal in " ?-?[0-9]{0,12}(\\.[0-9]{0,10})? ?",
    ) {
        for s in [any_string, decimal] {
            if let Ok(amount) = s.parse::<Amount>() {
                prop_assert!(amount <= Amount::MAX_SUPPLY);
                let shown = amount.to_string();
                prop_assert_eq!(shown.parse::<Amount>(), Ok(amount));
                prop_assert_eq!(shown.parse::<Amount>().map(|a| a.to_string()), Ok(shown));
            }
        }
    }

    #[test]
    fn hash_parsing_never_panics(any_string in any::<String>(), hexish in "[0-9a-fA-Fg ]{62,66}") {
        for s in [any_string, hexish] {
            check_parse_display::<BlockHash>(&s)?;
            check_parse_display::<Txid>(&s)?;
            check_parse_display::<MerkleRoot>(&s)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed examples.
// ---------------------------------------------------------------------------------------------

/// A transfer whose every field has distinct, recognisable bytes.
fn sample_transfer(memo: Vec<u8>) -> Transfer {
    Transfer {
        chain_id: 0x0403_0201,
        from: PublicKey([0x11; 32]),
        to: AccountId::from_byte_array([0x22; 20]),
        amount: Amount::from_grains(0x0807_0605_0403_0201),
        fee: Amount::from_grains(0x1817_1615_1413_1211),
        nonce: 0x2827_2625_2423_2221,
        memo: Memo::new(memo).expect("sample memos are short"),
        signature: [0x33; 64],
    }
}

fn sample_coinbase() -> Coinbase {
    Coinbase {
        height: 0x0807_0605_0403_0201,
        to: AccountId::from_byte_array([0x44; 20]),
        amount: Amount::from_grains(0x1817_1615_1413_1211),
        extra_nonce: 0x2827_2625_2423_2221,
    }
}

fn sample_header() -> Header {
    Header {
        version: 0x0403_0201,
        prev_hash: BlockHash::from_byte_array([0x55; 32]),
        merkle_root: MerkleRoot::from_byte_array([0x66; 32]),
        time: 0x1413_1211,
        bits: CompactTarget::from_consensus(0x207f_ffff),
        nonce: 0x2423_2221,
    }
}

/// The block bytes of `header`, an announced `count`, then `rest`.
fn raw_block(count: u32, rest: &[u8]) -> Vec<u8> {
    let mut bytes = sample_header().encode();
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(rest);
    bytes
}

/// `tx` as it sits in a block, under a length prefix of `declared`.
fn in_slot(declared: u16, tx: &[u8]) -> Vec<u8> {
    let mut slot = declared.to_le_bytes().to_vec();
    slot.extend_from_slice(tx);
    slot
}

#[test]
fn transfer_bytes_sit_at_the_offsets_of_the_spec() {
    let memo = b"hi \xff".to_vec();
    let transfer = sample_transfer(memo.clone());
    let bytes = transfer.encode();
    assert_eq!(bytes.len(), 1 + 4 + 32 + 20 + 8 + 8 + 8 + 1 + memo.len() + 64);
    assert_eq!(TRANSFER_BASE_LEN, 146);
    assert_eq!(bytes[0], 1, "kind");
    assert_eq!(bytes[1..5], [0x01, 0x02, 0x03, 0x04], "chain_id, little-endian");
    assert_eq!(bytes[5..37], [0x11; 32], "from_pubkey");
    assert_eq!(bytes[37..57], [0x22; 20], "to");
    assert_eq!(bytes[57..65], [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08], "amount");
    assert_eq!(bytes[65..73], [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18], "fee");
    assert_eq!(bytes[73..81], [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28], "nonce");
    assert_eq!(bytes[81], 4, "memo_len");
    assert_eq!(bytes[82..86], *b"hi \xff", "memo");
    assert_eq!(bytes[86..], [0x33; 64], "signature, last");
    assert_eq!(Transfer::decode(&bytes), Ok(transfer));
}

#[test]
fn coinbase_bytes_sit_at_the_offsets_of_the_spec() {
    let bytes = sample_coinbase().encode();
    assert_eq!(bytes.len(), 45);
    assert_eq!(COINBASE_LEN, 45);
    assert_eq!(bytes[0], 0, "kind");
    assert_eq!(bytes[1..9], [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08], "height");
    assert_eq!(bytes[9..29], [0x44; 20], "to");
    assert_eq!(bytes[29..37], [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18], "amount");
    assert_eq!(bytes[37..45], [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28], "extra_nonce");
    assert_eq!(Coinbase::decode(&bytes), Ok(sample_coinbase()));
}

#[test]
fn header_and_block_bytes_sit_at_the_offsets_of_the_spec() {
    let header = sample_header();
    let bytes = header.encode();
    assert_eq!(bytes.len(), 80);
    assert_eq!(bytes[0..4], [0x01, 0x02, 0x03, 0x04], "version");
    assert_eq!(bytes[4..36], [0x55; 32], "prev_hash, internal order");
    assert_eq!(bytes[36..68], [0x66; 32], "merkle_root, internal order");
    assert_eq!(bytes[68..72], [0x11, 0x12, 0x13, 0x14], "time");
    assert_eq!(bytes[72..76], [0xff, 0xff, 0x7f, 0x20], "bits");
    assert_eq!(bytes[76..80], [0x21, 0x22, 0x23, 0x24], "nonce");
    assert_eq!(header.hash().to_byte_array(), sha256d(&bytes));

    let transfer = sample_transfer(Vec::new());
    let block = Block { header, txs: vec![Tx::Coinbase(sample_coinbase()), Tx::Transfer(transfer.clone())] };
    let mut expected = bytes;
    expected.extend_from_slice(&[2, 0, 0, 0]);
    expected.extend_from_slice(&in_slot(45, &sample_coinbase().encode()));
    expected.extend_from_slice(&in_slot(146, &transfer.encode()));
    assert_eq!(block.encode(), expected);
    assert_eq!(Block::decode(&expected), Ok(block));
}

#[test]
fn txids_are_sha256d_of_the_whole_encoding_shown_reversed() {
    let transfer = sample_transfer(b"memo".to_vec());
    let bytes = transfer.encode();
    let digest = sha256d(&bytes);
    assert_eq!(transfer.txid().to_byte_array(), digest);
    assert_eq!(Tx::Transfer(transfer.clone()).txid(), transfer.txid());
    let mut reversed = digest;
    reversed.reverse();
    assert_eq!(transfer.txid().to_string(), hex::encode(reversed));

    // The signature is part of the txid.
    let mut resigned = transfer.clone();
    resigned.signature[63] ^= 1;
    assert_ne!(resigned.txid(), transfer.txid());

    let coinbase = sample_coinbase();
    assert_eq!(coinbase.txid().to_byte_array(), sha256d(&coinbase.encode()));
    assert_eq!(Tx::Coinbase(coinbase).txid(), coinbase.txid());
}

#[test]
fn the_signature_covers_the_domain_and_every_byte_before_it() {
    let key = testkit::key(7, 1);
    let unsigned = UnsignedTransfer {
        chain_id: 3,
        to: AccountId::from_byte_array([0x22; 20]),
        amount: Amount::from_grains(1_000),
        fee: Amount::from_grains(200),
        nonce: 5,
        memo: Memo::try_from("rent").expect("short memo"),
    };
    let transfer = unsigned.sign(&key);
    let bytes = transfer.encode();
    let mut message = b"oxcoin-tx-v1".to_vec();
    message.extend_from_slice(&bytes[..bytes.len() - 64]);
    assert_eq!(transfer.signing_message(), message);
    assert_eq!(bytes[bytes.len() - 64..], transfer.signature);
    assert_eq!(bytes[5..37], key.verifying_key().to_bytes());

    // Checked with dalek directly, strictly, over the message built here.
    let public = VerifyingKey::from_bytes(&transfer.from.0).expect("a real key");
    public.verify_strict(&message, &Signature::from_bytes(&transfer.signature)).expect("signature verifies");
    assert_eq!(transfer.verify_signature(), Ok(()));

    // The decoded transfer verifies too, and any changed byte before the signature breaks it.
    let decoded = Transfer::decode(&bytes).expect("a signed transfer decodes");
    assert_eq!(decoded.verify_signature(), Ok(()));
    for at in 0..bytes.len() - 64 {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        if let Ok(changed) = Transfer::decode(&changed) {
            assert!(changed.verify_signature().is_err(), "byte {at} is not covered by the signature");
        }
    }
}

#[test]
fn a_255_byte_memo_decodes_and_is_left_to_the_rules() {
    let key = testkit::key(9, 0);
    let memo: Vec<u8> = (0..=254).collect();
    let transfer = testkit::transfer_with_memo(Network::Dev.params(), &key, AccountId::default(), 1, 1, 0, memo);
    let bytes = transfer.encode();
    assert_eq!(bytes.len(), TRANSFER_BASE_LEN + 255);
    assert_eq!(bytes[81], 255);
    assert_eq!(Transfer::decode(&bytes).as_ref(), Ok(&transfer));
    assert_eq!(Tx::decode(&bytes), Ok(Tx::Transfer(transfer.clone())));

    let block = Block { header: sample_header(), txs: vec![Tx::Transfer(transfer)] };
    assert_eq!(Block::decode(&block.encode()), Ok(block));
}

#[test]
fn an_unknown_kind_is_named() {
    let mut bytes = sample_coinbase().encode();
    bytes[0] = 2;
    assert_eq!(Tx::decode(&bytes), Err(DecodeError::UnknownKind(2)));
    assert_eq!(Tx::decode(&[2]), Err(DecodeError::UnknownKind(2)));
    assert_eq!(Tx::decode(&[0xff]), Err(DecodeError::UnknownKind(0xff)));
    assert_eq!(Transfer::decode(&[2]), Err(DecodeError::WrongKind { expected: "transfer", found: 2 }));
    assert_eq!(Coinbase::decode(&[2]), Err(DecodeError::WrongKind { expected: "coinbase", found: 2 }));
    assert_eq!(Block::decode(&raw_block(1, &in_slot(45, &bytes))), Err(DecodeError::UnknownKind(2)));
}

#[test]
fn a_transaction_of_the_other_kind_is_the_wrong_kind() {
    let coinbase = sample_coinbase().encode();
    let transfer = sample_transfer(Vec::new()).encode();
    assert_eq!(Transfer::decode(&coinbase), Err(DecodeError::WrongKind { expected: "transfer", found: 0 }));
    assert_eq!(Coinbase::decode(&transfer), Err(DecodeError::WrongKind { expected: "coinbase", found: 1 }));
}

#[test]
fn empty_input_ends_early_everywhere() {
    let end = Err::<(), _>(DecodeError::UnexpectedEnd { offset: 0, needed: 1, available: 0 });
    assert_eq!(Tx::decode(&[]).map(drop), end);
    assert_eq!(Transfer::decode(&[]).map(drop), end);
    assert_eq!(Coinbase::decode(&[]).map(drop), end);
    assert_eq!(Header::decode(&[]), Err(DecodeError::UnexpectedEnd { offset: 0, needed: HEADER_LEN, available: 0 }));
    assert_eq!(Block::decode(&[]), Err(DecodeError::UnexpectedEnd { offset: 0, needed: HEADER_LEN, available: 0 }));
    assert_eq!(Block::decode_hex(""), Block::decode(&[]));
    assert_eq!(Block::decode_hex("0"), Err(DecodeError::InvalidHex));
    assert_eq!(Block::decode_hex("zz"), Err(DecodeError::InvalidHex));
}

#[test]
fn a_huge_transaction_count_is_refused_before_allocating() {
    // Reserving room for four billion transactions would abort the test process; the count
    // must be checked against the 10 bytes that follow first.
    let bytes = raw_block(4_000_000_000, &[0; 10]);
    assert_eq!(Block::decode(&bytes), Err(DecodeError::TooManyTransactions { count: 4_000_000_000, remaining: 10 }));
    let bytes = raw_block(u32::MAX, &[0xff; 1000]);
    assert_eq!(Block::decode(&bytes), Err(DecodeError::TooManyTransactions { count: u32::MAX, remaining: 1000 }));
}

#[test]
fn the_transaction_count_is_capped_by_the_bytes_that_follow() {
    let coinbase = sample_coinbase().encode();
    let mut two = in_slot(45, &coinbase);
    two.extend_from_slice(&in_slot(45, &coinbase));
    assert_eq!(two.len(), 2 * MIN_TX_IN_BLOCK);
    // Exactly as many as fit: decoded.
    let block = Block::decode(&raw_block(2, &two)).expect("two coinbases decode");
    assert_eq!(block.txs, vec![Tx::Coinbase(sample_coinbase()); 2]);
    // One more than fits: refused by the count, not by running off the end.
    assert_eq!(Block::decode(&raw_block(3, &two)), Err(DecodeError::TooManyTransactions { count: 3, remaining: 94 }));
    // Fewer than present: the rest is trailing.
    assert_eq!(Block::decode(&raw_block(1, &two)), Err(DecodeError::TrailingBytes(47)));
    // An empty block decodes (the rules refuse it later).
    assert_eq!(Block::decode(&raw_block(0, &[])), Ok(Block { header: sample_header(), txs: Vec::new() }));
}

#[test]
fn a_length_prefix_longer_than_its_transaction_is_refused() {
    let coinbase = sample_coinbase().encode();
    let mut slot = in_slot(46, &coinbase);
    slot.push(0);
    assert_eq!(
        Block::decode(&raw_block(1, &slot)),
        Err(DecodeError::TransactionLength { index: 0, declared: 46, actual: 45 })
    );

    let transfer = sample_transfer(b"abc".to_vec()).encode();
    let mut rest = in_slot(45, &coinbase);
    rest.extend_from_slice(&in_slot(transfer.len() as u16 + 3, &transfer));
    rest.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        Block::decode(&raw_block(2, &rest)),
        Err(DecodeError::TransactionLength { index: 1, declared: 152, actual: 149 })
    );

    // The other way round, the transaction runs off the end of its slot (not of the block).
    let slot = in_slot(44, &coinbase);
    assert_eq!(
        Block::decode(&raw_block(1, &slot)),
        Err(DecodeError::UnexpectedEnd { offset: HEADER_LEN + 4 + 2 + 37, needed: 8, available: 7 })
    );
}

#[test]
fn every_genesis_block_round_trips() {
    for network in Network::ALL {
        let genesis = network.params().genesis_block();
        let bytes = genesis.encode();
        assert_eq!(genesis.encoded_len(), bytes.len());
        assert_eq!(Block::decode(&bytes).as_ref(), Ok(&genesis), "{network}");
        assert_eq!(Block::decode_hex(&genesis.encode_hex()), Ok(genesis), "{network}");
    }
}
