//! Closed-set identification from a probe x gallery score matrix: Rank-1, CMC and the
//! verification metrics of all probe-gallery pairs.

use serde::Serialize;

use crate::error::{MetricsError, Result};
use crate::verification::{verify, VerificationReport};

/// A dense row-major score matrix: one row per probe, one column per gallery image.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl ScoreMatrix {
    /// Wraps row-major data; `data.len()` must be `rows * cols` and every score finite.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(MetricsError::MatrixShape {
                rows,
                cols,
                len: data.len(),
            });
        }
        if let Some(index) = data.iter().position(|s| !s.is_finite()) {
            return Err(MetricsError::NonFiniteScore {
                index,
                value: data[index],
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds the matrix from rows that must all have the same length.
    pub fn from_rows(rows: Vec<Vec<f64>>) -> Result<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        let n = rows.len();
        let mut data = Vec::with_capacity(n * cols);
        for (row, values) in rows.into_iter().enumerate() {
            if values.len() != cols {
                return Err(MetricsError::RaggedMatrix {
                    row,
                    expected: cols,
                    found: values.len(),
                });
            }
            data.extend(values);
        }
        Self::new(n, cols, data)
    }

    /// Number of probes (rows).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of gallery images (columns).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The scores of probe `i` against every gallery image.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// All scores, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    pub(crate) fn check_ids<T>(&self, probe_ids: &[T], gallery_ids: &[T]) -> Result<()> {
        if probe_ids.len() != self.rows {
            return Err(MetricsError::IdentityCountMismatch {
                what: "probe list",
                expected: self.rows,
                found: probe_ids.len(),
            });
        }
        if gallery_ids.len() != self.cols {
            return Err(MetricsError::IdentityCountMismatch {
                what: "gallery list",
                expected: self.cols,
                found: gallery_ids.len(),
            });
        }
        Ok(())
    }
}

/// The rank (1-based) of each probe's true identity, or `None` when it is not in the gallery.
///
/// Identities are ranked by their best-scoring image; ties go to the identity whose best image
/// comes first in the gallery, so rank 1 agrees with an argmax over all images (first index on
/// ties).
pub fn true_identity_ranks<T: PartialEq>(
    scores: &ScoreMatrix,
    probe_ids: &[T],
    gallery_ids: &[T],
) -> Result<Vec<Option<usize>>> {
    scores.check_ids(probe_ids, gallery_ids)?;
    let mut identities: Vec<&T> = Vec::new();
    let gallery_identity: Vec<usize> = gallery_ids
        .iter()
        .map(
            |id| match identities.iter().position(|known| *known == id) {
                Some(k) => k,
                None => {
                    identities.push(id);
                    identities.len() - 1
                }
            },
        )
        .collect();
    let mut best = vec![(f64::NEG_INFINITY, usize::MAX); identities.len()];
    let ranks = (0..scores.rows())
        .map(|p| {
            best.fill((f64::NEG_INFINITY, usize::MAX));
            for (j, &score) in scores.row(p).iter().enumerate() {
                let slot = &mut best[gallery_identity[j]];
                if score > slot.0 {
                    *slot = (score, j);
                }
            }
            let truth = identities.iter().position(|id| **id == probe_ids[p])?;
            let (true_score, true_first) = best[truth];
            let beaten_by = best
                .iter()
                .filter(|&&(s, first)| s > true_score || (s == true_score && first < true_first))
                .count();
            Some(beaten_by + 1)
        })
        .collect();
    Ok(ranks)
}

/// Fraction of probes whose argmax over all gallery images (first index on ties) has their identity.
pub fn rank1<T: PartialEq>(
    scores: &ScoreMatrix,
    probe_ids: &[T],
    gallery_ids: &[T],
) -> Result<f64> {
    scores.check_ids(probe_ids, gallery_ids)?;
    if scores.rows() == 0 {
        return Ok(0.0);
    }
    let correct = (0..scores.rows())
        .filter(|&p| {
            let row = scores.row(p);
            let mut arg = 0;
            for (j, &s) in row.iter().enumerate() {
                if s > row[arg] {
                    arg = j;
                }
            }
            !row.is_empty() && gallery_ids[arg] == probe_ids[p]
        })
        .count();
    Ok(correct as f64 / scores.rows() as f64)
}

/// The CMC curve at the given ranks: the fraction of probes whose identity ranks at or above each.
pub fn cmc<T: PartialEq>(
    scores: &ScoreMatrix,
    probe_ids: &[T],
    gallery_ids: &[T],
    ranks: &[usize],
) -> Result<Vec<f64>> {
    if ranks.contains(&0) {
        return Err(MetricsError::ZeroRank);
    }
    let true_ranks = true_identity_ranks(scores, probe_ids, gallery_ids)?;
    let n = true_ranks.len().max(1) as f64;
    Ok(ranks
        .iter()
        .map(|&k| {
            true_ranks
                .iter()
                .filter(|r| r.is_some_and(|r| r <= k))
                .count() as f64
                / n
        })
        .collect())
}

/// Splits all probe x gallery pairs into (genuine, impostor) scores by identity.
pub fn all_pairs<T: PartialEq>(
    scores: &ScoreMatrix,
    probe_ids: &[T],
    gallery_ids: &[T],
) -> Result<(Vec<f64>, Vec<f64>)> {
    scores.check_ids(probe_ids, gallery_ids)?;
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    for (p, probe_id) in probe_ids.iter().enumerate() {
        for (&score, gallery_id) in scores.row(p).iter().zip(gallery_ids) {
            if gallery_id == probe_id {
                genuine.push(score);
            } else {
                impostor.push(score);
            }
        }
    }
    Ok((genuine, impostor))
}

/// Everything reported for an identification experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentificationReport {
    /// Number of probes.
    pub n_probe: usize,
    /// Number of gallery images.
    pub n_gallery: usize,
    /// Rank-1 identification rate.
    pub rank1: f64,
    /// (rank, CMC value) for each requested rank.
    pub cmc: Vec<(usize, f64)>,
    /// Verification metrics over all probe x gallery pairs.
    pub verification: VerificationReport,
}

/// Rank-1, CMC at `ranks` and all-pairs verification at `far_targets` in one call.
pub fn identify<T: PartialEq>(
    scores: &ScoreMatrix,
    probe_ids: &[T],
    gallery_ids: &[T],
    ranks: &[usize],
    far_targets: &[f64],
) -> Result<IdentificationReport> {
    let (genuine, impostor) = all_pairs(scores, probe_ids, gallery_ids)?;
    Ok(IdentificationReport {
        n_probe: scores.rows(),
        n_gallery: scores.cols(),
        rank1: rank1(scores, probe_ids, gallery_ids)?,
        cmc: ranks
            .iter()
            .copied()
            .zip(cmc(scores, probe_ids, gallery_ids, ranks)?)
            .collect(),
        verification: verify(&genuine, &impostor, far_targets)?,
    })
}
