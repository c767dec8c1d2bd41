//! The on-disk cache of aligned crops keyed by source path and alignment parameters, so a dataset
//! is detected and aligned once however many experiments read it.

use std::path::{Component, Path, PathBuf};

use image::RgbImage;

use crate::error::{DatasetError, Result};

/// What the cache holds for one source image.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached {
    /// The aligned crop.
    Crop(RgbImage),
    /// The source was processed before and had no usable face; the reason is kept.
    NoFace(String),
}

/// Aligned crops on disk: `<dir>/<params>/<relative source path>.png`, and a `.noface` text
/// file in place of the crop when alignment failed, so failures are not retried either.
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

    fn entry(&self, source: &Path) -> Result<PathBuf> {
        if source
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(DatasetError::Io {
                path: source.to_path_buf(),
                message: "cache keys are paths relative to the dataset root".into(),
            });
        }
        let mut name = source.as_os_str().to_owned();
        name.push(".png");
        Ok(self.dir.join(name))
    }

    /// The cached result for `source` (relative to the dataset root), if any.
    pub fn get(&self, source: &Path) -> Result<Option<Cached>> {
        let crop = self.entry(source)?;
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

    /// Stores the result for `source` atomically (temporary file, then rename).
    pub fn put(&self, source: &Path, value: &Cached) -> Result<()> {
        let crop = self.entry(source)?;
        let io = |path: &Path, e: String| DatasetError::Io {
            path: path.to_path_buf(),
            message: e,
        };
        if let Some(parent) = crop.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e.to_string()))?;
        }
        match value {
            Cached::Crop(image) => {
                let tmp = crop.with_extension("tmp.png");
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
