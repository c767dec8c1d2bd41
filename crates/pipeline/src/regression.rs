//! The CI regression check: a tiny deterministic experiment's metrics against
//! `data/reference/regression.json`, within stated tolerances.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::experiment::Outcome;

/// How far a metric may move before the check fails (absolute, in rate units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    /// Rank-1 (one probe of 36 flipping is 0.028).
    pub rank1: f64,
    /// TAR at FAR 1% and 0.1%.
    pub tar: f64,
    /// AUC and EER.
    pub auc_eer: f64,
    /// Mean absolute pixel difference to the true NIR twins (0..1 scale).
    pub pixel_l1: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Self {
            rank1: 0.06,
            tar: 0.08,
            auc_eer: 0.03,
            pixel_l1: 0.01,
        }
    }
}

/// One row of the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRow {
    /// Method label.
    pub method: String,
    /// Rank-1.
    pub rank1: f64,
    /// TAR@FAR=1%.
    pub tar_far_1e2: f64,
    /// TAR@FAR=0.1%.
    pub tar_far_1e3: f64,
    /// AUC.
    pub auc: f64,
    /// EER.
    pub eer: f64,
    /// Mean absolute difference of the matched gallery to the true NIR twins.
    pub pixel_l1: f64,
}

/// The reference file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// What produced it.
    pub description: String,
    /// Allowed deviations.
    pub tolerances: Tolerances,
    /// Experiment sizes, which must match exactly.
    pub sizes: std::collections::BTreeMap<String, usize>,
    /// Images without a face, which must match exactly.
    pub no_face: usize,
    /// The rows.
    pub rows: Vec<ReferenceRow>,
}

impl Reference {
    /// The reference an outcome would write (`--bless`).
    pub fn from_outcome(outcome: &Outcome, description: &str, tolerances: Tolerances) -> Self {
        Self {
            description: description.to_string(),
            tolerances,
            sizes: outcome.sizes.clone(),
            no_face: outcome.skipped.no_face.values().sum(),
            rows: outcome
                .rows
                .iter()
                .map(|r| ReferenceRow {
                    method: r.method.clone(),
                    rank1: r.rank1,
                    tar_far_1e2: r.tar_far_1e2,
                    tar_far_1e3: r.tar_far_1e3,
                    auc: r.auc,
                    eer: r.eer,
                    pixel_l1: r.pixel_l1.unwrap_or(f64::NAN),
                })
                .collect(),
        }
    }
}

/// One compared quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// `method / metric`.
    pub what: String,
    /// The reference value.
    pub expected: f64,
    /// The measured value.
    pub got: f64,
    /// Allowed absolute deviation.
    pub tolerance: f64,
}

impl Comparison {
    /// Whether the measurement is within tolerance.
    pub fn passed(&self) -> bool {
        (self.got - self.expected).abs() <= self.tolerance
    }
}

/// Compares `got` with `expected` quantity by quantity; rows or sizes missing on either side
/// are failures.
pub fn compare(expected: &Reference, got: &Reference) -> Vec<Comparison> {
    let t = expected.tolerances;
    let mut out = Vec::new();
    let mut push = |what: String, e: f64, g: f64, tol: f64| {
        out.push(Comparison {
            what,
            expected: e,
            got: g,
            tolerance: tol,
        })
    };
    for (k, v) in &expected.sizes {
        let g = got.sizes.get(k).map_or(f64::NAN, |g| *g as f64);
        push(format!("size / {k}"), *v as f64, g, 0.0);
    }
    push(
        "images without a face".into(),
        expected.no_face as f64,
        got.no_face as f64,
        0.0,
    );
    for row in &expected.rows {
        let found = got.rows.iter().find(|r| r.method == row.method);
        let value = |f: fn(&ReferenceRow) -> f64| found.map_or(f64::NAN, f);
        let m = &row.method;
        push(
            format!("{m} / Rank-1"),
            row.rank1,
            value(|r| r.rank1),
            t.rank1,
        );
        push(
            format!("{m} / TAR@FAR=1%"),
            row.tar_far_1e2,
            value(|r| r.tar_far_1e2),
            t.tar,
        );
        push(
            format!("{m} / TAR@FAR=0.1%"),
            row.tar_far_1e3,
            value(|r| r.tar_far_1e3),
            t.tar,
        );
        push(format!("{m} / AUC"), row.auc, value(|r| r.auc), t.auc_eer);
        push(format!("{m} / EER"), row.eer, value(|r| r.eer), t.auc_eer);
        push(
            format!("{m} / pixel L1 to NIR"),
            row.pixel_l1,
            value(|r| r.pixel_l1),
            t.pixel_l1,
        );
    }
    for row in &got.rows {
        if !expected.rows.iter().any(|r| r.method == row.method) {
            push(
                format!("{} (not in the reference)", row.method),
                f64::NAN,
                row.rank1,
                0.0,
            );
        }
    }
    out
}

/// A table of every comparison: expected, got, difference, tolerance, verdict.
pub fn comparison_table(comparisons: &[Comparison]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<36} {:>9} {:>9} {:>9} {:>6}  result",
        "quantity", "expected", "got", "diff", "tol"
    );
    for c in comparisons {
        let _ = writeln!(
            s,
            "{:<36} {:>9.4} {:>9.4} {:>+9.4} {:>6.3}  {}",
            c.what,
            c.expected,
            c.got,
            c.got - c.expected,
            c.tolerance,
            if c.passed() { "ok" } else { "REGRESSION" }
        );
    }
    s
}
