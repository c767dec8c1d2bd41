//! ReLU and leaky ReLU (`torch.nn.ReLU`, `torch.nn.LeakyReLU(slope)`) as one fused CPU kernel
//! with its own backward: one pass each way instead of candle's four to five.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::cpu_slice::f32_slice;

/// Elements per parallel chunk.
const CHUNK: usize = 1 << 14;

/// `max(0, x) + slope * min(0, x)`; `slope = 0` is ReLU. The fused kernel on f32 CPU tensors,
/// the generic candle composition elsewhere.
pub fn leaky_relu(x: &Tensor, slope: f32) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.apply_op1(LeakyReluOp { slope })
    } else {
        leaky_relu_generic(x, slope)
    }
}

/// The same activation composed from candle ops (the CUDA/Metal path and the test oracle).
pub fn leaky_relu_generic(x: &Tensor, slope: f32) -> Result<Tensor> {
    if slope == 0.0 {
        return x.relu();
    }
    x.relu()? + x.minimum(0f32)?.affine(slope as f64, 0.0)?
}

/// The derivative at `v`: 1 above zero, `slope` elsewhere. Multiplying by it (rather than
/// branching on the sign) vectorises and keeps the loops free of mispredicted branches.
#[inline(always)]
pub(crate) fn slope_factor(v: f32, slope: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else {
        slope
    }
}

struct LeakyReluOp {
    slope: f32,
}

impl CustomOp1 for LeakyReluOp {
    fn name(&self) -> &'static str {
        "visnir-leaky-relu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(storage, layout, "leaky relu")?;
        let slope = self.slope;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| {
                for (o, &v) in o.iter_mut().zip(x) {
                    *o = v * slope_factor(v, slope);
                }
            });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.contiguous()?.apply_op2_no_bwd(
            &grad.contiguous()?,
            &LeakyReluGrad { slope: self.slope },
        )?))
    }
}

/// `dx = dy` where `x > 0`, `slope * dy` elsewhere.
struct LeakyReluGrad {
    slope: f32,
}

impl CustomOp2 for LeakyReluGrad {
    fn name(&self) -> &'static str {
        "visnir-leaky-relu-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(xs, xl, "leaky relu gradient")?;
        let g = f32_slice(gs, gl, "leaky relu gradient")?;
        if x.len() != g.len() {
            candle_core::bail!("leaky relu gradient: {:?} vs {:?}", xl.dims(), gl.dims());
        }
        let slope = self.slope;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(o, (x, g))| {
                for ((o, &v), &d) in o.iter_mut().zip(x).zip(g) {
                    *o = d * slope_factor(v, slope);
                }
            });
        Ok((CpuStorage::F32(out), xl.shape().clone()))
    }
}
