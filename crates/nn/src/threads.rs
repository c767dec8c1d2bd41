//! Where CPU work runs. The kernels of this crate split their loops over the rayon pool (a caller
//! outside it pays a wake-up and a blocking hand-off for each); candle runs large elementwise
//! operations on a pool of its own.

/// Runs `work` on a thread of the rayon pool, so that the parallel loops of every kernel it
/// calls split directly among the pool's threads instead of being handed over one by one.
/// Worth it around a whole training step; the result is the same as calling `work` directly.
pub fn on_cpu_workers<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// Variable that sets how long candle's threads for large elementwise operations spin between
/// operations before they sleep (25,000 turns by default).
const CANDLE_SPIN_VAR: &str = "CANDLE_BARRIER_POOL_SPIN_LIMIT";

/// Lets candle's threads for large elementwise operations sleep as soon as an operation ends
/// (`CANDLE_BARRIER_POOL_SPIN_LIMIT=0`, unless the variable is already set), instead of
/// spinning beside the rayon threads that run the convolutions: on a 2-core CPU they take
/// turns on the same cores. Call once at start-up of a binary, before any thread starts.
pub fn park_idle_candle_threads() {
    if std::env::var_os(CANDLE_SPIN_VAR).is_none() {
        std::env::set_var(CANDLE_SPIN_VAR, "0");
    }
}
