//! Fuzzes `Tx::decode` (SPEC §3, coinbase and transfer).
//!
//! Invariants checked:
//! - decoding never panics, whatever the input;
//! - anything that decodes re-encodes to exactly the input bytes, and `encoded_len` is its length;
//! - decode∘encode is the identity;
//! - the kind-specific decoders (`Coinbase::decode`, `Transfer::decode`) accept exactly the inputs
//!   `Tx::decode` reads as their kind, to the same value;
//! - an unknown kind byte is reported as `UnknownKind` with that byte;
//! - the txid is SHA-256d of the input bytes; a transfer's signing message is the domain
//!   separator followed by the input without its last 64 bytes; checking the signature never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::hash::sha256d;
use oxcoin::tx::SIGNING_DOMAIN;
use oxcoin::{Coinbase, Decode, DecodeError, Encode, Transfer, Tx};

fuzz_target!(|data: &[u8]| {
    let decoded = Tx::decode(data);
    let as_coinbase = Coinbase::decode(data).map(Tx::Coinbase);
    let as_transfer = Transfer::decode(data).map(Tx::Transfer);
    match decoded {
        Ok(tx) => {
            assert_eq!(tx.encode(), data, "a decoded transaction re-encodes to its input");
            assert_eq!(tx.encoded_len(), data.len());
            assert_eq!(Tx::decode(&tx.encode()).as_ref(), Ok(&tx));
            assert_eq!(tx.txid().to_byte_array(), sha256d(data));
            match &tx {
                Tx::Coinbase(_) => {
                    assert_eq!(as_coinbase.as_ref(), Ok(&tx));
                    assert!(as_transfer.is_err());
                }
                Tx::Transfer(transfer) => {
                    assert_eq!(as_transfer.as_ref(), Ok(&tx));
                    assert!(as_coinbase.is_err());
                    let mut message = SIGNING_DOMAIN.to_vec();
                    message.extend_from_slice(&data[..data.len() - 64]);
                    assert_eq!(transfer.signing_message(), message);
                    let _ = transfer.verify_signature();
                }
            }
        }
        Err(error) => {
            assert!(as_coinbase.is_err() && as_transfer.is_err());
            if let Some(&kind) = data.first()
                && kind > 1
            {
                assert_eq!(error, DecodeError::UnknownKind(kind));
            }
        }
    }
});
