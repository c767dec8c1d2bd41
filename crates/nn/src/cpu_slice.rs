//! Access to the f32 data of a contiguous CPU tensor, shared by the custom ops' kernels and
//! the optimiser's fused update.

use candle_core::{CpuStorage, Layout, Result};

/// The f32 values of a contiguous tensor; `op` names the operation in the error otherwise.
pub fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&storage.as_slice::<f32>()?[a..b]),
        None => candle_core::bail!("{op}: inputs must be contiguous"),
    }
}
