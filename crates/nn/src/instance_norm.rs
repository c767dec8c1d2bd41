//! Instance normalisation without affine parameters (`torch.nn.InstanceNorm2d(affine=False)`):
//! each `(n, c)` plane is shifted to mean 0 and scaled to (biased) variance 1.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::cpu_slice::f32_slice;

/// The epsilon PyTorch uses.
pub const INSTANCE_NORM_EPS: f64 = 1e-5;

/// Instance norm of an `(N, C, H, W)` tensor; the fused CPU kernel on f32 CPU tensors.
pub fn instance_norm(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.apply_op1(InstanceNormOp)
    } else {
        instance_norm_generic(x)
    }
}

/// The same normalisation from candle ops.
pub fn instance_norm_generic(x: &Tensor) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let flat = x.reshape((n, c, h * w))?;
    let mean = flat.mean_keepdim(2)?;
    let centred = flat.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(2)?;
    centred
        .broadcast_div(&(var + INSTANCE_NORM_EPS)?.sqrt()?)?
        .reshape((n, c, h, w))
}

fn planes<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<(&'a [f32], usize)> {
    let (_, _, h, w) = layout.shape().dims4()?;
    Ok((f32_slice(storage, layout, "instance norm")?, h * w))
}

/// `sum f(a[i], b[i])` in f64, over eight interleaved lanes so that the additions vectorise.
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f64) -> f64 {
    let mut lanes = [0f64; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            lanes[l] += f(x[l], y[l]);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Mean and 1/sqrt(var + eps) of a plane, accumulated in f64.
fn moments(plane: &[f32]) -> (f64, f64) {
    let n = plane.len() as f64;
    let mean = lane_sum(plane, plane, |v, _| v as f64) / n;
    let var = lane_sum(plane, plane, |v, _| (v as f64 - mean).powi(2)) / n;
    (mean, 1.0 / (var + INSTANCE_NORM_EPS).sqrt())
}

struct InstanceNormOp;

impl CustomOp1 for InstanceNormOp {
    fn name(&self) -> &'static str {
        "visnir-instance-norm"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, plane) = planes(storage, layout)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(plane)
            .zip(x.par_chunks(plane))
            .for_each(|(o, p)| {
                let (mean, inv) = moments(p);
                let (mean, inv) = (mean as f32, inv as f32);
                for (o, &v) in o.iter_mut().zip(p) {
                    *o = (v - mean) * inv;
                }
            });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.contiguous()?.apply_op2_no_bwd(
            &grad.contiguous()?,
            &InstanceNormGrad,
        )?))
    }
}

/// `dx = inv * (dy - mean(dy) - x_hat * mean(dy * x_hat))` per plane.
struct InstanceNormGrad;

impl CustomOp2 for InstanceNormGrad {
    fn name(&self) -> &'static str {
        "visnir-instance-norm-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, plane) = planes(xs, xl)?;
        let (g, _) = planes(gs, gl)?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(plane)
            .zip(x.par_chunks(plane).zip(g.par_chunks(plane)))
            .for_each(|(o, (p, dy))| {
                let (mean, inv) = moments(p);
                let n = p.len() as f64;
                let mean_dy = lane_sum(dy, dy, |d, _| d as f64) / n;
                // mean(dy * x_hat) = inv * mean(dy * (x - mean)), in f64.
                let mean_dy_xhat = inv * lane_sum(dy, p, |d, v| d as f64 * (v as f64 - mean)) / n;
                let (mean, inv) = (mean as f32, inv as f32);
                let (mean_dy, mean_dy_xhat) = (mean_dy as f32, mean_dy_xhat as f32);
                for ((o, &d), &v) in o.iter_mut().zip(dy).zip(p) {
                    let xhat = (v - mean) * inv;
                    *o = inv * (d - mean_dy - xhat * mean_dy_xhat);
                }
            });
        Ok((CpuStorage::F32(out), xl.shape().clone()))
    }
}
