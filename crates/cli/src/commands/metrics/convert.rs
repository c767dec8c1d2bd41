//! `visnir metrics convert`: scores from one format into another, so that visnir's results can
//! be read by bob and pyeer and theirs by visnir.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use visnir_metrics::score_file::{self, BobColumns, Comparison};

use super::input::{self, Scores};
use super::{Format, MatrixIds, ScoreInput};
use crate::exit::{CliError, InputContext};

/// Arguments of `visnir metrics convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    input: ScoreInput,
    #[command(flatten)]
    ids: MatrixIds,
    /// The format to write: csv, bob4, bob5 (need identities: from a bob file or a matrix with
    /// its identity lists) or pyeer (a folder with `genuine.txt` and `impostor.txt`).
    #[arg(long)]
    to: Format,
    /// The file to write (a folder for pyeer); an input file is never overwritten.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `visnir metrics convert`.
pub fn run(args: ConvertArgs) -> Result<(), CliError> {
    let scores = input::read(&args.input, args.ids.probe_ids.is_some())?;
    let name = scores.name();
    let inputs: Vec<&PathBuf> = [
        &args.input.scores,
        &args.input.genuine,
        &args.input.impostor,
    ]
    .into_iter()
    .flatten()
    .collect();
    let comparisons = match scores {
        Scores::Bob(_, comparisons) => Some(comparisons),
        Scores::Matrix(path, matrix) => {
            let (probes, gallery) = input::matrix_identities(&path, &matrix, &args.ids)?;
            let labels = |what: &str, n: usize| -> Vec<String> {
                (0..n).map(|i| format!("{what}_{i}")).collect()
            };
            Some(
                score_file::comparisons_from_matrix(
                    &matrix,
                    &probes,
                    &labels("probe", probes.len()),
                    &gallery,
                    &labels("gallery", gallery.len()),
                )
                .with_context(|| path.display().to_string())
                .input()?,
            )
        }
        other => {
            if matches!(args.to, Format::Bob4 | Format::Bob5) {
                return Err(CliError::Input(anyhow::anyhow!(
                    "{name}: has no identities, so it cannot become a bob file (convert a bob \
                     file or a score matrix with its identity lists)"
                )));
            }
            let (genuine, impostor) = other.split().input()?;
            return write(&args.to, &args.out, &inputs, None, (&genuine, &impostor));
        }
    };
    let comparisons = comparisons.unwrap_or_default();
    if args.to == Format::Bob5 && comparisons.iter().any(|c| c.model_label.is_none()) {
        return Err(CliError::Input(anyhow::anyhow!(
            "{name}: a 4-column file has no model labels, so it cannot become a 5-column file \
             (convert to bob4, pyeer or csv)"
        )));
    }
    let (genuine, impostor) = score_file::split_comparisons(&comparisons);
    write(
        &args.to,
        &args.out,
        &inputs,
        Some(&comparisons),
        (&genuine, &impostor),
    )
}

fn write(
    to: &Format,
    out: &Path,
    inputs: &[&PathBuf],
    comparisons: Option<&[Comparison]>,
    (genuine, impostor): (&[f64], &[f64]),
) -> Result<(), CliError> {
    let targets: Vec<PathBuf> = match to {
        Format::Pyeer => vec![out.join("genuine.txt"), out.join("impostor.txt")],
        Format::Matrix => {
            return Err(CliError::Input(anyhow::anyhow!(
                "--to matrix is not supported: a matrix needs every probe x gallery score"
            )))
        }
        _ => vec![out.to_path_buf()],
    };
    for target in &targets {
        refuse_input(target, inputs)?;
    }
    let mut text = Vec::new();
    let mut files = Vec::new();
    match (to, comparisons) {
        (Format::Bob4 | Format::Bob5, Some(comparisons)) => {
            let columns = if *to == Format::Bob5 {
                BobColumns::Five
            } else {
                BobColumns::Four
            };
            score_file::write_bob(&mut text, comparisons, columns).input()?;
            files.push((targets[0].clone(), std::mem::take(&mut text)));
        }
        (Format::Pyeer, _) => {
            for (target, scores) in targets.iter().zip([genuine, impostor]) {
                score_file::write_score_list(&mut text, scores).input()?;
                files.push((target.clone(), std::mem::take(&mut text)));
            }
        }
        (Format::Csv, _) => {
            writeln!(text, "label,score")?;
            for s in genuine {
                writeln!(text, "1,{s}")?;
            }
            for s in impostor {
                writeln!(text, "0,{s}")?;
            }
            files.push((targets[0].clone(), text));
        }
        _ => {
            return Err(CliError::Input(anyhow::anyhow!(
                "these scores have no identities to write as a bob file"
            )))
        }
    }
    if *to == Format::Pyeer {
        std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    }
    for (target, bytes) in files {
        std::fs::write(&target, bytes).with_context(|| target.display().to_string())?;
        eprintln!("wrote {}", target.display());
    }
    Ok(())
}

/// Writing over an input would destroy it: refused.
fn refuse_input(target: &Path, inputs: &[&PathBuf]) -> Result<(), CliError> {
    let Ok(target_real) = target.canonicalize() else {
        return Ok(());
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|p| p == target_real) {
            return Err(CliError::Input(anyhow::anyhow!(
                "{}: is an input of this conversion; write to another file",
                target.display()
            )));
        }
    }
    Ok(())
}
