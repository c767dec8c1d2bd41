//! Max pooling with PyTorch's `ceil_mode=True` output size.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::cpu_slice::f32_slice;

/// Output size of a `kernel` window at `stride` over `n` values in PyTorch's `ceil_mode`.
pub(crate) fn ceil_out(n: usize, kernel: usize, stride: usize) -> usize {
    let mut o = n.saturating_sub(kernel).div_ceil(stride) + 1;
    if (o - 1) * stride >= n {
        o -= 1;
    }
    o
}

/// 2-D max pooling of an `(N, C, H, W)` tensor with `ceil_mode=True` and no padding: a partial
/// window at the bottom/right edge still produces an output.
pub fn max_pool2d_ceil(x: &Tensor, kernel: usize, stride: usize) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.apply_op1_no_bwd(&MaxPoolCeil { kernel, stride })
    } else {
        max_pool2d_ceil_generic(x, kernel, stride)
    }
}

/// The same pooling from candle ops: pad bottom/right with the lowest value, then pool.
pub fn max_pool2d_ceil_generic(x: &Tensor, kernel: usize, stride: usize) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let (oh, ow) = (ceil_out(h, kernel, stride), ceil_out(w, kernel, stride));
    let pad_h = ((oh - 1) * stride + kernel).saturating_sub(h);
    let pad_w = ((ow - 1) * stride + kernel).saturating_sub(w);
    let mut x = x.clone();
    for (dim, amount) in [(2, pad_h), (3, pad_w)] {
        if amount > 0 {
            let mut shape = x.dims().to_vec();
            shape[dim] = amount;
            let fill = Tensor::full(f32::MIN, shape, x.device())?.to_dtype(x.dtype())?;
            x = Tensor::cat(&[&x, &fill], dim)?;
        }
    }
    x.max_pool2d_with_stride(kernel, stride)
}

struct MaxPoolCeil {
    kernel: usize,
    stride: usize,
}

impl CustomOp1 for MaxPoolCeil {
    fn name(&self) -> &'static str {
        "visnir-max-pool-ceil"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        let x = f32_slice(storage, layout, "max_pool2d_ceil")?;
        let (k, s) = (self.kernel, self.stride);
        let (oh, ow) = (ceil_out(h, k, s), ceil_out(w, k, s));
        let mut out = vec![0f32; n * c * oh * ow];
        out.par_chunks_mut(oh * ow)
            .zip(x.par_chunks_exact(h * w))
            .for_each(|(out, plane)| {
                let mut out = out.iter_mut();
                for oy in 0..oh {
                    let rows = oy * s..(oy * s + k).min(h);
                    for ox in 0..ow {
                        let cols = ox * s..(ox * s + k).min(w);
                        let mut m = f32::NEG_INFINITY;
                        for y in rows.clone() {
                            for &v in &plane[y * w + cols.start..y * w + cols.end] {
                                m = m.max(v);
                            }
                        }
                        if let Some(o) = out.next() {
                            *o = m;
                        }
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((n, c, oh, ow))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn ceil_mode_keeps_the_partial_window() {
        let x = Tensor::arange(0f32, 25., &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 5, 5))
            .unwrap();
        for pool in [max_pool2d_ceil, max_pool2d_ceil_generic] {
            let y = pool(&x, 2, 2).unwrap();
            assert_eq!(y.dims(), &[1, 1, 3, 3]);
            let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(v, [6., 8., 9., 16., 18., 19., 21., 23., 24.]);
            let y = pool(&x, 3, 2).unwrap();
            assert_eq!(y.dims(), &[1, 1, 2, 2]);
            let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(v, [12., 14., 22., 24.]);
        }
    }
}
