//! The typed errors of this crate.

use std::path::PathBuf;

/// Everything that can be wrong with the scores, labels or files handed to this crate.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Verification needs at least one genuine (same identity) score.
    #[error("no genuine scores: verification needs at least one same-identity pair")]
    NoGenuine,
    /// Verification needs at least one impostor (different identity) score.
    #[error("no impostor scores: verification needs at least one different-identity pair")]
    NoImpostor,
    /// A score is NaN or infinite.
    #[error("score #{index} is {value}: scores must be finite")]
    NonFiniteScore { index: usize, value: f64 },
    /// A FAR target is outside (0, 1].
    #[error("FAR target {0} is outside (0, 1]")]
    FarOutOfRange(f64),
    /// A label is neither 0 nor 1.
    #[error("label #{index} is {value}: labels must be 0 (impostor) or 1 (genuine)")]
    BadLabel { index: usize, value: i64 },
    /// Labels and scores have different lengths.
    #[error("{labels} labels but {scores} scores")]
    LengthMismatch { labels: usize, scores: usize },
    /// A row of a score matrix has a different number of columns than the first.
    #[error("row {row} of the score matrix has {found} columns, expected {expected}")]
    RaggedMatrix {
        row: usize,
        expected: usize,
        found: usize,
    },
    /// An identity list does not have one entry per matrix row or column.
    #[error("{what} has {found} identities but the score matrix has {expected}")]
    IdentityCountMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// A flat buffer does not hold `rows * cols` values.
    #[error("a {rows} x {cols} matrix needs {} values, got {len}", rows * cols)]
    MatrixShape {
        rows: usize,
        cols: usize,
        len: usize,
    },
    /// Two embedding sets do not have the same dimension, or a buffer is not a whole number of rows.
    #[error("embedding shape mismatch: {0}")]
    EmbeddingShape(String),
    /// No bootstrap resample held both a genuine and an impostor pair (too few subjects).
    #[error("none of {resamples} bootstrap resamples has both a genuine and an impostor pair")]
    NoUsableResample { resamples: usize },
    /// A rank for the CMC curve must be at least 1.
    #[error("CMC rank must be at least 1")]
    ZeroRank,
    /// A field cannot be written to a whitespace-separated score file.
    #[error("comparison #{index}: {field} `{value}` cannot be written to a score file (empty, whitespace, or a leading `#`)")]
    UnwritableField {
        index: usize,
        field: &'static str,
        value: String,
    },
    /// Writing a score file failed.
    #[error("writing scores: {0}")]
    Write(std::io::Error),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line of an input file is malformed.
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, MetricsError>;
