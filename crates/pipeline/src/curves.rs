//! Learning curves: every few iterations the VIS images of the held-out validation pairs (of
//! training subjects, never trained on) are translated and matched against their NIR twins,
//! so that a run shows whether, when and how far its training helps recognition.

use std::io::Write as _;
use std::path::Path;

use candle_core::Device;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use visnir_ffe::Embedder;
use visnir_gan::Generator;

use crate::error::{io_error, Result};
use crate::evaluate::{embed_crops, mean_abs_difference, score_row};
use crate::split::SubjectPair;
use crate::train::translate_with;

/// The validation quantities after `step` iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Iterations trained (0: the untrained generator).
    pub step: u64,
    /// Rank-1 of the NIR twins against the translated VIS images.
    pub rank1: f64,
    /// TAR at FAR = 1% of the same scores.
    pub tar_far_1e2: f64,
    /// Mean absolute difference (0..1) of the translations to their NIR twins.
    pub pixel_l1: f64,
}

impl CurvePoint {
    /// The quantity the best checkpoint maximises: Rank-1 plus TAR@FAR=1%.
    pub fn score(&self) -> f64 {
        self.rank1 + self.tar_far_1e2
    }
}

/// The validation pairs with their NIR embeddings computed once.
pub struct Validation<'a> {
    embedder: &'a Embedder,
    vis: Vec<RgbImage>,
    nir: Vec<RgbImage>,
    nir_embeddings: Vec<f32>,
    subjects: Vec<String>,
}

impl<'a> Validation<'a> {
    /// The validation set of `pairs`, or `None` when there are none.
    pub fn new(embedder: &'a Embedder, pairs: &[SubjectPair]) -> Result<Option<Self>> {
        if pairs.is_empty() {
            return Ok(None);
        }
        let nir: Vec<RgbImage> = pairs.iter().map(|p| p.nir.clone()).collect();
        Ok(Some(Self {
            embedder,
            vis: pairs.iter().map(|p| p.vis.clone()).collect(),
            nir_embeddings: embed_crops(embedder, &nir)?,
            nir,
            subjects: pairs.iter().map(|p| p.subject.clone()).collect(),
        }))
    }

    /// The point of VIS images `gallery` (the VIS images translated, or as they are).
    fn point(&self, step: u64, gallery: &[RgbImage]) -> Result<CurvePoint> {
        let embeddings = embed_crops(self.embedder, gallery)?;
        let row = score_row(
            "validation",
            &embeddings,
            &self.subjects,
            &self.nir_embeddings,
            &self.subjects,
        )?;
        let l1: f64 = gallery
            .iter()
            .zip(&self.nir)
            .map(|(g, n)| mean_abs_difference(g, n))
            .sum();
        Ok(CurvePoint {
            step,
            rank1: row.rank1,
            tar_far_1e2: row.tar_far_1e2,
            pixel_l1: l1 / gallery.len() as f64,
        })
    }

    /// The level without translation: the VIS images matched as they are.
    pub fn untranslated(&self) -> Result<CurvePoint> {
        self.point(0, &self.vis)
    }

    /// The point of `generator` after `step` iterations.
    pub fn measure(&self, generator: &Generator, step: u64, device: &Device) -> Result<CurvePoint> {
        let fake = translate_with(generator, &self.vis, device)?;
        self.point(step, &fake)
    }
}

/// The points of `curves.jsonl` up to and including `step` (what a resumed run keeps).
pub fn read_points(path: &Path, up_to: u64) -> Result<Vec<CurvePoint>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    let mut points = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let point: CurvePoint = serde_json::from_str(line)
            .map_err(|e| io_error(path, format!("line {}: {e}", i + 1)))?;
        if point.step <= up_to {
            points.push(point);
        }
    }
    Ok(points)
}

/// Rewrites `curves.jsonl` with `points`.
pub fn write_points(path: &Path, points: &[CurvePoint]) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| io_error(path, e))?;
    for p in points {
        let line = serde_json::to_string(p).map_err(|e| io_error(path, e))?;
        writeln!(file, "{line}").map_err(|e| io_error(path, e))?;
    }
    Ok(())
}
