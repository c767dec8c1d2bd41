//! Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions with many channels (the ResNet blocks):
//! each 2x2 output tile is computed from a 4x4 input tile with 16 multiplications per channel
//! pair instead of 36, as 16 independent matrix products over all tiles (Lavin & Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2016). The forward pass and the weight
//! gradient run here; the input gradient is a forward convolution of the output gradient and
//! takes this path through [`crate::conv::conv2d`].
//!
//! Layouts: transformed inputs `[xi][c][tile]`, transformed weights `[xi][co][ci]`, products
//! `[xi][co][tile]`, where `xi` indexes the 16 positions of a 4x4 Winograd tile: each of the 16
//! matrix products reads and writes contiguous blocks. (Position-minor layouts put the rows of
//! one product a multiple of 4 KiB apart, where they compete for the same cache sets.)

use rayon::prelude::*;

use crate::conv::{source, ConvSpec};
use crate::sgemm::{sgemm_raw, MatRef, SharedOut};

/// Positions of a 4x4 Winograd-domain tile.
const XI: usize = 16;

thread_local! {
    static SCRATCH: std::cell::Cell<[Vec<f32>; 3]> = const { std::cell::Cell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// The transformed inputs, the products and the transformed weights (or their gradients) of
/// one call, kept per thread between calls so that these large buffers are neither allocated
/// nor zeroed again (every element is written before it is read). A nested call on the same
/// thread finds the buffers taken and allocates its own.
struct Scratch([Vec<f32>; 3]);

impl Scratch {
    fn take() -> Self {
        Self(SCRATCH.take())
    }

    /// The first `lens[i]` elements of buffer `i`, grown as needed.
    fn buffers(&mut self, lens: [usize; 3]) -> [&mut [f32]; 3] {
        for (buffer, &len) in self.0.iter_mut().zip(&lens) {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        }
        let [a, b, c] = &mut self.0;
        [&mut a[..lens[0]], &mut b[..lens[1]], &mut c[..lens[2]]]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        SCRATCH.set(std::mem::take(&mut self.0));
    }
}

/// Row `row` of each Winograd position's `rows` x `len` matrix in the `[xi][row][len]` buffer
/// behind `out`, as `[a][b]` for position `xi = 4 a + b`.
///
/// # Safety
/// No other live reference may overlap these rows while they are in use.
unsafe fn position_rows<'a>(
    out: SharedOut,
    rows: usize,
    row: usize,
    len: usize,
) -> [[&'a mut [f32]; 4]; 4] {
    std::array::from_fn(|a| {
        std::array::from_fn(|b| {
            let start = ((4 * a + b) * rows + row) * len;
            debug_assert!(start + len <= out.1);
            // SAFETY: within the buffer (checked in debug builds); exclusive by the contract.
            unsafe { std::slice::from_raw_parts_mut(out.at(start), len) }
        })
    })
}

/// Runs `work(row, its rows, scratch)` in parallel for every row `0..rows` of the
/// `[xi][row][len]` buffer `buf`: each task gets row `row` of every position's matrix (see
/// [`position_rows`]) and a scratch vector kept per worker.
fn par_position_rows(
    buf: &mut [f32],
    rows: usize,
    len: usize,
    work: impl Fn(usize, [[&mut [f32]; 4]; 4], &mut Vec<f32>) + Sync + Send,
) {
    assert_eq!(buf.len(), XI * rows * len);
    let out = SharedOut(buf.as_mut_ptr(), buf.len());
    (0..rows)
        .into_par_iter()
        .for_each_init(Vec::new, |scratch, row| {
            // SAFETY: every row index is visited once, the rows of distinct indices are disjoint,
            // and `buf` stays borrowed mutably until all tasks are done.
            let out = unsafe { position_rows(out, rows, row, len) };
            work(row, out, scratch);
        });
}

/// Row `row` of each Winograd position's `rows` x `len` matrix in the `[xi][row][len]` buffer
/// `m`, as `[a][b]` for position `xi = 4 a + b`.
fn position_rows_of(m: &[f32], rows: usize, row: usize, len: usize) -> [[&[f32]; 4]; 4] {
    std::array::from_fn(|a| std::array::from_fn(|b| &m[((4 * a + b) * rows + row) * len..][..len]))
}

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

/// `B^T d B` of every 4x4 tile of one input plane (padded by `spec`), written to `v` (one row
/// of tiles per position); `scratch` is reused between calls.
fn transform_input_plane(
    plane: &[f32],
    (h, w): (usize, usize),
    spec: ConvSpec,
    tiles: Tiles,
    scratch: &mut Vec<f32>,
    v: [[&mut [f32]; 4]; 4],
) {
    // The padded plane, extended with zeros to whole tiles, each row with its even columns
    // first and its odd ones after (so that every step below reads consecutive values), a
    // padded row, then four rows of B^T d.
    let tw = tiles.tw;
    let (ph, pw) = (2 * tiles.th + 2, 2 * tw + 2);
    scratch.clear();
    scratch.resize((ph + 5) * pw, 0.0);
    let (padded, rest) = scratch.split_at_mut(ph * pw);
    let (line, rows) = rest.split_at_mut(pw);
    let padded_h = h + spec.pad_before + spec.pad_after;
    for (y, out) in padded.chunks_exact_mut(pw).enumerate().take(padded_h) {
        if let Some(sy) = source(y as isize - spec.pad_before as isize, h, spec.mode) {
            pad_row(&plane[sy * w..(sy + 1) * w], spec, line);
            let (even, odd) = out.split_at_mut(tw + 1);
            for ((e, o), pair) in even.iter_mut().zip(odd).zip(line.chunks_exact(2)) {
                (*e, *o) = (pair[0], pair[1]);
            }
        }
    }
    let mut v = v;
    for i in 0..tiles.th {
        let d = |r: usize| &padded[(2 * i + r) * pw..][..pw];
        let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
        let [r0, r1, r2, r3] = rows_mut(rows, pw);
        for x in 0..pw {
            r0[x] = d0[x] - d2[x];
            r1[x] = d1[x] + d2[x];
            r2[x] = d2[x] - d1[x];
            r3[x] = d1[x] - d3[x];
        }
        for (r, [v0, v1, v2, v3]) in rows.chunks_exact(pw).zip(v.iter_mut()) {
            // Columns 2j and 2j + 2 are even[j] and even[j + 1], 2j + 1 and 2j + 3 odd[j] and
            // odd[j + 1].
            let (even, odd) = r.split_at(tw + 1);
            let (e0, e1, o0, o1) = (&even[..tw], &even[1..], &odd[..tw], &odd[1..]);
            let at = i * tw..(i + 1) * tw;
            for (j, out) in v0[at.clone()].iter_mut().enumerate() {
                *out = e0[j] - e1[j];
            }
            for (j, out) in v1[at.clone()].iter_mut().enumerate() {
                *out = o0[j] + e1[j];
            }
            for (j, out) in v2[at.clone()].iter_mut().enumerate() {
                *out = e1[j] - o0[j];
            }
            for (j, out) in v3[at].iter_mut().enumerate() {
                *out = o0[j] - o1[j];
            }
        }
    }
}

/// `[xi][c][tile]` transforms of every channel of one batch item `input` (`cin` x `h` x `w`),
/// written to `v` (`16 * cin * tiles` values).
fn transform_input(
    input: &[f32],
    (cin, h, w): (usize, usize, usize),
    spec: ConvSpec,
    tiles: Tiles,
    v: &mut [f32],
) {
    par_position_rows(v, cin, tiles.count(), |c, rows, padded| {
        let plane = &input[c * h * w..(c + 1) * h * w];
        transform_input_plane(plane, (h, w), spec, tiles, padded, rows);
    });
}

/// `G g G^T` of every 3x3 filter of `weight` (`cout` x `cin` x 3 x 3), written to `u` as
/// `[xi][co][ci]`: a whole row of input channels at a time, first the 4 x 3 rows of `G g`, then
/// its rows times `G^T`.
fn transform_weights(weight: &[f32], cout: usize, cin: usize, u: &mut [f32]) {
    par_position_rows(u, cout, cin, |co, out, scratch| {
        scratch.clear();
        scratch.resize(21 * cin, 0.0);
        let (taps, left) = scratch.split_at_mut(9 * cin);
        for (ci, g) in weight[co * cin * 9..][..cin * 9]
            .chunks_exact(9)
            .enumerate()
        {
            for (k, &v) in g.iter().enumerate() {
                taps[k * cin + ci] = v;
            }
        }
        let tap = |k: usize| &taps[k * cin..][..cin];
        for c in 0..3 {
            let (g0, g1, g2) = (tap(c), tap(3 + c), tap(6 + c));
            let [s0, s1, s2, s3] = rows_mut(&mut left[4 * c * cin..], cin);
            for i in 0..cin {
                s0[i] = g0[i];
                s1[i] = 0.5 * (g0[i] + g1[i] + g2[i]);
                s2[i] = 0.5 * (g0[i] - g1[i] + g2[i]);
                s3[i] = g2[i];
            }
        }
        for (a, [o0, o1, o2, o3]) in out.into_iter().enumerate() {
            let r = |c: usize| &left[(4 * c + a) * cin..][..cin];
            let (r0, r1, r2) = (r(0), r(1), r(2));
            for i in 0..cin {
                o0[i] = r0[i];
                o1[i] = 0.5 * (r0[i] + r1[i] + r2[i]);
                o2[i] = 0.5 * (r0[i] - r1[i] + r2[i]);
                o3[i] = r2[i];
            }
        }
    });
}

/// `A^T m A + bias` of every tile of one output channel (`m`: its row of tiles at each
/// position), written to its `oh` x `ow` plane.
fn output_tiles(
    m: [[&[f32]; 4]; 4],
    tiles: Tiles,
    bias: f32,
    scratch: &mut Vec<f32>,
    plane: &mut [f32],
) {
    let (tw, ow) = (tiles.tw, tiles.ow);
    // m A for the four rows of a tile row: two columns each, `[row][col][j]`.
    scratch.clear();
    scratch.resize(8 * tw, 0.0);
    for i in 0..tiles.th {
        for (pair, m) in scratch.chunks_exact_mut(2 * tw).zip(&m) {
            let at = |b: usize| &m[b][i * tw..][..tw];
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
    let mut out = vec![0f32; n * cout * oh * ow];
    let mut scratch = Scratch::take();
    let [v, m, u] = scratch.buffers([XI * cin * count, XI * cout * count, XI * cout * cin]);
    transform_weights(weight, cout, cin, u);
    let u = &*u;
    for (item, y) in out.chunks_exact_mut(cout * oh * ow).enumerate() {
        transform_input(
            &x[item * cin * h * w..][..cin * h * w],
            (cin, h, w),
            spec,
            tiles,
            v,
        );
        let v = &*v;
        m.par_chunks_exact_mut(cout * count)
            .enumerate()
            .for_each(|(xi, product)| {
                let lhs = MatRef::rows(&u[xi * cout * cin..], cout, cin, cin);
                let rhs = MatRef::rows(&v[xi * cin * count..], cin, count, count);
                // SAFETY: `product` is this position's own cout x count matrix.
                unsafe { sgemm_raw(product.as_mut_ptr(), count, lhs, rhs, false, false) };
            });
        let m = &*m;
        y.par_chunks_exact_mut(oh * ow)
            .zip(bias.par_iter())
            .enumerate()
            .for_each_init(Vec::new, |scratch, (co, (plane, &b))| {
                output_tiles(
                    position_rows_of(m, cout, co, count),
                    tiles,
                    b,
                    scratch,
                    plane,
                );
            });
    }
    out
}

/// `A dY A^T` of every 2x2 tile of one output-gradient plane `g` (`oh` x `ow`, zeros past its
/// edge), written to `out` (one row of tiles per position).
fn gradient_tiles(g: &[f32], tiles: Tiles, scratch: &mut Vec<f32>, out: [[&mut [f32]; 4]; 4]) {
    let (tw, ow) = (tiles.tw, tiles.ow);
    let mut out = out;
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
        let [r0, r1, r2, r3] = rows_mut(rows, width);
        for x in 0..width {
            r0[x] = top[x];
            r1[x] = top[x] + bottom[x];
            r2[x] = top[x] - bottom[x];
            r3[x] = -bottom[x];
        }
        for (r, [o0, o1, o2, o3]) in rows.chunks_exact(width).zip(out.iter_mut()) {
            let at = i * tw..(i + 1) * tw;
            for (j, o) in o0[at.clone()].iter_mut().enumerate() {
                *o = r[2 * j];
            }
            for (j, o) in o1[at.clone()].iter_mut().enumerate() {
                *o = r[2 * j] + r[2 * j + 1];
            }
            for (j, o) in o2[at.clone()].iter_mut().enumerate() {
                *o = r[2 * j] - r[2 * j + 1];
            }
            for (j, o) in o3[at].iter_mut().enumerate() {
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
    let mut scratch = Scratch::take();
    let [v, gt, du] = scratch.buffers([XI * cin * count, XI * cout * count, XI * cout * cin]);
    for item in 0..n {
        transform_input(
            &x[item * cin * h * w..][..cin * h * w],
            (cin, h, w),
            spec,
            tiles,
            v,
        );
        par_position_rows(gt, cout, count, |co, out, scratch| {
            let g = &grad[(item * cout + co) * oh * ow..][..oh * ow];
            gradient_tiles(g, tiles, scratch, out);
        });
        let (v, gt) = (&*v, &*gt);
        du.par_chunks_exact_mut(cout * cin)
            .enumerate()
            .for_each(|(xi, acc)| {
                let lhs = MatRef::rows(&gt[xi * cout * count..], cout, count, count);
                let rhs = MatRef::transposed(&v[xi * cin * count..], count, cin, count);
                // SAFETY: `acc` is this product's own cout x cin block of `du`.
                unsafe { sgemm_raw(acc.as_mut_ptr(), cin, lhs, rhs, item > 0, false) };
            });
    }
    // dW = G^T dU G for every filter, a whole row of input channels at a time: first the 3 x 4
    // rows of G^T dU, then the 3 x 3 rows of (G^T dU) G, then each filter's 9 values together.
    let mut dw = vec![0f32; cout * cin * 9];
    dw.par_chunks_exact_mut(cin * 9).enumerate().for_each_init(
        Vec::new,
        |scratch, (co, filters)| {
            let row = |xi: usize| &du[(xi * cout + co) * cin..][..cin];
            scratch.clear();
            scratch.resize(21 * cin, 0.0);
            let (left, taps) = scratch.split_at_mut(12 * cin);
            for c in 0..4 {
                let (u0, u1, u2, u3) = (row(c), row(4 + c), row(8 + c), row(12 + c));
                let [s0, s1, s2] = rows_mut(&mut left[3 * c * cin..], cin);
                for i in 0..cin {
                    s0[i] = u0[i] + 0.5 * (u1[i] + u2[i]);
                    s1[i] = 0.5 * (u1[i] - u2[i]);
                    s2[i] = 0.5 * (u1[i] + u2[i]) + u3[i];
                }
            }
            for a in 0..3 {
                let r = |c: usize| &left[(3 * c + a) * cin..][..cin];
                let (r0, r1, r2, r3) = (r(0), r(1), r(2), r(3));
                let [t0, t1, t2] = rows_mut(&mut taps[3 * a * cin..], cin);
                for i in 0..cin {
                    t0[i] = r0[i] + 0.5 * (r1[i] + r2[i]);
                    t1[i] = 0.5 * (r1[i] - r2[i]);
                    t2[i] = 0.5 * (r1[i] + r2[i]) + r3[i];
                }
            }
            for (ci, g) in filters.chunks_exact_mut(9).enumerate() {
                for (k, v) in g.iter_mut().enumerate() {
                    *v = taps[k * cin + ci];
                }
            }
        },
    );
    dw
}

/// The first `K` consecutive rows of `n` values of `buf`, each mutable on its own.
fn rows_mut<const K: usize>(buf: &mut [f32], n: usize) -> [&mut [f32]; K] {
    let mut rest = buf;
    std::array::from_fn(|_| {
        let (row, tail) = std::mem::take(&mut rest).split_at_mut(n);
        rest = tail;
        row
    })
}
