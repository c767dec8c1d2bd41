//! The on-disk cache of aligned crops keyed by the content of the source image and the
//! alignment parameters, so a dataset is detected and aligned once however many experiments
//! read it, and another dataset (or an edited file) at the same paths never gets its crops.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::RgbImage;
use sha2::{Digest, Sha256};

use crate::error::{DatasetError, Result};

/// What the cache holds for one source image.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached {
    /// The aligned crop.
    Crop(RgbImage),
    /// The source was processed before and had no usable face; the reason is kept.
    NoFace(String),
}

/// Aligned crops on disk: `<dir>/<params>/<hh>/<SHA-256 of the source file>.png`, and a
/// `.noface` text file in place of the crop when alignment failed, so failures are not retried
/// either.
#[derive(Debug, Clone)]
pub struct CropCache {
    dir: PathBuf,
}

impl CropCache {
    /// A cache for alignment `params` (e.g. `arcface-256-mtcnn20`) under `root`.
    pub fn new(root: &Path, params: &str) -> Self {
        let safe: String = params
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            dir: root.join(safe),
        }
    }

    /// The folder holding this parameter set's crops.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, source: &[u8]) -> PathBuf {
        let digest = Sha256::digest(source);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(&hex[..2]).join(format!("{hex}.png"))
    }

    /// The cached result for the image file whose bytes are `source`, if any.
    pub fn get(&self, source: &[u8]) -> Result<Option<Cached>> {
        let crop = self.entry(source);
        let noface = crop.with_extension("noface");
        if let Ok(reason) = std::fs::read_to_string(&noface) {
            return Ok(Some(Cached::NoFace(reason)));
        }
        if !crop.is_file() {
            return Ok(None);
        }
        match image::open(&crop) {
            Ok(image) => Ok(Some(Cached::Crop(image.to_rgb8()))),
            Err(_) => Ok(None),
        }
    }

    /// Stores the result for the image file whose bytes are `source` atomically (temporary
    /// file, then rename).
    pub fn put(&self, source: &[u8], value: &Cached) -> Result<()> {
        let crop = self.entry(source);
        let io = |path: &Path, e: String| DatasetError::Io {
            path: path.to_path_buf(),
            message: e,
        };
        if let Some(parent) = crop.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e.to_string()))?;
        }
        match value {
            Cached::Crop(image) => {
                // Unique per writer: identical sources aligned in parallel share an entry.
                static WRITES: AtomicU64 = AtomicU64::new(0);
                let n = WRITES.fetch_add(1, Ordering::Relaxed);
                let tmp = crop.with_extension(format!("{}-{n}.tmp.png", std::process::id()));
                image.save(&tmp).map_err(|e| io(&tmp, e.to_string()))?;
                std::fs::rename(&tmp, &crop).map_err(|e| io(&crop, e.to_string()))
            }
            Cached::NoFace(reason) => {
                let path = crop.with_extension("noface");
                std::fs::write(&path, reason).map_err(|e| io(&path, e.to_string()))
            }
        }
    }
}
