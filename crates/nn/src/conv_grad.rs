//! Gradients of the fast CPU convolutions: input gradients through `W^T * grad` and col2im,
//! weight gradients through `grad * cols^T`, each a forward-only custom op used by the `bwd` of
//! [`crate::conv`] and [`crate::depthwise`].

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::conv::{conv2d, im2col, inside_columns, source, ConvSpec, PadMode};
use crate::cpu_slice::f32_slice;
use crate::few_channels::FEW_OUTPUT_CHANNELS;
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
                // Input columns first + q * s: add the part inside the row directly, the ends
                // (padding) through `source`.
                let first = (ox0 * s + kx) as isize - pad;
                let (lo, hi) = inside_columns(first, s, run, w);
                if s == 1 && hi > lo {
                    let start = (first + lo as isize) as usize;
                    for (o, &g) in line[start..].iter_mut().zip(&grads[lo..hi]) {
                        *o += g;
                    }
                } else {
                    for (q, &g) in grads.iter().enumerate().take(hi).skip(lo) {
                        line[(first + (q * s) as isize) as usize] += g;
                    }
                }
                for q in (0..lo).chain(hi..run) {
                    if let Some(ix) = source(first + (q * s) as isize, w, spec.mode) {
                        line[ix] += grads[q];
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

/// The bias gradient of a convolution: `grad` `(N, C, H, W)` summed to `(C)`. Reduces the
/// contiguous plane first (candle's `sum((0, 2, 3))` walks a strided index, ~100x slower).
pub(crate) fn channel_sums(grad: &Tensor) -> Result<Tensor> {
    let (n, c, h, w) = grad.dims4()?;
    grad.reshape((n, c, h * w))?.sum(2)?.sum(0)
}

/// The bias gradient ([`channel_sums`] of `grad`) when `bias` leads to a variable, else `None`.
pub(crate) fn bias_grad(bias: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
    bias.track_op().then(|| channel_sums(grad)).transpose()
}

/// Whether [`stride1_input_grad`] can compute the input gradient of `spec` with a `kh` x `kw`
/// kernel: stride 1, a square kernel, padding smaller than it.
fn stride1_applies(spec: ConvSpec, (kh, kw): (usize, usize)) -> bool {
    spec.stride == 1 && kh == kw && spec.pad_before < kh && spec.pad_after < kh
}

/// Whether [`stride1_input_grad`] applies and beats the gemm + col2im of [`ConvInputGrad`] for
/// a convolution `cin -> cout` of input `h` x `w` and output `oh` x `ow`: it needs a patch
/// matrix of the (padded) output gradient, `cout * (h + pads) * (w + pads)`, against col2im's
/// `cin * oh * ow`, and it scatters nothing, so it is taken up to a quarter larger.
pub(crate) fn prefer_stride1_input_grad(
    (cin, cout): (usize, usize),
    kernel: (usize, usize),
    (h, w): (usize, usize),
    (oh, ow): (usize, usize),
    spec: ConvSpec,
) -> bool {
    let pads = spec.pad_before + spec.pad_after;
    stride1_applies(spec, kernel)
        && (crate::winograd::winograd_applies(cout, cin, kernel, spec)
            || 4 * cout * (h + pads) * (w + pads) <= 5 * cin * oh * ow)
}

/// Input gradient of a stride-1 convolution with a square kernel, as a forward convolution:
/// the output gradient, zero-padded by `k - 1`, correlated with the kernel flipped and
/// transposed to `(Cin, Cout, k, k)`, is the gradient of the padded input. Zero padding is
/// dropped by padding less; a reflection's border is folded back onto the pixels it mirrors.
pub(crate) fn stride1_input_grad(
    grad: &Tensor,
    weight: &Tensor,
    spec: ConvSpec,
    input_hw: (usize, usize),
) -> Result<Tensor> {
    let (cout, cin, k, kw) = weight.dims4()?;
    if !stride1_applies(spec, (k, kw)) {
        candle_core::bail!("stride1_input_grad: {spec:?} with a {k}x{kw} kernel");
    }
    let w: Vec<f32> = weight.flatten_all()?.to_vec1()?;
    let mut flipped = vec![0f32; w.len()];
    for (co, filters) in w.chunks_exact(cin * k * k).enumerate() {
        for (ci, taps) in filters.chunks_exact(k * k).enumerate() {
            let dst = &mut flipped[(ci * cout + co) * k * k..][..k * k];
            for (d, &t) in dst.iter_mut().zip(taps.iter().rev()) {
                *d = t;
            }
        }
    }
    let flipped = Tensor::from_vec(flipped, (cin, cout, k, k), weight.device())?;
    let no_bias = Tensor::zeros(cin, candle_core::DType::F32, weight.device())?;
    let full = |before: usize, after: usize| ConvSpec {
        stride: 1,
        pad_before: before,
        pad_after: after,
        mode: PadMode::Zeros,
    };
    match spec.mode {
        PadMode::Zeros => conv2d(
            grad,
            &flipped,
            &no_bias,
            full(k - 1 - spec.pad_before, k - 1 - spec.pad_after),
        ),
        PadMode::Reflect => conv2d(grad, &flipped, &no_bias, full(k - 1, k - 1))?
            .apply_op1_no_bwd(&FoldReflection { spec, input_hw }),
    }
}

/// Sums the gradient of a reflection-padded input `(N, C, H + pads, W + pads)` back onto the
/// `(N, C, H, W)` input.
struct FoldReflection {
    spec: ConvSpec,
    input_hw: (usize, usize),
}

impl CustomOp1 for FoldReflection {
    fn name(&self) -> &'static str {
        "visnir-fold-reflection"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c, hp, wp) = layout.shape().dims4()?;
        let (h, w) = self.input_hw;
        let pad = self.spec.pad_before;
        if hp != h + pad + self.spec.pad_after || wp != w + pad + self.spec.pad_after {
            candle_core::bail!("fold reflection: {hp}x{wp} is not {h}x{w} padded by {pad}");
        }
        let padded = f32_slice(storage, layout, "fold reflection")?;
        let rows: Vec<usize> = (0..hp)
            .map(|j| source(j as isize - pad as isize, h, PadMode::Reflect).unwrap_or(0))
            .collect();
        let cols: Vec<usize> = (0..wp)
            .map(|j| source(j as isize - pad as isize, w, PadMode::Reflect).unwrap_or(0))
            .collect();
        let mut out = vec![0f32; n * c * h * w];
        out.par_chunks_mut(h * w)
            .zip(padded.par_chunks(hp * wp))
            .for_each(|(dx, dp)| {
                for (line, &iy) in dp.chunks_exact(wp).zip(&rows) {
                    let target = &mut dx[iy * w..(iy + 1) * w];
                    target
                        .iter_mut()
                        .zip(&line[pad..pad + w])
                        .for_each(|(t, &g)| *t += g);
                    for (jx, &g) in line.iter().enumerate() {
                        if jx < pad || jx >= pad + w {
                            target[cols[jx]] += g;
                        }
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((n, c, h, w))))
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
        if crate::winograd::winograd_applies(cin, cout, (kh, kw), self.spec) {
            let dw =
                crate::winograd::winograd_weight_grad(x, (n, cin, h, w), grad, cout, self.spec);
            return Ok((CpuStorage::F32(dw), Shape::from((cout, cin, kh, kw))));
        }
        if crate::few_channels::applies(cout, self.spec) {
            let dw = crate::few_channels::weight_grad(
                x,
                (n, cin, h, w),
                grad,
                (cout, oh, ow),
                (kh, kw),
                self.spec,
            );
            return Ok((CpuStorage::F32(dw), Shape::from((cout, cin, kh, kw))));
        }
        if cout <= FEW_OUTPUT_CHANNELS {
            let dw = weight_grad_direct(x, grad, (n, cin, h, w), (cout, oh, ow), self);
            return Ok((CpuStorage::F32(dw), Shape::from((cout, cin, kh, kw))));
        }
        let (k, p) = (cin * kh * kw, oh * ow);
        let mut tile = tile_width(k, p).min(4096);
        // A small weight gradient with long sums keeps a parallel gemm on one thread (it
        // splits the output, never the sum): split the sum into eight jobs instead.
        if cout * k < SMALL_WEIGHT_GRAD && n * p.div_ceil(tile) < 8 {
            tile = p.div_ceil(8usize.div_ceil(n)).max(1);
        }
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
                im2col(
                    input,
                    (cin, h, w),
                    (kh, kw),
                    self.spec,
                    ow,
                    p0,
                    p1,
                    cols,
                    parallel,
                );
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

/// Weight gradients with fewer elements than this are summed in eight jobs or more.
const SMALL_WEIGHT_GRAD: usize = 32768;

/// Sum of `a[i] * b[i]` in eight interleaved lanes (vectorisable, same order every call).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `dW[co, ci, ky, kx] = sum over items and output positions of grad[co, oy, ox] *
/// padded_x[ci, oy * s + ky, ox * s + kx]`, one input channel per task.
fn weight_grad_direct(
    x: &[f32],
    grad: &[f32],
    (n, cin, h, w): (usize, usize, usize, usize),
    (cout, oh, ow): (usize, usize, usize),
    op: &ConvWeightGrad,
) -> Vec<f32> {
    let (kh, kw) = op.kernel;
    let spec = op.spec;
    let s = spec.stride;
    let (hp, wp) = (
        h + spec.pad_before + spec.pad_after,
        w + spec.pad_before + spec.pad_after,
    );
    let pad = spec.pad_before as isize;
    let per_channel: Vec<Vec<f32>> = (0..cin)
        .into_par_iter()
        .map(|ci| {
            let mut taps = vec![0f32; cout * kh * kw];
            let mut padded = vec![0f32; hp * wp];
            let mut strided = vec![0f32; ow];
            for item in 0..n {
                let plane = &x[(item * cin + ci) * h * w..][..h * w];
                for (y, row) in padded.chunks_exact_mut(wp).enumerate() {
                    let Some(sy) = source(y as isize - pad, h, spec.mode) else {
                        row.fill(0.0);
                        continue;
                    };
                    for (xx, v) in row.iter_mut().enumerate() {
                        *v = source(xx as isize - pad, w, spec.mode)
                            .map_or(0.0, |sx| plane[sy * w + sx]);
                    }
                }
                for co in 0..cout {
                    let g = &grad[(item * cout + co) * oh * ow..][..oh * ow];
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let mut sum = 0f32;
                            for (oy, g_row) in g.chunks_exact(ow).enumerate() {
                                let line = &padded[(oy * s + ky) * wp..][..wp];
                                let inputs = if s == 1 {
                                    &line[kx..kx + ow]
                                } else {
                                    for (ox, v) in strided.iter_mut().enumerate() {
                                        *v = line[ox * s + kx];
                                    }
                                    &strided[..]
                                };
                                sum += dot(g_row, inputs);
                            }
                            taps[(co * kh + ky) * kw + kx] += sum;
                        }
                    }
                }
            }
            taps
        })
        .collect();
    crate::few_channels::weight_from_channels(&per_channel, cout, kh * kw)
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
        let taps = Taps {
            kernel: (kh, kw),
            input_hw: (h, w),
            stride: s.stride,
            pad,
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
                    taps.input_grad((oh, ow), k, g, dx);
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
                        taps.weight_grad((oh, ow), input, g, dk);
                    }
                });
            Ok((CpuStorage::F32(out), Shape::from((c, 1, kh, kw))))
        }
    }
}

/// The taps of a depthwise convolution's kernel over its input, for the gradient kernels.
struct Taps {
    kernel: (usize, usize),
    input_hw: (usize, usize),
    stride: usize,
    pad: isize,
}

impl Taps {
    /// The input coordinate that output coordinate `o` reads through kernel offset `k` along
    /// an axis of `n` inputs, or `None` in the padding.
    #[inline]
    fn input_coord(&self, o: usize, k: usize, n: usize) -> Option<usize> {
        let i = (o * self.stride + k) as isize - self.pad;
        (i >= 0 && (i as usize) < n).then_some(i as usize)
    }

    /// Adds to each `dk[ki]` the products `input[i] * g[o]` of its taps, in the order of
    /// `Taps::for_each` (the tests' reference order) for every `ki` (output row by row) but
    /// every tap of an output position at once, so that the kernel's sums advance side by side
    /// rather than one after another: the same sums, bit for bit, without a chain of dependent
    /// additions per tap.
    fn weight_grad(&self, (oh, ow): (usize, usize), input: &[f32], g: &[f32], dk: &mut [f32]) {
        if self.kernel == (3, 3) {
            if let Ok(dk) = <&mut [f32; 9]>::try_from(&mut *dk) {
                return self.weight_grad_3x3((oh, ow), input, g, dk);
            }
        }
        for oy in 0..oh {
            for ox in 0..ow {
                self.add_position(oy, ox, input, g[oy * ow + ox], dk);
            }
        }
    }

    /// The taps of output position (`oy`, `ox`) with output gradient `go`, added to `dk`.
    #[inline]
    fn add_position(&self, oy: usize, ox: usize, input: &[f32], go: f32, dk: &mut [f32]) {
        let ((kh, kw), (h, w)) = (self.kernel, self.input_hw);
        for ky in 0..kh {
            let Some(iy) = self.input_coord(oy, ky, h) else {
                continue;
            };
            for kx in 0..kw {
                if let Some(ix) = self.input_coord(ox, kx, w) {
                    dk[ky * kw + kx] += input[iy * w + ix] * go;
                }
            }
        }
    }

    /// `weight_grad` of a 3x3 kernel: the nine sums in registers, and the positions whose taps
    /// all lie inside the input without a bounds test per tap (the same sums in the same order).
    fn weight_grad_3x3(
        &self,
        (oh, ow): (usize, usize),
        input: &[f32],
        g: &[f32],
        dk: &mut [f32; 9],
    ) {
        let ((h, w), s) = (self.input_hw, self.stride);
        let mut acc = *dk;
        // Output columns whose three taps are inside the row: those of tap 0 and of tap 2.
        let (lo0, hi0) = inside_columns(-self.pad, s, ow, w);
        let (lo2, hi2) = inside_columns(2 - self.pad, s, ow, w);
        let (lo, hi) = (lo0.max(lo2), hi0.min(hi2));
        for oy in 0..oh {
            let rows = [0, 1, 2].map(|ky| self.input_coord(oy, ky, h));
            let inside = match rows {
                [Some(r0), Some(r1), Some(r2)] => Some([r0, r1, r2]),
                _ => None,
            };
            for ox in 0..ow {
                let go = g[oy * ow + ox];
                match inside {
                    Some(rows) if (lo..hi).contains(&ox) => {
                        let ix = (ox * s) as isize - self.pad;
                        for (ky, iy) in rows.into_iter().enumerate() {
                            let taps = &input[iy * w + ix as usize..][..3];
                            acc[3 * ky] += taps[0] * go;
                            acc[3 * ky + 1] += taps[1] * go;
                            acc[3 * ky + 2] += taps[2] * go;
                        }
                    }
                    _ => self.add_position(oy, ox, input, go, &mut acc),
                }
            }
        }
        *dk = acc;
    }

    /// Adds `k[ki] * g[o]` to `dx[i]` for every tap, kernel position by position as
    /// `Taps::for_each` (the tests' reference order) does, so that each input gets its products
    /// in the same order, bit for bit; a row segment at a time, so that stride 1 vectorises.
    fn input_grad(&self, (oh, ow): (usize, usize), k: &[f32], g: &[f32], dx: &mut [f32]) {
        let ((kh, kw), (h, w)) = (self.kernel, self.input_hw);
        let s = self.stride;
        for ky in 0..kh {
            for kx in 0..kw {
                let weight = k[ky * kw + kx];
                let first = kx as isize - self.pad;
                let (lo, hi) = inside_columns(first, s, ow, w);
                if hi <= lo {
                    continue;
                }
                let start = (first + (lo * s) as isize) as usize;
                for oy in 0..oh {
                    let Some(iy) = self.input_coord(oy, ky, h) else {
                        continue;
                    };
                    let grads = &g[oy * ow + lo..oy * ow + hi];
                    let line = &mut dx[iy * w + start..(iy + 1) * w];
                    if s == 1 {
                        for (d, &go) in line.iter_mut().zip(grads) {
                            *d += weight * go;
                        }
                    } else {
                        for (d, &go) in line.iter_mut().step_by(s).zip(grads) {
                            *d += weight * go;
                        }
                    }
                }
            }
        }
    }

    /// Calls `f(kernel index, output index, input index)` for every tap that lands inside the
    /// input of an `oh` x `ow` output, kernel position by position and row by row (the order of
    /// the sums); generic so that `f` is inlined into the loop.
    #[cfg(test)]
    #[inline]
    fn for_each(&self, (oh, ow): (usize, usize), mut f: impl FnMut(usize, usize, usize)) {
        let ((kh, kw), (h, w)) = (self.kernel, self.input_hw);
        for ky in 0..kh {
            for kx in 0..kw {
                let ki = ky * kw + kx;
                for oy in 0..oh {
                    let Some(iy) = self.input_coord(oy, ky, h) else {
                        continue;
                    };
                    for ox in 0..ow {
                        if let Some(ix) = self.input_coord(ox, kx, w) {
                            f(ki, oy * ow + ox, iy * w + ix);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Taps;

    /// `Taps::weight_grad` and `Taps::input_grad` add the same products in the same order per
    /// weight and per input as the loop they replaced (`for_each`, one tap after another): equal
    /// bit for bit, padding and strides included.
    #[test]
    fn gradients_sum_each_tap_in_the_order_of_for_each() {
        let mut state = 12345u32;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for (kernel, (h, w), stride, pad) in [
            ((3, 3), (9, 9), 1, 1),
            ((3, 3), (12, 12), 2, 0),
            ((3, 3), (11, 9), 2, 1),
            ((7, 7), (7, 7), 1, 0),
        ] {
            let taps = Taps {
                kernel,
                input_hw: (h, w),
                stride,
                pad,
            };
            let out = |n: usize, k: usize| (n + 2 * pad as usize - k) / stride + 1;
            let (oh, ow) = (out(h, kernel.0), out(w, kernel.1));
            let input: Vec<f32> = (0..h * w).map(|_| next()).collect();
            let g: Vec<f32> = (0..oh * ow).map(|_| next()).collect();
            let start: Vec<f32> = (0..kernel.0 * kernel.1).map(|_| next()).collect();
            let mut expected = start.clone();
            taps.for_each((oh, ow), |ki, o, i| expected[ki] += input[i] * g[o]);
            let mut got = start.clone();
            taps.weight_grad((oh, ow), &input, &g, &mut got);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&got),
                bits(&expected),
                "kernel {kernel:?}, stride {stride}"
            );
            // The input gradient: kernel `start`, output gradient `g`, onto `input`.
            let mut expected = input.clone();
            taps.for_each((oh, ow), |ki, o, i| expected[i] += start[ki] * g[o]);
            let mut got = input.clone();
            taps.input_grad((oh, ow), &start, &g, &mut got);
            assert_eq!(
                bits(&got),
                bits(&expected),
                "input gradient: kernel {kernel:?}, stride {stride}"
            );
        }
    }
}
