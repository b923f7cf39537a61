//! Canonical consensus encodings: a bounds-checked reader, the `Encode`/`Decode` traits and
//! their errors. Separate from serde on purpose: these bytes are hashed and signed.

/// Why bytes are not a canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before a field was complete.
    #[error("input ends early: {needed} more bytes needed at offset {offset}, {available} left")]
    UnexpectedEnd {
        /// Offset of the field that could not be read.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// Bytes were left after a complete value.
    #[error("{0} trailing bytes after the encoding")]
    TrailingBytes(usize),
    /// The transaction kind byte is neither coinbase (0) nor transfer (1).
    #[error("unknown transaction kind {0}")]
    UnknownKind(u8),
    /// A transaction of the right shape but the wrong kind for this place.
    #[error("expected a {expected} transaction, found kind {found}")]
    WrongKind {
        /// What the caller asked for.
        expected: &'static str,
        /// The kind byte found.
        found: u8,
    },
    /// A block announces more transactions than its bytes could hold.
    #[error("block announces {count} transactions but only {remaining} bytes follow")]
    TooManyTransactions {
        /// The announced count.
        count: u32,
        /// The bytes left after the count.
        remaining: usize,
    },
    /// A length-prefixed transaction does not use exactly its length.
    #[error("transaction {index} declares {declared} bytes but its encoding is {actual} bytes")]
    TransactionLength {
        /// Index of the transaction in the block.
        index: usize,
        /// The length prefix.
        declared: usize,
        /// The length its fields took.
        actual: usize,
    },
    /// The input is not hex.
    #[error("input is not valid hex")]
    InvalidHex,
}

/// A cursor over input bytes whose every read is bounds-checked.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
    /// Where `bytes` start inside the outermost input, so errors give absolute offsets.
    base: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0, base: 0 }
    }

    /// Reads the next `n` bytes as a reader of their own, whose errors still give offsets in
    /// the outer input.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if fewer than `n` bytes are left.
    pub fn sub_reader(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let base = self.base + self.offset;
        Ok(Reader { bytes: self.read_slice(n)?, offset: 0, base })
    }

    /// Returns how many bytes are left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    /// Returns how many bytes were read so far.
    pub fn position(&self) -> usize {
        self.offset
    }

    /// Reads the next `n` bytes.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if fewer than `n` bytes are left.
    pub fn read_slice(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.base + self.offset,
                needed: n,
                available: self.remaining(),
            });
        }
        let slice = &self.bytes[self.offset..self.offset + n];
        self.offset += n;
        Ok(slice)
    }

    /// Reads a fixed-size array.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if the input is too short.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_slice(N)?);
        Ok(out)
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] at the end of input.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// Reads a little-endian `u16`.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if the input is too short.
    pub fn read_u16(&mut self) -> Result<u16, DecodeError> {
        self.read_array().map(u16::from_le_bytes)
    }

    /// Reads a little-endian `u32`.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if the input is too short.
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        self.read_array().map(u32::from_le_bytes)
    }

    /// Reads a little-endian `u64`.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedEnd`] if the input is too short.
    pub fn read_u64(&mut self) -> Result<u64, DecodeError> {
        self.read_array().map(u64::from_le_bytes)
    }

    /// Checks that every byte was read.
    ///
    /// # Errors
    /// [`DecodeError::TrailingBytes`] if some are left.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

/// A value with a canonical byte encoding.
pub trait Encode {
    /// Appends the canonical encoding to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// Returns the length of the canonical encoding without building it.
    fn encoded_len(&self) -> usize;

    /// Returns the canonical encoding.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_to(&mut out);
        out
    }

    /// Returns the canonical encoding as lowercase hex.
    fn encode_hex(&self) -> String {
        hex::encode(self.encode())
    }
}

/// A value that can be read back from its canonical encoding, strictly.
pub trait Decode: Sized {
    /// Reads one value from `reader`, leaving what follows it.
    ///
    /// # Errors
    /// Any [`DecodeError`] for input that is not a canonical encoding.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes exactly `bytes`, refusing trailing bytes.
    ///
    /// # Errors
    /// Any [`DecodeError`] for input that is not exactly one canonical encoding.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let value = Self::decode_from(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }

    /// Decodes exactly one value from hex.
    ///
    /// # Errors
    /// [`DecodeError::InvalidHex`], or any error of [`Decode::decode`].
    fn decode_hex(hex_str: &str) -> Result<Self, DecodeError> {
        let bytes = hex::decode(hex_str).map_err(|_| DecodeError::InvalidHex)?;
        Self::decode(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_reports_short_input() {
        let mut reader = Reader::new(&[1, 0, 2, 0, 0, 0, 9]);
        assert_eq!(reader.read_u16(), Ok(1));
        assert_eq!(reader.read_u32(), Ok(2));
        assert_eq!(reader.read_u64(), Err(DecodeError::UnexpectedEnd { offset: 6, needed: 8, available: 1 }));
        assert_eq!(reader.finish(), Err(DecodeError::TrailingBytes(1)));
    }
}
