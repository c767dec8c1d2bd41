//! Parametric ReLU with one slope per channel (channel axis 1), as `torch.nn.PReLU(C)`.

use candle_core::{CpuStorage, CustomOp2, Layout, Module, Result, Shape, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use crate::cpu_slice::f32_slice;

/// `max(0, x) + a_c * min(0, x)` with a learned slope `a_c` per channel.
#[derive(Debug, Clone)]
pub struct PRelu {
    weight: Tensor,
}

impl PRelu {
    /// Loads the `weight` tensor of `channels` slopes.
    pub fn new(channels: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(channels, "weight")?,
        })
    }

    /// Wraps existing slopes.
    pub fn from_weight(weight: Tensor) -> Self {
        Self { weight }
    }

    /// The slopes, one per channel.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for PRelu {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        prelu(x, &self.weight)
    }
}

/// PReLU of `x` (channels on axis 1) with per-channel `slope`; the fused CPU kernel on f32 CPU
/// tensors, the generic candle composition elsewhere.
pub fn prelu(x: &Tensor, slope: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 && x.rank() >= 2 {
        x.apply_op2(slope, PreluOp)
    } else {
        prelu_generic(x, slope)
    }
}

/// PReLU composed from candle ops (the CUDA/Metal path and the test oracle).
pub fn prelu_generic(x: &Tensor, slope: &Tensor) -> Result<Tensor> {
    let mut shape = vec![1; x.rank()];
    shape[1] = slope.elem_count();
    let slope = slope.reshape(shape)?;
    x.relu()? + x.minimum(0f32)?.broadcast_mul(&slope)?
}

struct PreluOp;

impl CustomOp2 for PreluOp {
    fn name(&self) -> &'static str {
        "visnir-prelu"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ss: &CpuStorage,
        sl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = xl.dims();
        let channels = dims[1];
        let inner: usize = dims[2..].iter().product();
        let (x, slope) = (f32_slice(xs, xl, "prelu")?, f32_slice(ss, sl, "prelu")?);
        if slope.len() != channels {
            candle_core::bail!("prelu: {} slopes for {channels} channels", slope.len());
        }
        let mut out = vec![0f32; x.len()];
        let inner = inner.max(1);
        out.par_chunks_mut(inner)
            .zip(x.par_chunks(inner))
            .enumerate()
            .for_each(|(i, (out, block))| {
                let a = slope[i % channels];
                for (o, &v) in out.iter_mut().zip(block) {
                    *o = v * crate::leaky_relu::slope_factor(v, a);
                }
            });
        Ok((CpuStorage::F32(out), xl.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        slope: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let mut shape = vec![1; x.rank()];
        shape[1] = slope.elem_count();
        let positive = x.gt(0f32)?;
        let slope_b = slope.reshape(shape)?.broadcast_as(x.shape())?;
        let dx = (grad * positive.where_cond(&Tensor::ones_like(x)?, &slope_b)?)?;
        let reduce: Vec<usize> = (0..x.rank()).filter(|&d| d != 1).collect();
        let ds = (grad * x.minimum(0f32)?)?.sum(reduce)?;
        Ok((Some(dx), Some(ds)))
    }
}
