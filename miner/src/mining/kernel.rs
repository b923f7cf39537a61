//! The nonce-search kernel: SHA-256d of an 80-byte header over a nonce range, from a midstate.
//!
//! A header's first 64 bytes do not depend on the nonce, so [`HeaderJob::new`] compresses them
//! once (the *midstate*). Each nonce then costs two compressions: the header's second block
//! (16 header bytes and padding) and the second SHA-256 (32 bytes and padding). Two paths do the
//! work and agree bit for bit (the tests check it):
//!
//! - **SHA-NI** (`sha_ni.rs`, x86_64 only): several nonces interleaved, chosen at run time when
//!   the CPU has the SHA extensions, SSE4.1 and SSSE3;
//! - **portable**: `sha2`'s `compress256`, one nonce at a time, everywhere else.
//!
//! Most hashes fail on their most significant word, so both paths compare that word first and
//! only confirm a tie with the full 256-bit comparison of [`Target::is_met_by`].

use oxcoin::{BlockHash, Header, Target};
use sha2::block_api::compress256;

#[cfg(test)]
mod tests;

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
pub(super) const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

/// Offset of the nonce inside the header's second 64-byte block.
const NONCE_AT: usize = 12;

/// One header to search: its midstate, its second block and the target to meet.
#[derive(Clone, Debug)]
pub struct HeaderJob {
    /// SHA-256 state after the header's first 64 bytes.
    midstate: [u32; 8],
    /// The header's second block: bytes 64..80 (nonce slot zeroed) and SHA-256 padding for 80 bytes.
    block1: [u8; 64],
    /// The target a hash must not exceed.
    target: Target,
    /// The target's most significant 32 bits (little-endian bytes 28..32).
    target_top: u32,
}

impl HeaderJob {
    /// Prepares `header` (its nonce is ignored) for a search against `target`.
    pub fn new(header: &Header, target: Target) -> Self {
        let bytes = header.to_bytes();
        let mut first = [0u8; 64];
        first.copy_from_slice(&bytes[..64]);
        let mut midstate = IV;
        compress256(&mut midstate, &[first]);
        let mut block1 = [0u8; 64];
        block1[..NONCE_AT].copy_from_slice(&bytes[64..64 + NONCE_AT]);
        block1[16] = 0x80;
        block1[56..].copy_from_slice(&(80u64 * 8).to_be_bytes());
        let target_bytes = target.to_le_bytes();
        let target_top = u32::from_le_bytes([target_bytes[28], target_bytes[29], target_bytes[30], target_bytes[31]]);
        Self { midstate, block1, target, target_top }
    }

    /// Returns the target this job searches for.
    pub fn target(&self) -> Target {
        self.target
    }
}

/// What the SHA-NI kernel reads from a job.
#[cfg(target_arch = "x86_64")]
impl HeaderJob {
    /// SHA-256 state after the header's first 64 bytes.
    pub(super) fn midstate(&self) -> &[u32; 8] {
        &self.midstate
    }

    /// The header's bytes 64..76 (the Merkle root's last 4 bytes, time, bits) as big-endian words,
    /// the message words SHA-256 reads before the nonce.
    pub(super) fn tail_words(&self) -> [u32; 3] {
        let word = |at: usize| {
            u32::from_be_bytes([self.block1[at], self.block1[at + 1], self.block1[at + 2], self.block1[at + 3]])
        };
        [word(0), word(4), word(8)]
    }

    /// The target's most significant 32 bits, to compare with [`top_word`] of a final state.
    pub(super) fn target_top(&self) -> u32 {
        self.target_top
    }

    /// Returns whether the hash at `nonce`, whose top word ties the target's, meets the target:
    /// the full 256-bit comparison, on the portable path (rare: about one hash in 2^32).
    pub(super) fn tie_is_met(&self, nonce: u32) -> bool {
        self.target.is_met_by(&digest(&portable_state(self, nonce)))
    }
}

/// Returns the most significant 32 bits of the hash, read as a little-endian integer, given
/// the final SHA-256d state: the last digest word, byte-swapped.
fn top_word(state: &[u32; 8]) -> u32 {
    state[7].swap_bytes()
}

/// Returns the block hash whose digest is the big-endian encoding of `state`.
fn digest(state: &[u32; 8]) -> BlockHash {
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    BlockHash::from_byte_array(bytes)
}

/// The second SHA-256's only block, padding included, before the first digest is written in.
const BLOCK2_PADDING: [u8; 64] = {
    let mut block = [0u8; 64];
    block[32] = 0x80;
    // 256 bits, big-endian, in the last 8 bytes.
    block[62] = 0x01;
    block
};

/// Computes the final SHA-256d state of the job's header at `nonce` with `compress256`.
fn portable_state(job: &HeaderJob, nonce: u32) -> [u32; 8] {
    let mut block1 = job.block1;
    block1[NONCE_AT..NONCE_AT + 4].copy_from_slice(&nonce.to_le_bytes());
    let mut first = job.midstate;
    compress256(&mut first, &[block1]);
    let mut block2 = BLOCK2_PADDING;
    for (chunk, word) in block2[..32].chunks_exact_mut(4).zip(&first) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    let mut second = IV;
    compress256(&mut second, &[block2]);
    second
}

/// Scans with `compress256`, one nonce at a time.
fn scan_portable(job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
    let top = job.target_top;
    (start..=u32::MAX).take(count as usize).find(|&nonce| {
        let state = portable_state(job, nonce);
        let word = top_word(&state);
        word < top || (word == top && job.target.is_met_by(&digest(&state)))
    })
}

/// Which implementation of the kernel runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KernelPath {
    /// x86_64 SHA extensions, several nonces interleaved.
    ShaNi,
    /// `sha2`'s `compress256`, one nonce at a time (itself SHA-NI accelerated where available,
    /// without the interleaving).
    Portable,
}

impl KernelPath {
    /// Returns the fastest path this CPU supports.
    pub fn best() -> Self {
        if Self::ShaNi.is_available() { Self::ShaNi } else { Self::Portable }
    }

    /// Returns whether this CPU can run this path.
    pub fn is_available(self) -> bool {
        match self {
            Self::ShaNi => sha_ni_token().is_some(),
            Self::Portable => true,
        }
    }

    /// Returns a short human description.
    pub fn describe(self) -> String {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::ShaNi => {
                format!("SHA-NI, {} nonces interleaved (sha, sse4.1, ssse3 detected at run time)", super::sha_ni::LANES)
            }
            #[cfg(not(target_arch = "x86_64"))]
            Self::ShaNi => "SHA-NI (x86_64 only)".to_string(),
            Self::Portable => "portable (sha2 compress256, one nonce at a time)".to_string(),
        }
    }
}

#[cfg(target_arch = "x86_64")]
type ShaNiToken = super::sha_ni::ShaNi;

#[cfg(target_arch = "x86_64")]
fn sha_ni_token() -> Option<ShaNiToken> {
    super::sha_ni::ShaNi::detect()
}

/// Stands in for the SHA-NI token where the module does not exist: never constructed.
#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy)]
enum ShaNiToken {}

#[cfg(not(target_arch = "x86_64"))]
fn sha_ni_token() -> Option<ShaNiToken> {
    None
}

/// Returns the first nonce in `start..start + count` (clipped at `u32::MAX`, never wrapping)
/// whose SHA-256d header hash meets the job's target, on the fastest path this CPU supports.
pub fn scan(job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
    scan_with(KernelPath::best(), job, start, count)
}

/// Like [`scan`], on a chosen path; a path this CPU cannot run falls back to the portable one.
pub fn scan_with(path: KernelPath, job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
    match (path, sha_ni_token()) {
        #[cfg(target_arch = "x86_64")]
        (KernelPath::ShaNi, Some(sha_ni)) => sha_ni.scan(job, start, count),
        _ => scan_portable(job, start, count),
    }
}

/// Computes the block hash of the job's header at each nonce of `start..start + count`
/// (clipped at `u32::MAX`), on a chosen path; checks the kernels against `Header::hash`.
pub fn hash_nonces(path: KernelPath, job: &HeaderJob, start: u32, count: u32) -> Vec<BlockHash> {
    let nonces = (start..=u32::MAX).take(count as usize);
    match (path, sha_ni_token()) {
        #[cfg(target_arch = "x86_64")]
        (KernelPath::ShaNi, Some(sha_ni)) => {
            let nonces: Vec<u32> = nonces.collect();
            let mut out = Vec::with_capacity(nonces.len());
            for group in nonces.chunks(super::sha_ni::LANES) {
                let lanes = std::array::from_fn(|lane| group.get(lane).copied().unwrap_or(0));
                out.extend(sha_ni.hash_lanes(job, lanes).iter().take(group.len()).map(digest));
            }
            out
        }
        _ => nonces.map(|nonce| digest(&portable_state(job, nonce))).collect(),
    }
}

/// Reference loop for the benchmark: SHA-256d of the job's header at `count` nonces from
/// `start` with `compress256` and the midstate, one nonce at a time, no early exit. Returns the
/// XOR of every final state word so the work cannot be optimized away.
pub(super) fn reference_compress256(job: &HeaderJob, start: u32, count: u32) -> u32 {
    (start..=u32::MAX)
        .take(count as usize)
        .fold(0, |acc, nonce| portable_state(job, nonce).iter().fold(acc, |acc, word| acc ^ word))
}

/// Reference loop for the benchmark: four independent SHA-256d computations interleaved with
/// SHA-NI; `None` when the CPU lacks SHA-NI. See `sha_ni::ShaNi::reference`.
pub(super) fn reference_sha_ni_x4(job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
    #[cfg(target_arch = "x86_64")]
    if let Some(sha_ni) = sha_ni_token() {
        return Some(sha_ni.reference(job, start, count));
    }
    let _ = (job, start, count);
    None
}
