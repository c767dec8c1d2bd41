//! Integration tests of `visnir-alignment` against facenet-pytorch and skimage reference outputs.

mod alignment_parity;
mod detection_parity;
mod net_parity;

use std::path::PathBuf;

use candle_core::Device;
use visnir_alignment::{Mtcnn, MtcnnConfig};

/// A path under the workspace's `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(relative)
}

/// The reference JSON files.
pub fn golden(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The detector with bundled weights and default parameters.
pub fn mtcnn() -> Mtcnn {
    Mtcnn::bundled(MtcnnConfig::default(), &Device::Cpu).unwrap()
}
