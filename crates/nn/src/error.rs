//! The typed errors of this crate.

use std::path::PathBuf;

/// Failures of the shared layers, image loading and weight readers.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// An image file could not be opened or decoded.
    #[error("{path}: {message}")]
    Image { path: PathBuf, message: String },
    /// An image is larger than visnir decodes.
    #[error(
        "{path}: image is {width} x {height}; visnir decodes at most {max_side} pixels per side \
         and {max_pixels} pixels in all (set VISNIR_MAX_PIXELS to change the latter)"
    )]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    /// A device name that is not `cpu`, `cuda[:N]` or `metal[:N]`.
    #[error("unknown device `{0}`: expected cpu, cuda, cuda:N, metal or metal:N")]
    UnknownDevice(String),
    /// The device was asked for but this build does not include its backend.
    #[error("device `{0}` needs a build with `--features {0}`")]
    BackendNotBuilt(&'static str),
    /// A weight file is not in the format expected.
    #[error("malformed weight file: {0}")]
    Format(String),
    /// A tensor has a different shape than the model expects.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, NnError>;
