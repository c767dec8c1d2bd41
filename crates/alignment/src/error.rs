//! The typed errors of this crate.

use std::path::PathBuf;

/// Failures of detection and alignment.
#[derive(Debug, thiserror::Error)]
pub enum AlignmentError {
    /// The weights could not be loaded.
    #[error("MTCNN weights {path}: {message}")]
    Weights { path: PathBuf, message: String },
    /// Invalid detector parameters.
    #[error("invalid MTCNN parameter: {0}")]
    Config(String),
    /// Landmarks that cannot define a similarity transform (e.g. all at one point).
    #[error("degenerate landmarks: {0}")]
    DegenerateLandmarks(String),
    /// An error from the shared layers.
    #[error(transparent)]
    Nn(#[from] visnir_nn::NnError),
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, AlignmentError>;
