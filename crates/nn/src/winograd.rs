//! Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions with many channels (the ResNet blocks):
//! each 2x2 output tile is computed from a 4x4 input tile with 16 multiplications per channel
//! pair instead of 36, as 16 independent matrix products over all tiles (Lavin & Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2016). The forward pass and the weight
//! gradient run here; the input gradient is a forward convolution of the output gradient and
//! takes this path through [`crate::conv::conv2d`].
//!
//! Layouts: transformed inputs `[c][xi][tile]`, transformed weights `[co][xi][ci]`, products
//! `[co][xi][tile]`, where `xi` indexes the 16 positions of a 4x4 Winograd tile.

use rayon::prelude::*;

use crate::conv::{source, ConvSpec, SharedOut};
use crate::sgemm::{sgemm_raw, MatRef};

/// Positions of a 4x4 Winograd-domain tile.
const XI: usize = 16;

/// Fewest input and output channels for which the transforms pay off.
const MIN_CHANNELS: usize = 32;

/// Whether a `cin -> cout` convolution with `kernel` and `spec` runs through Winograd.
pub(crate) fn winograd_applies(
    cin: usize,
    cout: usize,
    kernel: (usize, usize),
    spec: ConvSpec,
) -> bool {
    kernel == (3, 3) && spec.stride == 1 && cin.min(cout) >= MIN_CHANNELS
}

/// The tile grid of a 3x3 stride-1 convolution of an `h` x `w` input: output size, tiles down
/// and across.
#[derive(Debug, Clone, Copy)]
struct Tiles {
    oh: usize,
    ow: usize,
    th: usize,
    tw: usize,
}

impl Tiles {
    fn new((h, w): (usize, usize), spec: ConvSpec) -> Self {
        let (oh, ow) = (spec.out_size(h, 3), spec.out_size(w, 3));
        Self {
            oh,
            ow,
            th: oh.div_ceil(2),
            tw: ow.div_ceil(2),
        }
    }

    fn count(&self) -> usize {
        self.th * self.tw
    }
}

/// Writes input row `line` (`w` values) extended by `spec`'s padding into `out` (padded
/// columns `0..out.len()`; those past the padded width stay zero).
fn pad_row(line: &[f32], spec: ConvSpec, out: &mut [f32]) {
    let w = line.len();
    let pad = spec.pad_before;
    let width = out.len().min(w + pad + spec.pad_after);
    out.fill(0.0);
    out[pad..pad + w].copy_from_slice(line);
    for x in (0..pad).chain(pad + w..width) {
        out[x] = source(x as isize - pad as isize, w, spec.mode).map_or(0.0, |sx| line[sx]);
    }
}

/// `B^T d B` of every 4x4 tile of one input plane (padded by `spec`), written to `v`
/// (`[xi][tile]`); `scratch` is reused between calls.
fn transform_input_plane(
    plane: &[f32],
    (h, w): (usize, usize),
    spec: ConvSpec,
    tiles: Tiles,
    scratch: &mut Vec<f32>,
    v: &mut [f32],
) {
    // The padded plane, extended with zeros to whole tiles, then four rows of B^T d.
    let (ph, pw) = (2 * tiles.th + 2, 2 * tiles.tw + 2);
    scratch.clear();
    scratch.resize((ph + 4) * pw, 0.0);
    let (padded, rows) = scratch.split_at_mut(ph * pw);
    let padded_h = h + spec.pad_before + spec.pad_after;
    for (y, out) in padded.chunks_exact_mut(pw).enumerate().take(padded_h) {
        if let Some(sy) = source(y as isize - spec.pad_before as isize, h, spec.mode) {
            pad_row(&plane[sy * w..(sy + 1) * w], spec, out);
        }
    }
    let (count, tw) = (tiles.count(), tiles.tw);
    for i in 0..tiles.th {
        let d = |r: usize| &padded[(2 * i + r) * pw..][..pw];
        let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
        let (r0, rest) = rows.split_at_mut(pw);
        let (r1, rest) = rest.split_at_mut(pw);
        let (r2, r3) = rest.split_at_mut(pw);
        for x in 0..pw {
            r0[x] = d0[x] - d2[x];
            r1[x] = d1[x] + d2[x];
            r2[x] = d2[x] - d1[x];
            r3[x] = d1[x] - d3[x];
        }
        for (a, r) in rows.chunks_exact(pw).enumerate() {
            let at = |b: usize| (a * 4 + b) * count + i * tw;
            let out = &mut v[at(0)..at(0) + tw];
            for (j, o) in out.iter_mut().enumerate() {
                *o = r[2 * j] - r[2 * j + 2];
            }
            let out = &mut v[at(1)..at(1) + tw];
            for (j, o) in out.iter_mut().enumerate() {
                *o = r[2 * j + 1] + r[2 * j + 2];
            }
            let out = &mut v[at(2)..at(2) + tw];
            for (j, o) in out.iter_mut().enumerate() {
                *o = r[2 * j + 2] - r[2 * j + 1];
            }
            let out = &mut v[at(3)..at(3) + tw];
            for (j, o) in out.iter_mut().enumerate() {
                *o = r[2 * j + 1] - r[2 * j + 3];
            }
        }
    }
}

/// `[c][xi][tile]` transforms of every channel of one batch item `input` (`cin` x `h` x `w`).
fn transform_input(
    input: &[f32],
    (cin, h, w): (usize, usize, usize),
    spec: ConvSpec,
    tiles: Tiles,
    v: &mut Vec<f32>,
) {
    v.resize(cin * XI * tiles.count(), 0.0);
    v.par_chunks_exact_mut(XI * tiles.count())
        .enumerate()
        .for_each_init(Vec::new, |padded, (c, out)| {
            let plane = &input[c * h * w..(c + 1) * h * w];
            transform_input_plane(plane, (h, w), spec, tiles, padded, out);
        });
}

/// `G g G^T` of every 3x3 filter of `weight` (`cout` x `cin` x 3 x 3), as `[co][xi][ci]`.
fn transform_weights(weight: &[f32], cout: usize, cin: usize) -> Vec<f32> {
    let mut u = vec![0f32; cout * XI * cin];
    u.par_chunks_exact_mut(XI * cin)
        .enumerate()
        .for_each(|(co, out)| {
            for ci in 0..cin {
                let g = &weight[(co * cin + ci) * 9..][..9];
                // Columns of G g (4 x 3), then its rows times G^T.
                let column = |c: usize| {
                    let (g0, g1, g2) = (g[c], g[3 + c], g[6 + c]);
                    [g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2]
                };
                let columns = [column(0), column(1), column(2)];
                for a in 0..4 {
                    let r = columns.map(|c| c[a]);
                    out[(a * 4) * cin + ci] = r[0];
                    out[(a * 4 + 1) * cin + ci] = 0.5 * (r[0] + r[1] + r[2]);
                    out[(a * 4 + 2) * cin + ci] = 0.5 * (r[0] - r[1] + r[2]);
                    out[(a * 4 + 3) * cin + ci] = r[2];
                }
            }
        });
    u
}

/// `A^T m A + bias` of every tile of one output channel (`m` is `[xi][tile]`), written to
/// its `oh` x `ow` plane.
fn output_tiles(m: &[f32], tiles: Tiles, bias: f32, scratch: &mut Vec<f32>, plane: &mut [f32]) {
    let (count, tw, ow) = (tiles.count(), tiles.tw, tiles.ow);
    // m A for the four rows of a tile row: two columns each, `[row][col][j]`.
    scratch.clear();
    scratch.resize(8 * tw, 0.0);
    for i in 0..tiles.th {
        for (a, pair) in scratch.chunks_exact_mut(2 * tw).enumerate() {
            let at = |b: usize| &m[(a * 4 + b) * count + i * tw..][..tw];
            let (m0, m1, m2, m3) = (at(0), at(1), at(2), at(3));
            let (c0, c1) = pair.split_at_mut(tw);
            for j in 0..tw {
                c0[j] = m0[j] + m1[j] + m2[j];
                c1[j] = m1[j] - m2[j] - m3[j];
            }
        }
        let col = |a: usize, c: usize| &scratch[(2 * a + c) * tw..][..tw];
        for dy in 0..2 {
            let oy = 2 * i + dy;
            if oy >= tiles.oh {
                break;
            }
            let out = &mut plane[oy * ow..(oy + 1) * ow];
            for c in 0..2 {
                let (s0, s1, s2, s3) = (col(0, c), col(1, c), col(2, c), col(3, c));
                for (j, o) in out.iter_mut().skip(c).step_by(2).enumerate() {
                    *o = if dy == 0 {
                        s0[j] + s1[j] + s2[j]
                    } else {
                        s1[j] - s2[j] - s3[j]
                    } + bias;
                }
            }
        }
    }
}

/// Forward 3x3 stride-1 convolution of `x` (`n` x `cin` x `h` x `w`) with `weight` and `bias`;
/// returns the `n` x `cout` x `oh` x `ow` output.
pub(crate) fn winograd_forward(
    x: &[f32],
    (n, cin, h, w): (usize, usize, usize, usize),
    weight: &[f32],
    bias: &[f32],
    spec: ConvSpec,
) -> Vec<f32> {
    let cout = bias.len();
    let tiles = Tiles::new((h, w), spec);
    let (oh, ow, count) = (tiles.oh, tiles.ow, tiles.count());
    let u = transform_weights(weight, cout, cin);
    let mut out = vec![0f32; n * cout * oh * ow];
    let (mut v, mut m) = (Vec::new(), vec![0f32; cout * XI * count]);
    for (item, y) in out.chunks_exact_mut(cout * oh * ow).enumerate() {
        transform_input(
            &x[item * cin * h * w..][..cin * h * w],
            (cin, h, w),
            spec,
            tiles,
            &mut v,
        );
        let shared = SharedOut(m.as_mut_ptr(), m.len());
        (0..XI).into_par_iter().for_each(|xi| {
            let lhs = MatRef::rows(&u[xi * cin..], cout, cin, XI * cin);
            let rhs = MatRef::rows(&v[xi * count..], cin, count, XI * count);
            // SAFETY: product xi writes only the columns xi * count.. of each row of `m`.
            unsafe { sgemm_raw(shared.at(xi * count), XI * count, lhs, rhs, false, false) };
        });
        y.par_chunks_exact_mut(oh * ow)
            .zip(m.par_chunks_exact(XI * count))
            .zip(bias.par_iter())
            .for_each_init(Vec::new, |scratch, ((plane, m), &b)| {
                output_tiles(m, tiles, b, scratch, plane);
            });
    }
    out
}

/// `A dY A^T` of every 2x2 tile of one output-gradient plane `g` (`oh` x `ow`, zeros past its
/// edge), written to `out` (`[xi][tile]`).
fn gradient_tiles(g: &[f32], tiles: Tiles, scratch: &mut Vec<f32>, out: &mut [f32]) {
    let (count, tw, ow) = (tiles.count(), tiles.tw, tiles.ow);
    let width = 2 * tw;
    scratch.clear();
    scratch.resize(6 * width, 0.0);
    let (lines, rows) = scratch.split_at_mut(2 * width);
    for i in 0..tiles.th {
        // The tile row's two gradient rows, then the four rows of A dY.
        for (dy, line) in lines.chunks_exact_mut(width).enumerate() {
            let oy = 2 * i + dy;
            line.fill(0.0);
            if oy < tiles.oh {
                line[..ow].copy_from_slice(&g[oy * ow..(oy + 1) * ow]);
            }
        }
        let (top, bottom) = lines.split_at(width);
        let (r0, rest) = rows.split_at_mut(width);
        let (r1, rest) = rest.split_at_mut(width);
        let (r2, r3) = rest.split_at_mut(width);
        for x in 0..width {
            r0[x] = top[x];
            r1[x] = top[x] + bottom[x];
            r2[x] = top[x] - bottom[x];
            r3[x] = -bottom[x];
        }
        for (a, r) in rows.chunks_exact(width).enumerate() {
            let at = |b: usize| (a * 4 + b) * count + i * tw;
            for (j, o) in out[at(0)..at(0) + tw].iter_mut().enumerate() {
                *o = r[2 * j];
            }
            for (j, o) in out[at(1)..at(1) + tw].iter_mut().enumerate() {
                *o = r[2 * j] + r[2 * j + 1];
            }
            for (j, o) in out[at(2)..at(2) + tw].iter_mut().enumerate() {
                *o = r[2 * j] - r[2 * j + 1];
            }
            for (j, o) in out[at(3)..at(3) + tw].iter_mut().enumerate() {
                *o = -r[2 * j + 1];
            }
        }
    }
}

/// Weight gradient of a 3x3 stride-1 convolution: `x` (`n` x `cin` x `h` x `w`) and the output
/// gradient `grad` (`n` x `cout` x `oh` x `ow`) give `dW` (`cout` x `cin` x 3 x 3).
pub(crate) fn winograd_weight_grad(
    x: &[f32],
    (n, cin, h, w): (usize, usize, usize, usize),
    grad: &[f32],
    cout: usize,
    spec: ConvSpec,
) -> Vec<f32> {
    let tiles = Tiles::new((h, w), spec);
    let (oh, ow, count) = (tiles.oh, tiles.ow, tiles.count());
    // dU[xi] (cout x cin) = sum over items and tiles of (A dY A^T)[xi] (V[xi])^T.
    let mut du = vec![0f32; XI * cout * cin];
    let (mut v, mut gt) = (Vec::new(), vec![0f32; cout * XI * count]);
    for item in 0..n {
        transform_input(
            &x[item * cin * h * w..][..cin * h * w],
            (cin, h, w),
            spec,
            tiles,
            &mut v,
        );
        gt.par_chunks_exact_mut(XI * count)
            .enumerate()
            .for_each_init(Vec::new, |scratch, (co, out)| {
                let g = &grad[(item * cout + co) * oh * ow..][..oh * ow];
                gradient_tiles(g, tiles, scratch, out);
            });
        du.par_chunks_exact_mut(cout * cin)
            .enumerate()
            .for_each(|(xi, acc)| {
                let lhs = MatRef::rows(&gt[xi * count..], cout, count, XI * count);
                let rhs = MatRef::transposed(&v[xi * count..], count, cin, XI * count);
                // SAFETY: `acc` is this product's own cout x cin block of `du`.
                unsafe { sgemm_raw(acc.as_mut_ptr(), cin, lhs, rhs, item > 0, false) };
            });
    }
    // dW = G^T dU G for every filter.
    let mut dw = vec![0f32; cout * cin * 9];
    dw.par_chunks_exact_mut(cin * 9)
        .enumerate()
        .for_each(|(co, filters)| {
            let rows: [&[f32]; XI] = std::array::from_fn(|xi| &du[(xi * cout + co) * cin..][..cin]);
            for (ci, g) in filters.chunks_exact_mut(9).enumerate() {
                let u = rows.map(|row| row[ci]);
                let at = |a: usize, c: usize| u[a * 4 + c];
                // Columns of G^T dU (3 x 4), then its rows times G.
                let column = |c: usize| {
                    let (u0, u1, u2, u3) = (at(0, c), at(1, c), at(2, c), at(3, c));
                    [u0 + 0.5 * (u1 + u2), 0.5 * (u1 - u2), 0.5 * (u1 + u2) + u3]
                };
                let columns = [column(0), column(1), column(2), column(3)];
                for a in 0..3 {
                    let r = columns.map(|c| c[a]);
                    g[a * 3] = r[0] + 0.5 * (r[1] + r[2]);
                    g[a * 3 + 1] = 0.5 * (r[1] - r[2]);
                    g[a * 3 + 2] = 0.5 * (r[1] + r[2]) + r[3];
                }
            }
        });
    dw
}
