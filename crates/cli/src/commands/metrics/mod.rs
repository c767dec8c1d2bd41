//! `visnir metrics verify|identify|convert`: evaluation numbers from score files, in visnir's
//! CSV files, Idiap bob's 4- and 5-column files or pyeer's genuine / impostor lists.

mod convert;
mod input;
mod report;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use visnir_metrics::convention::{bob, pyeer};
use visnir_metrics::score_file::scores_by_probe;
use visnir_metrics::{identify, verify};

use crate::exit::{CliError, InputContext};
use input::Scores;
use report::OtherConventions;

/// The `metrics` subcommands.
#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// Verification metrics (ROC, EER, TAR@FAR) of genuine and impostor scores, with the same
    /// numbers as bob.measure and pyeer compute them.
    Verify(VerifyArgs),
    /// Identification metrics (Rank-1, CMC) from a probe x gallery score matrix with two
    /// identity lists, or from a bob score file.
    Identify(IdentifyArgs),
    /// Converts scores between visnir's CSV files, bob's 4/5-column files and pyeer's lists.
    Convert(convert::ConvertArgs),
}

/// The formats a score file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `label,score` CSV (label 1 = same identity, 0 = different).
    Csv,
    /// bob 4 columns: `claimed_id real_id test_label score`.
    Bob4,
    /// bob 5 columns: `claimed_id model_label real_id test_label score`.
    Bob5,
    /// pyeer: a genuine and an impostor file, one score per line.
    Pyeer,
    /// visnir's probe x gallery matrix CSV with `--probe-ids` and `--gallery-ids`.
    Matrix,
}

/// Where the scores come from: one file (`--scores`, format detected or given) or pyeer's pair.
#[derive(Debug, Args)]
pub struct ScoreInput {
    /// A score file: `label,score` CSV, a bob 4/5-column file or (identify) a score matrix.
    #[arg(long, visible_alias = "pairs", required_unless_present = "genuine")]
    scores: Option<PathBuf>,
    /// pyeer's genuine score list (one score per line), with `--impostor`.
    #[arg(long, requires = "impostor", conflicts_with = "scores")]
    genuine: Option<PathBuf>,
    /// pyeer's impostor score list (one score per line), with `--genuine`.
    #[arg(long, requires = "genuine")]
    impostor: Option<PathBuf>,
    /// The format of `--scores`; detected when omitted (a `label,score` header is CSV, 4 or 5
    /// whitespace-separated fields are bob, `--probe-ids` means a matrix).
    #[arg(long)]
    format: Option<Format>,
}

/// The identity lists of a score matrix's rows and columns; given, they mark `--scores` as a
/// matrix.
#[derive(Debug, Args)]
pub struct MatrixIds {
    /// CSV `probe_index,identity` giving each matrix row's identity.
    #[arg(long, requires = "gallery_ids")]
    probe_ids: Option<PathBuf>,
    /// CSV `gallery_index,identity` giving each matrix column's identity.
    #[arg(long, requires = "probe_ids")]
    gallery_ids: Option<PathBuf>,
}

/// Arguments of `visnir metrics verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    input: ScoreInput,
    #[command(flatten)]
    common: CommonArgs,
}

/// Arguments of `visnir metrics identify`.
#[derive(Debug, Args)]
pub struct IdentifyArgs {
    #[command(flatten)]
    input: ScoreInput,
    #[command(flatten)]
    ids: MatrixIds,
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
            let scores = input::read(&args.input, false)?;
            let name = scores.name();
            let (genuine, impostor) = scores.split().input()?;
            let report = verify(&genuine, &impostor, &args.common.far)
                .with_context(|| name.clone())
                .input()?;
            let other = other_conventions(&genuine, &impostor, &args.common.far)
                .with_context(|| name.clone())
                .input()?;
            let mut json = report::verification_json(&report);
            json["conventions"] = report::conventions_json(&other);
            report::emit(args.common.json, &json, || {
                report::verification_table(&report) + &report::conventions_table(&other)
            })
        }
        MetricsCommand::Identify(args) => identify_command(args),
        MetricsCommand::Convert(args) => convert::run(args),
    }
}

fn identify_command(args: IdentifyArgs) -> Result<(), CliError> {
    let scores = input::read(&args.input, args.ids.probe_ids.is_some())?;
    let name = scores.name();
    let Scores::Matrix(path, matrix) = scores else {
        let Scores::Bob(path, comparisons) = scores else {
            return Err(CliError::Input(anyhow::anyhow!(
                "{name}: identification needs probe and gallery identities: a bob score file \
                 or a score matrix with --probe-ids and --gallery-ids"
            )));
        };
        let by_probe = scores_by_probe(&comparisons);
        let mut cmc = Vec::new();
        for &rank in &args.ranks {
            cmc.push((
                rank,
                bob::recognition_rate(&by_probe, rank)
                    .with_context(|| path.display().to_string())
                    .input()?,
            ));
        }
        let (genuine, impostor) = visnir_metrics::score_file::split_comparisons(&comparisons);
        let verification = verify(&genuine, &impostor, &args.common.far)
            .with_context(|| path.display().to_string())
            .input()?;
        let report = visnir_metrics::IdentificationReport {
            n_probe: by_probe.len(),
            n_gallery: comparisons
                .iter()
                .map(|c| (&c.claimed_id, &c.model_label))
                .collect::<std::collections::HashSet<_>>()
                .len(),
            rank1: bob::recognition_rate(&by_probe, 1).input()?,
            cmc,
            verification,
        };
        let json = report::identification_json(&report);
        return report::emit(args.common.json, &json, || {
            report::identification_table(&report)
        });
    };
    let (probes, gallery) = input::matrix_identities(&path, &matrix, &args.ids)?;
    let report = identify(&matrix, &probes, &gallery, &args.ranks, &args.common.far)
        .with_context(|| path.display().to_string())
        .input()?;
    let json = report::identification_json(&report);
    report::emit(args.common.json, &json, || {
        report::identification_table(&report)
    })
}

/// bob.measure's and pyeer's readings of the same scores.
fn other_conventions(
    genuine: &[f64],
    impostor: &[f64],
    far_targets: &[f64],
) -> visnir_metrics::Result<OtherConventions> {
    // bob's far_threshold needs two negatives; with fewer it reports nothing.
    let bob_targets = if impostor.len() >= 2 {
        far_targets
    } else {
        &[]
    };
    let bob_tar_at_far = bob_targets
        .iter()
        .map(|&target| {
            let (tar, far) = bob::tar_at_far(impostor, genuine, target)?;
            Ok((target, tar, far))
        })
        .collect::<visnir_metrics::Result<Vec<_>>>()?;
    Ok(OtherConventions {
        bob_eer: bob::eer(impostor, genuine)?,
        bob_tar_at_far,
        pyeer: pyeer::stats(genuine, impostor)?,
    })
}
