//! `visnir metrics verify|identify`: evaluation numbers from score files.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use visnir_metrics::{csv, identify, verify, IdentificationReport, VerificationReport};

use crate::exit::{CliError, InputContext};

/// The `metrics` subcommands.
#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// Verification metrics from a `label,score` CSV (label 1 = same identity, 0 = different).
    Verify(VerifyArgs),
    /// Identification metrics from a probe x gallery score matrix and two identity lists.
    Identify(IdentifyArgs),
}

/// Arguments of `visnir metrics verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// CSV with header `label,score`; one pair per line, accepted iff score >= threshold.
    #[arg(long)]
    pairs: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

/// Arguments of `visnir metrics identify`.
#[derive(Debug, Args)]
pub struct IdentifyArgs {
    /// Score matrix CSV: one row per probe, one column per gallery image, `#` lines ignored.
    #[arg(long)]
    scores: PathBuf,
    /// CSV `probe_index,identity` giving each row's identity.
    #[arg(long)]
    probe_ids: PathBuf,
    /// CSV `gallery_index,identity` giving each column's identity.
    #[arg(long)]
    gallery_ids: PathBuf,
    /// Ranks at which the CMC curve is reported.
    #[arg(long, value_delimiter = ',', default_value = "1,5,10")]
    ranks: Vec<usize>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// FAR targets for TAR@FAR, each in (0, 1].
    #[arg(long, value_delimiter = ',', default_value = "1e-2,1e-3")]
    far: Vec<f64>,
    /// Print JSON to stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs a `metrics` subcommand.
pub fn run(command: MetricsCommand) -> Result<(), CliError> {
    match command {
        MetricsCommand::Verify(args) => {
            let (labels, scores) = csv::read_labeled_scores(&args.pairs).input()?;
            let (genuine, impostor) = visnir_metrics::split_by_label(&labels, &scores)
                .with_context(|| args.pairs.display().to_string())
                .input()?;
            let report = verify(&genuine, &impostor, &args.common.far)
                .with_context(|| args.pairs.display().to_string())
                .input()?;
            let json = verification_json(&report);
            emit(args.common.json, &json, || verification_table(&report))
        }
        MetricsCommand::Identify(args) => {
            let scores = csv::read_score_matrix(&args.scores).input()?;
            let probes = csv::read_identities(&args.probe_ids).input()?;
            let gallery = csv::read_identities(&args.gallery_ids).input()?;
            for (ids, file, what, count, axis) in [
                (&probes, &args.probe_ids, "probe", scores.rows(), "rows"),
                (
                    &gallery,
                    &args.gallery_ids,
                    "gallery",
                    scores.cols(),
                    "columns",
                ),
            ] {
                if ids.len() != count {
                    return Err(CliError::Input(anyhow::anyhow!(
                        "{}: the {what} list has {} identities, but the score matrix {} has \
                         {count} {axis} ({what} images)",
                        file.display(),
                        ids.len(),
                        args.scores.display()
                    )));
                }
            }
            let report = identify(&scores, &probes, &gallery, &args.ranks, &args.common.far)
                .with_context(|| args.scores.display().to_string())
                .input()?;
            let json = identification_json(&report);
            emit(args.common.json, &json, || identification_table(&report))
        }
    }
}

fn emit(as_json: bool, json: &Value, table: impl FnOnce() -> String) -> Result<(), CliError> {
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

fn identification_json(report: &IdentificationReport) -> Value {
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

fn verification_table(report: &VerificationReport) -> String {
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

fn identification_table(report: &IdentificationReport) -> String {
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
