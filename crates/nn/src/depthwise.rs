//! Depthwise 2-D convolution (one filter per channel, `groups = channels`): a direct CPU kernel
//! and the generic candle composition (a grouped convolution) for CUDA/Metal and as oracle.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::conv::{pad2d, ConvSpec, PadMode};
use crate::cpu_slice::f32_slice;

/// Depthwise convolution of `x` `(N, C, H, W)` with `weight` `(C, 1, kh, kw)` plus `bias` `(C)`.
pub fn depthwise_conv2d(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    spec: ConvSpec,
) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.apply_op3(weight, bias, DepthwiseOp { spec })
    } else {
        depthwise_conv2d_generic(x, weight, bias, spec)
    }
}

/// The same convolution as candle's grouped `conv2d` after explicit padding.
pub fn depthwise_conv2d_generic(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    spec: ConvSpec,
) -> Result<Tensor> {
    let channels = x.dim(1)?;
    let padded = pad2d(x, spec.pad_before, spec.pad_after, spec.mode)?;
    let y = padded.conv2d(weight, 0, spec.stride, 1, channels)?;
    y.broadcast_add(&bias.reshape((1, channels, 1, 1))?)
}

/// TF "SAME" padding for `input` with a `kernel` at `stride`: `(before, after)`, the extra
/// row/column going after (0 before and 1 after for a 3x3 stride-2 kernel on an even size).
pub fn tf_same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = input.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(input);
    (total / 2, total - total / 2)
}

struct DepthwiseOp {
    spec: ConvSpec,
}

impl CustomOp3 for DepthwiseOp {
    fn name(&self) -> &'static str {
        "visnir-depthwise-conv2d"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        bs: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = xl.shape().dims4()?;
        let (wc, one, kh, kw) = wl.shape().dims4()?;
        if wc != c || one != 1 || bl.shape().elem_count() != c {
            candle_core::bail!(
                "depthwise conv: input {:?}, weight {:?}, bias {:?}",
                xl.dims(),
                wl.dims(),
                bl.dims()
            );
        }
        let s = self.spec;
        if s.mode == PadMode::Reflect {
            candle_core::bail!(
                "depthwise conv: reflect padding is not supported by the CPU kernel"
            );
        }
        let (ph, pw) = (
            h + s.pad_before + s.pad_after,
            w + s.pad_before + s.pad_after,
        );
        if ph < kh || pw < kw {
            candle_core::bail!("depthwise conv: kernel {kh}x{kw} larger than padded input {h}x{w}");
        }
        let (oh, ow) = ((ph - kh) / s.stride + 1, (pw - kw) / s.stride + 1);
        let (x, weight, bias) = (
            f32_slice(xs, xl, "depthwise conv")?,
            f32_slice(ws, wl, "depthwise conv")?,
            f32_slice(bs, bl, "depthwise conv")?,
        );
        let mut out = vec![0f32; n * c * oh * ow];
        let pad = s.pad_before as isize;
        out.par_chunks_mut(oh * ow)
            .enumerate()
            .for_each(|(plane_index, out)| {
                let ch = plane_index % c;
                let input = &x[plane_index * h * w..(plane_index + 1) * h * w];
                let k = &weight[ch * kh * kw..(ch + 1) * kh * kw];
                out.fill(bias[ch]);
                for ky in 0..kh {
                    for oy in 0..oh {
                        let iy = (oy * s.stride + ky) as isize - pad;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        let row = &input[iy as usize * w..(iy as usize + 1) * w];
                        let out_row = &mut out[oy * ow..(oy + 1) * ow];
                        for kx in 0..kw {
                            let kv = k[ky * kw + kx];
                            // Output columns whose input column lies inside the row.
                            let first = (pad - kx as isize).max(0) as usize;
                            let lo = first.div_ceil(s.stride);
                            let limit = w as isize + pad - kx as isize;
                            if limit <= 0 {
                                continue;
                            }
                            let hi = ((limit as usize - 1) / s.stride + 1).min(ow);
                            if s.stride == 1 {
                                let start = (lo as isize + kx as isize - pad) as usize;
                                for (o, &v) in out_row[lo..hi].iter_mut().zip(&row[start..]) {
                                    *o += kv * v;
                                }
                            } else {
                                for (ox, o) in out_row.iter_mut().enumerate().take(hi).skip(lo) {
                                    let ix = (ox * s.stride + kx) as isize - pad;
                                    *o += kv * row[ix as usize];
                                }
                            }
                        }
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((n, c, oh, ow))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        use crate::conv_grad::DepthwiseGrad;
        let grad = grad.contiguous()?;
        let (_, _, h, w) = x.dims4()?;
        let (_, _, kh, kw) = weight.dims4()?;
        let op = |wrt_input| DepthwiseGrad {
            spec: self.spec,
            kernel: (kh, kw),
            input_hw: (h, w),
            wrt_input,
        };
        let dx = x
            .track_op()
            .then(|| grad.apply_op2_no_bwd(&weight.contiguous()?, &op(true)))
            .transpose()?;
        let dw = weight
            .track_op()
            .then(|| x.contiguous()?.apply_op2_no_bwd(&grad, &op(false)))
            .transpose()?;
        let db = crate::conv_grad::bias_grad(bias, &grad)?;
        Ok((dx, dw, db))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_same() {
        assert_eq!(tf_same_padding(112, 3, 2), (0, 1));
        assert_eq!(tf_same_padding(56, 3, 1), (1, 1));
        assert_eq!(tf_same_padding(7, 7, 1), (3, 3));
        assert_eq!(tf_same_padding(15, 3, 2), (1, 1));
    }
}
