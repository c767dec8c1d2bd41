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

/// Where a learning curve first rises above the untranslated level, and its best point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Crossing {
    /// The first step whose Rank-1 is above the untranslated Rank-1, if any.
    pub rank1_above_at: Option<u64>,
    /// The first step whose TAR@FAR=1% is above the untranslated one, if any.
    pub tar_above_at: Option<u64>,
    /// The point with the highest Rank-1 + TAR@FAR=1% (the first of equals).
    pub best: CurvePoint,
    /// The last point.
    pub last: CurvePoint,
}

/// The crossing of `points` (step order) over `level`, or `None` for an empty curve.
pub fn crossing(points: &[CurvePoint], level: &CurvePoint) -> Option<Crossing> {
    let best = points
        .iter()
        .copied()
        .reduce(|best, p| if p.score() > best.score() { p } else { best })?;
    let first = |above: fn(&CurvePoint, &CurvePoint) -> bool| {
        points.iter().find(|p| above(p, level)).map(|p| p.step)
    };
    Some(Crossing {
        rank1_above_at: first(|p, l| p.rank1 > l.rank1),
        tar_above_at: first(|p, l| p.tar_far_1e2 > l.tar_far_1e2),
        best,
        last: *points.last()?,
    })
}

/// `curves.md`: per method, when its validation Rank-1 and TAR@FAR=1% first rise above the
/// untranslated level, and its best and last points.
pub fn crossings_markdown(curves: &[(String, Vec<CurvePoint>)], level: &CurvePoint) -> String {
    let pct = |x: f64| format!("{:.1}", 100.0 * x);
    let step = |s: Option<u64>| s.map_or("never".to_string(), |s| s.to_string());
    let mut md = format!(
        "# Learning curves: when translation beats no translation\n\nValidation pairs \
         (held-out frames of the training subjects), untranslated: Rank-1 {} / TAR@FAR=1% {}.\n\n\
         | method | Rank-1 above at step | TAR@FAR=1% above at step | best (step: Rank-1 / TAR) \
         | last (step: Rank-1 / TAR) |\n|---|---|---|---|---|\n",
        pct(level.rank1),
        pct(level.tar_far_1e2)
    );
    for (method, points) in curves {
        if let Some(c) = crossing(points, level) {
            md.push_str(&format!(
                "| {method} | {} | {} | {}: {} / {} | {}: {} / {} |\n",
                step(c.rank1_above_at),
                step(c.tar_above_at),
                c.best.step,
                pct(c.best.rank1),
                pct(c.best.tar_far_1e2),
                c.last.step,
                pct(c.last.rank1),
                pct(c.last.tar_far_1e2)
            ));
        }
    }
    md
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

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: u64, rank1: f64, tar_far_1e2: f64) -> CurvePoint {
        CurvePoint {
            step,
            rank1,
            tar_far_1e2,
            pixel_l1: 0.1,
        }
    }

    #[test]
    fn crossing_finds_the_first_step_above_the_level_and_the_best_point() {
        let level = point(0, 0.5, 0.3);
        let curve = [
            point(0, 0.4, 0.2),
            point(10, 0.5, 0.35),
            point(20, 0.7, 0.3),
            point(30, 0.6, 0.45),
            point(40, 0.55, 0.25),
        ];
        let c = crossing(&curve, &level).unwrap();
        assert_eq!(
            c.rank1_above_at,
            Some(20),
            "equal to the level is not above"
        );
        assert_eq!(c.tar_above_at, Some(10));
        assert_eq!(c.best, curve[3]);
        assert_eq!(c.last, curve[4]);
        let below = [point(0, 0.1, 0.1), point(5, 0.2, 0.1)];
        let c = crossing(&below, &level).unwrap();
        assert_eq!((c.rank1_above_at, c.tar_above_at), (None, None));
        assert_eq!(c.best, below[1]);
        assert!(crossing(&[], &level).is_none());
        let md = crossings_markdown(&[("FFE + Lpc".into(), below.to_vec())], &level);
        assert!(
            md.contains("| FFE + Lpc | never | never | 5: 20.0 / 10.0 | 5: 20.0 / 10.0 |"),
            "{md}"
        );
    }
}
