//! Confidence intervals by a subject-level bootstrap: the test subjects are resampled with
//! replacement, and each resample's Rank-1, TAR@FAR and EER are computed on the probes and
//! gallery images of the drawn subjects, a subject drawn k times counting k times. The interval
//! covers the sampling of test subjects, not the noise of training.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{MetricsError, Result};
use crate::identification::ScoreMatrix;
use crate::roc::Roc;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Whether `value` lies in the interval (ends included).
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// The metrics of one resample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resample {
    /// Rank-1 identification rate.
    pub rank1: f64,
    /// TAR at each FAR target (step convention, as [`crate::Roc::tar_at_far`]).
    pub tar_at_far: Vec<f64>,
    /// Equal error rate (as [`crate::Roc::eer`]).
    pub eer: f64,
}

/// Percentile intervals of every metric over the resamples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapIntervals {
    /// Resamples drawn; those without a genuine or an impostor pair are not counted in `used`.
    pub resamples: usize,
    /// Resamples the intervals are computed from.
    pub used: usize,
    /// Coverage of each interval, e.g. 0.95.
    pub level: f64,
    /// Rank-1.
    pub rank1: Interval,
    /// `(FAR target, TAR interval)`.
    pub tar_at_far: Vec<(f64, Interval)>,
    /// EER.
    pub eer: Interval,
}

/// A probe x gallery experiment prepared for resampling its subjects.
#[derive(Debug, Clone)]
pub struct SubjectBootstrap {
    subjects: usize,
    probe_subject: Vec<usize>,
    /// Per probe, the gallery indices by decreasing score (lower index first on ties).
    ranking: Vec<Vec<usize>>,
    gallery_subject: Vec<usize>,
    /// `(score, subject)` of genuine pairs, by decreasing score.
    genuine: Vec<(f64, usize)>,
    /// `(score, probe subject, gallery subject)` of impostor pairs, by decreasing score.
    impostor: Vec<(f64, usize, usize)>,
}

impl SubjectBootstrap {
    /// Prepares `scores` with each row's and column's identity. Subjects are numbered in the
    /// sorted order of their identities.
    pub fn new<T: Ord + Clone>(
        scores: &ScoreMatrix,
        probe_ids: &[T],
        gallery_ids: &[T],
    ) -> Result<Self> {
        scores.check_ids(probe_ids, gallery_ids)?;
        let mut names: Vec<T> = probe_ids.iter().chain(gallery_ids).cloned().collect();
        names.sort();
        names.dedup();
        let index = |id: &T| names.binary_search(id).unwrap_or(0);
        let probe_subject: Vec<usize> = probe_ids.iter().map(index).collect();
        let gallery_subject: Vec<usize> = gallery_ids.iter().map(index).collect();
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        let mut ranking = Vec::with_capacity(scores.rows());
        for (p, &ps) in probe_subject.iter().enumerate() {
            let row = scores.row(p);
            for (g, &gs) in gallery_subject.iter().enumerate() {
                if ps == gs {
                    genuine.push((row[g], ps));
                } else {
                    impostor.push((row[g], ps, gs));
                }
            }
            let mut order: Vec<usize> = (0..row.len()).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            ranking.push(order);
        }
        genuine.sort_by(|a, b| b.0.total_cmp(&a.0));
        impostor.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(Self {
            subjects: names.len(),
            probe_subject,
            ranking,
            gallery_subject,
            genuine,
            impostor,
        })
    }

    /// Number of distinct subjects.
    pub fn subjects(&self) -> usize {
        self.subjects
    }

    /// The metrics when subject `s` is drawn `counts[s]` times.
    pub fn resample(&self, counts: &[u64], far_targets: &[f64]) -> Result<Resample> {
        if counts.len() != self.subjects {
            return Err(MetricsError::IdentityCountMismatch {
                what: "bootstrap counts",
                expected: self.subjects,
                found: counts.len(),
            });
        }
        let genuine: Vec<(f64, u64)> = self
            .genuine
            .iter()
            .map(|&(s, subject)| (s, counts[subject]))
            .collect();
        let impostor: Vec<(f64, u64)> = self
            .impostor
            .iter()
            .map(|&(s, a, b)| (s, counts[a] * counts[b]))
            .collect();
        let roc = Roc::from_weighted(&genuine, &impostor)?;
        let tar_at_far = far_targets
            .iter()
            .map(|&t| Ok(roc.tar_at_far(t)?.step.tar))
            .collect::<Result<Vec<_>>>()?;
        let (mut hits, mut probes) = (0u64, 0u64);
        for (p, order) in self.ranking.iter().enumerate() {
            let w = counts[self.probe_subject[p]];
            if w == 0 {
                continue;
            }
            probes += w;
            let top = order
                .iter()
                .find(|&&g| counts[self.gallery_subject[g]] > 0)
                .map(|&g| self.gallery_subject[g]);
            if top == Some(self.probe_subject[p]) {
                hits += w;
            }
        }
        Ok(Resample {
            rank1: hits as f64 / probes.max(1) as f64,
            tar_at_far,
            eer: roc.eer().rate,
        })
    }

    /// One draw of `subjects` subjects with replacement: how often each was drawn.
    pub fn draw(&self, rng: &mut impl Rng) -> Vec<u64> {
        let mut counts = vec![0u64; self.subjects];
        for _ in 0..self.subjects {
            counts[rng.random_range(0..self.subjects)] += 1;
        }
        counts
    }

    /// The `level` percentile intervals over `resamples` seeded draws.
    pub fn intervals(
        &self,
        resamples: usize,
        seed: u64,
        level: f64,
        far_targets: &[f64],
    ) -> Result<BootstrapIntervals> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut samples = Vec::with_capacity(resamples);
        for _ in 0..resamples {
            let counts = self.draw(&mut rng);
            match self.resample(&counts, far_targets) {
                Ok(sample) => samples.push(sample),
                Err(MetricsError::NoGenuine | MetricsError::NoImpostor) => {}
                Err(e) => return Err(e),
            }
        }
        percentile_intervals(&samples, resamples, level, far_targets)
    }
}

/// The percentile intervals of `samples` (numpy's default linear interpolation).
pub fn percentile_intervals(
    samples: &[Resample],
    resamples: usize,
    level: f64,
    far_targets: &[f64],
) -> Result<BootstrapIntervals> {
    if samples.is_empty() {
        return Err(MetricsError::NoUsableResample { resamples });
    }
    let tail = (1.0 - level) / 2.0;
    let interval = |values: Vec<f64>| {
        let mut v = values;
        v.sort_by(f64::total_cmp);
        Interval {
            low: percentile(&v, tail),
            high: percentile(&v, 1.0 - tail),
        }
    };
    Ok(BootstrapIntervals {
        resamples,
        used: samples.len(),
        level,
        rank1: interval(samples.iter().map(|s| s.rank1).collect()),
        tar_at_far: far_targets
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                (
                    t,
                    interval(samples.iter().map(|s| s.tar_at_far[k]).collect()),
                )
            })
            .collect(),
        eer: interval(samples.iter().map(|s| s.eer).collect()),
    })
}

/// The `q` quantile of sorted values, interpolated linearly between the two nearest ranks.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
}
