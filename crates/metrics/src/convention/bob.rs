//! `bob.measure` 6.1: EER, the FAR threshold, FAR/FRR at a threshold, and the recognition rate,
//! ported from its Python source (`bob/measure/_library.py`, `__init__.py`).

use crate::error::{MetricsError, Result};
use crate::roc::check_scores;

/// (FAR, FRR) at `threshold`: negatives `>= threshold` are false accepts, positives
/// `< threshold` false rejects (`bob.measure.farfrr`).
pub fn farfrr(negatives: &[f64], positives: &[f64], threshold: f64) -> (f64, f64) {
    let rate = |count: usize, n: usize| {
        if n == 0 {
            f64::NAN
        } else {
            count as f64 / n as f64
        }
    };
    let fa = negatives.iter().filter(|&&s| s >= threshold).count();
    let fr = positives.iter().filter(|&&s| s < threshold).count();
    (rate(fa, negatives.len()), rate(fr, positives.len()))
}

fn sorted(scores: &[f64]) -> Vec<f64> {
    let mut v = scores.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The threshold where FAR and FRR are closest (`bob.measure.eer_threshold`): a walk up the
/// sorted scores, trying each midpoint between consecutive distinct scores.
pub fn eer_threshold(negatives: &[f64], positives: &[f64]) -> Result<f64> {
    check_scores(positives, negatives)?;
    let (neg, pos) = (sorted(negatives), sorted(positives));
    let (max_neg, max_pos) = (neg.len(), pos.len());
    let (far_decrease, frr_increase) = (1.0 / max_neg as f64, 1.0 / max_pos as f64);
    let (mut far, mut frr) = (1.0f64, 0.0f64);
    let (mut min_predicate, mut min_threshold) = (1e8f64, 1e8f64);
    let (mut p, mut n) = (0, 0);
    let mut current = neg[0].min(pos[0]);
    while p < max_pos && n < max_neg {
        let predicate = (far - frr).abs();
        if predicate <= min_predicate {
            min_predicate = predicate;
            min_threshold = current;
        }
        if pos[p] >= neg[n] {
            current = neg[n];
            n += 1;
            far -= far_decrease;
        } else {
            current = pos[p];
            p += 1;
            frr += frr_increase;
        }
        while n < max_neg && current == neg[n] {
            n += 1;
            far -= far_decrease;
        }
        while p < max_pos && current == pos[p] {
            p += 1;
            frr += frr_increase;
        }
        if n < max_neg || p < max_pos {
            current += if n < max_neg && p < max_pos {
                neg[n].min(pos[p])
            } else if n < max_neg {
                neg[n]
            } else {
                pos[p]
            };
            current /= 2.0;
        }
    }
    let predicate = (far - frr).abs();
    if predicate < min_predicate {
        min_predicate = predicate;
        min_threshold = current;
    }
    if (n < max_neg || p < max_pos) && 1.0 < min_predicate {
        min_threshold = if n < max_neg {
            neg[max_neg - 1].next_up()
        } else {
            pos[max_pos - 1].next_up()
        };
    }
    Ok(min_threshold)
}

/// The equal error rate as bob reports it: `(FAR + FRR) / 2` at [`eer_threshold`].
pub fn eer(negatives: &[f64], positives: &[f64]) -> Result<f64> {
    let threshold = eer_threshold(negatives, positives)?;
    let (far, frr) = farfrr(negatives, positives, threshold);
    Ok((far + frr) / 2.0)
}

/// The lowest threshold whose real FAR is at most `far_value` (`bob.measure.far_threshold`);
/// needs at least two negatives, as bob does.
pub fn far_threshold(negatives: &[f64], far_value: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&far_value) {
        return Err(MetricsError::FarOutOfRange(far_value));
    }
    if negatives.len() < 2 {
        return Err(MetricsError::NoImpostor);
    }
    let mut scores = sorted(negatives);
    if far_value >= 1.0 - f64::EPSILON {
        return Ok(scores[0].next_down());
    }
    scores.reverse();
    let total = scores.len();
    let mut position = 0;
    let mut valid = scores[0].next_up();
    while position < total {
        let current = scores[position];
        while position < total - 1 && scores[position + 1] == current {
            position += 1;
        }
        if (position + 1) as f64 / total as f64 > far_value {
            break;
        }
        valid = current;
        position += 1;
    }
    Ok(valid)
}

/// TAR (1 - FRR) at [`far_threshold`], with the FAR it actually reaches.
pub fn tar_at_far(negatives: &[f64], positives: &[f64], far_value: f64) -> Result<(f64, f64)> {
    check_scores(positives, negatives)?;
    let threshold = far_threshold(negatives, far_value)?;
    let (far, frr) = farfrr(negatives, positives, threshold);
    Ok((1.0 - frr, far))
}

/// The closed-set recognition rate at `rank` from per-probe (negative, positive) scores
/// (`bob.measure.recognition_rate` without a threshold): a probe is recognised when fewer than
/// `rank` negatives score at least its best positive; a probe without positives counts as
/// missed.
pub fn recognition_rate(probes: &[(Vec<f64>, Vec<f64>)], rank: usize) -> Result<f64> {
    if rank == 0 {
        return Err(MetricsError::ZeroRank);
    }
    let mut correct = 0usize;
    let mut counted = 0usize;
    for (negatives, positives) in probes {
        if negatives.is_empty() && positives.is_empty() {
            continue;
        }
        counted += 1;
        let Some(best) = positives.iter().copied().reduce(f64::max) else {
            continue;
        };
        if negatives.iter().filter(|&&s| s >= best).count() < rank {
            correct += 1;
        }
    }
    Ok(if counted == 0 {
        0.0
    } else {
        correct as f64 / counted as f64
    })
}
