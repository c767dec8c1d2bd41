//! The typed errors of the experiment recipes.

use std::path::PathBuf;

/// Why an experiment stage failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A dataset could not be read or split.
    #[error(transparent)]
    Dataset(#[from] visnir_datasets::DatasetError),
    /// The face detector failed to load or run.
    #[error(transparent)]
    Alignment(#[from] visnir_alignment::AlignmentError),
    /// The embedder failed to load or run.
    #[error(transparent)]
    Embedding(#[from] visnir_ffe::FfeError),
    /// A generator checkpoint could not be loaded.
    #[error(transparent)]
    Load(#[from] visnir_gan::LoadError),
    /// Training stopped.
    #[error(transparent)]
    Training(#[from] visnir_gan::TrainError),
    /// Metrics could not be computed.
    #[error(transparent)]
    Metrics(#[from] visnir_metrics::MetricsError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A report or state file could not be written or read.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// The experiment cannot run as configured.
    #[error("{0}")]
    Invalid(String),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, PipelineError>;

/// An I/O error naming its file.
pub fn io_error(path: &std::path::Path, error: impl std::fmt::Display) -> PipelineError {
    PipelineError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}
