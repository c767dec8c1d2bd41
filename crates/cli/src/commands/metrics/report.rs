//! What `visnir metrics` prints: JSON objects (the CLI contract, DESIGN.md section 4) and
//! tables, with the bob.measure and pyeer conventions beside visnir's own.

use serde_json::{json, Map, Value};
use visnir_metrics::convention::pyeer::PyeerStats;
use visnir_metrics::{IdentificationReport, VerificationReport};

use crate::exit::CliError;

/// The numbers of one verification read the ways bob.measure and pyeer read them.
#[derive(Debug, Clone)]
pub struct OtherConventions {
    /// bob.measure's EER.
    pub bob_eer: f64,
    /// bob.measure's `(FAR target, TAR, actual FAR)` at its `far_threshold`.
    pub bob_tar_at_far: Vec<(f64, f64, f64)>,
    /// pyeer's statistics.
    pub pyeer: PyeerStats,
}

pub fn emit(as_json: bool, json: &Value, table: impl FnOnce() -> String) -> Result<(), CliError> {
    let text = if as_json {
        serde_json::to_string_pretty(json)?
    } else {
        table()
    };
    println!("{text}");
    Ok(())
}

/// A FAR target as printed: its shortest decimal form (`0.01`), or the exponent form (`1e-300`)
/// when the decimal one would be longer than 12 characters.
fn far_key(far: f64) -> String {
    let decimal = far.to_string();
    if decimal.len() > 12 {
        format!("{far:e}")
    } else {
        decimal
    }
}

/// JSON numbers cannot be infinite: the threshold that accepts nothing is written as `null`.
fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// The verification object of the CLI contract (DESIGN.md section 4).
pub fn verification_json(report: &VerificationReport) -> Value {
    let mut tar_at_far = Map::new();
    for t in &report.tar_at_far {
        tar_at_far.insert(
            far_key(t.target),
            json!({
                "tar": number(t.step.tar),
                "far": number(t.step.far),
                "threshold": number(t.step.threshold),
                "interpolated": number(t.interpolated),
                "nearest": {
                    "tar": number(t.nearest.tar),
                    "far": number(t.nearest.far),
                    "threshold": number(t.nearest.threshold),
                },
            }),
        );
    }
    json!({
        "n_genuine": report.n_genuine,
        "n_impostor": report.n_impostor,
        "auc": number(report.auc),
        "eer": number(report.eer.rate),
        "eer_threshold": number(report.eer.threshold),
        "tar_at_far": tar_at_far,
    })
}

pub fn identification_json(report: &IdentificationReport) -> Value {
    let cmc: Map<String, Value> = report
        .cmc
        .iter()
        .map(|(rank, value)| (rank.to_string(), number(*value)))
        .collect();
    json!({
        "n_probe": report.n_probe,
        "n_gallery": report.n_gallery,
        "rank1": number(report.rank1),
        "cmc": cmc,
        "verification": verification_json(&report.verification),
    })
}

pub fn verification_table(report: &VerificationReport) -> String {
    let mut out = format!(
        "pairs      {} genuine, {} impostor\nAUC        {:.6}\nEER        {:.4}% at threshold {:.6}\n\n",
        report.n_genuine,
        report.n_impostor,
        report.auc,
        100.0 * report.eer.rate,
        report.eer.threshold
    );
    out.push_str(&format!(
        "{:>10}  {:>9}  {:>10}  {:>10}  {:>12}  {:>11}\n",
        "FAR", "TAR", "actual FAR", "threshold", "interpolated", "nearest TAR"
    ));
    for t in &report.tar_at_far {
        out.push_str(&format!(
            "{:>10}  {:>8.4}%  {:>9.5}%  {:>10.6}  {:>11.4}%  {:>10.4}%\n",
            far_key(t.target),
            100.0 * t.step.tar,
            100.0 * t.step.far,
            t.step.threshold,
            100.0 * t.interpolated,
            100.0 * t.nearest.tar
        ));
    }
    out.trim_end().to_string()
}

pub fn identification_table(report: &IdentificationReport) -> String {
    let mut out = format!(
        "probes     {}\ngallery    {}\nRank-1     {:.4}%\n",
        report.n_probe,
        report.n_gallery,
        100.0 * report.rank1
    );
    for (rank, value) in &report.cmc {
        out.push_str(&format!("CMC@{rank:<6} {:.4}%\n", 100.0 * value));
    }
    out.push_str("\nall probe x gallery pairs:\n");
    out.push_str(&verification_table(&report.verification));
    out
}

/// The bob.measure and pyeer numbers as a JSON object.
pub fn conventions_json(other: &OtherConventions) -> Value {
    let tar: Map<String, Value> = other
        .bob_tar_at_far
        .iter()
        .map(|&(target, tar, far)| {
            (
                far_key(target),
                json!({"tar": number(tar), "far": number(far)}),
            )
        })
        .collect();
    json!({
        "bob": {"eer": number(other.bob_eer), "tar_at_far": tar},
        "pyeer": {
            "eer": number(other.pyeer.eer),
            "fmr100": number(other.pyeer.fmr100),
            "fmr1000": number(other.pyeer.fmr1000),
            "zero_fmr": number(other.pyeer.zero_fmr),
            "auc": number(other.pyeer.auc),
            "decidability": number(other.pyeer.decidability),
        },
    })
}

/// The bob.measure and pyeer numbers as table lines.
pub fn conventions_table(other: &OtherConventions) -> String {
    let mut out = format!("\nbob.measure  EER {:.4}%", 100.0 * other.bob_eer);
    for (target, tar, far) in &other.bob_tar_at_far {
        out.push_str(&format!(
            ", TAR {:.4}% at FAR {} (actual {:.5}%)",
            100.0 * tar,
            far_key(*target),
            100.0 * far
        ));
    }
    let p = &other.pyeer;
    out.push_str(&format!(
        "\npyeer        EER {:.4}%, FMR100 {:.4}%, FMR1000 {:.4}%, ZeroFMR {:.4}% (FNMR), AUC {:.6}, d' {:.4}",
        100.0 * p.eer,
        100.0 * p.fmr100,
        100.0 * p.fmr1000,
        100.0 * p.zero_fmr,
        p.auc,
        p.decidability
    ));
    out
}
