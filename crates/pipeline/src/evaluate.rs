//! Stage 3: embed gallery and probes with the pretrained MobileFaceNet, score all pairs by
//! cosine similarity, and compute the table's metrics (Rank-1, TAR@FAR step convention).

use image::RgbImage;
use serde::Serialize;
use visnir_ffe::{Embedder, CROP_SIZE, EMBEDDING_DIM};
use visnir_metrics::{all_pairs, cosine_similarity_matrix, rank1, Roc};

use crate::error::Result;
use crate::prepare::square_crop;

/// Faces embedded per batch.
const BATCH: usize = 64;

/// One row of the results table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowMetrics {
    /// What was compared, e.g. `FFE + Lpc`.
    pub method: String,
    /// Rank-1 identification rate (probes against the whole gallery).
    pub rank1: f64,
    /// TAR at FAR = 1% (the smallest threshold whose FAR does not exceed 1%).
    pub tar_far_1e2: f64,
    /// TAR at FAR = 0.1%.
    pub tar_far_1e3: f64,
    /// Area under the ROC.
    pub auc: f64,
    /// Equal error rate.
    pub eer: f64,
    /// Mean absolute difference (0..1) between the gallery images as matched (translated or
    /// not) and their true NIR twins, over the example pairs; `None` when not measured.
    pub pixel_l1: Option<f64>,
    /// ROC points `(FAR, TAR)`, thinned to at most 400 for plotting.
    pub roc: Vec<(f64, f64)>,
}

/// Embeds aligned crops of any size (resized to 112 x 112) as one flat buffer of 192-d rows.
pub fn embed_crops(embedder: &Embedder, crops: &[RgbImage]) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(crops.len() * EMBEDDING_DIM);
    for chunk in crops.chunks(BATCH) {
        let resized: Vec<RgbImage> = chunk.iter().map(|c| square_crop(c, CROP_SIZE)).collect();
        for e in embedder.embed(&resized)? {
            out.extend(e);
        }
    }
    Ok(out)
}

/// Mean absolute difference of two equally sized images on a 0..1 scale (`NaN` if the sizes
/// differ).
pub fn mean_abs_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    if a.dimensions() != b.dimensions() {
        return f64::NAN;
    }
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| x.abs_diff(y) as u64)
        .sum();
    total as f64 / (255.0 * a.as_raw().len().max(1) as f64)
}

/// Scores every probe against every gallery image and computes the row's metrics.
pub fn score_row(
    method: &str,
    gallery: &[f32],
    gallery_ids: &[String],
    probes: &[f32],
    probe_ids: &[String],
) -> Result<RowMetrics> {
    let scores = cosine_similarity_matrix(probes, gallery, EMBEDDING_DIM)?;
    let (genuine, impostor) = all_pairs(&scores, probe_ids, gallery_ids)?;
    let roc = Roc::from_scores(&genuine, &impostor)?;
    let stride = roc.len().div_ceil(400).max(1);
    let points = (0..roc.len())
        .filter(|i| i % stride == 0 || *i + 1 == roc.len())
        .map(|i| (roc.far(i), roc.tar(i)))
        .collect();
    Ok(RowMetrics {
        method: method.to_string(),
        rank1: rank1(&scores, probe_ids, gallery_ids)?,
        tar_far_1e2: roc.tar_at_far(1e-2)?.step.tar,
        tar_far_1e3: roc.tar_at_far(1e-3)?.step.tar,
        auc: roc.auc(),
        eer: roc.eer().rate,
        pixel_l1: None,
        roc: points,
    })
}
