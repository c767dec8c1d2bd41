//! Stage 3: embed gallery and probes with the pretrained MobileFaceNet, score all pairs by
//! cosine similarity, and compute the table's metrics (Rank-1, TAR@FAR step convention).

use image::RgbImage;
use serde::Serialize;
use visnir_ffe::{Embedder, CROP_SIZE, EMBEDDING_DIM};
use visnir_metrics::{
    all_pairs, cmc, cosine_similarity_matrix, frechet_distance, psnr, rank1, ssim,
    BootstrapIntervals, Interval, Planes, Roc, ScoreMatrix, SubjectBootstrap,
};

use std::io::Write;
use std::path::Path;

use visnir_metrics::score_file::{comparisons_from_matrix, write_bob, BobColumns};

use crate::error::{io_error, Result};
use crate::error_map::ErrorMap;
use crate::method::Method;
use crate::prepare::square_crop;
use crate::split::{LabelledCrop, PreparedSplit};

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
    /// CMC at ranks 1, 2, ... up to [`CMC_RANKS`] (or the gallery size).
    pub cmc: Vec<f64>,
    /// Genuine and impostor score histograms with the row's thresholds.
    pub scores: ScoreHistogram,
    /// 95% subject-bootstrap intervals; `None` when not computed.
    pub intervals: Option<BootstrapIntervals>,
    /// How close the matched gallery is to the true NIR twins; `None` when not measured.
    pub quality: Option<TranslationQuality>,
    /// Where the matched gallery differs from the true NIR twins, per pixel; `None` when not
    /// measured.
    #[serde(skip)]
    pub error_map: Option<ErrorMap>,
}

/// Image-quality numbers of a (translated) gallery against the true NIR twins.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TranslationQuality {
    /// Mean PSNR (dB) over the twin pairs, as scikit-image computes it.
    pub psnr: f64,
    /// Mean SSIM over the twin pairs (Wang et al. 2004, as scikit-image computes it).
    pub ssim: f64,
    /// The Fréchet distance between the MobileFaceNet embeddings of the gallery and of the NIR
    /// probes (the FID formula in the face-embedding space; not Inception-FID).
    pub embedding_frechet: f64,
}

/// An image's samples as planes (R, G, B), on 0..255.
fn planar(image: &RgbImage) -> Vec<f64> {
    (0..3)
        .flat_map(|c| image.pixels().map(move |p| p.0[c] as f64))
        .collect()
}

/// PSNR and SSIM of each gallery image against its NIR twin in `split`, averaged, and the
/// embedding Fréchet distance of the gallery to the probes.
fn translation_quality(
    split: &PreparedSplit,
    gallery: &[RgbImage],
    gallery_embeddings: &[f32],
    probe_embeddings: &[f32],
) -> Result<TranslationQuality> {
    let (mut psnr_sum, mut ssim_sum) = (0.0, 0.0);
    for &(g, p) in &split.twins {
        let nir = &split.probes[p].crop;
        let (a, b) = (planar(nir), planar(&gallery[g]));
        let plane = |data| Planes {
            data,
            width: nir.width() as usize,
            height: nir.height() as usize,
            channels: 3,
        };
        psnr_sum += psnr(plane(&a), plane(&b), 255.0)?;
        ssim_sum += ssim(plane(&a), plane(&b), 255.0)?;
    }
    let n = split.twins.len().max(1) as f64;
    Ok(TranslationQuality {
        psnr: psnr_sum / n,
        ssim: ssim_sum / n,
        embedding_frechet: frechet_distance(gallery_embeddings, probe_embeddings, EMBEDDING_DIM)?,
    })
}

impl RowMetrics {
    /// Rank-1, TAR@FAR=1e-2, TAR@FAR=1e-3 and EER, each with its bootstrap interval when one was
    /// computed: the four numbers every table of a run shows.
    pub fn rates_with_intervals(&self) -> [(f64, Option<Interval>); 4] {
        let iv = self.intervals.as_ref();
        let tar = |k: usize| iv.and_then(|i| i.tar_at_far.get(k)).map(|t| t.1);
        [
            (self.rank1, iv.map(|i| i.rank1)),
            (self.tar_far_1e2, tar(0)),
            (self.tar_far_1e3, tar(1)),
            (self.eer, iv.map(|i| i.eer)),
        ]
    }
}

/// Highest rank of the CMC curve kept per row.
pub const CMC_RANKS: usize = 20;

/// Histograms of a row's genuine and impostor cosine scores on [-1, 1].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreHistogram {
    /// Bins per histogram, equally wide on [-1, 1].
    pub bins: usize,
    /// Genuine pair counts per bin.
    pub genuine: Vec<u64>,
    /// Impostor pair counts per bin.
    pub impostor: Vec<u64>,
    /// The EER threshold.
    pub eer_threshold: f64,
    /// The thresholds of TAR@FAR=1e-2 and 1e-3 (step convention).
    pub far_thresholds: [f64; 2],
}

fn histogram(scores: &[f64], bins: usize) -> Vec<u64> {
    let mut counts = vec![0u64; bins];
    for &s in scores {
        let bin = (((s + 1.0) / 2.0) * bins as f64).floor();
        counts[(bin.max(0.0) as usize).min(bins - 1)] += 1;
    }
    counts
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

/// Every probe's cosine similarity to every gallery image.
pub fn score_matrix(gallery: &[f32], probes: &[f32]) -> Result<ScoreMatrix> {
    Ok(cosine_similarity_matrix(probes, gallery, EMBEDDING_DIM)?)
}

/// Scores every probe against every gallery image and computes the row's metrics.
pub fn score_row(
    method: &str,
    gallery: &[f32],
    gallery_ids: &[String],
    probes: &[f32],
    probe_ids: &[String],
) -> Result<RowMetrics> {
    row_metrics(
        method,
        &score_matrix(gallery, probes)?,
        gallery_ids,
        probe_ids,
    )
}

/// The row's metrics from its score matrix (no bootstrap intervals).
pub fn row_metrics(
    method: &str,
    scores: &ScoreMatrix,
    gallery_ids: &[String],
    probe_ids: &[String],
) -> Result<RowMetrics> {
    let (genuine, impostor) = all_pairs(scores, probe_ids, gallery_ids)?;
    let roc = Roc::from_scores(&genuine, &impostor)?;
    let stride = roc.len().div_ceil(400).max(1);
    let points = (0..roc.len())
        .filter(|i| i % stride == 0 || *i + 1 == roc.len())
        .map(|i| (roc.far(i), roc.tar(i)))
        .collect();
    let ranks: Vec<usize> = (1..=CMC_RANKS.min(scores.cols().max(1))).collect();
    let (tar_1e2, tar_1e3) = (roc.tar_at_far(1e-2)?, roc.tar_at_far(1e-3)?);
    let eer = roc.eer();
    Ok(RowMetrics {
        method: method.to_string(),
        rank1: rank1(scores, probe_ids, gallery_ids)?,
        tar_far_1e2: tar_1e2.step.tar,
        tar_far_1e3: tar_1e3.step.tar,
        auc: roc.auc(),
        eer: eer.rate,
        pixel_l1: None,
        roc: points,
        cmc: cmc(scores, probe_ids, gallery_ids, &ranks)?,
        scores: ScoreHistogram {
            bins: 80,
            genuine: histogram(&genuine, 80),
            impostor: histogram(&impostor, 80),
            eer_threshold: eer.threshold,
            far_thresholds: [tar_1e2.step.threshold, tar_1e3.step.threshold],
        },
        intervals: None,
        quality: None,
        error_map: None,
    })
}

/// A row's score file relative to its report folder, as the HTML page links it:
/// `scores/<method slug>.txt`, or `scores/translated.txt` for a generator scored on its own
/// (`visnir evaluate`).
pub(crate) fn score_file_link(label: &str) -> String {
    let stem = Method::from_label(label).map_or("translated", Method::slug);
    format!("scores/{stem}.txt")
}

/// Writes a row's scores as a bob 4-column file (`claimed_id real_id test_label score`: the
/// gallery image's subject, the probe's subject, the probe's path), which `bob.bio` and
/// `visnir metrics` read.
pub fn write_score_file(
    path: &Path,
    scores: &ScoreMatrix,
    gallery: &[LabelledCrop],
    probes: &[LabelledCrop],
) -> Result<()> {
    // Fields are whitespace-separated and `#` starts a comment: a space in a path or subject
    // name is written as `%20`, `#` as `%23`, `%` as `%25` (the same for every occurrence, so
    // genuine pairs stay genuine), an empty name as `%00`.
    let field = |text: &str| {
        if text.is_empty() {
            "%00".to_string()
        } else {
            text.replace('%', "%25")
                .replace('#', "%23")
                .replace(char::is_whitespace, "%20")
        }
    };
    let label = |crop: &LabelledCrop| field(&crop.path.to_string_lossy());
    let ids = |crops: &[LabelledCrop]| crops.iter().map(|c| field(&c.subject)).collect::<Vec<_>>();
    let comparisons = comparisons_from_matrix(
        scores,
        &ids(probes),
        &probes.iter().map(label).collect::<Vec<_>>(),
        &ids(gallery),
        &gallery.iter().map(label).collect::<Vec<_>>(),
    )?;
    let mut text = Vec::new();
    writeln!(
        text,
        "# visnir: claimed_id (gallery subject) real_id (probe subject) test_label (probe) score (cosine)"
    )
    .map_err(|e| io_error(path, e))?;
    write_bob(&mut text, &comparisons, BobColumns::Four)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| io_error(path, e))
}

/// Mean absolute pixel difference of the (translated) gallery images to their NIR twins, over
/// every test pair with two faces.
pub(crate) fn twin_l1(split: &PreparedSplit, gallery: &[RgbImage]) -> f64 {
    let total: f64 = split
        .twins
        .iter()
        .map(|&(g, p)| mean_abs_difference(&gallery[g], &split.probes[p].crop))
        .sum();
    total / split.twins.len().max(1) as f64
}

/// Scores galleries (translated or not) against a split's NIR probes, which it embeds once.
pub struct GalleryEvaluation<'a> {
    embedder: &'a Embedder,
    split: &'a PreparedSplit,
    probe_embeddings: Vec<f32>,
    gallery_ids: Vec<String>,
    probe_ids: Vec<String>,
    bootstrap: usize,
    seed: u64,
}

impl<'a> GalleryEvaluation<'a> {
    /// Embeds the split's probes; `bootstrap` resamples (0: none) with `seed` give each row's
    /// intervals.
    pub fn new(
        embedder: &'a Embedder,
        split: &'a PreparedSplit,
        bootstrap: usize,
        seed: u64,
    ) -> Result<Self> {
        Ok(Self {
            embedder,
            split,
            probe_embeddings: embed_crops(embedder, &split.probe_crops())?,
            gallery_ids: split.gallery_ids(),
            probe_ids: split.probe_ids(),
            bootstrap,
            seed,
        })
    }

    /// The row of `gallery` (the split's gallery, as matched): its metrics, bootstrap
    /// intervals, pixel L1 / PSNR / SSIM to the NIR twins and embedding Fréchet distance; with
    /// a `report` folder, its scores are written there ([`score_file_link`]) in bob's 4-column
    /// format.
    pub fn row(
        &self,
        method: &str,
        gallery: &[RgbImage],
        report: Option<&Path>,
    ) -> Result<RowMetrics> {
        let split = self.split;
        let embeddings = embed_crops(self.embedder, gallery)?;
        let scores = score_matrix(&embeddings, &self.probe_embeddings)?;
        let (gallery_ids, probe_ids) = (&self.gallery_ids, &self.probe_ids);
        let mut row = row_metrics(method, &scores, gallery_ids, probe_ids)?;
        if self.bootstrap > 0 {
            let bootstrap = SubjectBootstrap::new(&scores, probe_ids, gallery_ids)?;
            row.intervals =
                Some(bootstrap.intervals(self.bootstrap, self.seed, 0.95, &[1e-2, 1e-3])?);
        }
        if let Some(dir) = report {
            let file = dir.join(score_file_link(method));
            write_score_file(&file, &scores, &split.gallery, &split.probes)?;
        }
        row.pixel_l1 = Some(twin_l1(split, gallery));
        row.error_map = ErrorMap::of(split, gallery);
        row.quality = Some(translation_quality(
            split,
            gallery,
            &embeddings,
            &self.probe_embeddings,
        )?);
        Ok(row)
    }
}
