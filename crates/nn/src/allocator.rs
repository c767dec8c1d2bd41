//! Allocator tuning for tensor workloads.
//!
//! glibc returns freed multi-megabyte blocks to the OS (they are `mmap`ed), so every new tensor
//! of that size page-faults its memory in again; on a 2-core CPU this cost 15-25% of a model's
//! forward pass. Raising the mmap and trim thresholds keeps such blocks in the heap for reuse.

/// Keeps freed tensor buffers in the process for reuse (glibc `mallopt`); call once at start-up
/// of a binary. A no-op on other C libraries, and when `VISNIR_DEFAULT_MALLOC` is set (to
/// measure the difference).
pub fn reuse_freed_buffers() {
    if std::env::var_os("VISNIR_DEFAULT_MALLOC").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before threads allocate
    // concurrently in the binaries that use it, and is thread-safe in glibc regardless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}
