//! The typed errors of this crate.

use std::path::PathBuf;

/// Failures of weight loading and embedding.
#[derive(Debug, thiserror::Error)]
pub enum FfeError {
    /// A weight file could not be read or is not safetensors.
    #[error("MobileFaceNet weights {path}: {message}")]
    Weights { path: PathBuf, message: String },
    /// A tensor of the weight file has the wrong shape (or is missing).
    #[error("MobileFaceNet weights: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// A tensor the network needs is not in the weight file.
    #[error("MobileFaceNet weights: tensor `{name}` is missing")]
    MissingTensor { name: String },
    /// An input face crop is not the size the network takes.
    #[error("face crop is {width} x {height}; MobileFaceNet takes 112 x 112 aligned crops (align first, e.g. `visnir align --size 112` or `--align`)")]
    WrongCropSize { width: u32, height: u32 },
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, FfeError>;
