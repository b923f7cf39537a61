//! Fuzzes `Header::decode` (SPEC §3, block header).
//!
//! Invariants checked:
//! - decoding never panics, whatever the input;
//! - exactly the 80-byte inputs decode (any 80 bytes are a header: its fields are not checked here);
//! - a decoded header re-encodes to exactly the input bytes, and `encoded_len` is 80;
//! - decode∘encode is the identity, and `Header::from_bytes` agrees with `decode`;
//! - hashing and the proof-of-work check never panic, whatever the bits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::block::HEADER_LEN;
use oxcoin::{Decode, DecodeError, Encode, Header};

fuzz_target!(|data: &[u8]| {
    match Header::decode(data) {
        Ok(header) => {
            assert_eq!(data.len(), HEADER_LEN);
            let bytes = header.encode();
            assert_eq!(bytes, data, "a decoded header re-encodes to its input");
            assert_eq!(header.encoded_len(), HEADER_LEN);
            assert_eq!(Header::decode(&bytes), Ok(header));
            let array: [u8; HEADER_LEN] = bytes.as_slice().try_into().expect("80 bytes");
            assert_eq!(Header::from_bytes(&array), header);
            let hash = header.hash();
            if let Ok(proven) = header.validate_pow(header.bits) {
                assert_eq!(proven, hash);
            }
        }
        Err(DecodeError::UnexpectedEnd { .. }) => assert!(data.len() < HEADER_LEN),
        Err(DecodeError::TrailingBytes(n)) => assert_eq!(n, data.len() - HEADER_LEN),
        Err(other) => panic!("a header cannot fail with {other:?}"),
    }
});
