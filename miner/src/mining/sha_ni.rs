//! SHA-NI nonce-search kernel: SHA-256d of several headers at once with the x86 SHA extensions.
//!
//! One `sha256rnds2` stream is latency-bound: each instruction waits for the previous one's
//! result. Independent nonces, interleaved instruction by instruction, keep the SHA unit busy.
//! Per nonce the kernel runs the header's second block from the shared midstate, then the second
//! SHA-256. Three shortcuts, all exact:
//!
//! - rounds 0 and 1 of the second block read only message words that no nonce touches, so they
//!   run once per call, not once per nonce;
//! - the message words of the padding are constants;
//! - the last digest word H7, the only one the early exit needs, is fixed after 62 of the second
//!   SHA-256's 64 rounds (H7 = h₆₄ = g₆₃ = f₆₂, plus the initial H7), so the last `sha256rnds2`
//!   runs only when a hash must be shown in full.
//!
//! How many nonces to interleave ([`LANES`]) was measured, not assumed. On the Ice Lake Xeon
//! this was tuned on, `sha256rnds2` has a latency of about 1.4 times its reciprocal throughput,
//! and `sha256msg1`/`sha256msg2` share the same unit: two streams already saturate it. Four
//! streams need 24 live vectors, more than the 16 XMM registers, and the spills made them about
//! 12 % slower than two (alternating A/B runs, same binary). A message schedule computed on the
//! vector ALUs instead of `sha256msg1/2` (four lanes transposed) was about 8 % slower than two
//! streams as well. The benchmark's reference loop keeps four streams, as its definition asks.
//!
//! Register layout, as the instructions expect: a state is two vectors, `ABEF` (lane 3 = A …
//! lane 0 = F) and `CDGH` (lane 3 = C … lane 0 = H); a message vector holds words `W[i..i + 4]`
//! with `W[i]` in lane 0.

// The workspace denies `unsafe_code`. This module is the one exception: the SHA extensions are
// reachable only through `core::arch` intrinsics in `#[target_feature]` functions, and calling
// such a function is `unsafe` because running it on a CPU without those features is undefined
// behaviour. The only unsafe blocks are the calls made through a `ShaNi` token, which exists
// only after run-time detection has seen every feature the functions enable.
#![allow(unsafe_code)]

use super::kernel::{HeaderJob, IV};
use core::arch::x86_64::*;

/// Nonces the kernel hashes together (see the module documentation for why two).
pub(super) const LANES: usize = 2;

/// Streams the benchmark's reference loop interleaves.
const REFERENCE_LANES: usize = 4;

/// SHA-256 round constants (FIPS 180-4 §4.2.2).
#[rustfmt::skip]
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Proof that this CPU has the SHA extensions, SSE4.1 and SSSE3: the only way to reach the
/// `#[target_feature]` functions of this module.
#[derive(Clone, Copy, Debug)]
pub(super) struct ShaNi(());

impl ShaNi {
    /// Returns a token if the CPU supports every feature the kernel uses.
    pub(super) fn detect() -> Option<Self> {
        let supported = std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse4.1")
            && std::arch::is_x86_feature_detected!("ssse3");
        supported.then_some(Self(()))
    }

    /// Returns the first nonce in `start..start + count` (clipped at `u32::MAX`) whose hash
    /// meets the job's target.
    pub(super) fn scan(self, job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
        // SAFETY: `self` exists only if `detect` saw sha, sse4.1 and ssse3 on this CPU, the
        // features `scan_lanes` enables.
        unsafe { scan_lanes(job, start, count) }
    }

    /// Computes the full final SHA-256d states of the job's header at [`LANES`] nonces.
    pub(super) fn hash_lanes(self, job: &HeaderJob, nonces: [u32; LANES]) -> [[u32; 8]; LANES] {
        // SAFETY: `self` proves sha, sse4.1 and ssse3, the features `full_states` enables.
        unsafe { full_states(job, nonces) }
    }

    /// The benchmark's reference: SHA-256d of the job's header at `count` nonces from `start`
    /// (clipped at `u32::MAX`) as a plain loop over groups of four byte-buffer headers, each
    /// group hashed by a textbook SHA-NI compression function with four streams interleaved:
    /// the midstate reused, otherwise all 64 rounds of both compressions, the first digest
    /// written out as bytes and read back, no early exit, no precomputed rounds. Returns the XOR
    /// of every final word, so nothing can be optimized away.
    pub(super) fn reference(self, job: &HeaderJob, start: u32, count: u32) -> u32 {
        // SAFETY: `self` proves sha, sse4.1 and ssse3, the features `reference_loop` enables.
        unsafe { reference_loop(job, start, count) }
    }
}

/// Returns the end (exclusive) of `count` nonces from `start`, never past the 32-bit nonce space.
fn range_end(start: u32, count: u32) -> u64 {
    (u64::from(start) + u64::from(count)).min(1 << 32)
}

/// Builds the round-constant vector of quad `q` (rounds `4q..4q + 4`).
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn k_quad(q: usize) -> __m128i {
    vector([K[4 * q], K[4 * q + 1], K[4 * q + 2], K[4 * q + 3]])
}

/// Builds a vector with `words[0]` in lane 0.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn vector(words: [u32; 4]) -> __m128i {
    _mm_set_epi32(words[3] as i32, words[2] as i32, words[1] as i32, words[0] as i32)
}

/// Splits a state `[a, b, c, d, e, f, g, h]` into the `ABEF` and `CDGH` vectors.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn state_vectors(s: &[u32; 8]) -> (__m128i, __m128i) {
    (vector([s[5], s[4], s[1], s[0]]), vector([s[7], s[6], s[3], s[2]]))
}

/// Turns `ABEF`/`CDGH` into `[a, b, c, d]` and `[e, f, g, h]`: the message words of a digest.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn state_words(abef: __m128i, cdgh: __m128i) -> (__m128i, __m128i) {
    let feba = _mm_shuffle_epi32::<0x1B>(abef);
    let dchg = _mm_shuffle_epi32::<0xB1>(cdgh);
    (_mm_blend_epi16::<0xF0>(feba, dchg), _mm_alignr_epi8::<8>(dchg, feba))
}

/// Reads the four lanes of a vector, lane 0 first.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn lanes_of(v: __m128i) -> [u32; 4] {
    [
        _mm_extract_epi32::<0>(v) as u32,
        _mm_extract_epi32::<1>(v) as u32,
        _mm_extract_epi32::<2>(v) as u32,
        _mm_extract_epi32::<3>(v) as u32,
    ]
}

/// Reads a state `[a, …, h]` out of `ABEF`/`CDGH`.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn state_array(abef: __m128i, cdgh: __m128i) -> [u32; 8] {
    let (abcd, efgh) = state_words(abef, cdgh);
    let [a, b, c, d] = lanes_of(abcd);
    let [e, f, g, h] = lanes_of(efgh);
    [a, b, c, d, e, f, g, h]
}

/// Runs the first two rounds of a quad (`sha256rnds2` on the low half of `wk`) on every stream;
/// afterwards `cdgh` holds the new `ABEF`.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn rounds_lo<const N: usize>(abef: &[__m128i; N], cdgh: &mut [__m128i; N], wk: &[__m128i; N]) {
    for lane in 0..N {
        cdgh[lane] = _mm_sha256rnds2_epu32(cdgh[lane], abef[lane], wk[lane]);
    }
}

/// Runs the last two rounds of a quad on every stream, after [`rounds_lo`]; the two state
/// vectors are back in their roles.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn rounds_hi<const N: usize>(abef: &mut [__m128i; N], cdgh: &[__m128i; N], wk: &[__m128i; N]) {
    for lane in 0..N {
        abef[lane] = _mm_sha256rnds2_epu32(abef[lane], cdgh[lane], _mm_shuffle_epi32::<0x0E>(wk[lane]));
    }
}

/// Computes `W[4q..4q + 4]` into slot `q % 4` of the message ring (for `q ≥ 4`) and returns
/// `W + K` for quad `q`.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn schedule<const N: usize>(q: usize, w: &mut [[__m128i; N]; 4]) -> [__m128i; N] {
    let slot = q % 4;
    if q >= 4 {
        let [w0, w1, w2, w3] = [w[slot], w[(slot + 1) % 4], w[(slot + 2) % 4], w[(slot + 3) % 4]];
        w[slot] = std::array::from_fn(|lane| {
            let sum = _mm_add_epi32(_mm_sha256msg1_epu32(w0[lane], w1[lane]), _mm_alignr_epi8::<4>(w3[lane], w2[lane]));
            _mm_sha256msg2_epu32(sum, w3[lane])
        });
    }
    let k = k_quad(q);
    std::array::from_fn(|lane| _mm_add_epi32(w[slot][lane], k))
}

/// Runs quad `q` (four rounds, with its message schedule) on every stream.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn quad<const N: usize>(q: usize, abef: &mut [__m128i; N], cdgh: &mut [__m128i; N], w: &mut [[__m128i; N]; 4]) {
    let wk = schedule(q, w);
    rounds_lo(abef, cdgh, &wk);
    rounds_hi(abef, cdgh, &wk);
}

/// Runs the listed quads in order on every stream. A macro, not a loop, so every quad index is
/// a literal: constant round keys, and message slots that stay in registers.
macro_rules! quads {
    ($abef:expr, $cdgh:expr, $w:expr; $($q:literal)+) => {
        $(quad($q, $abef, $cdgh, $w);)+
    };
}

/// Per-job constants: the midstate, rounds 0–1 of the second block, the initial state.
struct Prepared {
    /// Midstate, `ABEF`.
    mid_abef: __m128i,
    /// Midstate, `CDGH`.
    mid_cdgh: __m128i,
    /// `ABEF` after rounds 0 and 1 of the second block (`CDGH` is then `mid_abef`).
    after01: __m128i,
    /// Message words 0..4 of the second block, the nonce word zeroed.
    w0: __m128i,
    /// Initial state, `ABEF`.
    iv_abef: __m128i,
    /// Initial state, `CDGH`.
    iv_cdgh: __m128i,
}

impl Prepared {
    #[inline]
    #[target_feature(enable = "sha,sse4.1,ssse3")]
    fn new(job: &HeaderJob) -> Self {
        let (mid_abef, mid_cdgh) = state_vectors(job.midstate());
        let [t0, t1, t2] = job.tail_words();
        let w0 = vector([t0, t1, t2, 0]);
        // Rounds 0 and 1 read W0 and W1 (Merkle root tail and time): the same for every nonce.
        let after01 = _mm_sha256rnds2_epu32(mid_cdgh, mid_abef, _mm_add_epi32(w0, k_quad(0)));
        let (iv_abef, iv_cdgh) = state_vectors(&IV);
        Self { mid_abef, mid_cdgh, after01, w0, iv_abef, iv_cdgh }
    }
}

/// The message words `0x80000000, 0, 0, 0` that start the padding.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn pad_start() -> __m128i {
    vector([0x8000_0000, 0, 0, 0])
}

/// The last four message words of a padded block holding `bits` bits of message.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn pad_length(bits: u32) -> __m128i {
    vector([0, 0, 0, bits])
}

/// A group's state after round 62 of the second SHA-256.
struct Round62 {
    /// `ABEF` after round 60 (the `CDGH` of round 62).
    abef60: [__m128i; LANES],
    /// `ABEF` after round 62; lane 0 (F) plus the initial H7 is the final H7.
    abef62: [__m128i; LANES],
    /// `W + K` of the last quad, whose high half rounds 62 and 63 read.
    wk15: [__m128i; LANES],
}

/// Runs SHA-256d on [`LANES`] nonces up to round 62 of the second SHA-256.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn to_round_62(p: &Prepared, nonces: [u32; LANES]) -> Round62 {
    // First SHA-256, second block: W3 is the nonce, big-endian as SHA-256 reads it.
    let w0: [__m128i; LANES] =
        std::array::from_fn(|lane| _mm_insert_epi32::<3>(p.w0, nonces[lane].swap_bytes() as i32));
    // Rounds 0–1 were run once in `Prepared`: ABEF = after01, CDGH = the midstate's ABEF.
    let mut cdgh = [p.after01; LANES];
    let mut abef = [p.mid_abef; LANES];
    let k0 = k_quad(0);
    rounds_hi(&mut abef, &cdgh, &w0.map(|w| _mm_add_epi32(w, k0)));
    let mut w = [w0, [pad_start(); LANES], [_mm_setzero_si128(); LANES], [pad_length(80 * 8); LANES]];
    quads!(&mut abef, &mut cdgh, &mut w; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    // Second SHA-256, of the 32-byte digest: feed-forward, then the digest words as message.
    let mut w =
        [[_mm_setzero_si128(); LANES], [_mm_setzero_si128(); LANES], [pad_start(); LANES], [pad_length(256); LANES]];
    for lane in 0..LANES {
        (w[0][lane], w[1][lane]) =
            state_words(_mm_add_epi32(abef[lane], p.mid_abef), _mm_add_epi32(cdgh[lane], p.mid_cdgh));
    }
    let mut abef = [p.iv_abef; LANES];
    let mut cdgh = [p.iv_cdgh; LANES];
    quads!(&mut abef, &mut cdgh, &mut w; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14);
    let wk15 = schedule(15, &mut w);
    rounds_lo(&abef, &mut cdgh, &wk15);
    Round62 { abef60: abef, abef62: cdgh, wk15 }
}

/// Scans `start..start + count` (clipped at `u32::MAX`), [`LANES`] nonces at a time.
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn scan_lanes(job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
    let p = Prepared::new(job);
    let target_top = job.target_top();
    let end = range_end(start, count);
    let mut first = u64::from(start);
    while first < end {
        // Lanes past the end (or past u32::MAX, where the nonce wraps) are hashed but ignored.
        let nonces: [u32; LANES] = std::array::from_fn(|lane| (first + lane as u64) as u32);
        let round62 = to_round_62(&p, nonces);
        // The hash's top 32 bits as a little-endian integer are the final H7 byte-swapped.
        let tops = round62.abef62.map(|abef| (_mm_cvtsi128_si32(abef) as u32).wrapping_add(IV[7]).swap_bytes());
        if tops.iter().any(|&top| top <= target_top) {
            for (lane, &top) in tops.iter().enumerate() {
                if first + lane as u64 >= end {
                    break;
                }
                if top < target_top || (top == target_top && job.tie_is_met(nonces[lane])) {
                    return Some(nonces[lane]);
                }
            }
        }
        first += LANES as u64;
    }
    None
}

/// Computes the full final states of [`LANES`] nonces: [`to_round_62`], then rounds 62 and 63
/// and the feed-forward.
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn full_states(job: &HeaderJob, nonces: [u32; LANES]) -> [[u32; 8]; LANES] {
    let p = Prepared::new(job);
    let Round62 { mut abef60, abef62, wk15 } = to_round_62(&p, nonces);
    rounds_hi(&mut abef60, &abef62, &wk15);
    std::array::from_fn(|lane| {
        state_array(_mm_add_epi32(abef60[lane], p.iv_abef), _mm_add_epi32(abef62[lane], p.iv_cdgh))
    })
}

/// Loads a 64-byte block as four message vectors (big-endian words).
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn load_block(block: &[u8; 64]) -> [__m128i; 4] {
    let swap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    std::array::from_fn(|i| {
        let half = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&block[16 * i + at..16 * i + at + 8]);
            i64::from_le_bytes(bytes)
        };
        _mm_shuffle_epi8(_mm_set_epi64x(half(8), half(0)), swap)
    })
}

/// Compresses one block into each of [`REFERENCE_LANES`] independent states: the textbook
/// SHA-NI compression function with the streams interleaved, for the reference loop only.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn compress_streams(states: &mut [[u32; 8]; REFERENCE_LANES], blocks: &[[u8; 64]; REFERENCE_LANES]) {
    let mut abef = [_mm_setzero_si128(); REFERENCE_LANES];
    let mut cdgh = [_mm_setzero_si128(); REFERENCE_LANES];
    let mut w = [[_mm_setzero_si128(); REFERENCE_LANES]; 4];
    for lane in 0..REFERENCE_LANES {
        (abef[lane], cdgh[lane]) = state_vectors(&states[lane]);
        for (slot, vector) in load_block(&blocks[lane]).into_iter().enumerate() {
            w[slot][lane] = vector;
        }
    }
    let (abef0, cdgh0) = (abef, cdgh);
    quads!(&mut abef, &mut cdgh, &mut w; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    for lane in 0..REFERENCE_LANES {
        states[lane] = state_array(_mm_add_epi32(abef[lane], abef0[lane]), _mm_add_epi32(cdgh[lane], cdgh0[lane]));
    }
}

/// The reference loop of [`ShaNi::reference`].
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn reference_loop(job: &HeaderJob, start: u32, count: u32) -> u32 {
    let mut header_block = [0u8; 64];
    for (chunk, word) in header_block.chunks_exact_mut(4).zip(job.tail_words()) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    header_block[16] = 0x80;
    header_block[56..].copy_from_slice(&(80u64 * 8).to_be_bytes());
    let mut digest_block = [0u8; 64];
    digest_block[32] = 0x80;
    digest_block[56..].copy_from_slice(&256u64.to_be_bytes());
    let mut acc = 0;
    let end = range_end(start, count);
    let mut first = u64::from(start);
    while first < end {
        let mut blocks = [header_block; REFERENCE_LANES];
        for (lane, block) in blocks.iter_mut().enumerate() {
            block[12..16].copy_from_slice(&((first + lane as u64) as u32).to_le_bytes());
        }
        let mut states = [*job.midstate(); REFERENCE_LANES];
        compress_streams(&mut states, &blocks);
        let mut blocks = [digest_block; REFERENCE_LANES];
        for (block, state) in blocks.iter_mut().zip(&states) {
            for (chunk, word) in block[..32].chunks_exact_mut(4).zip(state) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
        }
        let mut states = [IV; REFERENCE_LANES];
        compress_streams(&mut states, &blocks);
        acc = states.iter().flatten().fold(acc, |acc, word| acc ^ word);
        first += REFERENCE_LANES as u64;
    }
    acc
}
