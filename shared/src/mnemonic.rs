//! Recovery phrases: 24 BIP39 English words → seed → the wallet's ed25519 key by SLIP-0010.
//!
//! The wallet key sits at [`WALLET_PATH`] (`m/44'/1337'/0'/0'/0'`) under the seed of the phrase with
//! an empty passphrase. The entropy of a new phrase comes from the caller: this crate has no
//! randomness source. Every secret (phrase, seed, derived keys) is wiped from memory on drop.

use bip39::Language;
use ed25519_dalek::SigningKey;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use std::fmt;
use zeroize::Zeroizing;

/// The number of words in an OxCoin recovery phrase.
pub const WORD_COUNT: usize = 24;

/// The bytes of entropy a 24-word phrase encodes.
pub const ENTROPY_LEN: usize = 32;

/// The bit that marks a hardened SLIP-0010 child index.
pub const HARDENED: u32 = 0x8000_0000;

/// The derivation path of the wallet key, `m/44'/1337'/0'/0'/0'` (all hardened, as SLIP-0010
/// ed25519 requires).
pub const WALLET_PATH: [u32; 5] = [44 | HARDENED, 1337 | HARDENED, HARDENED, HARDENED, HARDENED];

/// The HMAC key of the SLIP-0010 ed25519 master key.
const SLIP10_ED25519_KEY: &[u8] = b"ed25519 seed";

/// The longest unknown word an error repeats, in characters (the rest is cut).
const MAX_WORD_SHOWN: usize = 24;

/// Why a recovery phrase or a derivation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    /// The phrase does not have 24 words (other BIP39 lengths are refused too).
    #[error("the recovery phrase has {0} words, but an OxCoin recovery phrase has 24")]
    WrongWordCount(usize),
    /// A word is not in the BIP39 English word list.
    #[error("word {position} ({word:?}) is not in the BIP39 English word list{hint}", hint = DidYouMean(*.suggestion))]
    UnknownWord {
        /// The word as read (lowercased, cut after 24 characters).
        word: String,
        /// Its position in the phrase, counted from 1.
        position: usize,
        /// The one list word within a single typo of it, if there is exactly one.
        suggestion: Option<&'static str>,
    },
    /// Every word is known but the checksum in the last word does not match.
    #[error("the recovery phrase's checksum does not match: a word is wrong or two words are swapped")]
    BadChecksum,
    /// A SLIP-0010 ed25519 child index without the hardened bit.
    #[error("slip-0010 ed25519 derives hardened children only, and index {0} is not hardened")]
    NotHardened(u32),
}

/// Formats the "did you mean" hint of [`MnemonicError::UnknownWord`].
struct DidYouMean(Option<&'static str>);

impl fmt::Display for DidYouMean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(word) => write!(f, "; did you mean {word:?}?"),
            None => Ok(()),
        }
    }
}

/// A 24-word BIP39 English recovery phrase, wiped from memory on drop.
///
/// `Debug` does not show the words; [`Mnemonic::phrase`] and [`Mnemonic::words`] do.
pub struct Mnemonic(bip39::Mnemonic);

impl Mnemonic {
    /// Encodes 32 bytes of entropy (which the caller draws from a secure source) as 24 words.
    pub fn from_entropy(entropy: &[u8; ENTROPY_LEN]) -> Self {
        Self(english_from_entropy(entropy).expect("32 bytes is a BIP39 entropy length"))
    }

    /// Reads a phrase typed by a user: surrounding and repeated whitespace (spaces, tabs,
    /// newlines) is ignored and letters may be in any case.
    ///
    /// # Errors
    ///
    /// Returns [`MnemonicError::WrongWordCount`] unless there are exactly 24 words (checked
    /// first), [`MnemonicError::UnknownWord`] for the first word not in the BIP39 English list,
    /// and [`MnemonicError::BadChecksum`] when the words do not carry a valid checksum.
    pub fn parse(phrase: &str) -> Result<Self, MnemonicError> {
        parse_english(phrase, &[WORD_COUNT]).map(Self)
    }

    /// Returns the words, separated by single spaces.
    pub fn phrase(&self) -> Zeroizing<String> {
        let mut phrase = Zeroizing::new(String::with_capacity(WORD_COUNT * 9));
        for (i, word) in self.0.words().enumerate() {
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
        }
        phrase
    }

    /// Returns the words in order.
    pub fn words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.words()
    }

    /// Computes the BIP39 seed with the empty passphrase, the one OxCoin wallets use.
    pub fn to_seed(&self) -> Zeroizing<[u8; 64]> {
        self.to_seed_with_passphrase("")
    }

    /// Computes the BIP39 seed, PBKDF2-HMAC-SHA512 over the phrase with salt
    /// `"mnemonic" + passphrase` (NFKD-normalized), 2048 rounds.
    pub fn to_seed_with_passphrase(&self, passphrase: &str) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.0.to_seed(passphrase))
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mnemonic(<24 words, redacted>)")
    }
}

/// Derives the wallet's signing key of a phrase: its seed (empty passphrase), then SLIP-0010
/// ed25519 along [`WALLET_PATH`].
pub fn derive_signing_key(mnemonic: &Mnemonic) -> SigningKey {
    let seed = mnemonic.to_seed();
    let key = WALLET_PATH.iter().fold(ExtendedKey::master(&seed[..]), |key, &index| key.child(index));
    key.signing_key()
}

/// A SLIP-0010 ed25519 extended private key: a secret key and a chain code, wiped on drop.
#[derive(Clone)]
pub struct ExtendedKey {
    secret_key: Zeroizing<[u8; 32]>,
    chain_code: Zeroizing<[u8; 32]>,
}

impl ExtendedKey {
    /// Derives the master key of a seed: HMAC-SHA512 keyed with `"ed25519 seed"`.
    pub fn master(seed: &[u8]) -> Self {
        Self::from_hmac(&hmac_sha512(SLIP10_ED25519_KEY, &[seed]))
    }

    /// Derives the key at `path` below the master key of `seed`, each index with its hardened
    /// bit set (`m/0'/1'` is `[HARDENED, 1 | HARDENED]`).
    ///
    /// # Errors
    ///
    /// Returns [`MnemonicError::NotHardened`] for the first index without [`HARDENED`].
    pub fn derive_path(seed: &[u8], path: &[u32]) -> Result<Self, MnemonicError> {
        path.iter().try_fold(Self::master(seed), |key, &index| key.derive_child(index))
    }

    /// Derives a hardened child: HMAC-SHA512 keyed with the chain code over
    /// `0x00 || secret key || index` (big-endian).
    ///
    /// # Errors
    ///
    /// Returns [`MnemonicError::NotHardened`] if `index` lacks [`HARDENED`]: ed25519 has no
    /// public derivation.
    pub fn derive_child(&self, index: u32) -> Result<Self, MnemonicError> {
        if index & HARDENED == 0 {
            return Err(MnemonicError::NotHardened(index));
        }
        Ok(self.child(index))
    }

    /// Borrows the 32-byte ed25519 secret key (the seed of the signing key).
    pub fn secret_key(&self) -> &[u8; 32] {
        &self.secret_key
    }

    /// Borrows the 32-byte chain code.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// Returns the ed25519 signing key of this node.
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.secret_key)
    }

    /// Derives the child at a hardened `index` (the caller checked the bit).
    fn child(&self, index: u32) -> Self {
        let digest = hmac_sha512(&self.chain_code[..], &[&[0], &self.secret_key[..], &index.to_be_bytes()]);
        Self::from_hmac(&digest)
    }

    /// Splits an HMAC output into the key (left half) and the chain code (right half).
    fn from_hmac(digest: &[u8; 64]) -> Self {
        let mut secret_key = Zeroizing::new([0u8; 32]);
        let mut chain_code = Zeroizing::new([0u8; 32]);
        secret_key.copy_from_slice(&digest[..32]);
        chain_code.copy_from_slice(&digest[32..]);
        Self { secret_key, chain_code }
    }
}

impl fmt::Debug for ExtendedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExtendedKey(<redacted>)")
    }
}

/// Computes HMAC-SHA512 of the concatenated `parts` under `key`.
fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).expect("hmac takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// Encodes entropy of any BIP39 length (16 to 32 bytes, a multiple of 4) as English words.
fn english_from_entropy(entropy: &[u8]) -> Result<bip39::Mnemonic, bip39::Error> {
    bip39::Mnemonic::from_entropy_in(Language::English, entropy)
}

/// Parses a phrase typed by a user whose word count is one of `word_counts`.
///
/// The public [`Mnemonic::parse`] allows 24 words only; the tests run the BIP39 vectors of every
/// length through this same code.
fn parse_english(phrase: &str, word_counts: &[usize]) -> Result<bip39::Mnemonic, MnemonicError> {
    let count = phrase.split_whitespace().count();
    if !word_counts.contains(&count) {
        return Err(MnemonicError::WrongWordCount(count));
    }
    // Every English list word is ASCII, so lowercasing keeps the length and the buffer never
    // reallocates (which would leave an unwiped copy behind).
    let mut normalized = Zeroizing::new(String::with_capacity(phrase.len()));
    for (i, word) in phrase.split_whitespace().enumerate() {
        if !word.is_ascii() {
            return Err(unknown_word(word, i + 1));
        }
        if i > 0 {
            normalized.push(' ');
        }
        let start = normalized.len();
        normalized.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        if Language::English.find_word(&normalized[start..]).is_none() {
            return Err(unknown_word(word, i + 1));
        }
    }
    bip39::Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(|error| match error {
        bip39::Error::BadWordCount(count) => MnemonicError::WrongWordCount(count),
        bip39::Error::UnknownWord(i) => {
            unknown_word(normalized.split_whitespace().nth(i).unwrap_or_default(), i.saturating_add(1))
        }
        // The remaining errors (entropy length, ambiguous languages) cannot occur for a checked
        // count of English words; the checksum is what is left.
        _ => MnemonicError::BadChecksum,
    })
}

/// Builds the error for an unknown word, with a suggestion when one list word is a typo away.
fn unknown_word(word: &str, position: usize) -> MnemonicError {
    let lowercase = word.to_lowercase();
    let suggestion = suggest(&lowercase);
    let mut shown: String = lowercase.chars().take(MAX_WORD_SHOWN).collect();
    if lowercase.chars().count() > MAX_WORD_SHOWN {
        shown.push('…');
    }
    MnemonicError::UnknownWord { word: shown, position, suggestion }
}

/// Finds the list word one edit (insertion, deletion, substitution or swap of neighbours) away from
/// `word`, or else the list word sharing its first four letters (unique in BIP39 English); `None`
/// when there is no such word or more than one.
fn suggest(word: &str) -> Option<&'static str> {
    if !word.is_ascii() {
        return None;
    }
    let list = Language::English.word_list().iter().copied();
    only(list.clone().filter(|candidate| one_edit_apart(word.as_bytes(), candidate.as_bytes()))).or_else(|| {
        let prefix = word.get(..4)?;
        only(list.filter(|candidate| candidate.starts_with(prefix)))
    })
}

/// Returns the item of an iterator that yields exactly one.
fn only<T>(mut items: impl Iterator<Item = T>) -> Option<T> {
    let first = items.next()?;
    items.next().is_none().then_some(first)
}

/// Tells whether `a` becomes `b` by exactly one insertion, deletion, substitution or swap of two
/// neighbouring letters.
fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    match a.len().abs_diff(b.len()) {
        0 if a.is_empty() => false,
        0 => a[1..] == b[1..] || (a.len() >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..]),
        1 if a.len() > b.len() => a[1..] == *b,
        1 => b[1..] == *a,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
