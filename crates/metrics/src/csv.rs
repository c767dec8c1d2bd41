//! Readers for the plain CSV files the metrics are computed from, with errors that name the
//! file and line.
//!
//! - labelled scores: header `label,score`, then one `0|1,score` per line;
//! - score matrix: one probe per line, comma-separated gallery scores, `#` lines are comments;
//! - identity lists: header `<role>_index,identity`, then `index,identity` per line.

use std::path::{Path, PathBuf};

use crate::error::{MetricsError, Result};
use crate::identification::ScoreMatrix;

/// Reads a `label,score` file into (labels, scores).
pub fn read_labeled_scores(path: &Path) -> Result<(Vec<i64>, Vec<f64>)> {
    let text = read_text(path)?;
    let mut lines = data_lines(&text);
    let at = Location { path };
    let (line, header) = lines
        .next()
        .ok_or_else(|| at.error(1, "empty file: expected a `label,score` header"))?;
    if cells(header)
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        != ["label", "score"]
    {
        return Err(at.error(
            line,
            format!("bad header `{header}`: expected `label,score`"),
        ));
    }
    let (mut labels, mut scores) = (Vec::new(), Vec::new());
    for (line, text) in lines {
        let row = at.row::<2>(line, text)?;
        let label = match row[0] {
            "0" => 0,
            "1" => 1,
            other => return Err(at.error(line, format!("label `{other}` is not 0 or 1"))),
        };
        labels.push(label);
        scores.push(at.score(line, row[1])?);
    }
    Ok((labels, scores))
}

/// Reads a probe x gallery score matrix (no header; `#` lines are comments).
pub fn read_score_matrix(path: &Path) -> Result<ScoreMatrix> {
    let text = read_text(path)?;
    let at = Location { path };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (line, text) in data_lines(&text) {
        let row = cells(text)
            .map(|cell| at.score(line, cell))
            .collect::<Result<Vec<_>>>()?;
        if let Some(first) = rows.first() {
            if row.len() != first.len() {
                return Err(at.error(
                    line,
                    format!(
                        "{} columns, expected {} like the first row",
                        row.len(),
                        first.len()
                    ),
                ));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(at.error(1, "no rows: expected one line of scores per probe"));
    }
    ScoreMatrix::from_rows(rows)
}

/// Reads an `<role>_index,identity` file into identities ordered by index.
pub fn read_identities(path: &Path) -> Result<Vec<String>> {
    let text = read_text(path)?;
    let at = Location { path };
    let mut lines = data_lines(&text);
    let (line, header) = lines
        .next()
        .ok_or_else(|| at.error(1, "empty file: expected an `index,identity` header"))?;
    let names: Vec<String> = cells(header).map(str::to_ascii_lowercase).collect();
    if names.len() != 2 || !names[0].ends_with("index") || names[1] != "identity" {
        return Err(at.error(
            line,
            format!("bad header `{header}`: expected `<role>_index,identity`"),
        ));
    }
    let rows: Vec<(usize, &str)> = lines.collect();
    // Indices number the rows 0..n-1 in any order: one beyond that cannot be filled.
    let mut slots: Vec<Option<String>> = vec![None; rows.len()];
    for (line, text) in rows {
        let row = at.row::<2>(line, text)?;
        let index: usize = row[0].parse().map_err(|_| {
            at.error(
                line,
                format!("index `{}` is not a non-negative integer", row[0]),
            )
        })?;
        if index >= slots.len() {
            return Err(at.error(
                line,
                format!(
                    "index {index} is out of range: the file lists {} identities, indexed 0 to {}",
                    slots.len(),
                    slots.len() - 1
                ),
            ));
        }
        if slots[index].replace(row[1].to_string()).is_some() {
            return Err(at.error(line, format!("index {index} appears twice")));
        }
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(index, id)| id.ok_or_else(|| at.error(0, format!("index {index} is missing"))))
        .collect()
}

/// The file's text, without the byte-order mark spreadsheet programs put before a header.
/// A FIFO or device is refused rather than read (its read could block forever).
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let io = |source| MetricsError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(io(std::io::Error::other(
            "not a regular file (a directory, FIFO or device)",
        )));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Non-empty, non-comment lines with their 1-based line numbers.
pub(crate) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

fn cells(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(str::trim)
}

pub(crate) struct Location<'a> {
    pub(crate) path: &'a Path,
}

impl Location<'_> {
    pub(crate) fn error(&self, line: usize, message: impl Into<String>) -> MetricsError {
        MetricsError::Parse {
            path: PathBuf::from(self.path),
            line,
            message: message.into(),
        }
    }

    fn row<'t, const N: usize>(&self, line: usize, text: &'t str) -> Result<[&'t str; N]> {
        let row: Vec<&str> = cells(text).collect();
        row.try_into().map_err(|row: Vec<&str>| {
            self.error(line, format!("{} columns, expected {N}", row.len()))
        })
    }

    pub(crate) fn score(&self, line: usize, cell: &str) -> Result<f64> {
        let value: f64 = cell
            .parse()
            .map_err(|_| self.error(line, format!("`{cell}` is not a number")))?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(self.error(line, format!("score `{cell}` is not finite")))
        }
    }
}
