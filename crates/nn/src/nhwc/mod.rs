//! Inference kernels on channels-last (NHWC) feature maps of one image, with the bias, PReLU
//! and residual of a layer fused into the convolution: the fast CPU path of networks that only
//! run forward (the MobileFaceNet embedder). Each kernel can split its rows over the rayon pool
//! for a single image, or run on one thread while the caller spreads images over the pool.

use rayon::prelude::*;

use crate::sgemm::{sgemm_raw, MatRef};

mod depthwise;

pub use depthwise::depthwise_conv;

/// A convolution weight `(cout, cin, k, k)` in the kernels' order `(ky, kx, ci) x cout`; for a
/// depthwise weight `(c, 1, k, k)` that is `(ky, kx) x c`, for a 1x1 weight `cin x cout`.
pub fn kernel_major(weight: &candle_core::Tensor) -> candle_core::Result<Vec<f32>> {
    weight
        .permute((2, 3, 1, 0))?
        .contiguous()?
        .flatten_all()?
        .to_vec1()
}

/// Output pixels per block of a pointwise or im2col convolution: the block stays in L2 between
/// the matrix product and the epilogue.
const ROW_BLOCK: usize = 256;

/// Size of a feature map: `height x width` pixels of `channels` values, channels fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapShape {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Values per pixel.
    pub channels: usize,
}

impl MapShape {
    /// Number of values of the map.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// True when the map holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What follows a convolution, per output channel: `bias`, then PReLU with `prelu` slopes when
/// given.
#[derive(Debug, Clone, Copy)]
pub struct Epilogue<'a> {
    /// Added to every output pixel.
    pub bias: &'a [f32],
    /// PReLU slopes (`x` if `x > 0`, else `slope * x`).
    pub prelu: Option<&'a [f32]>,
}

/// Kernel side, stride and the zero padding `(top, left)` of a spatial convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Square kernel side.
    pub kernel: usize,
    /// Step between output pixels.
    pub stride: usize,
    /// Zero rows above and columns left of the input (those below and right follow from the
    /// output size).
    pub pad: (usize, usize),
}

/// A 1x1 convolution `out = epilogue(input * weight) + residual` over `pixels` rows: `input` is
/// `pixels x cin`, `weight` is `cin x cout` (row-major), `out` and `residual` are
/// `pixels x cout`. Panics when a slice is shorter than its shape says.
pub fn pointwise_conv(
    input: &[f32],
    cin: usize,
    weight: &[f32],
    epilogue: Epilogue,
    residual: Option<&[f32]>,
    out: &mut [f32],
    parallel: bool,
) {
    let cout = epilogue.bias.len();
    assert_eq!(weight.len(), cin * cout, "pointwise weight shape");
    let pixels = out.len() / cout;
    assert!(input.len() >= pixels * cin, "pointwise input shape");
    let rhs = MatRef::rows(weight, cin, cout, cout);
    let block = |first: usize, out: &mut [f32]| {
        let rows = out.len() / cout;
        let lhs = MatRef::rows(&input[first * cin..(first + rows) * cin], rows, cin, cin);
        let residual = residual.map(|r| &r[first * cout..(first + rows) * cout]);
        // Without a PReLU the bias and residual are the product's starting values.
        let prefill = epilogue.prelu.is_none();
        if prefill {
            apply_epilogue(out, epilogue, residual, Stage::BeforeProduct);
        }
        // SAFETY: `out` is this block's own `rows x cout` slice.
        unsafe { sgemm_raw(out.as_mut_ptr(), cout, lhs, rhs, prefill, false) };
        if !prefill {
            apply_epilogue(out, epilogue, residual, Stage::AfterProduct);
        }
    };
    for_each_row_block(&mut out[..pixels * cout], cout, parallel, block);
}

/// Calls `block(first_row, rows)` on blocks of at most [`ROW_BLOCK`] rows of `out` (`width`
/// values each), on this thread or, with `parallel`, cut into enough tasks for every thread.
fn for_each_row_block(
    out: &mut [f32],
    width: usize,
    parallel: bool,
    block: impl Fn(usize, &mut [f32]) + Sync,
) {
    if parallel {
        let rows = (out.len() / width)
            .div_ceil(rayon::current_num_threads())
            .clamp(1, ROW_BLOCK);
        out.par_chunks_mut(rows * width)
            .enumerate()
            .for_each(|(b, out)| block(b * rows, out));
    } else {
        out.chunks_mut(ROW_BLOCK * width)
            .enumerate()
            .for_each(|(b, out)| block(b * ROW_BLOCK, out));
    }
}

/// A full convolution through `window` as im2col + matrix product: `weight` is
/// `(kernel * kernel * cin) x cout` in `(ky, kx, ci)` row order; the output is `out_shape` (its
/// channels = `cout`).
#[allow(clippy::too_many_arguments)]
pub fn full_conv(
    input: &[f32],
    shape: MapShape,
    weight: &[f32],
    window: Window,
    epilogue: Epilogue,
    out_shape: MapShape,
    out: &mut [f32],
    parallel: bool,
) {
    let (cin, cout) = (shape.channels, out_shape.channels);
    let Window {
        kernel,
        stride,
        pad,
    } = window;
    let depth = kernel * kernel * cin;
    assert_eq!(weight.len(), depth * cout, "convolution weight shape");
    assert_eq!(epilogue.bias.len(), cout, "convolution bias shape");
    assert!(input.len() >= shape.len() && out.len() >= out_shape.len());
    let rhs = MatRef::rows(weight, depth, cout, cout);
    let block = |first: usize, out: &mut [f32]| {
        let rows = out.len() / cout;
        let mut cols = vec![0f32; rows * depth];
        for (r, col) in cols.chunks_exact_mut(depth).enumerate() {
            let p = first + r;
            let (oy, ox) = (p / out_shape.width, p % out_shape.width);
            for ky in 0..kernel {
                let iy = (oy * stride + ky) as isize - pad.0 as isize;
                if iy < 0 || iy as usize >= shape.height {
                    continue;
                }
                let x0 = (ox * stride) as isize - pad.1 as isize;
                let row = iy as usize * shape.width;
                let dst = ky * kernel * cin;
                if x0 >= 0 && x0 as usize + kernel <= shape.width {
                    // The whole row of taps is inside: one contiguous span.
                    let src = (row + x0 as usize) * cin;
                    let span = kernel * cin;
                    for (d, &v) in col[dst..dst + span].iter_mut().zip(&input[src..src + span]) {
                        *d = v;
                    }
                    continue;
                }
                for kx in 0..kernel {
                    let ix = x0 + kx as isize;
                    if ix < 0 || ix as usize >= shape.width {
                        continue;
                    }
                    let src = (row + ix as usize) * cin;
                    let dst = dst + kx * cin;
                    col[dst..dst + cin].copy_from_slice(&input[src..src + cin]);
                }
            }
        }
        let lhs = MatRef::rows(&cols, rows, depth, depth);
        // SAFETY: `out` is this block's own `rows x cout` slice.
        unsafe { sgemm_raw(out.as_mut_ptr(), cout, lhs, rhs, false, false) };
        apply_epilogue(out, epilogue, None, Stage::AfterProduct);
    };
    for_each_row_block(&mut out[..out_shape.len()], cout, parallel, block);
}

/// The output shape of [`max_pool_ceil`] on a `shape` input.
pub fn max_pool_ceil_shape(shape: MapShape, kernel: usize, stride: usize) -> MapShape {
    MapShape {
        height: crate::pool::ceil_out(shape.height, kernel, stride),
        width: crate::pool::ceil_out(shape.width, kernel, stride),
        channels: shape.channels,
    }
}

/// Max pooling with PyTorch's `ceil_mode=True` and no padding (windows cut at the bottom and
/// right edges), into `out` of [`max_pool_ceil_shape`].
pub fn max_pool_ceil(
    input: &[f32],
    shape: MapShape,
    kernel: usize,
    stride: usize,
    out: &mut [f32],
) {
    let out_shape = max_pool_ceil_shape(shape, kernel, stride);
    let c = shape.channels;
    assert!(input.len() >= shape.len() && out.len() >= out_shape.len());
    for oy in 0..out_shape.height {
        let rows = oy * stride..(oy * stride + kernel).min(shape.height);
        for ox in 0..out_shape.width {
            let cols = ox * stride..(ox * stride + kernel).min(shape.width);
            let o = &mut out[(oy * out_shape.width + ox) * c..][..c];
            o.fill(f32::NEG_INFINITY);
            for y in rows.clone() {
                for x in cols.clone() {
                    let v = &input[(y * shape.width + x) * c..][..c];
                    for (o, &v) in o.iter_mut().zip(v) {
                        *o = o.max(v);
                    }
                }
            }
        }
    }
}

/// When [`apply_epilogue`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// On the destination before the product is accumulated into it: `bias + residual`.
    BeforeProduct,
    /// On the product: `prelu(x + bias) + residual`.
    AfterProduct,
}

simd_dispatch! {
    /// The epilogue on rows of `out` (`bias.len()` values each), with `residual` rows added.
    fn apply_epilogue(
        out: &mut [f32],
        epilogue: Epilogue,
        residual: Option<&[f32]>,
        stage: Stage,
    ) => apply_epilogue_generic
}

/// [`apply_epilogue`]'s loops (no multiply-add to fuse: `_FUSED` is unused).
#[inline(always)]
fn apply_epilogue_generic<const _FUSED: bool>(
    out: &mut [f32],
    epilogue: Epilogue,
    residual: Option<&[f32]>,
    stage: Stage,
) {
    let cout = epilogue.bias.len();
    for (r, o) in out.chunks_exact_mut(cout).enumerate() {
        match (stage, epilogue.prelu) {
            (Stage::BeforeProduct, _) => o.copy_from_slice(epilogue.bias),
            (Stage::AfterProduct, Some(slopes)) => {
                for ((v, &b), &s) in o.iter_mut().zip(epilogue.bias).zip(slopes) {
                    *v = prelu(*v + b, s);
                }
            }
            (Stage::AfterProduct, None) => {
                for (v, &b) in o.iter_mut().zip(epilogue.bias) {
                    *v += b;
                }
            }
        }
        if let Some(res) = residual {
            for (v, &x) in o.iter_mut().zip(&res[r * cout..(r + 1) * cout]) {
                *v += x;
            }
        }
    }
}

/// PReLU without a branch: `x` if `x > 0`, else `slope * x`.
#[inline(always)]
fn prelu(x: f32, slope: f32) -> f32 {
    x.max(0.0) + slope * x.min(0.0)
}
