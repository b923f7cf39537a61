//! Mining: the nonce-search kernel (SHA-NI and portable), the worker pool and the benchmark.
//!
//! The layers, bottom up: [`kernel`] hashes one header over a nonce range from its midstate
//! (`sha_ni` is its x86_64 fast path, the workspace's only `unsafe` code); [`worker`] runs that
//! search on a dedicated rayon pool, rolls the coinbase extra nonce, and reports solved blocks;
//! [`bench`] measures the kernel against reference loops for `oxminer bench`.

pub mod bench;
pub mod kernel;
#[cfg(target_arch = "x86_64")]
mod sha_ni;
pub mod worker;

pub use kernel::{HeaderJob, KernelPath, scan};
pub use worker::{Miner, MiningError, Template};
