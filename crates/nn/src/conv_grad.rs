//! Gradients of the fast CPU convolutions: input gradients through `W^T * grad` and col2im,
//! weight gradients through `grad * cols^T`, each a forward-only custom op used by the `bwd` of
//! [`crate::conv`] and [`crate::depthwise`].

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape};
use rayon::prelude::*;

use crate::conv::{im2col, source, ConvSpec};
use crate::cpu_slice::f32_slice;
use crate::sgemm::{sgemm_raw, MatRef};

/// Adds the column gradients of output positions `p0..p0 + width` (`cols` is `K` x `width`, K
/// ordered as (c, ky, kx)) back into input plane `c`.
#[allow(clippy::too_many_arguments)]
fn col2im_channel(
    cols: &[f32],
    width: usize,
    p0: usize,
    c: usize,
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    spec: ConvSpec,
    ow: usize,
    out: &mut [f32],
) {
    let pad = spec.pad_before as isize;
    let s = spec.stride;
    for ky in 0..kh {
        for kx in 0..kw {
            let row = &cols[((c * kh + ky) * kw + kx) * width..][..width];
            // Walk the tile one output row at a time, as im2col does.
            let mut j = 0;
            while j < width {
                let (oy, ox0) = ((p0 + j) / ow, (p0 + j) % ow);
                let run = (ow - ox0).min(width - j);
                let grads = &row[j..j + run];
                j += run;
                let Some(iy) = source((oy * s + ky) as isize - pad, h, spec.mode) else {
                    continue;
                };
                let line = &mut out[iy * w..(iy + 1) * w];
                let first = (ox0 * s + kx) as isize - pad;
                let last = ((ox0 + run - 1) * s + kx) as isize - pad;
                if s == 1 && first >= 0 && (last as usize) < w {
                    for (o, &g) in line[first as usize..=last as usize].iter_mut().zip(grads) {
                        *o += g;
                    }
                } else {
                    for (q, &g) in grads.iter().enumerate() {
                        if let Some(ix) = source(((ox0 + q) * s + kx) as isize - pad, w, spec.mode)
                        {
                            line[ix] += g;
                        }
                    }
                }
            }
        }
    }
}

/// Output positions per gemm tile so that a `k` x tile buffer stays near 4 MiB.
fn tile_width(k: usize, p: usize) -> usize {
    ((1 << 20) / k.max(1)).clamp(64, 16384).min(p.max(1))
}

/// Gradient of a full convolution with respect to its input: `(grad, weight) -> dx`. Also the
/// forward pass of the transposed convolution.
pub(crate) struct ConvInputGrad {
    pub spec: ConvSpec,
    pub input_hw: (usize, usize),
}

impl CustomOp2 for ConvInputGrad {
    fn name(&self) -> &'static str {
        "visnir-conv2d-input-grad"
    }

    fn cpu_fwd(
        &self,
        gs: &CpuStorage,
        gl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, cout, oh, ow) = gl.shape().dims4()?;
        let (wcout, cin, kh, kw) = wl.shape().dims4()?;
        let (h, w) = self.input_hw;
        if wcout != cout || self.spec.out_size(h, kh) != oh || self.spec.out_size(w, kw) != ow {
            candle_core::bail!(
                "convolution input gradient: {:?} and weight {:?} do not map back to {h}x{w}",
                gl.dims(),
                wl.dims()
            );
        }
        let (grad, weight) = (
            f32_slice(gs, gl, "convolution gradient")?,
            f32_slice(ws, wl, "convolution gradient")?,
        );
        let (k, p) = (cin * kh * kw, oh * ow);
        let tile = tile_width(k, p);
        let mut out = vec![0f32; n * cin * h * w];
        let mut cols = vec![0f32; k * tile];
        for (item, dx) in out.chunks_exact_mut(cin * h * w).enumerate() {
            let g = &grad[item * cout * p..(item + 1) * cout * p];
            for p0 in (0..p).step_by(tile) {
                let width = tile.min(p - p0);
                // cols = W^T (K x Cout) * grad[:, p0..p0 + width]
                let lhs = MatRef::transposed(weight, k, cout, k);
                let rhs = MatRef::rows(&g[p0..], cout, width, p);
                // SAFETY: `cols` holds at least K x width values and is owned here.
                unsafe { sgemm_raw(cols.as_mut_ptr(), width, lhs, rhs, false, true) };
                let cols = &cols[..k * width];
                dx.par_chunks_exact_mut(h * w)
                    .enumerate()
                    .for_each(|(c, plane)| {
                        col2im_channel(cols, width, p0, c, (h, w), (kh, kw), self.spec, ow, plane);
                    });
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, cin, h, w))))
    }
}

/// Gradient of a full convolution with respect to its weight: `(x, grad) -> dW`.
pub(crate) struct ConvWeightGrad {
    pub spec: ConvSpec,
    pub kernel: (usize, usize),
}

impl CustomOp2 for ConvWeightGrad {
    fn name(&self) -> &'static str {
        "visnir-conv2d-weight-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, cin, h, w) = xl.shape().dims4()?;
        let (_, cout, oh, ow) = gl.shape().dims4()?;
        let (kh, kw) = self.kernel;
        let (x, grad) = (
            f32_slice(xs, xl, "convolution gradient")?,
            f32_slice(gs, gl, "convolution gradient")?,
        );
        let (k, p) = (cin * kh * kw, oh * ow);
        let tile = tile_width(k, p).min(4096);
        let tiles = p.div_ceil(tile);
        let direct = kh == 1
            && kw == 1
            && self.spec.stride == 1
            && self.spec.pad_before == 0
            && self.spec.pad_after == 0;
        // Few jobs (batch 1): one accumulator, jobs in order, each product spread over the
        // pool by gemm (which splits the output, never the sum). Many jobs: a fixed number of
        // contiguous job groups, each summed in order and then added in group order. Either
        // way the result does not depend on how rayon schedules the work.
        let jobs = n * tiles;
        // dW (+)= grad[:, p0..p1] (Cout x width) * cols^T (width x K) for one job.
        let add_job = |job: usize, acc: &mut [f32], cols: &mut Vec<f32>, parallel: bool| {
            let (item, t) = (job / tiles, job % tiles);
            let (p0, p1) = (t * tile, ((t + 1) * tile).min(p));
            let width = p1 - p0;
            let input = &x[item * cin * h * w..(item + 1) * cin * h * w];
            let rhs = if direct {
                MatRef::transposed(&input[p0..], width, k, h * w)
            } else {
                cols.resize(k * width, 0.0);
                im2col(input, (cin, h, w), (kh, kw), self.spec, ow, p0, p1, cols);
                MatRef::transposed(cols, width, k, width)
            };
            let lhs = MatRef::rows(&grad[item * cout * p + p0..], cout, width, p);
            // SAFETY: `acc` is a Cout x K buffer owned by the caller for this call.
            unsafe { sgemm_raw(acc.as_mut_ptr(), k, lhs, rhs, true, parallel) };
        };
        if jobs < 8 {
            let mut acc = vec![0f32; cout * k];
            let mut cols = Vec::new();
            for job in 0..jobs {
                add_job(job, &mut acc, &mut cols, true);
            }
            return Ok((CpuStorage::F32(acc), Shape::from((cout, cin, kh, kw))));
        }
        let groups = jobs.min(8);
        let partials: Vec<Vec<f32>> = (0..groups)
            .into_par_iter()
            .map(|group| {
                let mut acc = vec![0f32; cout * k];
                let mut cols = Vec::new();
                for job in (group * jobs / groups)..((group + 1) * jobs / groups) {
                    add_job(job, &mut acc, &mut cols, false);
                }
                acc
            })
            .collect();
        let mut partial = vec![0f32; cout * k];
        for group in partials {
            partial.iter_mut().zip(group).for_each(|(x, y)| *x += y);
        }
        Ok((CpuStorage::F32(partial), Shape::from((cout, cin, kh, kw))))
    }
}

/// Gradients of a depthwise convolution: `(x, grad) -> dW` and `(grad, weight) -> dx`.
pub(crate) struct DepthwiseGrad {
    pub spec: ConvSpec,
    pub kernel: (usize, usize),
    pub input_hw: (usize, usize),
    pub wrt_input: bool,
}

impl CustomOp2 for DepthwiseGrad {
    fn name(&self) -> &'static str {
        "visnir-depthwise-grad"
    }

    fn cpu_fwd(
        &self,
        a: &CpuStorage,
        al: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (kh, kw) = self.kernel;
        let (h, w) = self.input_hw;
        let s = self.spec;
        let pad = s.pad_before as isize;
        // Calls `f(kernel index, output index, input index)` for every tap that lands inside
        // the input, row by row so the inner loop is a plain strided run.
        let for_each_tap = |oh: usize, ow: usize, f: &mut dyn FnMut(usize, usize, usize)| {
            for ky in 0..kh {
                for kx in 0..kw {
                    let ki = ky * kw + kx;
                    for oy in 0..oh {
                        let iy = (oy * s.stride + ky) as isize - pad;
                        if iy < 0 || iy as usize >= h {
                            continue;
                        }
                        let row = iy as usize * w;
                        for ox in 0..ow {
                            let ix = (ox * s.stride + kx) as isize - pad;
                            if ix >= 0 && (ix as usize) < w {
                                f(ki, oy * ow + ox, row + ix as usize);
                            }
                        }
                    }
                }
            }
        };
        if self.wrt_input {
            let (grad, weight) = (
                f32_slice(a, al, "convolution gradient")?,
                f32_slice(b, bl, "convolution gradient")?,
            );
            let (n, c, oh, ow) = al.shape().dims4()?;
            let mut out = vec![0f32; n * c * h * w];
            out.par_chunks_mut(h * w)
                .enumerate()
                .for_each(|(plane, dx)| {
                    let g = &grad[plane * oh * ow..(plane + 1) * oh * ow];
                    let k = &weight[(plane % c) * kh * kw..][..kh * kw];
                    for_each_tap(oh, ow, &mut |ki, o, i| dx[i] += k[ki] * g[o]);
                });
            Ok((CpuStorage::F32(out), Shape::from((n, c, h, w))))
        } else {
            let (x, grad) = (
                f32_slice(a, al, "convolution gradient")?,
                f32_slice(b, bl, "convolution gradient")?,
            );
            let (n, c, oh, ow) = bl.shape().dims4()?;
            let mut out = vec![0f32; c * kh * kw];
            out.par_chunks_mut(kh * kw)
                .enumerate()
                .for_each(|(ch, dk)| {
                    for item in 0..n {
                        let plane = item * c + ch;
                        let g = &grad[plane * oh * ow..(plane + 1) * oh * ow];
                        let input = &x[plane * h * w..(plane + 1) * h * w];
                        for_each_tap(oh, ow, &mut |ki, o, i| dk[ki] += input[i] * g[o]);
                    }
                });
            Ok((CpuStorage::F32(out), Shape::from((c, 1, kh, kw))))
        }
    }
}
