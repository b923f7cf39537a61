//! The C allocator's settings for a long-running node.
#![allow(unsafe_code)]

/// Caps glibc's malloc arenas at one per core (at least two), and says whether malloc took the
/// cap (`false` elsewhere than Linux with glibc). By default glibc gives a thread that meets
/// contention an arena of its own, up to eight per core, and keeps what is freed in each: a
/// sync, whose groups, batches and signature checks allocate on several threads, peaked at
/// 147–154 MB with the default and at 86–107 MB with two arenas on 2 cores, at the same speed
/// (`docs/performance.md`). Call before the node's threads start.
pub(crate) fn limit_arenas() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, usize::from).max(2);
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets an allocator parameter, which glibc accepts at any time.
        let accepted = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) } == 1;
        if !accepted {
            tracing::warn!(arenas, "malloc refused an arena limit; memory use may be higher");
        }
        accepted
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_the_arena_limit() {
        assert!(super::limit_arenas());
    }
}
