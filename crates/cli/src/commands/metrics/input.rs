//! Reading the scores `visnir metrics` is given, in whichever format they come.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context;
use visnir_metrics::score_file::{self, BobColumns, Comparison};
use visnir_metrics::{csv, ScoreMatrix};

use super::{Format, MatrixIds, ScoreInput};
use crate::exit::{CliError, InputContext};

/// Scores as read, with the file they came from.
pub enum Scores {
    /// `label,score` pairs.
    Labelled(PathBuf, Vec<i64>, Vec<f64>),
    /// bob comparisons.
    Bob(PathBuf, Vec<Comparison>),
    /// pyeer's genuine and impostor lists.
    Pyeer((PathBuf, Vec<f64>), (PathBuf, Vec<f64>)),
    /// A probe x gallery matrix (identities come separately).
    Matrix(PathBuf, ScoreMatrix),
}

impl Scores {
    /// The input file(s), for messages.
    pub fn name(&self) -> String {
        match self {
            Scores::Labelled(p, ..) | Scores::Bob(p, _) | Scores::Matrix(p, _) => {
                p.display().to_string()
            }
            Scores::Pyeer((g, _), (i, _)) => format!("{} and {}", g.display(), i.display()),
        }
    }

    /// (genuine, impostor) scores; a matrix has no labels and is refused.
    pub fn split(self) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
        let name = self.name();
        match self {
            Scores::Labelled(_, labels, scores) => {
                visnir_metrics::split_by_label(&labels, &scores).context(name)
            }
            Scores::Bob(_, comparisons) => Ok(score_file::split_comparisons(&comparisons)),
            Scores::Pyeer((_, genuine), (_, impostor)) => Ok((genuine, impostor)),
            Scores::Matrix(..) => Err(anyhow::anyhow!(
                "{name}: a score matrix has no genuine/impostor labels; use `visnir metrics \
                 identify` with --probe-ids and --gallery-ids, or convert it to a bob file"
            )),
        }
    }
}

/// Reads `input`; `matrix` says a score matrix is expected when the format is not given.
pub fn read(input: &ScoreInput, matrix: bool) -> Result<Scores, CliError> {
    if let (Some(genuine), Some(impostor)) = (&input.genuine, &input.impostor) {
        if input.format.is_some_and(|f| f != Format::Pyeer) {
            return Err(CliError::Input(anyhow::anyhow!(
                "--genuine/--impostor are pyeer lists; --format must be pyeer or omitted"
            )));
        }
        let g = score_file::read_score_list(genuine).input()?;
        let i = score_file::read_score_list(impostor).input()?;
        return Ok(Scores::Pyeer((genuine.clone(), g), (impostor.clone(), i)));
    }
    let Some(path) = &input.scores else {
        return Err(CliError::Input(anyhow::anyhow!(
            "give --scores FILE, or --genuine and --impostor"
        )));
    };
    let kind = match input.format {
        Some(Format::Csv) => Kind::Csv,
        Some(Format::Bob4) => Kind::Bob(Some(BobColumns::Four)),
        Some(Format::Bob5) => Kind::Bob(Some(BobColumns::Five)),
        Some(Format::Matrix) => Kind::Matrix,
        Some(Format::Pyeer) => {
            return Err(CliError::Input(anyhow::anyhow!(
                "{}: pyeer scores come as two files: give --genuine and --impostor",
                path.display()
            )))
        }
        None if matrix => Kind::Matrix,
        None => detect(path).input()?,
    };
    Ok(match kind {
        Kind::Csv => {
            let (labels, scores) = csv::read_labeled_scores(path).input()?;
            Scores::Labelled(path.clone(), labels, scores)
        }
        Kind::Bob(columns) => {
            Scores::Bob(path.clone(), score_file::read_bob(path, columns).input()?)
        }
        Kind::Matrix => Scores::Matrix(path.clone(), csv::read_score_matrix(path).input()?),
    })
}

enum Kind {
    Csv,
    Bob(Option<BobColumns>),
    Matrix,
}

/// A `label,score` header means CSV; anything else is read as a bob file (4 or 5 columns,
/// checked line by line).
fn detect(path: &Path) -> anyhow::Result<Kind> {
    let meta = std::fs::metadata(path).with_context(|| path.display().to_string())?;
    if !meta.is_file() {
        anyhow::bail!(
            "{}: not a regular file (a directory, FIFO or device)",
            path.display()
        );
    }
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut first = String::new();
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| path.display().to_string())?;
        let line = line.trim_start_matches('\u{feff}').trim();
        if !line.is_empty() && !line.starts_with('#') {
            first = line.to_string();
            break;
        }
    }
    let header: Vec<String> = first
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    Ok(if header == ["label", "score"] {
        Kind::Csv
    } else {
        Kind::Bob(None)
    })
}

/// The identities of a score matrix's rows and columns, read from the two lists, which must
/// have one entry per row and column.
pub fn matrix_identities(
    scores_file: &Path,
    scores: &ScoreMatrix,
    ids: &MatrixIds,
) -> Result<(Vec<String>, Vec<String>), CliError> {
    let (Some(probe_file), Some(gallery_file)) = (&ids.probe_ids, &ids.gallery_ids) else {
        return Err(CliError::Input(anyhow::anyhow!(
            "{}: a score matrix needs --probe-ids and --gallery-ids",
            scores_file.display()
        )));
    };
    let probes = csv::read_identities(probe_file).input()?;
    let gallery = csv::read_identities(gallery_file).input()?;
    for (ids, file, what, count, axis) in [
        (&probes, probe_file, "probe", scores.rows(), "rows"),
        (&gallery, gallery_file, "gallery", scores.cols(), "columns"),
    ] {
        if ids.len() != count {
            return Err(CliError::Input(anyhow::anyhow!(
                "{}: the {what} list has {} identities, but the score matrix {} has \
                 {count} {axis} ({what} images)",
                file.display(),
                ids.len(),
                scores_file.display()
            )));
        }
    }
    Ok((probes, gallery))
}
