//! Parametric ReLU with one slope per channel (channel axis 1), as `torch.nn.PReLU(C)`.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Module, Result, Shape, Tensor};
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
        if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
            let (x, grad) = (x.contiguous()?, grad.contiguous()?);
            let dx = x.apply_op3_no_bwd(&slope.contiguous()?, &grad, &PreluInputGrad)?;
            let ds = x.apply_op2_no_bwd(&grad, &PreluSlopeGrad)?;
            return Ok((Some(dx), Some(ds)));
        }
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

/// `(x, slope, grad) -> grad * (x > 0 ? 1 : slope_c)`: the input gradient of [`prelu`], the
/// same products as the generic composition.
struct PreluInputGrad;

impl CustomOp3 for PreluInputGrad {
    fn name(&self) -> &'static str {
        "visnir-prelu-input-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ss: &CpuStorage,
        sl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let op = "prelu input gradient";
        let (x, slope, grad) = (
            f32_slice(xs, xl, op)?,
            f32_slice(ss, sl, op)?,
            f32_slice(gs, gl, op)?,
        );
        let (channels, inner) = channels_and_inner(xl, slope.len(), grad.len(), op)?;
        let mut dx = vec![0f32; x.len()];
        dx.par_chunks_mut(inner)
            .zip(x.par_chunks(inner).zip(grad.par_chunks(inner)))
            .enumerate()
            .for_each(|(i, (dx, (x, grad)))| {
                let a = slope[i % channels];
                for ((d, &v), &g) in dx.iter_mut().zip(x).zip(grad) {
                    *d = g * crate::leaky_relu::slope_factor(v, a);
                }
            });
        Ok((CpuStorage::F32(dx), xl.shape().clone()))
    }
}

/// `(x, grad) -> sum over items and positions of grad * min(x, 0)`, one value per channel: the
/// slope gradient of [`prelu`], summed in the order of candle's `sum` over every axis but 1
/// (items, then positions), so bit for bit the generic result.
struct PreluSlopeGrad;

impl CustomOp2 for PreluSlopeGrad {
    fn name(&self) -> &'static str {
        "visnir-prelu-slope-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let op = "prelu slope gradient";
        let (x, grad) = (f32_slice(xs, xl, op)?, f32_slice(gs, gl, op)?);
        let channels = xl.dims()[1];
        let (_, inner) = channels_and_inner(xl, channels, grad.len(), op)?;
        let items = x.len() / (channels * inner);
        let ds: Vec<f32> = (0..channels)
            .into_par_iter()
            .map(|c| {
                let mut sum = 0f32;
                for item in 0..items {
                    let at = (item * channels + c) * inner;
                    for (&v, &g) in x[at..at + inner].iter().zip(&grad[at..at + inner]) {
                        sum += g * if v > 0.0 { 0.0 } else { v };
                    }
                }
                sum
            })
            .collect();
        Ok((CpuStorage::F32(ds), Shape::from(channels)))
    }
}

/// Channels (axis 1) and values per channel and item of a PReLU input of layout `xl`, checked
/// against `slopes` and the gradient's length.
fn channels_and_inner(
    xl: &Layout,
    slopes: usize,
    grad_len: usize,
    op: &str,
) -> Result<(usize, usize)> {
    let dims = xl.dims();
    if dims.len() < 2 || dims[1] != slopes || grad_len != xl.shape().elem_count() {
        candle_core::bail!("{op}: input {dims:?}, {slopes} slopes, {grad_len} gradient values");
    }
    Ok((dims[1], dims[2..].iter().product::<usize>().max(1)))
}
