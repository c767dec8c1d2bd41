//! Gradients of the fast CPU convolutions: input gradients through `W^T * grad` and col2im,
//! weight gradients through `grad * cols^T`, each a forward-only custom op used by the `bwd` of
//! [`crate::conv`] and [`crate::depthwise`].

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape};
use rayon::prelude::*;

use crate::conv::{im2col, source, ConvSpec};
use crate::sgemm::{sgemm_raw, MatRef};

fn contiguous<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&storage.as_slice::<f32>()?[a..b]),
        None => candle_core::bail!("convolution gradient: inputs must be contiguous"),
    }
}

/// Adds column gradients (`K` x `P`, K ordered as (c, ky, kx)) back into the input planes.
#[allow(clippy::too_many_arguments)]
fn col2im_channel(
    cols: &[f32],
    c: usize,
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    spec: ConvSpec,
    (oh, ow): (usize, usize),
    out: &mut [f32],
) {
    let p = oh * ow;
    let pad = spec.pad_before as isize;
    for ky in 0..kh {
        for kx in 0..kw {
            let row = &cols[((c * kh + ky) * kw + kx) * p..][..p];
            for oy in 0..oh {
                let Some(iy) = source((oy * spec.stride + ky) as isize - pad, h, spec.mode) else {
                    continue;
                };
                let line = &mut out[iy * w..(iy + 1) * w];
                for ox in 0..ow {
                    if let Some(ix) = source((ox * spec.stride + kx) as isize - pad, w, spec.mode) {
                        line[ix] += row[oy * ow + ox];
                    }
                }
            }
        }
    }
}

/// Gradient of a full convolution with respect to its input: `(grad, weight) -> dx`.
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
        let (grad, weight) = (contiguous(gs, gl)?, contiguous(ws, wl)?);
        let (k, p) = (cin * kh * kw, oh * ow);
        // W^T as a K x Cout view of the Cout x K weight: element (r, c) at c * K + r.
        let mut wt = vec![0f32; k * cout];
        for (co, row) in weight.chunks_exact(k).enumerate() {
            for (r, &v) in row.iter().enumerate() {
                wt[r * cout + co] = v;
            }
        }
        let mut out = vec![0f32; n * cin * h * w];
        out.par_chunks_mut(cin * h * w)
            .zip(grad.par_chunks_exact(cout * p))
            .for_each(|(dx, g)| {
                let mut cols = vec![0f32; k * p];
                let lhs = MatRef {
                    data: &wt,
                    rows: k,
                    cols: cout,
                    row_stride: cout,
                };
                let rhs = MatRef {
                    data: g,
                    rows: cout,
                    cols: p,
                    row_stride: p,
                };
                // SAFETY: `cols` is a local buffer of exactly K x P.
                unsafe { sgemm_raw(cols.as_mut_ptr(), p, lhs, rhs, false) };
                for (c, plane) in dx.chunks_exact_mut(h * w).enumerate() {
                    col2im_channel(&cols, c, (h, w), (kh, kw), self.spec, (oh, ow), plane);
                }
            });
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
        let (x, grad) = (contiguous(xs, xl)?, contiguous(gs, gl)?);
        let (k, p) = (cin * kh * kw, oh * ow);
        let tile = (65536 / k.max(1)).clamp(32, 4096).min(p.max(1));
        let tiles = p.div_ceil(tile);
        let partial = (0..n * tiles)
            .into_par_iter()
            .fold(
                || (vec![0f32; cout * k], Vec::new()),
                |(mut acc, mut cols), job| {
                    let (item, t) = (job / tiles, job % tiles);
                    let (p0, p1) = (t * tile, ((t + 1) * tile).min(p));
                    let width = p1 - p0;
                    cols.resize(k * width, 0.0);
                    let input = &x[item * cin * h * w..(item + 1) * cin * h * w];
                    im2col(
                        input,
                        (cin, h, w),
                        (kh, kw),
                        self.spec,
                        ow,
                        p0,
                        p1,
                        &mut cols,
                    );
                    // cols^T as a width x K view: element (q, r) at r * width + q, i.e. column-major.
                    let g = &grad[item * cout * p + p0..];
                    let lhs = MatRef {
                        data: g,
                        rows: cout,
                        cols: width,
                        row_stride: p,
                    };
                    let mut colst = vec![0f32; width * k];
                    for r in 0..k {
                        for q in 0..width {
                            colst[q * k + r] = cols[r * width + q];
                        }
                    }
                    let rhs = MatRef {
                        data: &colst,
                        rows: width,
                        cols: k,
                        row_stride: k,
                    };
                    // SAFETY: `acc` is this fold's own Cout x K buffer.
                    unsafe { sgemm_raw(acc.as_mut_ptr(), k, lhs, rhs, true) };
                    (acc, cols)
                },
            )
            .map(|(acc, _)| acc)
            .reduce(
                || vec![0f32; cout * k],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
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
        let positions = |oh: usize, ow: usize| {
            (0..kh * kw * oh * ow).filter_map(move |i| {
                let (k, o) = (i / (oh * ow), i % (oh * ow));
                let (ky, kx, oy, ox) = (k / kw, k % kw, o / ow, o % ow);
                let iy = (oy * s.stride + ky) as isize - pad;
                let ix = (ox * s.stride + kx) as isize - pad;
                (iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w)
                    .then(|| (k, o, iy as usize * w + ix as usize))
            })
        };
        if self.wrt_input {
            let (grad, weight) = (contiguous(a, al)?, contiguous(b, bl)?);
            let (n, c, oh, ow) = al.shape().dims4()?;
            let mut out = vec![0f32; n * c * h * w];
            out.par_chunks_mut(h * w)
                .enumerate()
                .for_each(|(plane, dx)| {
                    let g = &grad[plane * oh * ow..(plane + 1) * oh * ow];
                    let k = &weight[(plane % c) * kh * kw..][..kh * kw];
                    for (ki, o, i) in positions(oh, ow) {
                        dx[i] += k[ki] * g[o];
                    }
                });
            Ok((CpuStorage::F32(out), Shape::from((n, c, h, w))))
        } else {
            let (x, grad) = (contiguous(a, al)?, contiguous(b, bl)?);
            let (n, c, oh, ow) = bl.shape().dims4()?;
            let mut out = vec![0f32; c * kh * kw];
            out.par_chunks_mut(kh * kw)
                .enumerate()
                .for_each(|(ch, dk)| {
                    for item in 0..n {
                        let plane = item * c + ch;
                        let g = &grad[plane * oh * ow..(plane + 1) * oh * ow];
                        let input = &x[plane * h * w..(plane + 1) * h * w];
                        for (ki, o, i) in positions(oh, ow) {
                            dk[ki] += input[i] * g[o];
                        }
                    }
                });
            Ok((CpuStorage::F32(out), Shape::from((c, 1, kh, kw))))
        }
    }
}
