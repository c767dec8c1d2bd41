//! Where CPU work runs: the kernels of this crate split their loops over the rayon pool, and a
//! caller outside that pool pays a wake-up and a blocking hand-off for every one of them.

/// Runs `work` on a thread of the rayon pool, so that the parallel loops of every kernel it
/// calls split directly among the pool's threads instead of being handed over one by one.
/// Worth it around a whole training step; the result is the same as calling `work` directly.
pub fn on_cpu_workers<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}
