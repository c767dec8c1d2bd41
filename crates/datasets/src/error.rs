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

/// Largest list or protocol file read (bytes).
const MAX_TEXT_BYTES: u64 = 256 << 20;

/// The text of a list or protocol file, refusing what is not a regular file (a FIFO or device
/// would hang the read) and files over 256 MiB.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String> {
    let fail = |message: String| DatasetError::Io {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    if meta.len() > MAX_TEXT_BYTES {
        return Err(fail(format!(
            "is larger than {} MiB, too large for a list of images",
            MAX_TEXT_BYTES >> 20
        )));
    }
    std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))
}
