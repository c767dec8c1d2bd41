//! The ROC curve of a verification experiment and the numbers read off it.

use serde::Serialize;

use crate::error::{MetricsError, Result};
use crate::sort::{from_key, sorted_keys};

/// A ROC curve with one point per distinct score, as scikit-learn's
/// `roc_curve(y, s, drop_intermediate=False)`: thresholds decrease, the first point is
/// `(+inf, FAR 0, TAR 0)` and a pair is accepted iff its score is `>= threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct Roc {
    thresholds: Vec<f64>,
    true_accepts: Vec<u64>,
    false_accepts: Vec<u64>,
    n_genuine: u64,
    n_impostor: u64,
}

/// One ROC point: a threshold and the rates it gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    /// True accept rate (TPR) at this threshold.
    pub tar: f64,
    /// False accept rate (FPR) at this threshold.
    pub far: f64,
    /// Accept iff score >= threshold; `+inf` for the point that accepts nothing.
    pub threshold: f64,
}

/// The equal error rate: where FAR and FRR (1 - TAR) cross along the ROC polyline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Eer {
    /// The rate at the linear crossing of FAR and FRR.
    pub rate: f64,
    /// The threshold interpolated at the same crossing.
    pub threshold: f64,
}

/// TAR at a FAR target, the three ways the literature reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TarAtFar {
    /// The FAR target asked for.
    pub target: f64,
    /// Primary: the smallest threshold whose FAR <= target (never exceeds the target).
    pub step: OperatingPoint,
    /// TPR linearly interpolated between the step point and the next ROC point, at FAR = target.
    pub interpolated: f64,
    /// insightface IJB style: the ROC point whose FAR is nearest the target (first on ties).
    pub nearest: OperatingPoint,
}

/// Verification needs a genuine and an impostor score, all finite; a non-finite one is
/// reported by its index in the genuine scores followed by the impostor scores.
pub(crate) fn check_scores(genuine: &[f64], impostor: &[f64]) -> Result<()> {
    if genuine.is_empty() {
        return Err(MetricsError::NoGenuine);
    }
    if impostor.is_empty() {
        return Err(MetricsError::NoImpostor);
    }
    for (offset, scores) in [(0, genuine), (genuine.len(), impostor)] {
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(MetricsError::NonFiniteScore {
                index: offset + i,
                value: scores[i],
            });
        }
    }
    Ok(())
}

impl Roc {
    /// Builds the ROC from genuine (same identity) and impostor (different identity) scores.
    pub fn from_scores(genuine: &[f64], impostor: &[f64]) -> Result<Self> {
        check_scores(genuine, impostor)?;
        let (genuine, impostor) = rayon::join(|| sorted_keys(genuine), || sorted_keys(impostor));
        Ok(Self::from_sorted_keys(&genuine, &impostor))
    }

    /// Builds the ROC from `(score, weight)` lists sorted by decreasing score, each score
    /// counted `weight` times (the resamples of a bootstrap); zero weights are left out.
    pub(crate) fn from_weighted(genuine: &[(f64, u64)], impostor: &[(f64, u64)]) -> Result<Self> {
        let n_genuine: u64 = genuine.iter().map(|g| g.1).sum();
        let n_impostor: u64 = impostor.iter().map(|i| i.1).sum();
        if n_genuine == 0 {
            return Err(MetricsError::NoGenuine);
        }
        if n_impostor == 0 {
            return Err(MetricsError::NoImpostor);
        }
        let capacity = genuine.len() + impostor.len() + 1;
        let mut roc = Roc {
            thresholds: Vec::with_capacity(capacity),
            true_accepts: Vec::with_capacity(capacity),
            false_accepts: Vec::with_capacity(capacity),
            n_genuine,
            n_impostor,
        };
        roc.push(f64::INFINITY, 0, 0);
        let (mut g, mut i) = (0, 0);
        let (mut ta, mut fa) = (0u64, 0u64);
        while g < genuine.len() || i < impostor.len() {
            let top = match (genuine.get(g), impostor.get(i)) {
                (Some(a), Some(b)) => a.0.max(b.0),
                (Some(a), None) => a.0,
                (None, Some(b)) => b.0,
                (None, None) => break,
            };
            let (ta0, fa0) = (ta, fa);
            while g < genuine.len() && genuine[g].0 == top {
                ta += genuine[g].1;
                g += 1;
            }
            while i < impostor.len() && impostor[i].0 == top {
                fa += impostor[i].1;
                i += 1;
            }
            if (ta, fa) != (ta0, fa0) {
                roc.push(top, ta, fa);
            }
        }
        Ok(roc)
    }

    /// Builds the ROC from labels (1 genuine, 0 impostor) and scores, as scikit-learn takes them.
    pub fn from_labels(labels: &[i64], scores: &[f64]) -> Result<Self> {
        let (genuine, impostor) = split_by_label(labels, scores)?;
        Self::from_scores(&genuine, &impostor)
    }

    /// Walks both ascending key lists from the top, emitting one point per distinct score.
    fn from_sorted_keys(genuine: &[u64], impostor: &[u64]) -> Self {
        let capacity = genuine.len() + impostor.len() + 1;
        let mut roc = Roc {
            thresholds: Vec::with_capacity(capacity),
            true_accepts: Vec::with_capacity(capacity),
            false_accepts: Vec::with_capacity(capacity),
            n_genuine: genuine.len() as u64,
            n_impostor: impostor.len() as u64,
        };
        roc.push(f64::INFINITY, 0, 0);
        let (mut g, mut i) = (genuine.len(), impostor.len());
        while g > 0 || i > 0 {
            let top = match (g, i) {
                (0, _) => impostor[i - 1],
                (_, 0) => genuine[g - 1],
                _ => genuine[g - 1].max(impostor[i - 1]),
            };
            while g > 0 && genuine[g - 1] == top {
                g -= 1;
            }
            while i > 0 && impostor[i - 1] == top {
                i -= 1;
            }
            roc.push(
                from_key(top),
                (genuine.len() - g) as u64,
                (impostor.len() - i) as u64,
            );
        }
        roc
    }

    fn push(&mut self, threshold: f64, true_accepts: u64, false_accepts: u64) {
        self.thresholds.push(threshold);
        self.true_accepts.push(true_accepts);
        self.false_accepts.push(false_accepts);
    }

    /// Number of ROC points (distinct scores + 1).
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    /// Always false: a ROC has at least its `+inf` point.
    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }

    /// Number of genuine scores.
    pub fn n_genuine(&self) -> u64 {
        self.n_genuine
    }

    /// Number of impostor scores.
    pub fn n_impostor(&self) -> u64 {
        self.n_impostor
    }

    /// Thresholds, decreasing, starting at `+inf`.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// The false accept rate (FPR) of point `i`.
    pub fn far(&self, i: usize) -> f64 {
        self.false_accepts[i] as f64 / self.n_impostor as f64
    }

    /// The true accept rate (TPR) of point `i`.
    pub fn tar(&self, i: usize) -> f64 {
        self.true_accepts[i] as f64 / self.n_genuine as f64
    }

    /// Point `i` of the curve.
    pub fn point(&self, i: usize) -> OperatingPoint {
        OperatingPoint {
            tar: self.tar(i),
            far: self.far(i),
            threshold: self.thresholds[i],
        }
    }

    /// All points, in order of decreasing threshold.
    pub fn points(&self) -> impl Iterator<Item = OperatingPoint> + '_ {
        (0..self.len()).map(|i| self.point(i))
    }

    /// Area under the curve; tied genuine/impostor scores count 1/2 (equal to `roc_auc_score`).
    pub fn auc(&self) -> f64 {
        let mut twice_area: u128 = 0;
        for i in 1..self.len() {
            let width = (self.false_accepts[i] - self.false_accepts[i - 1]) as u128;
            let heights = (self.true_accepts[i] + self.true_accepts[i - 1]) as u128;
            twice_area += width * heights;
        }
        twice_area as f64 / (2.0 * self.n_genuine as f64 * self.n_impostor as f64)
    }

    /// Equal error rate at the linear crossing of FAR and FRR along the ROC polyline.
    pub fn eer(&self) -> Eer {
        let gap = |i: usize| self.far(i) - (1.0 - self.tar(i));
        let i = (1..self.len())
            .find(|&i| gap(i) >= 0.0)
            .unwrap_or(self.len() - 1);
        let (before, after) = (gap(i - 1), gap(i));
        let t = if after == before {
            1.0
        } else {
            -before / (after - before)
        };
        let rate = self.far(i - 1) + t * (self.far(i) - self.far(i - 1));
        let upper = self.thresholds[i - 1];
        let threshold = if upper.is_finite() {
            upper + t * (self.thresholds[i] - upper)
        } else {
            self.thresholds[i]
        };
        Eer { rate, threshold }
    }

    /// TAR at a FAR target in (0, 1], read the three ways of [`TarAtFar`].
    pub fn tar_at_far(&self, target: f64) -> Result<TarAtFar> {
        if !(target > 0.0 && target <= 1.0) {
            return Err(MetricsError::FarOutOfRange(target));
        }
        let below = self
            .false_accepts
            .partition_point(|&fa| fa as f64 / self.n_impostor as f64 <= target);
        let step_index = below - 1;
        let step = self.point(step_index);
        let interpolated = if step.far == target || step_index + 1 == self.len() {
            step.tar
        } else {
            let next = self.point(step_index + 1);
            step.tar + (target - step.far) / (next.far - step.far) * (next.tar - step.tar)
        };
        let mut nearest_index = 0;
        let mut nearest_distance = f64::INFINITY;
        for i in 0..self.len() {
            let distance = (self.far(i) - target).abs();
            if distance < nearest_distance {
                nearest_distance = distance;
                nearest_index = i;
            }
        }
        Ok(TarAtFar {
            target,
            step,
            interpolated,
            nearest: self.point(nearest_index),
        })
    }
}

/// Splits scores into (genuine, impostor) by 0/1 labels.
pub fn split_by_label(labels: &[i64], scores: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    if labels.len() != scores.len() {
        return Err(MetricsError::LengthMismatch {
            labels: labels.len(),
            scores: scores.len(),
        });
    }
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    for (index, (&label, &score)) in labels.iter().zip(scores).enumerate() {
        match label {
            1 => genuine.push(score),
            0 => impostor.push(score),
            value => return Err(MetricsError::BadLabel { index, value }),
        }
    }
    Ok((genuine, impostor))
}
