//! Stride-1 convolutions with few output channels (a generator's RGB output layer, a PatchGAN's
//! score map), forward and weight gradient, computed directly on a padded copy of the input: a
//! matrix product with so few rows wastes most of its tile, and the patch matrix it needs
//! (`cin * kh * kw` rows) costs more to write than the products.
//!
//! Output rows are computed in blocks of 8 lanes held in registers; every sum runs in a fixed
//! order, whatever the number of threads.

use rayon::prelude::*;

use crate::conv::{source, ConvSpec};

/// Up to this many output channels a stride-1 convolution is computed here.
pub(crate) const FEW_OUTPUT_CHANNELS: usize = 8;

/// Lanes of one accumulator (one AVX2 register of `f32`).
const LANES: usize = 8;

/// Whether the convolution of `cout` output channels with `spec` is computed here.
pub(crate) fn applies(cout: usize, spec: ConvSpec) -> bool {
    cout <= FEW_OUTPUT_CHANNELS && spec.stride == 1
}

/// `planes` input planes of `h x w` padded as `spec` says, rows widened with zeros to `width`
/// (at least the padded width) so that whole blocks of lanes can be read past the last output
/// column.
fn pad_planes(
    x: &[f32],
    planes: usize,
    (h, w): (usize, usize),
    spec: ConvSpec,
    width: usize,
) -> Vec<f32> {
    let hp = h + spec.pad_before + spec.pad_after;
    let (before, wp) = (spec.pad_before, w + spec.pad_before + spec.pad_after);
    let mut padded = vec![0f32; planes * hp * width];
    if h * w == 0 || hp * width == 0 {
        return padded;
    }
    padded
        .par_chunks_mut(hp * width)
        .zip(x.par_chunks(h * w))
        .for_each(|(out, plane)| {
            for (y, row) in out.chunks_exact_mut(width).enumerate() {
                let Some(sy) = source(y as isize - before as isize, h, spec.mode) else {
                    continue;
                };
                let line = &plane[sy * w..][..w];
                row[before..before + w].copy_from_slice(line);
                for xx in (0..before).chain(before + w..wp) {
                    row[xx] = source(xx as isize - before as isize, w, spec.mode)
                        .map_or(0.0, |sx| line[sx]);
                }
            }
        });
    padded
}

/// The convolution of `x` (`n x cin x h x w`) with `weight` (`cout x cin x kh x kw`) and `bias`,
/// stride 1 (see [`applies`]); `n x cout x oh x ow`. Each output is the bias plus the sum of its
/// taps in `(ci, ky, kx)` order.
pub(crate) fn forward(
    x: &[f32],
    (n, cin, h, w): (usize, usize, usize, usize),
    weight: &[f32],
    bias: &[f32],
    (kh, kw): (usize, usize),
    spec: ConvSpec,
) -> Vec<f32> {
    let cout = bias.len();
    let (oh, ow) = (spec.out_size(h, kh), spec.out_size(w, kw));
    let hp = h + spec.pad_before + spec.pad_after;
    let width = ow.next_multiple_of(LANES) + kw - 1;
    let padded = pad_planes(x, n * cin, (h, w), spec, width);
    let mut out = vec![0f32; n * cout * oh * ow];
    if ow == 0 {
        return out;
    }
    out.par_chunks_mut(ow).enumerate().for_each(|(r, row)| {
        let (item, co, y) = (r / (cout * oh), r / oh % cout, r % oh);
        let input = &padded[item * cin * hp * width..][..cin * hp * width];
        let taps = &weight[co * cin * kh * kw..][..cin * kh * kw];
        output_row(input, taps, [cin, hp, width, kh, kw, y], bias[co], row);
    });
    out
}

/// Output row `y` of one output channel into `row`: `taps` are that channel's weights,
/// `dims` = `[cin, hp, width, kh, kw, y]`.
fn output_row(input: &[f32], taps: &[f32], dims: [usize; 6], bias: f32, row: &mut [f32]) {
    let simd = avx2_fma();
    let mut x0 = 0;
    while x0 < row.len() {
        if row.len() - x0 > 3 * LANES {
            store(
                &block::<4>(simd, input, taps, dims, x0),
                bias,
                &mut row[x0..],
            );
            x0 += 4 * LANES;
        } else {
            store(
                &block::<1>(simd, input, taps, dims, x0),
                bias,
                &mut row[x0..],
            );
            x0 += LANES;
        }
    }
}

/// [`output_block`], by the AVX2 kernel when `simd` (the CPU has AVX2 and FMA).
fn block<const B: usize>(
    simd: bool,
    input: &[f32],
    taps: &[f32],
    dims: [usize; 6],
    x0: usize,
) -> [[f32; LANES]; B] {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: the caller checked that the CPU has AVX2 and FMA.
        return unsafe { x86::output_block::<B>(input, taps, dims, x0) };
    }
    let _ = simd;
    output_block::<B>(input, taps, dims, x0)
}

/// The sums of the `B * LANES` outputs from column `x0` of row `y`, without the bias (the
/// portable form of `x86::output_block`, the same sums in the same order without fused
/// multiply-adds).
fn output_block<const B: usize>(
    input: &[f32],
    taps: &[f32],
    [cin, hp, width, kh, kw, y]: [usize; 6],
    x0: usize,
) -> [[f32; LANES]; B] {
    let mut acc = [[0f32; LANES]; B];
    for ci in 0..cin {
        for ky in 0..kh {
            let line = &input[(ci * hp + y + ky) * width + x0..][..B * LANES + kw - 1];
            let weights = &taps[(ci * kh + ky) * kw..][..kw];
            for (kx, &t) in weights.iter().enumerate() {
                for (b, a) in acc.iter_mut().enumerate() {
                    let x = lanes(line, kx + b * LANES);
                    for l in 0..LANES {
                        a[l] += t * x[l];
                    }
                }
            }
        }
    }
    acc
}

/// Writes `bias + acc` into as many of `row`'s first values as it holds.
#[inline(always)]
fn store<const B: usize>(acc: &[[f32; LANES]; B], bias: f32, row: &mut [f32]) {
    for (o, a) in row.iter_mut().zip(acc.iter().flatten()) {
        *o = bias + a;
    }
}

/// The gradient of [`forward`] with respect to its weight, given the output gradient `grad`
/// (`n x cout x oh x ow`): `cout x cin x kh x kw`, each tap summed over items, rows and lanes of
/// columns in that order, the lanes added last.
pub(crate) fn weight_grad(
    x: &[f32],
    (n, cin, h, w): (usize, usize, usize, usize),
    grad: &[f32],
    (cout, oh, ow): (usize, usize, usize),
    (kh, kw): (usize, usize),
    spec: ConvSpec,
) -> Vec<f32> {
    let hp = h + spec.pad_before + spec.pad_after;
    let lanes_width = ow.next_multiple_of(LANES);
    let width = lanes_width + kw - 1;
    let padded = pad_planes(x, n * cin, (h, w), spec, width);
    // The output gradient with its rows widened by zeros, so that the lanes past the last
    // column add nothing.
    let mut grad_rows = vec![0f32; n * cout * oh * lanes_width];
    if ow > 0 {
        for (wide, row) in grad_rows
            .chunks_exact_mut(lanes_width)
            .zip(grad.chunks_exact(ow))
        {
            wide[..ow].copy_from_slice(row);
        }
    }
    let per_channel: Vec<Vec<f32>> = (0..cin)
        .into_par_iter()
        .map(|ci| {
            let mut taps = vec![0f32; cout * kh * kw];
            for co in 0..cout {
                for ky in 0..kh {
                    let row_taps = &mut taps[(co * kh + ky) * kw..][..kw];
                    let mut kx0 = 0;
                    while kx0 < kw {
                        let group = (kw - kx0).min(LANES);
                        let dims = [n, cin, cout, ci, co, hp, width, oh, lanes_width, ky, kx0];
                        tap_group(&padded, &grad_rows, dims, &mut row_taps[kx0..][..group]);
                        kx0 += group;
                    }
                }
            }
            taps
        })
        .collect();
    weight_from_channels(&per_channel, cout, kh * kw)
}

/// The weight gradient `cout x cin x taps` from one `cout x taps` block per input channel.
pub(crate) fn weight_from_channels(per_channel: &[Vec<f32>], cout: usize, taps: usize) -> Vec<f32> {
    let cin = per_channel.len();
    let mut dw = vec![0f32; cout * cin * taps];
    for (ci, block) in per_channel.iter().enumerate() {
        for co in 0..cout {
            dw[(co * cin + ci) * taps..][..taps].copy_from_slice(&block[co * taps..][..taps]);
        }
    }
    dw
}

/// Taps `kx0 .. kx0 + out.len()` (at most `LANES`) of row `ky` of the weight gradient of input
/// channel `ci` and output channel `co`; `dims` = `[n, cin, cout, ci, co, hp, width, oh,
/// lanes_width, ky, kx0]`.
fn tap_group(padded: &[f32], grad_rows: &[f32], dims: [usize; 11], out: &mut [f32]) {
    macro_rules! with_k {
        ($k:literal) => {
            if avx2_fma() {
                // SAFETY: the CPU has AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    x86::taps_of::<$k>(padded, grad_rows, dims, out)
                }
            } else {
                taps_of::<$k>(padded, grad_rows, dims, out)
            }
        };
    }
    match out.len() {
        1 => with_k!(1),
        2 => with_k!(2),
        3 => with_k!(3),
        4 => with_k!(4),
        5 => with_k!(5),
        6 => with_k!(6),
        7 => with_k!(7),
        _ => with_k!(8),
    }
}

/// `K` neighbouring taps, one lane accumulator each, summed over items, rows and column blocks
/// (the portable form of `x86::taps_of`).
fn taps_of<const K: usize>(
    padded: &[f32],
    grad_rows: &[f32],
    [n, cin, cout, ci, co, hp, width, oh, lanes_width, ky, kx0]: [usize; 11],
    out: &mut [f32],
) {
    let mut acc = [[0f32; LANES]; K];
    for item in 0..n {
        let plane = &padded[(item * cin + ci) * hp * width..][..hp * width];
        let g = &grad_rows[(item * cout + co) * oh * lanes_width..][..oh * lanes_width];
        for (y, g_row) in g.chunks_exact(lanes_width).enumerate() {
            let line = &plane[(y + ky) * width + kx0..][..lanes_width + K - 1];
            for x0 in (0..lanes_width).step_by(LANES) {
                let g = lanes(g_row, x0);
                for (k, a) in acc.iter_mut().enumerate() {
                    let x = lanes(line, x0 + k);
                    for l in 0..LANES {
                        a[l] += g[l] * x[l];
                    }
                }
            }
        }
    }
    for (o, lanes) in out.iter_mut().zip(&acc) {
        *o = lanes.iter().sum();
    }
}

/// Whether the AVX2 + FMA kernels can run on this CPU.
fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The kernels with AVX2 registers of 8 lanes and fused multiply-adds.

    use std::arch::x86_64::*;

    use super::LANES;

    /// 8 values of `v` from `at`, bounds checked.
    #[inline(always)]
    unsafe fn load(v: &[f32], at: usize) -> __m256 {
        _mm256_loadu_ps(v[at..at + LANES].as_ptr())
    }

    /// `super::output_block` with fused multiply-adds.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn output_block<const B: usize>(
        input: &[f32],
        taps: &[f32],
        [cin, hp, width, kh, kw, y]: [usize; 6],
        x0: usize,
    ) -> [[f32; LANES]; B] {
        let mut acc = [_mm256_setzero_ps(); B];
        for ci in 0..cin {
            for ky in 0..kh {
                let line = &input[(ci * hp + y + ky) * width + x0..][..B * LANES + kw - 1];
                let weights = &taps[(ci * kh + ky) * kw..][..kw];
                for (kx, &t) in weights.iter().enumerate() {
                    let t = _mm256_set1_ps(t);
                    for (b, a) in acc.iter_mut().enumerate() {
                        *a = _mm256_fmadd_ps(t, load(line, kx + b * LANES), *a);
                    }
                }
            }
        }
        let mut out = [[0f32; LANES]; B];
        for (o, a) in out.iter_mut().zip(acc) {
            _mm256_storeu_ps(o.as_mut_ptr(), a);
        }
        out
    }

    /// `super::taps_of` with fused multiply-adds.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn taps_of<const K: usize>(
        padded: &[f32],
        grad_rows: &[f32],
        [n, cin, cout, ci, co, hp, width, oh, lanes_width, ky, kx0]: [usize; 11],
        out: &mut [f32],
    ) {
        let mut acc = [_mm256_setzero_ps(); K];
        for item in 0..n {
            let plane = &padded[(item * cin + ci) * hp * width..][..hp * width];
            let g = &grad_rows[(item * cout + co) * oh * lanes_width..][..oh * lanes_width];
            for (y, g_row) in g.chunks_exact(lanes_width).enumerate() {
                let line = &plane[(y + ky) * width + kx0..][..lanes_width + K - 1];
                for x0 in (0..lanes_width).step_by(LANES) {
                    let g = load(g_row, x0);
                    for (k, a) in acc.iter_mut().enumerate() {
                        *a = _mm256_fmadd_ps(g, load(line, x0 + k), *a);
                    }
                }
            }
        }
        for (o, a) in out.iter_mut().zip(acc) {
            let mut lanes = [0f32; LANES];
            _mm256_storeu_ps(lanes.as_mut_ptr(), a);
            *o = lanes.iter().sum();
        }
    }
}

/// `LANES` values of `v` from `at`.
#[inline(always)]
fn lanes(v: &[f32], at: usize) -> [f32; LANES] {
    let mut out = [0f32; LANES];
    out.copy_from_slice(&v[at..at + LANES]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// The portable kernels (CPUs without AVX2) give the sums of the AVX2 kernels, up to the
    /// rounding of the fused multiply-adds.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_portable_kernels_match_the_simd_ones() {
        if !avx2_fma() {
            return;
        }
        let (cin, hp, kh, kw) = (3, 9, 3, 7);
        let width = 40 + kw - 1;
        let input = values(cin * hp * width, 1);
        let taps = values(cin * kh * kw, 2);
        let dims = [cin, hp, width, kh, kw, 2];
        let portable = output_block::<4>(&input, &taps, dims, 8);
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        let simd = unsafe { x86::output_block::<4>(&input, &taps, dims, 8) };
        for (a, b) in portable.iter().flatten().zip(simd.iter().flatten()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        let (oh, lanes_width) = (hp - kh + 1, 40);
        let grad = values(oh * lanes_width, 3);
        let dims = [1, cin, 1, 1, 0, hp, width, oh, lanes_width, 1, 0];
        let (mut portable, mut simd) = ([0f32; 7], [0f32; 7]);
        taps_of::<7>(&input, &grad, dims, &mut portable);
        // SAFETY: as above.
        unsafe { x86::taps_of::<7>(&input, &grad, dims, &mut simd) };
        for (a, b) in portable.iter().zip(&simd) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }
}
