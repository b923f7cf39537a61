//! Fuzzes `Transfer::decode` (SPEC §3, transfer).
//!
//! Invariants checked:
//! - decoding never panics, whatever the input (memos of any length 0..=255 and any bytes,
//!   any chain id, key and signature decode: those are rules, checked later);
//! - anything that decodes re-encodes to exactly the input bytes, and `encoded_len` is its length;
//! - decode∘encode is the identity, and `Tx::decode` reads the same transfer;
//! - a first byte other than 1 is reported as `WrongKind` with that byte;
//! - the txid is SHA-256d of the input; the signing message is the domain separator followed by
//!   the input without its last 64 bytes; the sender and the strict signature check never panic;
//! - the signature check (`oxcoin::signature`, batched) gives ed25519-dalek's own `verify_strict`
//!   answer, alone and in a batch with the same transfer signed or spoiled.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::hash::sha256d;
use oxcoin::tx::{SIGNING_DOMAIN, TRANSFER_BASE_LEN, TRANSFER_KIND};
use oxcoin::{Decode, DecodeError, Encode, Transfer, Tx};

fuzz_target!(|data: &[u8]| {
    match Transfer::decode(data) {
        Ok(transfer) => {
            let bytes = transfer.encode();
            assert_eq!(bytes, data, "a decoded transfer re-encodes to its input");
            assert_eq!(transfer.encoded_len(), data.len());
            assert_eq!(data.len(), TRANSFER_BASE_LEN + transfer.memo.len());
            assert_eq!(Transfer::decode(&bytes).as_ref(), Ok(&transfer));
            assert_eq!(Tx::decode(data), Ok(Tx::Transfer(transfer.clone())));
            assert_eq!(transfer.txid().to_byte_array(), sha256d(data));
            let mut message = SIGNING_DOMAIN.to_vec();
            message.extend_from_slice(&data[..data.len() - 64]);
            assert_eq!(transfer.signing_message(), message);
            let _ = transfer.sender();
            let dalek = ed25519_dalek::VerifyingKey::from_bytes(&transfer.from.0).is_ok_and(|key| {
                key.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&transfer.signature)).is_ok()
            });
            assert_eq!(transfer.verify_signature().is_ok(), dalek, "verify_strict's answer");
            let mut flipped = transfer.clone();
            flipped.signature[0] ^= 1;
            let both = Transfer::verify_signatures(&[&flipped, &transfer]);
            assert_eq!(both[1].is_ok(), dalek, "the same answer in a batch");
        }
        Err(error) => {
            assert!(!matches!(Tx::decode(data), Ok(Tx::Transfer(_))));
            if let Some(&kind) = data.first()
                && kind != TRANSFER_KIND
            {
                assert_eq!(error, DecodeError::WrongKind { expected: "transfer", found: kind });
            }
        }
    }
});
