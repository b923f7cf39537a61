//! SHA-NI nonce-search kernel: SHA-256d of four headers at once with the x86 SHA extensions.
//!
//! One `sha256rnds2` stream is latency-bound: each instruction waits for the previous one's
//! result. Four independent nonces, interleaved instruction by instruction, keep the SHA unit
//! busy. Per nonce the kernel runs the header's second block from the shared midstate, then the
//! second SHA-256. Three shortcuts, all exact:
//!
//! - rounds 0 and 1 of the second block read only message words that no nonce touches, so they
//!   run once per call, not once per nonce;
//! - the message words of the padding are constants;
//! - the last digest word H7, the only one the early exit needs, is fixed after 62 of the second
//!   SHA-256's 64 rounds (H7 = h₆₄ = g₆₃ = f₆₂, plus the initial H7), so the last `sha256rnds2`
//!   runs only when a hash must be shown in full.
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

use super::kernel::{HeaderJob, IV, range_end};
use core::arch::x86_64::*;

/// Independent nonces hashed together.
const LANES: usize = 4;

/// One vector per lane.
type Lanes = [__m128i; LANES];

/// SHA-256 round constants (FIPS 180-4 §4.2.2).
const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
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
        // features `scan_x4` enables.
        unsafe { scan_x4(job, start, count) }
    }

    /// Computes the full final SHA-256d state of the job's header at four nonces.
    pub(super) fn hash4(self, job: &HeaderJob, nonces: [u32; LANES]) -> [[u32; 8]; LANES] {
        // SAFETY: `self` proves sha, sse4.1 and ssse3, the features `hash_x4` enables.
        unsafe { hash_x4(job, nonces) }
    }

    /// The benchmark's reference: SHA-256d of the job's header at `count` nonces from `start`
    /// as a plain loop over groups of four byte-buffer headers, each hashed with a generic
    /// 4-way interleaved SHA-NI compression function — from the midstate, all 64 rounds of both
    /// compressions, the full state written back to bytes between them, no early exit, no
    /// precomputed rounds. Returns the XOR of every final word so nothing is optimized away.
    pub(super) fn reference(self, job: &HeaderJob, start: u32, count: u32) -> u32 {
        // SAFETY: `self` proves sha, sse4.1 and ssse3, the features `reference_x4` enables.
        unsafe { reference_x4(job, start, count) }
    }
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

/// Reads a final state out of `ABEF`/`CDGH`.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn state_array(abef: __m128i, cdgh: __m128i) -> [u32; 8] {
    let (abcd, efgh) = state_words(abef, cdgh);
    let [a, b, c, d] = lanes_of(abcd);
    let [e, f, g, h] = lanes_of(efgh);
    [a, b, c, d, e, f, g, h]
}

/// Runs the first two rounds of a quad (`sha256rnds2` on the low half of `wk`) on every lane.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn rounds_lo(abef: &Lanes, cdgh: &mut Lanes, wk: &Lanes) {
    for lane in 0..LANES {
        cdgh[lane] = _mm_sha256rnds2_epu32(cdgh[lane], abef[lane], wk[lane]);
    }
}

/// Runs the last two rounds of a quad on every lane; the state vectors trade roles, as after
/// [`rounds_lo`] `cdgh` holds the new `ABEF`.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn rounds_hi(abef: &mut Lanes, cdgh: &Lanes, wk: &Lanes) {
    for lane in 0..LANES {
        abef[lane] = _mm_sha256rnds2_epu32(abef[lane], cdgh[lane], _mm_shuffle_epi32::<0x0E>(wk[lane]));
    }
}

/// Computes `W[4q..4q + 4]` into slot `q % 4` of the message ring (for `q ≥ 4`) and returns
/// `W + K` for quad `q`.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn schedule(q: usize, w: &mut [Lanes; 4]) -> Lanes {
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

/// Runs quad `q` (four rounds, with its message schedule) on every lane.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn quad(q: usize, abef: &mut Lanes, cdgh: &mut Lanes, w: &mut [Lanes; 4]) {
    let wk = schedule(q, w);
    rounds_lo(abef, cdgh, &wk);
    rounds_hi(abef, cdgh, &wk);
}

/// Runs the listed quads in order on every lane. A macro, not a loop, so every quad index is a
/// literal: constant round keys and message slots that stay in registers.
macro_rules! quads {
    ($abef:expr, $cdgh:expr, $w:expr; $($q:literal)+) => {
        $(quad($q, $abef, $cdgh, $w);)+
    };
}

/// Per-call constants of a job: the midstate, rounds 0–1 of the second block, the padding words.
struct Prepared {
    /// Midstate, `ABEF`.
    mid_abef: __m128i,
    /// Midstate, `CDGH`.
    mid_cdgh: __m128i,
    /// The state's `ABEF` after rounds 0 and 1 of the second block (`CDGH` is then `mid_abef`).
    after01: __m128i,
    /// Message words 0..4 of the second block with the nonce word zeroed.
    w0: __m128i,
    /// Initial state, `ABEF`.
    iv_abef: __m128i,
    /// Initial state, `CDGH`.
    iv_cdgh: __m128i,
    /// Message words 0..3 of the second block.
    tail: [u32; 3],
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
        Self { mid_abef, mid_cdgh, after01, w0, iv_abef, iv_cdgh, tail: [t0, t1, t2] }
    }
}

/// The message words of padding: `0x80000000, 0, 0, 0`.
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

/// Runs SHA-256d on four nonces up to round 62 of the second SHA-256. Returns `ABEF` after
/// round 60, `ABEF` after round 62 (whose lane 0 is H7 minus the initial H7) and `W + K` of the
/// last quad, which is what [`finish`] needs for rounds 62 and 63.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn double_sha_to_62(p: &Prepared, nonces: [u32; LANES]) -> (Lanes, Lanes, Lanes) {
    // First SHA-256, second block: W3 is the nonce, big-endian as SHA-256 reads it.
    let w0: Lanes = std::array::from_fn(|lane| _mm_insert_epi32::<3>(p.w0, nonces[lane].swap_bytes() as i32));
    let k0 = k_quad(0);
    // Rounds 0–1 were done once in `Prepared`: ABEF = after01, CDGH = the midstate's ABEF.
    let mut cdgh: Lanes = [p.after01; LANES];
    let mut abef: Lanes = [p.mid_abef; LANES];
    let wk0: Lanes = std::array::from_fn(|lane| _mm_add_epi32(w0[lane], k0));
    rounds_hi(&mut abef, &cdgh, &wk0);
    let mut w = [w0, [pad_start(); LANES], [_mm_set1_epi32(0); LANES], [pad_length(80 * 8); LANES]];
    quads!(&mut abef, &mut cdgh, &mut w; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    // Second SHA-256 of the 32-byte digest.
    let mut w =
        [[_mm_set1_epi32(0); LANES], [_mm_set1_epi32(0); LANES], [pad_start(); LANES], [pad_length(256); LANES]];
    for lane in 0..LANES {
        let (abcd, efgh) = state_words(_mm_add_epi32(abef[lane], p.mid_abef), _mm_add_epi32(cdgh[lane], p.mid_cdgh));
        w[0][lane] = abcd;
        w[1][lane] = efgh;
    }
    let mut abef = [p.iv_abef; LANES];
    let mut cdgh = [p.iv_cdgh; LANES];
    let wk = schedule(0, &mut w);
    rounds_lo(&abef, &mut cdgh, &wk);
    rounds_hi(&mut abef, &cdgh, &wk);
    quads!(&mut abef, &mut cdgh, &mut w; 1 2 3 4 5 6 7 8 9 10 11 12 13 14);
    let wk15 = schedule(15, &mut w);
    rounds_lo(&abef, &mut cdgh, &wk15);
    (abef, cdgh, wk15)
}

/// σ0 of the message schedule (FIPS 180-4 (4.6)) on four words: ROTR7 ^ ROTR18 ^ SHR3.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn sigma0(x: __m128i) -> __m128i {
    let a = _mm_xor_si128(_mm_srli_epi32::<3>(x), _mm_srli_epi32::<7>(x));
    let b = _mm_xor_si128(_mm_slli_epi32::<25>(x), _mm_srli_epi32::<18>(x));
    _mm_xor_si128(_mm_xor_si128(a, b), _mm_slli_epi32::<14>(x))
}

/// σ1 of the message schedule (FIPS 180-4 (4.7)) on four words: ROTR17 ^ ROTR19 ^ SHR10.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn sigma1(x: __m128i) -> __m128i {
    let a = _mm_xor_si128(_mm_srli_epi32::<10>(x), _mm_srli_epi32::<17>(x));
    let b = _mm_xor_si128(_mm_slli_epi32::<15>(x), _mm_srli_epi32::<19>(x));
    _mm_xor_si128(_mm_xor_si128(a, b), _mm_slli_epi32::<13>(x))
}

/// Message words by lane: `m[t % 16]` holds `W[t]` of every lane (lane l in vector lane l).
type Ring = [__m128i; 16];

/// Computes `W[t]` (t ≥ 16) into the ring.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn expand(m: &mut Ring, t: usize) {
    let s1 = _mm_add_epi32(sigma1(m[(t - 2) % 16]), m[(t - 7) % 16]);
    let s0 = _mm_add_epi32(sigma0(m[(t - 15) % 16]), m[t % 16]);
    m[t % 16] = _mm_add_epi32(s1, s0);
}

/// Rearranges `W + K` of rounds `t` and `t + 1` (one vector each, by lane) so that each lane's
/// pair is in the low half of its own vector, as `sha256rnds2` reads it.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn pairs(t: usize, m: &Ring) -> Lanes {
    let first = _mm_add_epi32(m[t % 16], _mm_set1_epi32(K[t] as i32));
    let second = _mm_add_epi32(m[(t + 1) % 16], _mm_set1_epi32(K[t + 1] as i32));
    let lanes01 = _mm_unpacklo_epi32(first, second);
    let lanes23 = _mm_unpackhi_epi32(first, second);
    [lanes01, _mm_shuffle_epi32::<0x0E>(lanes01), lanes23, _mm_shuffle_epi32::<0x0E>(lanes23)]
}

/// Runs quad `q` on four lanes whose message words are in the ring.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn quad_t(q: usize, abef: &mut Lanes, cdgh: &mut Lanes, m: &mut Ring) {
    if q >= 4 {
        for t in 4 * q..4 * q + 4 {
            expand(m, t);
        }
    }
    let lo = pairs(4 * q, m);
    for lane in 0..LANES {
        cdgh[lane] = _mm_sha256rnds2_epu32(cdgh[lane], abef[lane], lo[lane]);
    }
    let hi = pairs(4 * q + 2, m);
    for lane in 0..LANES {
        abef[lane] = _mm_sha256rnds2_epu32(abef[lane], cdgh[lane], hi[lane]);
    }
}

macro_rules! quads_t {
    ($abef:expr, $cdgh:expr, $m:expr; $($q:literal)+) => {
        $(quad_t($q, $abef, $cdgh, $m);)+
    };
}

/// Transposes four vectors: lane j of result i is lane i of input j.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn transpose(v: Lanes) -> Lanes {
    let t0 = _mm_unpacklo_epi32(v[0], v[1]);
    let t1 = _mm_unpacklo_epi32(v[2], v[3]);
    let t2 = _mm_unpackhi_epi32(v[0], v[1]);
    let t3 = _mm_unpackhi_epi32(v[2], v[3]);
    [_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1), _mm_unpacklo_epi64(t2, t3), _mm_unpackhi_epi64(t2, t3)]
}

/// Like [`double_sha_to_62`], with the message schedule computed by lane on the vector ALUs.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn double_sha_to_62_t(p: &Prepared, nonces: [u32; LANES]) -> (Lanes, Lanes, Lanes) {
    let zero = _mm_set1_epi32(0);
    let [t0, t1, t2] = p.tail;
    let mut m: Ring = [zero; 16];
    m[0] = _mm_set1_epi32(t0 as i32);
    m[1] = _mm_set1_epi32(t1 as i32);
    m[2] = _mm_set1_epi32(t2 as i32);
    m[3] = vector(nonces.map(u32::swap_bytes));
    m[4] = _mm_set1_epi32(0x8000_0000u32 as i32);
    m[15] = _mm_set1_epi32(80 * 8);
    let mut cdgh: Lanes = [p.after01; LANES];
    let mut abef: Lanes = [p.mid_abef; LANES];
    let hi = pairs(2, &m);
    for lane in 0..LANES {
        abef[lane] = _mm_sha256rnds2_epu32(abef[lane], cdgh[lane], hi[lane]);
    }
    quads_t!(&mut abef, &mut cdgh, &mut m; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    let [f, e, b, a] = transpose(std::array::from_fn(|lane| _mm_add_epi32(abef[lane], p.mid_abef)));
    let [h, g, d, c] = transpose(std::array::from_fn(|lane| _mm_add_epi32(cdgh[lane], p.mid_cdgh)));
    let mut m: Ring = [a, b, c, d, e, f, g, h, _mm_set1_epi32(0x8000_0000u32 as i32), zero, zero, zero, zero, zero, zero, _mm_set1_epi32(256)];
    let mut abef = [p.iv_abef; LANES];
    let mut cdgh = [p.iv_cdgh; LANES];
    quads_t!(&mut abef, &mut cdgh, &mut m; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14);
    for t in 60..64 {
        expand(&mut m, t);
    }
    let lo = pairs(60, &m);
    for lane in 0..LANES {
        cdgh[lane] = _mm_sha256rnds2_epu32(cdgh[lane], abef[lane], lo[lane]);
    }
    let hi = pairs(62, &m);
    (abef, cdgh, hi.map(|v| _mm_unpacklo_epi64(v, v)))
}

/// Runs rounds 62 and 63 and adds the initial state: the full final states of four lanes.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn finish(p: &Prepared, mut abef: Lanes, cdgh: Lanes, wk15: Lanes) -> [[u32; 8]; LANES] {
    rounds_hi(&mut abef, &cdgh, &wk15);
    std::array::from_fn(|lane| state_array(_mm_add_epi32(abef[lane], p.iv_abef), _mm_add_epi32(cdgh[lane], p.iv_cdgh)))
}

/// Scans `start..start + count` (clipped at `u32::MAX`) four nonces at a time.
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn scan_x4(job: &HeaderJob, start: u32, count: u32) -> Option<u32> {
    let p = Prepared::new(job);
    let target_top = job.target_top();
    let end = range_end(start, count);
    let mut first = u64::from(start);
    while first < end {
        // Lanes past the end (or past u32::MAX, where the nonce wraps) are hashed but ignored.
        let nonces: [u32; LANES] = std::array::from_fn(|lane| (first + lane as u64) as u32);
        let (_, abef62, _) = double_sha_to_62(&p, nonces);
        let tops: [u32; LANES] = std::array::from_fn(|lane| {
            // Final H7 = f after round 62 + initial H7; the hash's top 32 bits as a
            // little-endian integer are H7's bytes reversed.
            (_mm_cvtsi128_si32(abef62[lane]) as u32).wrapping_add(IV[7]).swap_bytes()
        });
        if tops.iter().any(|&top| top <= target_top) {
            for (lane, &top) in tops.iter().enumerate() {
                let nonce = first + lane as u64;
                if nonce >= end {
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

/// Computes the full final states of four nonces.
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn hash_x4(job: &HeaderJob, nonces: [u32; LANES]) -> [[u32; 8]; LANES] {
    let p = Prepared::new(job);
    let (abef, cdgh, wk15) = double_sha_to_62(&p, nonces);
    finish(&p, abef, cdgh, wk15)
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

/// Compresses one block into each of four independent states: the textbook SHA-NI compression
/// function, four streams interleaved, used only by the benchmark's reference loop.
#[inline]
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn compress_x4(states: &mut [[u32; 8]; LANES], blocks: &[[u8; 64]; LANES]) {
    let mut abef: Lanes = [_mm_set1_epi32(0); LANES];
    let mut cdgh: Lanes = [_mm_set1_epi32(0); LANES];
    let mut w = [[_mm_set1_epi32(0); LANES]; 4];
    for lane in 0..LANES {
        (abef[lane], cdgh[lane]) = state_vectors(&states[lane]);
        let loaded = load_block(&blocks[lane]);
        for (slot, vector) in loaded.into_iter().enumerate() {
            w[slot][lane] = vector;
        }
    }
    let (abef0, cdgh0) = (abef, cdgh);
    quads!(&mut abef, &mut cdgh, &mut w; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    for lane in 0..LANES {
        states[lane] = state_array(_mm_add_epi32(abef[lane], abef0[lane]), _mm_add_epi32(cdgh[lane], cdgh0[lane]));
    }
}

/// The reference loop of [`ShaNi::reference`].
#[target_feature(enable = "sha,sse4.1,ssse3")]
fn reference_x4(job: &HeaderJob, start: u32, count: u32) -> u32 {
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
        let mut blocks = [header_block; LANES];
        for (lane, block) in blocks.iter_mut().enumerate() {
            block[12..16].copy_from_slice(&((first + lane as u64) as u32).to_le_bytes());
        }
        let mut states = [*job.midstate(); LANES];
        compress_x4(&mut states, &blocks);
        let mut blocks = [digest_block; LANES];
        for (block, state) in blocks.iter_mut().zip(&states) {
            for (chunk, word) in block[..32].chunks_exact_mut(4).zip(state) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
        }
        let mut states = [IV; LANES];
        compress_x4(&mut states, &blocks);
        acc = states.iter().flatten().fold(acc, |acc, word| acc ^ word);
        first += LANES as u64;
    }
    acc
}
