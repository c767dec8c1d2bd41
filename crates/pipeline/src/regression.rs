//! The CI regression check of a small deterministic experiment, in two parts. What is
//! reproducible to rounding (sizes, faces found, the no-translation row: data, alignment,
//! embedder, metrics) is compared tightly with `data/reference/regression.json`. What training
//! produces moves with every change of summation order, so the trained rows are checked by
//! properties with margins instead: each model must have learned (translations closer to the
//! true NIR than the VIS photos, pixel consistency closer still, falling generator and
//! discriminator losses).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{io_error, Result};
use crate::evaluate::{RowMetrics, ScoreHistogram};
use crate::experiment::{methods, ExperimentConfig, Outcome, Select};
use crate::method::Method;
use crate::scale::Scale;
use visnir_datasets::PairedLayout;

/// A row's metrics as the reference stores them.
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
    /// Mean absolute difference of the gallery to the true NIR twins.
    pub pixel_l1: f64,
}

impl From<&RowMetrics> for ReferenceRow {
    fn from(r: &RowMetrics) -> Self {
        Self {
            method: r.method.clone(),
            rank1: r.rank1,
            tar_far_1e2: r.tar_far_1e2,
            tar_far_1e3: r.tar_far_1e3,
            auc: r.auc,
            eer: r.eer,
            pixel_l1: r.pixel_l1.unwrap_or(f64::NAN),
        }
    }
}

/// The reference file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// What produced it.
    pub description: String,
    /// Experiment sizes, which must match exactly.
    pub sizes: BTreeMap<String, usize>,
    /// Images without a face, which must match exactly.
    pub no_face: usize,
    /// The no-translation row, compared within `tolerance`.
    pub no_translation: ReferenceRow,
    /// How far a no-translation metric may move (rounding of the embedder only).
    pub tolerance: f64,
    /// The trained rows when the reference was written: for information, never compared.
    pub trained: Vec<ReferenceRow>,
}

impl Reference {
    /// The reference an outcome would write (`--bless`).
    pub fn from_outcome(outcome: &Outcome, description: &str, tolerance: f64) -> Self {
        let no_translation = outcome
            .rows
            .iter()
            .find(|r| r.method == Method::NoTranslation.label())
            .map_or_else(
                || ReferenceRow::from(&missing_row(Method::NoTranslation.label())),
                ReferenceRow::from,
            );
        Self {
            description: description.to_string(),
            sizes: outcome.sizes.clone(),
            no_face: outcome.skipped.no_face.values().sum(),
            no_translation,
            tolerance,
            trained: outcome
                .rows
                .iter()
                .filter(|r| r.method != Method::NoTranslation.label())
                .map(ReferenceRow::from)
                .collect(),
        }
    }
}

fn missing_row(method: &str) -> RowMetrics {
    RowMetrics {
        method: method.to_string(),
        rank1: f64::NAN,
        tar_far_1e2: f64::NAN,
        tar_far_1e3: f64::NAN,
        auc: f64::NAN,
        eer: f64::NAN,
        pixel_l1: None,
        roc: Vec::new(),
        cmc: Vec::new(),
        scores: ScoreHistogram {
            bins: 0,
            genuine: Vec::new(),
            impostor: Vec::new(),
            eer_threshold: f64::NAN,
            far_thresholds: [f64::NAN; 2],
        },
        intervals: None,
        quality: None,
        error_map: None,
    }
}

/// How a checked quantity must relate to its reference value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Within `tolerance` of the reference.
    Equal,
    /// At most the bound.
    AtMost,
}

/// One checked quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What it is, e.g. `No translation / Rank-1` or `FFE + Lpc: pixel L1 / no translation's`.
    pub what: String,
    /// The reference value or the bound.
    pub expected: f64,
    /// The measured value.
    pub got: f64,
    /// Allowed absolute deviation (`Equal` only).
    pub tolerance: f64,
    /// Equality or an upper bound.
    pub check: Check,
}

impl Comparison {
    /// Whether the measurement passes (a NaN never does).
    pub fn passed(&self) -> bool {
        match self.check {
            Check::Equal => (self.got - self.expected).abs() <= self.tolerance,
            Check::AtMost => self.got <= self.expected,
        }
    }
}

/// Compares the reproducible part of `got` with `expected`: sizes, faces found and the
/// no-translation row; sizes missing on either side are failures.
pub fn compare(expected: &Reference, got: &Reference) -> Vec<Comparison> {
    let mut out = Vec::new();
    let mut push = |what: String, e: f64, g: f64, tolerance: f64| {
        out.push(Comparison {
            what,
            expected: e,
            got: g,
            tolerance,
            check: Check::Equal,
        })
    };
    for (k, v) in &expected.sizes {
        let g = got.sizes.get(k).map_or(f64::NAN, |g| *g as f64);
        push(format!("size / {k}"), *v as f64, g, 0.0);
    }
    for k in got
        .sizes
        .keys()
        .filter(|k| !expected.sizes.contains_key(*k))
    {
        push(
            format!("size / {k} (not in the reference)"),
            f64::NAN,
            0.0,
            0.0,
        );
    }
    push(
        "images without a face".into(),
        expected.no_face as f64,
        got.no_face as f64,
        0.0,
    );
    let (e, g, t) = (
        &expected.no_translation,
        &got.no_translation,
        expected.tolerance,
    );
    let m = &e.method;
    push(format!("{m} / Rank-1"), e.rank1, g.rank1, t);
    push(format!("{m} / TAR@FAR=1%"), e.tar_far_1e2, g.tar_far_1e2, t);
    push(
        format!("{m} / TAR@FAR=0.1%"),
        e.tar_far_1e3,
        g.tar_far_1e3,
        t,
    );
    push(format!("{m} / AUC"), e.auc, g.auc, t);
    push(format!("{m} / EER"), e.eer, g.eer, t);
    push(format!("{m} / pixel L1 to NIR"), e.pixel_l1, g.pixel_l1, t);
    out
}

/// The experiment `cargo xtask regress` runs into `out`: Table II's pipeline on synthetic Oulu
/// data at the `tiny` scale trained for 6 + 4 epochs, seed 0, on the CPU.
pub fn regression_experiment(out: &Path) -> ExperimentConfig {
    let mut settings = Scale::Tiny.settings();
    settings.n_epochs = 6;
    settings.n_epochs_decay = 4;
    ExperimentConfig {
        layout: PairedLayout::Oulu,
        data: None,
        protocol: None,
        scale: Scale::Tiny,
        settings,
        methods: methods(false),
        device: candle_core::Device::Cpu,
        out: out.to_path_buf(),
        seed: 0,
        select: Select::Last,
        training_seed: None,
        bootstrap: 0,
        adjust: None,
    }
}

/// Bounds of the learning checks.
const L1_TO_NIR: f64 = 0.75;
const LOSS_FALL: f64 = 0.8;
const D_LOSS_END: f64 = 0.8;

/// The learning properties of every trained row of `outcome`: its translations' pixel L1 to
/// the true NIR at most 0.75 x the untranslated gallery's; the mean generator loss of the last
/// tenth of the iterations at most 0.8 x that of the first tenth, and so the pixel-consistency
/// term where the method has one; the two discriminators' summed loss over the last tenth at
/// most 0.8 (discriminators that never learn output about 0 everywhere and score 1.0).
pub fn learning_checks(outcome: &Outcome) -> Result<Vec<Comparison>> {
    let l1 = |m: Method| {
        outcome
            .rows
            .iter()
            .find(|r| r.method == m.label())
            .and_then(|r| r.pixel_l1)
            .unwrap_or(f64::NAN)
    };
    let mut out = Vec::new();
    let mut bound = |what: String, got: f64, expected: f64| {
        out.push(Comparison {
            what,
            expected,
            got,
            tolerance: 0.0,
            check: Check::AtMost,
        })
    };
    let untranslated = l1(Method::NoTranslation);
    for (method, log) in &outcome.loss_logs {
        let name = method.label();
        bound(
            format!("{name}: pixel L1 / no translation's"),
            l1(*method) / untranslated,
            L1_TO_NIR,
        );
        let log = LossLog::read(log)?;
        bound(
            format!("{name}: G loss, last / first tenth"),
            log.fall(|s| s.g),
            LOSS_FALL,
        );
        if method.model().is_some_and(|(_, w)| w.pixel > 0.0) {
            bound(
                format!("{name}: pixel term, last / first tenth"),
                log.fall(|s| s.pixel),
                LOSS_FALL,
            );
        }
        bound(
            format!("{name}: D_A + D_B, last tenth"),
            log.last_tenth(|s| s.d),
            D_LOSS_END,
        );
    }
    Ok(out)
}

/// The losses of one logged iteration that the checks read.
struct Logged {
    g: f64,
    pixel: f64,
    d: f64,
}

/// A model's `losses.jsonl`.
struct LossLog(Vec<Logged>);

impl LossLog {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
        let mut steps = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| io_error(path, format!("line {}: {e}", i + 1)))?;
            let get = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            steps.push(Logged {
                g: get("G"),
                pixel: get("pix_A") + get("pix_B"),
                d: get("D_A") + get("D_B"),
            });
        }
        Ok(Self(steps))
    }

    /// The mean of `f` over the first and the last tenth of the iterations (NaN when empty).
    fn tenths(&self, f: fn(&Logged) -> f64) -> (f64, f64) {
        let n = self.0.len();
        let tenth = (n / 10).max(1).min(n);
        let mean = |part: &[Logged]| part.iter().map(f).sum::<f64>() / part.len() as f64;
        (mean(&self.0[..tenth]), mean(&self.0[n - tenth..]))
    }

    fn fall(&self, f: fn(&Logged) -> f64) -> f64 {
        let (first, last) = self.tenths(f);
        last / first
    }

    fn last_tenth(&self, f: fn(&Logged) -> f64) -> f64 {
        self.tenths(f).1
    }
}

/// A table of every comparison: expected (or bound), got, difference, tolerance, verdict.
pub fn comparison_table(comparisons: &[Comparison]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<44} {:>9} {:>9} {:>9} {:>6}  result",
        "quantity", "expected", "got", "diff", "tol"
    );
    for c in comparisons {
        let tol = match c.check {
            Check::Equal => format!("{:.3}", c.tolerance),
            Check::AtMost => "<=".to_string(),
        };
        let _ = writeln!(
            s,
            "{:<44} {:>9.4} {:>9.4} {:>+9.4} {:>6}  {}",
            c.what,
            c.expected,
            c.got,
            c.got - c.expected,
            tol,
            if c.passed() { "ok" } else { "REGRESSION" }
        );
    }
    s
}
