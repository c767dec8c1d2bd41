//! The typed errors of this crate.

use std::path::PathBuf;

/// Problems with a dataset tree or a protocol file.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The root directory does not exist or cannot be read.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// The tree is not in the expected layout.
    #[error("{root}: not an {layout} tree: {found}")]
    WrongLayout {
        root: PathBuf,
        layout: &'static str,
        found: String,
    },
    /// Not enough subjects for the requested split.
    #[error("{layout}: {needed} subjects needed, {found} usable")]
    TooFewSubjects {
        layout: &'static str,
        needed: usize,
        found: usize,
    },
    /// A protocol line is malformed, escapes the root, or names a missing file.
    #[error("{path}:{line}: {message}")]
    Protocol {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, DatasetError>;
