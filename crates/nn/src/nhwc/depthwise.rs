//! The depthwise convolution on channels-last maps: register slabs of 16 channels with the
//! weights held in registers, for 3x3 kernels; a plain loop for the rest.

use std::ops::Range;

use rayon::prelude::*;

use crate::simd::madd;

use super::{prelu, Epilogue, MapShape, Window};

/// Rows `rows` of a depthwise convolution through `window` into `out` (those rows only):
/// `weight` is `(kernel * kernel) x channels` in `(ky, kx)` row order, the whole output is
/// `out_shape` (same channels). Only the input rows the given output rows read are touched.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv(
    input: &[f32],
    shape: MapShape,
    weight: &[f32],
    window: Window,
    epilogue: Epilogue,
    out_shape: MapShape,
    rows: Range<usize>,
    out: &mut [f32],
    parallel: bool,
) {
    let c = shape.channels;
    let row_len = out_shape.width * c;
    assert_eq!(out_shape.channels, c, "depthwise channels");
    assert_eq!(
        weight.len(),
        window.kernel * window.kernel * c,
        "depthwise weight shape"
    );
    assert_eq!(epilogue.bias.len(), c, "depthwise bias shape");
    assert!(input.len() >= shape.len() && rows.end <= out_shape.height);
    let geometry = Geometry { shape, window };
    let row = |(r, out): (usize, &mut [f32])| {
        depthwise_row(input, weight, &geometry, epilogue, rows.start + r, out);
    };
    let out = &mut out[..rows.len() * row_len];
    if parallel {
        out.par_chunks_mut(row_len).enumerate().for_each(row);
    } else {
        out.chunks_mut(row_len).enumerate().for_each(row);
    }
}

/// The input's shape and the window of a depthwise convolution.
struct Geometry {
    shape: MapShape,
    window: Window,
}

simd_dispatch! {
    /// One output row `oy` of the convolution into `out`.
    fn depthwise_row(
        input: &[f32],
        weight: &[f32],
        g: &Geometry,
        epilogue: Epilogue,
        oy: usize,
        out: &mut [f32],
    ) => depthwise_row_generic
}

/// Channels accumulated together in registers.
const LANES: usize = 16;

/// Output pixels accumulated together in the interior of a row (independent FMA chains).
const PIXELS: usize = 2;

/// One output row of a 3x3 depthwise convolution, `LANES` channels at a time: the slab's
/// weights stay in registers; interior pixels go `PIXELS` at a time without bounds checks, the
/// border ones one by one.
#[inline(always)]
fn depthwise_row_generic<const FUSED: bool>(
    input: &[f32],
    weight: &[f32],
    g: &Geometry,
    epilogue: Epilogue,
    oy: usize,
    out: &mut [f32],
) {
    const K: usize = 3;
    let c = g.shape.channels;
    if !c.is_multiple_of(LANES) || g.window.kernel != K {
        depthwise_row_scalar(input, weight, g, epilogue, oy, out);
        return;
    }
    let (h, w) = (g.shape.height, g.shape.width);
    let (stride, (pad_top, pad_left)) = (g.window.stride, g.window.pad);
    let mut rows = [(0usize, 0usize); K];
    let mut valid_rows = 0;
    for ky in 0..K {
        let iy = (oy * stride + ky).wrapping_sub(pad_top);
        if iy < h {
            rows[valid_rows] = (ky, iy);
            valid_rows += 1;
        }
    }
    let rows = &rows[..valid_rows];
    let pixels = out.len() / c;
    // Interior: every tap inside the row, i.e. ox * stride >= pad_left and
    // ox * stride - pad_left + K <= w.
    let first = pad_left.div_ceil(stride).min(pixels);
    let end = if w + pad_left >= K {
        ((w + pad_left - K) / stride + 1).clamp(first, pixels)
    } else {
        first
    };
    for c0 in (0..c).step_by(LANES) {
        let mut taps = [[0f32; LANES]; K * K];
        for (t, tap) in taps.iter_mut().enumerate() {
            *tap = lanes(weight, t * c + c0);
        }
        let bias = lanes(epilogue.bias, c0);
        let slopes = epilogue.prelu.map(|s| lanes(s, c0));
        let slab = Slab {
            taps: &taps,
            slopes: slopes.as_ref(),
            bias,
            c0,
        };
        for ox in (0..first).chain(end..pixels) {
            slab.border::<FUSED>(input, g, rows, ox, out);
        }
        let mut ox = first;
        while ox + PIXELS <= end {
            let mut acc = [bias; PIXELS];
            for &(ky, iy) in rows {
                let row = iy * w;
                for kx in 0..K {
                    let f = &taps[ky * K + kx];
                    for (p, acc) in acc.iter_mut().enumerate() {
                        let ix = (ox + p) * stride + kx - pad_left;
                        let x = lanes(input, (row + ix) * c + c0);
                        for j in 0..LANES {
                            acc[j] = madd::<FUSED>(x[j], f[j], acc[j]);
                        }
                    }
                }
            }
            for (p, acc) in acc.iter_mut().enumerate() {
                slab.finish(acc, c, ox + p, out);
            }
            ox += PIXELS;
        }
        for ox in ox..end {
            slab.border::<FUSED>(input, g, rows, ox, out);
        }
    }
}

/// One `LANES`-channel slab of a 3x3 depthwise convolution.
struct Slab<'a> {
    taps: &'a [[f32; LANES]; 9],
    slopes: Option<&'a [f32; LANES]>,
    bias: [f32; LANES],
    c0: usize,
}

impl Slab<'_> {
    /// Output pixel `ox` with every tap checked against the input's bounds.
    #[inline(always)]
    fn border<const FUSED: bool>(
        &self,
        input: &[f32],
        g: &Geometry,
        rows: &[(usize, usize)],
        ox: usize,
        out: &mut [f32],
    ) {
        let (w, c) = (g.shape.width, g.shape.channels);
        let mut acc = self.bias;
        for &(ky, iy) in rows {
            for kx in 0..3 {
                let ix = (ox * g.window.stride + kx).wrapping_sub(g.window.pad.1);
                if ix < w {
                    let x = lanes(input, (iy * w + ix) * c + self.c0);
                    let f = &self.taps[ky * 3 + kx];
                    for j in 0..LANES {
                        acc[j] = madd::<FUSED>(x[j], f[j], acc[j]);
                    }
                }
            }
        }
        self.finish(&mut acc, c, ox, out);
    }

    /// Applies the PReLU (if any) to `acc` and stores it as pixel `ox` of `out`.
    #[inline(always)]
    fn finish(&self, acc: &mut [f32; LANES], c: usize, ox: usize, out: &mut [f32]) {
        if let Some(s) = self.slopes {
            for j in 0..LANES {
                acc[j] = prelu(acc[j], s[j]);
            }
        }
        out[ox * c + self.c0..ox * c + self.c0 + LANES].copy_from_slice(acc);
    }
}

/// `LANES` values of `v` from `at`.
#[inline(always)]
fn lanes(v: &[f32], at: usize) -> [f32; LANES] {
    let mut out = [0f32; LANES];
    out.copy_from_slice(&v[at..at + LANES]);
    out
}

/// The plain loop for channel counts that are not a multiple of `LANES` or large kernels.
fn depthwise_row_scalar(
    input: &[f32],
    weight: &[f32],
    g: &Geometry,
    epilogue: Epilogue,
    oy: usize,
    out: &mut [f32],
) {
    let c = g.shape.channels;
    let (h, w, k) = (
        g.shape.height as isize,
        g.shape.width as isize,
        g.window.kernel,
    );
    let y0 = (oy * g.window.stride) as isize - g.window.pad.0 as isize;
    for (ox, o) in out.chunks_exact_mut(c).enumerate() {
        let x0 = (ox * g.window.stride) as isize - g.window.pad.1 as isize;
        o.copy_from_slice(epilogue.bias);
        for ky in 0..k {
            let iy = y0 + ky as isize;
            if iy < 0 || iy >= h {
                continue;
            }
            for kx in 0..k {
                let ix = x0 + kx as isize;
                if ix < 0 || ix >= w {
                    continue;
                }
                let src = (iy * w + ix) as usize * c;
                let wt = (ky * k + kx) * c;
                for ((v, &x), &f) in o
                    .iter_mut()
                    .zip(&input[src..src + c])
                    .zip(&weight[wt..wt + c])
                {
                    *v += x * f;
                }
            }
        }
        if let Some(slopes) = epilogue.prelu {
            for (v, &s) in o.iter_mut().zip(slopes) {
                *v = prelu(*v, s);
            }
        }
    }
}
