//! Integration tests of `visnir-metrics`: scikit-learn parity on the reference fixtures and
//! property tests.

mod bootstrap;
mod fuzz;
mod image_quality;
mod properties;
mod score_files;
mod sklearn_parity;

use std::path::PathBuf;

/// The workspace's copy of `shared/fixtures/metrics`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/metrics")
        .join(name)
}
