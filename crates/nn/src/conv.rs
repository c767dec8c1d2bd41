//! 2-D convolution with zero or reflect padding: a fast CPU kernel (tiled im2col + gemm,
//! parallel over tiles) and the generic candle composition used on CUDA/Metal and as oracle.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::cpu_slice::f32_slice;
use crate::sgemm::{sgemm_raw, MatRef, SharedOut};

/// How the border of the input is extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// Zeros outside the input.
    Zeros,
    /// Mirror without repeating the edge (`torch.nn.ReflectionPad2d`).
    Reflect,
}

/// Stride and padding of a convolution (`pad_before` top/left, `pad_after` bottom/right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Step between output positions.
    pub stride: usize,
    /// Rows/columns added at the top and left.
    pub pad_before: usize,
    /// Rows/columns added at the bottom and right.
    pub pad_after: usize,
    /// How the padding is filled.
    pub mode: PadMode,
}

impl ConvSpec {
    /// No padding, stride 1.
    pub const VALID: Self = Self {
        stride: 1,
        pad_before: 0,
        pad_after: 0,
        mode: PadMode::Zeros,
    };

    /// Symmetric padding `pad` with `mode`, at `stride`.
    pub fn symmetric(stride: usize, pad: usize, mode: PadMode) -> Self {
        Self {
            stride,
            pad_before: pad,
            pad_after: pad,
            mode,
        }
    }

    pub(crate) fn out_size(&self, input: usize, kernel: usize) -> usize {
        (input + self.pad_before + self.pad_after).saturating_sub(kernel) / self.stride + 1
    }
}

/// Convolves `x` `(N, Cin, H, W)` with `weight` `(Cout, Cin, kh, kw)` and adds `bias` `(Cout)`.
/// On the CPU with f32 it runs the fast kernel; elsewhere the generic candle ops.
pub fn conv2d(x: &Tensor, weight: &Tensor, bias: &Tensor, spec: ConvSpec) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.apply_op3(weight, bias, Conv2dOp { spec })
    } else {
        conv2d_generic(x, weight, bias, spec)
    }
}

/// The same convolution composed from candle's own ops (padding, `conv2d`, broadcast add).
pub fn conv2d_generic(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    spec: ConvSpec,
) -> Result<Tensor> {
    let padded = pad2d(x, spec.pad_before, spec.pad_after, spec.mode)?;
    let y = padded.conv2d(weight, 0, spec.stride, 1, 1)?;
    y.broadcast_add(&bias.reshape((1, bias.elem_count(), 1, 1))?)
}

/// Pads the last two dimensions by `before`/`after` with zeros or a reflection.
pub fn pad2d(x: &Tensor, before: usize, after: usize, mode: PadMode) -> Result<Tensor> {
    if before == 0 && after == 0 {
        return Ok(x.clone());
    }
    match mode {
        PadMode::Zeros => x
            .pad_with_zeros(2, before, after)?
            .pad_with_zeros(3, before, after),
        PadMode::Reflect => reflect(&reflect(x, 2, before, after)?, 3, before, after),
    }
}

fn reflect(x: &Tensor, dim: usize, before: usize, after: usize) -> Result<Tensor> {
    let n = x.dim(dim)?;
    let mut parts = Vec::with_capacity(before + after + 1);
    for i in (1..=before).rev() {
        parts.push(x.narrow(dim, i, 1)?);
    }
    parts.push(x.clone());
    for i in 1..=after {
        parts.push(x.narrow(dim, n - 1 - i, 1)?);
    }
    Tensor::cat(&parts, dim)
}

/// Index of input row/column `i` (may be outside) after padding, or `None` for a zero.
#[inline]
pub(crate) fn source(i: isize, n: usize, mode: PadMode) -> Option<usize> {
    if i >= 0 && (i as usize) < n {
        return Some(i as usize);
    }
    match mode {
        PadMode::Zeros => None,
        PadMode::Reflect => {
            let r = if i < 0 { -i } else { 2 * (n as isize - 1) - i };
            Some(r.clamp(0, n as isize - 1) as usize)
        }
    }
}

/// The run `lo..hi` of `j in 0..n` whose input column `first + j * stride` lies inside a row
/// of `w` columns (empty when none does).
pub(crate) fn inside_columns(first: isize, stride: usize, n: usize, w: usize) -> (usize, usize) {
    let (n, step) = (n as isize, stride as isize);
    let lo = if first >= 0 {
        0
    } else {
        (-first + step - 1) / step
    }
    .min(n);
    let hi = if first >= w as isize {
        lo
    } else {
        ((w as isize - first + step - 1) / step).clamp(lo, n)
    };
    (lo as usize, hi as usize)
}

struct Conv2dOp {
    spec: ConvSpec,
}

/// Column tiles of the forward product, (width, count): each tile's patch matrix stays near
/// 256 KB, and the tiles of an image come in multiples of the worker count and of equal widths
/// (multiples of 16), so that every core gets the same work. A batch of at least as many
/// images as workers is spread by image instead.
fn forward_tiles(k: usize, p: usize, n: usize) -> (usize, usize) {
    let workers = rayon::current_num_threads();
    let per_image = if n >= workers { 1 } else { workers };
    let count = (p * k).div_ceil(1 << 16).max(1).next_multiple_of(per_image);
    let tile = p.div_ceil(count).next_multiple_of(16).min(p).max(1);
    (tile, p.div_ceil(tile))
}

impl CustomOp3 for Conv2dOp {
    fn name(&self) -> &'static str {
        "visnir-conv2d"
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
        let (n, cin, h, w) = xl.shape().dims4()?;
        let (cout, wcin, kh, kw) = wl.shape().dims4()?;
        if wcin != cin || bl.shape().elem_count() != cout {
            candle_core::bail!(
                "conv2d: input {:?}, weight {:?}, bias {:?}",
                xl.dims(),
                wl.dims(),
                bl.dims()
            );
        }
        let spec = self.spec;
        if spec.mode == PadMode::Reflect
            && (spec.pad_before >= h
                || spec.pad_before >= w
                || spec.pad_after >= h
                || spec.pad_after >= w)
        {
            candle_core::bail!(
                "conv2d: reflect padding {spec:?} needs an input larger than {h} x {w}"
            );
        }
        let (oh, ow) = (spec.out_size(h, kh), spec.out_size(w, kw));
        if h + spec.pad_before + spec.pad_after < kh || w + spec.pad_before + spec.pad_after < kw {
            candle_core::bail!("conv2d: kernel {kh}x{kw} larger than padded input {h}x{w}");
        }
        let (x, weight, bias) = (
            f32_slice(xs, xl, "conv2d")?,
            f32_slice(ws, wl, "conv2d")?,
            f32_slice(bs, bl, "conv2d")?,
        );
        if crate::winograd::winograd_applies(cin, cout, (kh, kw), spec) {
            let out = crate::winograd::winograd_forward(x, (n, cin, h, w), weight, bias, spec);
            return Ok((CpuStorage::F32(out), Shape::from((n, cout, oh, ow))));
        }
        if crate::few_channels::applies(cout, spec) {
            let out = crate::few_channels::forward(x, (n, cin, h, w), weight, bias, (kh, kw), spec);
            return Ok((CpuStorage::F32(out), Shape::from((n, cout, oh, ow))));
        }
        let k = cin * kh * kw;
        let p = oh * ow;
        let direct =
            kh == 1 && kw == 1 && spec.stride == 1 && spec.pad_before == 0 && spec.pad_after == 0;
        let (tile, tiles) = forward_tiles(k, p, n);
        // Every element is written (its tile's rows start from the bias) before it is read, so
        // the buffer is not zeroed first.
        let len = n * cout * p;
        let mut out = Vec::<f32>::with_capacity(len);
        let shared = SharedOut(out.as_mut_ptr(), len);
        let lhs = MatRef::rows(weight, cout, k, k);
        (0..n * tiles)
            .into_par_iter()
            .for_each_init(Vec::new, |cols, job| {
                let (item, t) = (job / tiles, job % tiles);
                let (p0, p1) = (t * tile, ((t + 1) * tile).min(p));
                let width = p1 - p0;
                let input = &x[item * cin * h * w..(item + 1) * cin * h * w];
                let base = item * cout * p + p0;
                for (c, &b) in bias.iter().enumerate() {
                    // SAFETY: row c, columns p0..p1 of this batch item belong to this task alone
                    // and lie within the allocation.
                    unsafe {
                        std::slice::from_raw_parts_mut(
                            shared.at(base + c * p).cast::<MaybeUninit<f32>>(),
                            width,
                        )
                    }
                    .fill(MaybeUninit::new(b));
                }
                let rhs = if direct {
                    MatRef::rows(&input[p0..], k, width, h * w)
                } else {
                    cols.resize(k * width, 0.0);
                    im2col(input, (cin, h, w), (kh, kw), spec, ow, p0, p1, cols, false);
                    MatRef::rows(cols, k, width, width)
                };
                // SAFETY: as above, this task's rows x columns p0..p1 are disjoint from every
                // other task's, and now initialised.
                unsafe { sgemm_raw(shared.at(base), p, lhs, rhs, true, false) };
            });
        // SAFETY: the tasks above wrote all `len` elements.
        unsafe { out.set_len(len) };
        Ok((CpuStorage::F32(out), Shape::from((n, cout, oh, ow))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        // Gradients are computed only for the arguments that lead to a variable: not for an
        // input image, nor for the weights of a frozen network.
        use crate::conv_grad::{
            bias_grad, prefer_stride1_input_grad, stride1_input_grad, ConvInputGrad, ConvWeightGrad,
        };
        let grad = grad.contiguous()?;
        let (_, cin, h, w) = x.dims4()?;
        let (cout, _, kh, kw) = weight.dims4()?;
        let (_, _, oh, ow) = grad.dims4()?;
        let spec = self.spec;
        // The two gradients are independent: computed side by side, each core picks up the
        // other's work when its own runs out (their products are small at 64 x 64).
        let (dx, dw) = rayon::join(
            || -> Result<Option<Tensor>> {
                if !x.track_op() {
                    Ok(None)
                } else if prefer_stride1_input_grad((cin, cout), (kh, kw), (h, w), (oh, ow), spec) {
                    Ok(Some(
                        stride1_input_grad(&grad, weight, spec, (h, w))?.detach(),
                    ))
                } else {
                    Ok(Some(grad.apply_op2_no_bwd(
                        &weight.contiguous()?,
                        &ConvInputGrad {
                            spec,
                            input_hw: (h, w),
                        },
                    )?))
                }
            },
            || {
                weight
                    .track_op()
                    .then(|| {
                        x.contiguous()?.apply_op2_no_bwd(
                            &grad,
                            &ConvWeightGrad {
                                spec,
                                kernel: (kh, kw),
                            },
                        )
                    })
                    .transpose()
            },
        );
        let (dx, dw) = (dx?, dw?);
        let db = bias_grad(bias, &grad)?;
        Ok((dx, dw, db))
    }
}

/// Writes the patches of output positions `p0..p1` as columns of `cols` (`K` x `p1 - p0`);
/// `parallel` spreads the input channels over the rayon pool (for a single large tile).
#[allow(clippy::too_many_arguments)]
pub(crate) fn im2col(
    input: &[f32],
    (cin, h, w): (usize, usize, usize),
    (kh, kw): (usize, usize),
    spec: ConvSpec,
    ow: usize,
    p0: usize,
    p1: usize,
    cols: &mut [f32],
    parallel: bool,
) {
    let width = p1 - p0;
    let cols = &mut cols[..cin * kh * kw * width];
    let channel = |(c, rows): (usize, &mut [f32])| {
        let plane = &input[c * h * w..(c + 1) * h * w];
        im2col_channel(plane, (h, w), (kh, kw), spec, ow, p0, p1, rows);
    };
    if parallel {
        cols.par_chunks_exact_mut(kh * kw * width)
            .enumerate()
            .for_each(channel);
    } else {
        cols.chunks_exact_mut(kh * kw * width)
            .enumerate()
            .for_each(channel);
    }
}

/// The `kh * kw` rows of one input channel's `plane` in the patch matrix.
#[allow(clippy::too_many_arguments)]
fn im2col_channel(
    plane: &[f32],
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    spec: ConvSpec,
    ow: usize,
    p0: usize,
    p1: usize,
    rows: &mut [f32],
) {
    let width = p1 - p0;
    let s = spec.stride;
    let pad = spec.pad_before as isize;
    for ky in 0..kh {
        for kx in 0..kw {
            let row = &mut rows[(ky * kw + kx) * width..][..width];
            let mut p = p0;
            while p < p1 {
                let (oy, ox0) = (p / ow, p % ow);
                let ox1 = ow.min(ox0 + p1 - p);
                let out = &mut row[p - p0..p - p0 + (ox1 - ox0)];
                match source((oy * s + ky) as isize - pad, h, spec.mode) {
                    None => out.fill(0.0),
                    Some(iy) => {
                        let line = &plane[iy * w..(iy + 1) * w];
                        let first = (ox0 * s + kx) as isize - pad;
                        // Input columns first + j * s: gather the part inside the row, pad
                        // the ends (one or two values at most) one by one.
                        let (lo, hi) = inside_columns(first, s, out.len(), w);
                        if hi > lo {
                            let start = (first + (lo * s) as isize) as usize;
                            gather_strided(&line[start..], s, &mut out[lo..hi]);
                        }
                        for j in (0..lo).chain(hi..out.len()) {
                            let ix = first + (j * s) as isize;
                            out[j] = source(ix, w, spec.mode).map_or(0.0, |i| line[i]);
                        }
                    }
                }
                p += ox1 - ox0;
            }
        }
    }
}

/// `out[j] = line[j * stride]`: a copy for stride 1, pairs for stride 2 (which the compiler
/// turns into vector shuffles), one by one otherwise.
fn gather_strided(line: &[f32], stride: usize, out: &mut [f32]) {
    match stride {
        1 => out.copy_from_slice(&line[..out.len()]),
        2 => {
            let Some((last, body)) = out.split_last_mut() else {
                return;
            };
            for (o, pair) in body.iter_mut().zip(line.chunks_exact(2)) {
                *o = pair[0];
            }
            *last = line[2 * body.len()];
        }
        _ => {
            for (o, &v) in out.iter_mut().zip(line.iter().step_by(stride)) {
                *o = v;
            }
        }
    }
}
