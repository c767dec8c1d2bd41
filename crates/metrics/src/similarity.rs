//! Cosine similarity matrices between two sets of embeddings, blocked for the caches and
//! spread over the rayon thread pool.

use rayon::prelude::*;

use crate::error::{MetricsError, Result};
use crate::identification::ScoreMatrix;

/// Rows of the probe set handled by one parallel task.
const PROBE_BLOCK: usize = 32;
/// Gallery rows kept hot in L1/L2 while a probe block runs over them.
const GALLERY_BLOCK: usize = 64;
/// Probe rows multiplied at once against one gallery row (register blocking).
const MICRO: usize = 4;
/// SIMD lanes the inner loop is written for.
const LANES: usize = 16;

/// Cosine similarity of every row of `probes` with every row of `gallery`, both row-major with
/// `dim` columns. A zero row has similarity 0 with everything.
///
/// ```
/// let probes = [1.0, 0.0, 0.0, 2.0];
/// let gallery = [3.0, 0.0, 1.0, 1.0];
/// let s = visnir_metrics::cosine_similarity_matrix(&probes, &gallery, 2).unwrap();
/// assert!((s.row(0)[0] - 1.0).abs() < 1e-6);
/// assert!((s.row(1)[1] - 0.5f64.sqrt()).abs() < 1e-6);
/// ```
pub fn cosine_similarity_matrix(
    probes: &[f32],
    gallery: &[f32],
    dim: usize,
) -> Result<ScoreMatrix> {
    if dim == 0 {
        return Err(MetricsError::EmbeddingShape(
            "embedding dimension is 0".into(),
        ));
    }
    for (name, set) in [("probe", probes), ("gallery", gallery)] {
        if set.len() % dim != 0 {
            return Err(MetricsError::EmbeddingShape(format!(
                "{name} buffer of {} values is not a whole number of {dim}-d rows",
                set.len()
            )));
        }
        if let Some(index) = set.iter().position(|v| !v.is_finite()) {
            return Err(MetricsError::NonFiniteScore {
                index,
                value: set[index] as f64,
            });
        }
    }
    let stride = dim.div_ceil(LANES) * LANES;
    let probes = normalized_padded(probes, dim, stride);
    let gallery = normalized_padded(gallery, dim, stride);
    let (rows, cols) = (probes.len() / stride, gallery.len() / stride);
    let mut out = vec![0f64; rows * cols];
    if cols > 0 {
        out.par_chunks_mut(PROBE_BLOCK * cols)
            .enumerate()
            .for_each(|(block, out)| {
                let first = block * PROBE_BLOCK;
                let probes = &probes[first * stride..(first + out.len() / cols) * stride];
                similarity_block(probes, &gallery, stride, out);
            });
    }
    ScoreMatrix::new(rows, cols, out)
}

/// L2-normalises each row and pads it with zeros to `stride` values.
fn normalized_padded(set: &[f32], dim: usize, stride: usize) -> Vec<f32> {
    let mut out = vec![0f32; set.len() / dim * stride];
    for (row, padded) in set.chunks_exact(dim).zip(out.chunks_exact_mut(stride)) {
        let norm = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (o, &v) in padded.iter_mut().zip(row) {
                *o = (v as f64 / norm) as f32;
            }
        }
    }
    out
}

fn similarity_block(probes: &[f32], gallery: &[f32], stride: usize, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { similarity_block_fma(probes, gallery, stride, out) };
            return;
        }
    }
    similarity_block_generic::<false>(probes, gallery, stride, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn similarity_block_fma(probes: &[f32], gallery: &[f32], stride: usize, out: &mut [f64]) {
    similarity_block_generic::<true>(probes, gallery, stride, out);
}

#[inline(always)]
fn similarity_block_generic<const FUSED: bool>(
    probes: &[f32],
    gallery: &[f32],
    stride: usize,
    out: &mut [f64],
) {
    let cols = gallery.len() / stride;
    let rows = probes.len() / stride;
    for g0 in (0..cols).step_by(GALLERY_BLOCK) {
        let g1 = (g0 + GALLERY_BLOCK).min(cols);
        for p0 in (0..rows).step_by(MICRO) {
            let p1 = (p0 + MICRO).min(rows);
            let mut quad: [&[f32]; MICRO] = [&probes[p0 * stride..(p0 + 1) * stride]; MICRO];
            for (k, slot) in quad.iter_mut().enumerate().take(p1 - p0) {
                *slot = &probes[(p0 + k) * stride..(p0 + k + 1) * stride];
            }
            for g in g0..g1 {
                let dots = dot_micro::<FUSED>(&quad, &gallery[g * stride..(g + 1) * stride]);
                for (k, &d) in dots.iter().enumerate().take(p1 - p0) {
                    out[(p0 + k) * cols + g] = d as f64;
                }
            }
        }
    }
}

/// Dot products of `MICRO` probe rows with one gallery row; lengths are multiples of `LANES`.
#[inline(always)]
fn dot_micro<const FUSED: bool>(probes: &[&[f32]; MICRO], gallery: &[f32]) -> [f32; MICRO] {
    let mut acc = [[0f32; LANES]; MICRO];
    for (c, g) in gallery.chunks_exact(LANES).enumerate() {
        for (acc, probe) in acc.iter_mut().zip(probes) {
            let p = &probe[c * LANES..(c + 1) * LANES];
            for l in 0..LANES {
                acc[l] = if FUSED {
                    p[l].mul_add(g[l], acc[l])
                } else {
                    acc[l] + p[l] * g[l]
                };
            }
        }
    }
    acc.map(|lanes| lanes.iter().sum())
}
