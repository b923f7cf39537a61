//! The wallet keyfile (SPEC §7): one ed25519 key in versioned JSON, in the clear or sealed with
//! argon2id and XChaCha20-Poly1305.
//!
//! The format is defined here once; the node (which creates the default wallet) and the wallet CLI
//! both use it. Bytes in, bytes out: reading, writing and file permissions belong to the binaries,
//! and salts and nonces come from the caller. Version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "name": "default",
//!   "network": "main",
//!   "address": "ox1…",
//!   "public_key": "<64 hex digits>",
//!   "secret": { "type": "plain", "secret_key": "<64 hex digits>" }
//! }
//! ```
//!
//! or, encrypted, `"secret": {"type": "encrypted", "kdf": {"algorithm": "argon2id", "memory_kib":
//! 65536, "iterations": 3, "parallelism": 1, "salt": "<32 hex>"}, "cipher": {"algorithm":
//! "xchacha20poly1305", "nonce": "<48 hex>", "ciphertext": "<96 hex>"}}`.
//!
//! The address and public key stay in the clear, so showing the address or the balance needs no
//! password. The cipher's associated data binds the version, network, address and public key:
//! a sealed secret moved under other clear fields does not open. The name is not bound (renaming a
//! wallet needs no password). Everything a file says is checked when it is read, and KDF costs are
//! bounded there, before any attempt to derive a key.

use crate::address::{Address, AddressError};
use crate::params::Network;
use argon2::{Algorithm, Argon2, Version};
use chacha20poly1305::{AeadInOut, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::marker::PhantomData;
use zeroize::Zeroizing;

/// The keyfile format version this code reads and writes.
pub const KEYFILE_VERSION: u64 = 1;

/// The longest wallet name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// The length of the argon2id salt, in bytes.
pub const SALT_LEN: usize = 16;

/// The length of the XChaCha20-Poly1305 nonce, in bytes.
pub const NONCE_LEN: usize = 24;

/// The length of an ed25519 secret or public key, in bytes.
const KEY_LEN: usize = 32;

/// The length of the Poly1305 tag, in bytes.
const TAG_LEN: usize = 16;

/// The length of the sealed secret: the encrypted key followed by the tag.
const CIPHERTEXT_LEN: usize = KEY_LEN + TAG_LEN;

/// Room for any keyfile's JSON, so that writing it never reallocates (which would leave an unwiped
/// copy of a plain secret behind).
const JSON_CAPACITY: usize = 2048;

/// Domain separation for the associated data of the cipher.
const AD_DOMAIN: &[u8] = b"oxcoin keyfile";

/// The argon2id cost of deriving a keyfile's encryption key from its password.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The cost new keyfiles use (SPEC §7): 64 MiB, 3 passes, 1 lane.
    pub const DEFAULT: Self = Self { memory_kib: 65_536, iterations: 3, parallelism: 1 };

    /// The most memory a keyfile may ask for: 1 GiB.
    pub const MAX_MEMORY_KIB: u64 = 1_048_576;

    /// The most passes a keyfile may ask for.
    pub const MAX_ITERATIONS: u64 = 64;

    /// The most lanes a keyfile may ask for.
    pub const MAX_PARALLELISM: u64 = 16;

    /// Checks a cost read from a file, without running anything.
    ///
    /// # Errors
    ///
    /// Returns [`KeyfileError::KdfTooExpensive`] when a figure is above its maximum, and
    /// [`KeyfileError::KdfInvalid`] when argon2id cannot run with it (no pass, no lane, or less
    /// than 8 KiB of memory per lane).
    pub fn new(memory_kib: u64, iterations: u64, parallelism: u64) -> Result<Self, KeyfileError> {
        if memory_kib > Self::MAX_MEMORY_KIB || iterations > Self::MAX_ITERATIONS || parallelism > Self::MAX_PARALLELISM
        {
            return Err(KeyfileError::KdfTooExpensive { memory_kib, iterations, parallelism });
        }
        if iterations == 0 {
            return Err(KeyfileError::KdfInvalid("iterations must be at least 1"));
        }
        if parallelism == 0 {
            return Err(KeyfileError::KdfInvalid("parallelism must be at least 1"));
        }
        if memory_kib < 8 * parallelism {
            return Err(KeyfileError::KdfInvalid("memory_kib must be at least 8 per lane of parallelism"));
        }
        // The maximums above fit in u32.
        let narrow = |n: u64| u32::try_from(n).map_err(|_| KeyfileError::KdfInvalid("a cost does not fit in 32 bits"));
        Ok(Self { memory_kib: narrow(memory_kib)?, iterations: narrow(iterations)?, parallelism: narrow(parallelism)? })
    }
}

/// Why a keyfile was refused, could not be built, or did not unlock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyfileError {
    /// The bytes are not a keyfile: bad JSON, a missing, unknown or duplicate field, a wrong type.
    #[error("the keyfile is not valid: {0}")]
    Malformed(String),
    /// The keyfile has a version this program does not know.
    #[error("keyfile version {0} is not supported (this program reads version 1); upgrade oxwallet")]
    UnsupportedVersion(u64),
    /// The wallet name is not a safe file name.
    #[error("invalid wallet name {name:?}: {reason}")]
    InvalidName {
        /// The name (cut after 64 characters).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A hex field has bad digits or the wrong length.
    #[error("the keyfile field `{field}` must be {expected}")]
    InvalidField {
        /// The field's name.
        field: &'static str,
        /// What it must hold.
        expected: &'static str,
    },
    /// The `address` field is not an OxCoin address.
    #[error("the keyfile's address is not valid: {0}")]
    InvalidAddress(AddressError),
    /// The clear fields contradict each other, or the secret does not belong to them.
    #[error("the keyfile was altered or is corrupt: {0}")]
    Tampered(String),
    /// The password is wrong; AEAD cannot tell that apart from an altered ciphertext.
    #[error("wrong password, or the keyfile was altered")]
    WrongPassword,
    /// The keyfile is encrypted and no password was given.
    #[error("the keyfile is encrypted: a password is required")]
    PasswordRequired,
    /// A new encrypted keyfile was asked for with an empty password.
    #[error("the password is empty: choose a password, or keep the keyfile unencrypted")]
    EmptyPassword,
    /// [`Keyfile::encrypt`] was called on a keyfile that is already encrypted.
    #[error("the keyfile is already encrypted")]
    AlreadyEncrypted,
    /// The key derivation cost in the file is above the limits; it is refused without trying.
    #[error(
        "the keyfile asks for an argon2id cost of {memory_kib} KiB, {iterations} iterations and {parallelism} lanes, \
         above the limits of 1048576 KiB, 64 iterations and 16 lanes; refusing to try it"
    )]
    KdfTooExpensive {
        /// Memory asked for, in KiB.
        memory_kib: u64,
        /// Passes asked for.
        iterations: u64,
        /// Lanes asked for.
        parallelism: u64,
    },
    /// The key derivation parameters cannot be used.
    #[error("the keyfile's key derivation parameters are invalid: {0}")]
    KdfInvalid(&'static str),
    /// The key derivation ran and failed (for example, out of memory).
    #[error("the key derivation failed: {0}")]
    KdfFailed(String),
}

/// A wallet keyfile: a name, a network, an address and its public key, and the secret key, in the
/// clear or encrypted.
///
/// Every value of this type is consistent: the address belongs to the public key and the network,
/// a clear secret key belongs to the public key, and KDF costs are within bounds. `Debug` never
/// shows the secret.
#[derive(Clone)]
pub struct Keyfile {
    name: String,
    network: Network,
    address: Address,
    public_key: [u8; KEY_LEN],
    secret: Secret,
}

/// The secret part of a keyfile.
#[derive(Clone)]
enum Secret {
    Plain(Zeroizing<[u8; KEY_LEN]>),
    Encrypted(Sealed),
}

/// An encrypted secret key with what is needed to open it, password aside.
#[derive(Clone)]
struct Sealed {
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    ciphertext: [u8; CIPHERTEXT_LEN],
}

impl Keyfile {
    /// Builds an unencrypted keyfile for `key`.
    ///
    /// # Errors
    ///
    /// Returns [`KeyfileError::InvalidName`] if `name` fails [`validate_name`].
    pub fn new_plain(name: &str, network: Network, key: &SigningKey) -> Result<Self, KeyfileError> {
        validate_name(name)?;
        let public_key = key.verifying_key().to_bytes();
        Ok(Self {
            name: name.to_owned(),
            network,
            address: Address::from_public_key(network, &public_key),
            public_key,
            secret: Secret::Plain(Zeroizing::new(key.to_bytes())),
        })
    }

    /// Builds a keyfile for `key` encrypted under `password` with the default cost
    /// ([`KdfParams::DEFAULT`]). `salt` and `nonce` must be fresh random bytes.
    ///
    /// This runs argon2id (64 MiB).
    ///
    /// # Errors
    ///
    /// Returns [`KeyfileError::InvalidName`] for a bad name, [`KeyfileError::EmptyPassword`] for
    /// an empty password, and [`KeyfileError::KdfFailed`] if argon2id cannot run (out of memory).
    pub fn new_encrypted(
        name: &str,
        network: Network,
        key: &SigningKey,
        password: &[u8],
        salt: [u8; SALT_LEN],
        nonce: [u8; NONCE_LEN],
    ) -> Result<Self, KeyfileError> {
        Self::new_plain(name, network, key)?.encrypt_with(password, KdfParams::DEFAULT, salt, nonce)
    }

    /// Returns this (unencrypted) keyfile encrypted under `password`, as
    /// [`Keyfile::new_encrypted`] does. To change a password, unlock the keyfile and build a new
    /// one with [`Keyfile::new_encrypted`].
    ///
    /// # Errors
    ///
    /// Returns [`KeyfileError::AlreadyEncrypted`] for an encrypted keyfile, and the errors of
    /// [`Keyfile::new_encrypted`].
    pub fn encrypt(&self, password: &[u8], salt: [u8; SALT_LEN], nonce: [u8; NONCE_LEN]) -> Result<Self, KeyfileError> {
        self.encrypt_with(password, KdfParams::DEFAULT, salt, nonce)
    }

    /// Returns the signing key. A password is needed only for an encrypted keyfile (an
    /// unencrypted one ignores it).
    ///
    /// This runs argon2id for an encrypted keyfile.
    ///
    /// # Errors
    ///
    /// Returns [`KeyfileError::PasswordRequired`] for an encrypted keyfile without a password,
    /// [`KeyfileError::WrongPassword`] when the secret does not open (wrong password or altered
    /// ciphertext, salt, nonce, KDF cost or bound field), [`KeyfileError::KdfFailed`] if argon2id
    /// cannot run, and [`KeyfileError::Tampered`] if the opened key does not match the public key.
    pub fn unlock(&self, password: Option<&[u8]>) -> Result<SigningKey, KeyfileError> {
        let secret = match &self.secret {
            Secret::Plain(secret) => secret.clone(),
            Secret::Encrypted(sealed) => {
                let password = password.ok_or(KeyfileError::PasswordRequired)?;
                sealed.open(password, &self.associated_data())?
            }
        };
        let key = SigningKey::from_bytes(&secret);
        if key.verifying_key().to_bytes() != self.public_key {
            return Err(KeyfileError::Tampered("the secret key does not belong to the public key".into()));
        }
        Ok(key)
    }

    /// Returns the wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the network the key is for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// Returns the key's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Returns the ed25519 public key.
    pub fn public_key(&self) -> &[u8; KEY_LEN] {
        &self.public_key
    }

    /// Tells whether the secret key is encrypted.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.secret, Secret::Encrypted(_))
    }

    /// Returns the key derivation cost of an encrypted keyfile.
    pub fn kdf_params(&self) -> Option<KdfParams> {
        match &self.secret {
            Secret::Plain(_) => None,
            Secret::Encrypted(sealed) => Some(sealed.kdf),
        }
    }

    /// Writes the keyfile as pretty JSON with a trailing newline. The buffer is wiped on drop, as
    /// it holds the secret key of an unencrypted keyfile.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let mut secret_hex = Zeroizing::new([0u8; 2 * KEY_LEN]);
        let secret = match &self.secret {
            Secret::Plain(secret) => {
                hex::encode_to_slice(&secret[..], &mut secret_hex[..]).expect("the buffer fits 32 bytes as hex");
                SecretOut::Plain { secret_key: std::str::from_utf8(&secret_hex[..]).expect("hex digits are ascii") }
            }
            Secret::Encrypted(sealed) => SecretOut::Encrypted {
                kdf: KdfOut {
                    algorithm: KdfAlgorithm::Argon2id,
                    memory_kib: sealed.kdf.memory_kib,
                    iterations: sealed.kdf.iterations,
                    parallelism: sealed.kdf.parallelism,
                    salt: hex::encode(sealed.salt),
                },
                cipher: CipherOut {
                    algorithm: CipherAlgorithm::XChaCha20Poly1305,
                    nonce: hex::encode(sealed.nonce),
                    ciphertext: hex::encode(sealed.ciphertext),
                },
            },
        };
        let document = KeyfileOut {
            version: KEYFILE_VERSION,
            name: &self.name,
            network: self.network,
            address: self.address.to_string(),
            public_key: hex::encode(self.public_key),
            secret,
        };
        let mut json = Zeroizing::new(Vec::with_capacity(JSON_CAPACITY));
        serde_json::to_writer_pretty(&mut *json, &document).expect("a keyfile serializes into a Vec");
        json.push(b'\n');
        json
    }

    /// Reads and checks a keyfile: the JSON shape (unknown and duplicate fields refused), the
    /// version, the name, that the address belongs to the public key and the network, that a
    /// clear secret key belongs to the public key, and the KDF cost bounds. Nothing expensive
    /// runs.
    ///
    /// # Errors
    ///
    /// Returns [`KeyfileError::Malformed`] (with the line and column) for anything that is not
    /// a keyfile's JSON, [`KeyfileError::UnsupportedVersion`], [`KeyfileError::InvalidName`],
    /// [`KeyfileError::InvalidField`] for bad hex or lengths, [`KeyfileError::InvalidAddress`],
    /// [`KeyfileError::Tampered`] for contradicting fields, and [`KeyfileError::KdfTooExpensive`]
    /// or [`KeyfileError::KdfInvalid`] for a KDF cost out of bounds.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeyfileError> {
        // The version first: a newer file may have other fields and should say so.
        let probe: Object<VersionProbe> = serde_json::from_slice(bytes).map_err(malformed)?;
        if let Some(version) = probe.0.version.as_ref().and_then(serde_json::Value::as_u64)
            && version != KEYFILE_VERSION
        {
            return Err(KeyfileError::UnsupportedVersion(version));
        }
        let Object(file) = serde_json::from_slice::<Object<KeyfileIn>>(bytes).map_err(malformed)?;
        if file.version != KEYFILE_VERSION {
            return Err(KeyfileError::UnsupportedVersion(file.version));
        }
        validate_name(&file.name)?;
        let public_key: [u8; KEY_LEN] = decode_hex(&file.public_key, "public_key", "64 hex digits (32 bytes)")?;
        let address: Address = file.address.parse().map_err(KeyfileError::InvalidAddress)?;
        if address.network() != file.network {
            return Err(KeyfileError::Tampered(format!(
                "the address is for the {} network but the keyfile says {}",
                address.network(),
                file.network
            )));
        }
        if Address::from_public_key(file.network, &public_key) != address {
            return Err(KeyfileError::Tampered("the address does not belong to the public key".into()));
        }
        if VerifyingKey::from_bytes(&public_key).is_err() {
            return Err(KeyfileError::Tampered("the public key is not an ed25519 point".into()));
        }
        let secret = file.secret.0.check(&public_key)?;
        Ok(Self { name: file.name, network: file.network, address, public_key, secret })
    }

    /// Encrypts an unencrypted keyfile with a given cost.
    fn encrypt_with(
        &self,
        password: &[u8],
        kdf: KdfParams,
        salt: [u8; SALT_LEN],
        nonce: [u8; NONCE_LEN],
    ) -> Result<Self, KeyfileError> {
        let Secret::Plain(secret) = &self.secret else {
            return Err(KeyfileError::AlreadyEncrypted);
        };
        if password.is_empty() {
            return Err(KeyfileError::EmptyPassword);
        }
        let key = derive_key(password, &salt, kdf)?;
        let mut buffer = Zeroizing::new(**secret);
        let tag = XChaCha20Poly1305::new(&(*key).into())
            .encrypt_inout_detached(&XNonce::from(nonce), &self.associated_data(), (&mut buffer[..]).into())
            .map_err(|_| KeyfileError::KdfFailed("the cipher refused a 32-byte message".into()))?;
        let mut ciphertext = [0u8; CIPHERTEXT_LEN];
        ciphertext[..KEY_LEN].copy_from_slice(&buffer[..]);
        ciphertext[KEY_LEN..].copy_from_slice(&tag);
        Ok(Self { secret: Secret::Encrypted(Sealed { kdf, salt, nonce, ciphertext }), ..self.clone() })
    }

    /// Encodes the clear fields the cipher authenticates: domain, version, network, address,
    /// public key, each of variable length prefixed by its length.
    fn associated_data(&self) -> Vec<u8> {
        let network = self.network.as_str().as_bytes();
        let address = self.address.to_string();
        let mut ad = Vec::with_capacity(AD_DOMAIN.len() + 8 + 2 + network.len() + address.len() + KEY_LEN);
        ad.extend_from_slice(AD_DOMAIN);
        ad.extend_from_slice(&KEYFILE_VERSION.to_le_bytes());
        for field in [network, address.as_bytes()] {
            // Network names and addresses are shorter than 256 bytes.
            ad.push(u8::try_from(field.len()).unwrap_or(u8::MAX));
            ad.extend_from_slice(field);
        }
        ad.extend_from_slice(&self.public_key);
        ad
    }
}

impl fmt::Debug for Keyfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret: &dyn fmt::Debug = match &self.secret {
            Secret::Plain(_) => &"<plain, redacted>",
            Secret::Encrypted(sealed) => &sealed.kdf,
        };
        f.debug_struct("Keyfile")
            .field("name", &self.name)
            .field("network", &self.network)
            .field("address", &self.address)
            .field("public_key", &hex::encode(self.public_key))
            .field("secret", secret)
            .finish()
    }
}

impl Sealed {
    /// Derives the key from `password` and decrypts the secret key.
    fn open(&self, password: &[u8], associated_data: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, KeyfileError> {
        let key = derive_key(password, &self.salt, self.kdf)?;
        let mut secret = Zeroizing::new([0u8; KEY_LEN]);
        secret.copy_from_slice(&self.ciphertext[..KEY_LEN]);
        let tag = Tag::try_from(&self.ciphertext[KEY_LEN..]).map_err(|_| KeyfileError::WrongPassword)?;
        XChaCha20Poly1305::new(&(*key).into())
            .decrypt_inout_detached(&XNonce::from(self.nonce), associated_data, (&mut secret[..]).into(), &tag)
            .map_err(|_| KeyfileError::WrongPassword)?;
        Ok(secret)
    }
}

/// Checks that `name` can be a wallet's name and file stem: 1 to 64 ASCII letters, digits, `-`,
/// `_` or `.`, not starting with `.`.
///
/// # Errors
///
/// Returns [`KeyfileError::InvalidName`] saying which rule the name breaks.
pub fn validate_name(name: &str) -> Result<(), KeyfileError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.chars().count() > MAX_NAME_LEN {
        "it is longer than 64 characters"
    } else if name.starts_with('.') {
        "it starts with '.'"
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        "only ASCII letters, digits, '-', '_' and '.' are allowed"
    } else {
        return Ok(());
    };
    Err(KeyfileError::InvalidName { name: name.chars().take(MAX_NAME_LEN).collect(), reason })
}

/// Runs argon2id.
fn derive_key(password: &[u8], salt: &[u8; SALT_LEN], kdf: KdfParams) -> Result<Zeroizing<[u8; 32]>, KeyfileError> {
    // The bounds are checked again here, so nothing builds an absurd cost by another path.
    let kdf = KdfParams::new(kdf.memory_kib.into(), kdf.iterations.into(), kdf.parallelism.into())?;
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|error| KeyfileError::KdfFailed(error.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password, salt, &mut key[..])
        .map_err(|error| KeyfileError::KdfFailed(error.to_string()))?;
    Ok(key)
}

/// Decodes a hex field of exactly `N` bytes.
fn decode_hex<const N: usize>(
    text: &str,
    field: &'static str,
    expected: &'static str,
) -> Result<[u8; N], KeyfileError> {
    let mut bytes = [0u8; N];
    hex::decode_to_slice(text, &mut bytes).map_err(|_| KeyfileError::InvalidField { field, expected })?;
    Ok(bytes)
}

/// Wraps a serde_json error, whose text names the line and column.
fn malformed(error: serde_json::Error) -> KeyfileError {
    KeyfileError::Malformed(error.to_string())
}

/// The written form of a keyfile.
#[derive(Serialize)]
struct KeyfileOut<'a> {
    version: u64,
    name: &'a str,
    network: Network,
    address: String,
    public_key: String,
    secret: SecretOut<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum SecretOut<'a> {
    Plain { secret_key: &'a str },
    Encrypted { kdf: KdfOut, cipher: CipherOut },
}

#[derive(Serialize)]
struct KdfOut {
    algorithm: KdfAlgorithm,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

#[derive(Serialize)]
struct CipherOut {
    algorithm: CipherAlgorithm,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
enum KdfAlgorithm {
    #[serde(rename = "argon2id")]
    Argon2id,
}

#[derive(Serialize, Deserialize)]
enum CipherAlgorithm {
    #[serde(rename = "xchacha20poly1305")]
    XChaCha20Poly1305,
}

/// The version field alone, read before the rest; other fields are skipped.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

/// The read form of a keyfile.
///
/// `secret` is a plain struct with a `type` field rather than a tagged enum: serde buffers tagged
/// enums in memory it does not wipe.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyfileIn {
    version: u64,
    name: String,
    network: Network,
    address: String,
    public_key: String,
    secret: Object<SecretIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretIn {
    #[serde(rename = "type")]
    kind: SecretKind,
    secret_key: Option<SecretHex>,
    kdf: Option<Object<KdfIn>>,
    cipher: Option<Object<CipherIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SecretKind {
    Plain,
    Encrypted,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfIn {
    algorithm: KdfAlgorithm,
    memory_kib: u64,
    iterations: u64,
    parallelism: u64,
    salt: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherIn {
    algorithm: CipherAlgorithm,
    nonce: String,
    ciphertext: String,
}

impl SecretIn {
    /// Checks the secret's fields and, for a clear key, that it belongs to `public_key`.
    fn check(self, public_key: &[u8; KEY_LEN]) -> Result<Secret, KeyfileError> {
        match (self.kind, self.secret_key, self.kdf, self.cipher) {
            (SecretKind::Plain, Some(SecretHex(text)), None, None) => {
                let mut secret = Zeroizing::new([0u8; KEY_LEN]);
                hex::decode_to_slice(text.as_bytes(), &mut secret[..]).map_err(|_| KeyfileError::InvalidField {
                    field: "secret_key",
                    expected: "64 hex digits (32 bytes)",
                })?;
                if SigningKey::from_bytes(&secret).verifying_key().as_bytes() != public_key {
                    return Err(KeyfileError::Tampered("the secret key does not belong to the public key".into()));
                }
                Ok(Secret::Plain(secret))
            }
            (SecretKind::Encrypted, None, Some(Object(kdf)), Some(Object(cipher))) => {
                let KdfIn { algorithm: KdfAlgorithm::Argon2id, memory_kib, iterations, parallelism, salt } = kdf;
                let CipherIn { algorithm: CipherAlgorithm::XChaCha20Poly1305, nonce, ciphertext } = cipher;
                Ok(Secret::Encrypted(Sealed {
                    kdf: KdfParams::new(memory_kib, iterations, parallelism)?,
                    salt: decode_hex(&salt, "salt", "32 hex digits (16 bytes)")?,
                    nonce: decode_hex(&nonce, "nonce", "48 hex digits (24 bytes)")?,
                    ciphertext: decode_hex(&ciphertext, "ciphertext", "96 hex digits (48 bytes)")?,
                }))
            }
            (SecretKind::Plain, ..) => {
                Err(KeyfileError::Malformed("a plain secret has exactly the fields `type` and `secret_key`".into()))
            }
            (SecretKind::Encrypted, ..) => Err(KeyfileError::Malformed(
                "an encrypted secret has exactly the fields `type`, `kdf` and `cipher`".into(),
            )),
        }
    }
}

/// A secret key's hex text, wiped on drop.
struct SecretHex(Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretHex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Self(Zeroizing::new(text)))
    }
}

/// A value that must be a JSON object: serde's derived structs also accept arrays.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
    }
}

#[cfg(test)]
mod tests;
