//! `pyeer` 0.5: its ROC (one point per distinct score, ascending), EER, the FMR operating points
//! and the decidability index, ported from `pyeer/eer_stats.py`.

use serde::Serialize;

use crate::error::Result;
use crate::roc::check_scores;

/// What pyeer's `get_eer_stats` reports for one experiment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PyeerStats {
    /// EER: the midpoint of FMR and FNMR where they cross (`get_eer_values`).
    pub eer: f64,
    /// FNMR at the point whose FMR is nearest 1% (`fmr100`).
    pub fmr100: f64,
    /// FNMR at the point whose FMR is nearest 0.1% (`fmr1000`).
    pub fmr1000: f64,
    /// FNMR at the point whose FMR is nearest 0 (`fmr0`, "ZeroFMR").
    pub zero_fmr: f64,
    /// Area under pyeer's ROC (`calculate_roc_auc`).
    pub auc: f64,
    /// d': |mean_g - mean_i| / sqrt((sd_g^2 + sd_i^2) / 2), population standard deviations.
    pub decidability: f64,
}

/// FMR and FNMR at every distinct score `t`, ascending: FMR = impostors `>= t`, FNMR =
/// genuines `< t` (`calculate_roc`).
pub fn rates(genuine: &[f64], impostor: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut all: Vec<(f64, bool)> = genuine
        .iter()
        .map(|&s| (s, true))
        .chain(impostor.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (g, i) = (genuine.len() as f64, impostor.len() as f64);
    let (mut fmr, mut fnmr) = (Vec::new(), Vec::new());
    let mut genuine_below = 0usize;
    for (k, &(score, is_genuine)) in all.iter().enumerate() {
        if k == 0 || all[k - 1].0 != score {
            fnmr.push(genuine_below as f64 / g);
            fmr.push((impostor.len() - (k - genuine_below)) as f64 / i);
        }
        genuine_below += usize::from(is_genuine);
    }
    (fmr, fnmr)
}

/// pyeer's statistics of genuine and impostor similarity scores.
pub fn stats(genuine: &[f64], impostor: &[f64]) -> Result<PyeerStats> {
    check_scores(genuine, impostor)?;
    let (fmr, fnmr) = rates(genuine, impostor);
    let at_fmr = |op: f64| {
        let mut best = 0;
        for k in 1..fmr.len() {
            if (fmr[k] - op).abs() < (fmr[best] - op).abs() {
                best = k;
            }
        }
        fnmr[best]
    };
    let auc = (1..fmr.len())
        .map(|k| {
            let (y1, y2) = (1.0 - fnmr[k - 1], 1.0 - fnmr[k]);
            (fmr[k - 1] - fmr[k]) * (y1 + (y2 - y1) / 2.0)
        })
        .sum();
    let (gm, gs) = mean_std(genuine);
    let (im, is) = mean_std(impostor);
    let decidability = if gs == 0.0 && is == 0.0 {
        1.0
    } else {
        (gm - im).abs() / (0.5 * (gs * gs + is * is)).sqrt()
    };
    Ok(PyeerStats {
        eer: eer(&fmr, &fnmr),
        fmr100: at_fmr(0.01),
        fmr1000: at_fmr(0.001),
        zero_fmr: at_fmr(0.0),
        auc,
        decidability,
    })
}

/// `get_eer_values`: the first point where FMR <= FNMR and the one before it; the one with the
/// smaller FMR + FNMR gives the EER as their mean (1 when the curves never cross).
fn eer(fmr: &[f64], fnmr: &[f64]) -> f64 {
    let Some(t2) = (0..fmr.len()).find(|&k| fmr[k] - fnmr[k] <= 0.0) else {
        return 1.0;
    };
    let t1 = if fmr[t2] - fnmr[t2] != 0.0 && t2 != 0 {
        t2 - 1
    } else {
        t2
    };
    let k = if fmr[t1] + fnmr[t1] <= fmr[t2] + fnmr[t2] {
        t1
    } else {
        t2
    };
    (fnmr[k] + fmr[k]) / 2.0
}

fn mean_std(scores: &[f64]) -> (f64, f64) {
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}
