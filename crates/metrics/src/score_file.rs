//! Score files of the biometrics community's tools: Idiap bob's 4- and 5-column files and
//! pyeer's genuine / impostor lists, read and written with errors that name the file and line.
//!
//! - bob 4 columns: `claimed_id real_id test_label score`;
//! - bob 5 columns: `claimed_id model_label real_id test_label score`;
//!
//! whitespace-separated, no header, `#` lines are comments; a comparison is genuine iff
//! `claimed_id == real_id`. pyeer reads two files with one score per line, the genuine and the
//! impostor scores.

use std::io::Write;
use std::path::Path;

use crate::csv::{data_lines, read_text, Location};
use crate::error::{MetricsError, Result};
use crate::identification::ScoreMatrix;

/// One line of a bob score file: a gallery model compared with a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The identity the model (gallery template) belongs to.
    pub claimed_id: String,
    /// The model's own label (5-column files only).
    pub model_label: Option<String>,
    /// The identity of the probe.
    pub real_id: String,
    /// The probe's label, usually its file name.
    pub test_label: String,
    /// The similarity: higher means more alike.
    pub score: f64,
}

impl Comparison {
    /// Whether model and probe share an identity.
    pub fn is_genuine(&self) -> bool {
        self.claimed_id == self.real_id
    }
}

/// The number of columns of a bob score file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BobColumns {
    /// `claimed_id real_id test_label score`.
    Four,
    /// `claimed_id model_label real_id test_label score`.
    Five,
}

impl BobColumns {
    /// The number of fields per line.
    pub fn count(self) -> usize {
        match self {
            BobColumns::Four => 4,
            BobColumns::Five => 5,
        }
    }
}

/// Reads a bob score file; `columns` is detected from the first line when `None`, and every
/// line must have that many fields.
pub fn read_bob(path: &Path, columns: Option<BobColumns>) -> Result<Vec<Comparison>> {
    let text = read_text(path)?;
    let at = Location { path };
    let mut detected = columns;
    let mut out = Vec::new();
    for (line, text) in data_lines(&text) {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let kind = match detected {
            Some(kind) => kind,
            None => *detected.insert(match fields.len() {
                4 => BobColumns::Four,
                5 => BobColumns::Five,
                n => {
                    return Err(at.error(
                        line,
                        format!("{n} fields: a bob score file has 4 or 5 per line"),
                    ))
                }
            }),
        };
        let expected = kind.count();
        if fields.len() != expected {
            return Err(at.error(
                line,
                format!("{} fields, expected {expected}", fields.len()),
            ));
        }
        let score = at.score(line, fields[expected - 1])?;
        let (model_label, real, test) = if expected == 5 {
            (Some(fields[1].to_string()), fields[2], fields[3])
        } else {
            (None, fields[1], fields[2])
        };
        out.push(Comparison {
            claimed_id: fields[0].to_string(),
            model_label,
            real_id: real.to_string(),
            test_label: test.to_string(),
            score,
        });
    }
    if out.is_empty() {
        return Err(at.error(
            1,
            "no comparisons: expected one `claimed_id ... score` per line",
        ));
    }
    Ok(out)
}

/// Reads a pyeer score list: one score per line (`#` lines and blank lines ignored).
pub fn read_score_list(path: &Path) -> Result<Vec<f64>> {
    let text = read_text(path)?;
    let at = Location { path };
    let scores = data_lines(&text)
        .map(|(line, text)| at.score(line, text))
        .collect::<Result<Vec<_>>>()?;
    if scores.is_empty() {
        return Err(at.error(1, "no scores: expected one score per line"));
    }
    Ok(scores)
}

/// Splits comparisons into (genuine, impostor) scores.
pub fn split_comparisons(comparisons: &[Comparison]) -> (Vec<f64>, Vec<f64>) {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for c in comparisons {
        if c.is_genuine() {
            genuine.push(c.score);
        } else {
            impostor.push(c.score);
        }
    }
    (genuine, impostor)
}

/// Every probe x gallery cell of `scores` as a comparison (model = gallery image, probe = row).
pub fn comparisons_from_matrix(
    scores: &ScoreMatrix,
    probe_ids: &[String],
    probe_labels: &[String],
    gallery_ids: &[String],
    gallery_labels: &[String],
) -> Result<Vec<Comparison>> {
    scores.check_ids(probe_ids, gallery_ids)?;
    for (labels, expected, what) in [
        (probe_labels, scores.rows(), "probe labels"),
        (gallery_labels, scores.cols(), "gallery labels"),
    ] {
        if labels.len() != expected {
            return Err(MetricsError::IdentityCountMismatch {
                what,
                expected,
                found: labels.len(),
            });
        }
    }
    let mut out = Vec::with_capacity(scores.rows() * scores.cols());
    for p in 0..scores.rows() {
        for (g, &score) in scores.row(p).iter().enumerate() {
            out.push(Comparison {
                claimed_id: gallery_ids[g].clone(),
                model_label: Some(gallery_labels[g].clone()),
                real_id: probe_ids[p].clone(),
                test_label: probe_labels[p].clone(),
                score,
            });
        }
    }
    Ok(out)
}

/// Writes comparisons as a bob file of `columns` columns; scores keep every digit (shortest
/// round-trip form). Fields must be non-empty and free of whitespace and must not start with
/// `#`, or the file would not read back.
pub fn write_bob(
    out: &mut impl Write,
    comparisons: &[Comparison],
    columns: BobColumns,
) -> Result<()> {
    for (index, c) in comparisons.iter().enumerate() {
        let model = match (columns, &c.model_label) {
            (BobColumns::Four, _) => None,
            (BobColumns::Five, Some(label)) => Some(label.as_str()),
            (BobColumns::Five, None) => {
                return Err(MetricsError::UnwritableField {
                    index,
                    field: "model_label",
                    value: String::new(),
                })
            }
        };
        let mut fields = vec![("claimed_id", c.claimed_id.as_str())];
        fields.extend(model.map(|m| ("model_label", m)));
        fields.push(("real_id", &c.real_id));
        fields.push(("test_label", &c.test_label));
        for (field, value) in &fields {
            if value.is_empty() || value.contains(char::is_whitespace) {
                return Err(MetricsError::UnwritableField {
                    index,
                    field,
                    value: value.to_string(),
                });
            }
        }
        if fields[0].1.starts_with('#') {
            return Err(MetricsError::UnwritableField {
                index,
                field: "claimed_id",
                value: c.claimed_id.clone(),
            });
        }
        let line: Vec<&str> = fields.iter().map(|(_, v)| *v).collect();
        writeln!(out, "{} {}", line.join(" "), c.score).map_err(MetricsError::Write)?;
    }
    Ok(())
}

/// Writes a pyeer score list, one score per line in shortest round-trip form.
pub fn write_score_list(out: &mut impl Write, scores: &[f64]) -> Result<()> {
    for s in scores {
        writeln!(out, "{s}").map_err(MetricsError::Write)?;
    }
    Ok(())
}

/// Per probe (by `test_label`, in order of first appearance), its (negative, positive) scores:
/// the input of bob's `recognition_rate` and `cmc`.
pub fn scores_by_probe(comparisons: &[Comparison]) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut index = std::collections::HashMap::new();
    let mut out: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for c in comparisons {
        let i = *index.entry(c.test_label.as_str()).or_insert_with(|| {
            out.push((Vec::new(), Vec::new()));
            out.len() - 1
        });
        if c.is_genuine() {
            out[i].1.push(c.score);
        } else {
            out[i].0.push(c.score);
        }
    }
    out
}
