//! Stage 1 of every experiment: detect and align each image of a dataset exactly once, into
//! the crop cache, counting (never dropping silently) the images without a usable face.

use std::path::{Path, PathBuf};

use candle_core::Device;
use image::RgbImage;
use rayon::prelude::*;
use visnir_alignment::{Mtcnn, MtcnnConfig, Template};
use visnir_datasets::{Cached, CropCache};
use visnir_nn::{decode_rgb, read_image_file};

use crate::error::Result;

/// An aligned crop at `size` x `size` (bilinear-filtered resize; a copy when it already is).
pub fn square_crop(crop: &RgbImage, size: u32) -> RgbImage {
    if crop.dimensions() == (size, size) {
        crop.clone()
    } else {
        image::imageops::resize(crop, size, size, image::imageops::FilterType::Triangle)
    }
}

/// MTCNN plus the ArcFace template at one crop size, writing through a [`CropCache`].
pub struct Aligner {
    mtcnn: Mtcnn,
    template: Template,
    cache: CropCache,
}

impl Aligner {
    /// The bundled MTCNN (default thresholds) aligning to `size` x `size` crops cached under
    /// `cache_root`.
    pub fn new(cache_root: &Path, size: u32, device: &Device) -> Result<Self> {
        let config = MtcnnConfig::default();
        let params = format!(
            "arcface{size}-mtcnn{}-{}-{}-{}",
            config.min_face_size, config.thresholds[0], config.thresholds[1], config.thresholds[2]
        );
        Ok(Self {
            mtcnn: Mtcnn::bundled(config, device)?,
            template: Template::arcface(size),
            cache: CropCache::new(cache_root, &params),
        })
    }

    /// The detector.
    pub fn mtcnn(&self) -> &Mtcnn {
        &self.mtcnn
    }

    /// Aligns the most prominent face (largest box) of `image`; the reason when there is none.
    pub(crate) fn align(&self, image: &RgbImage) -> std::result::Result<RgbImage, String> {
        self.mtcnn
            .align_largest(image, &self.template)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "no face found".to_string())
    }

    /// Aligns `paths` (relative to `root`) in parallel through the cache (keyed by each file's
    /// content), calling `on_image` after each: per input, in order, its crop or the reason
    /// there is none (a file that cannot be read or decoded is not cached).
    pub fn align_all(
        &self,
        root: &Path,
        paths: &[PathBuf],
        on_image: &(dyn Fn() + Sync),
    ) -> Result<Vec<std::result::Result<RgbImage, String>>> {
        paths
            .par_iter()
            .map(|rel| {
                let path = root.join(rel);
                let bytes = match read_image_file(&path) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        on_image();
                        return Ok(Err(e.to_string()));
                    }
                };
                let result = match self.cache.get(&bytes)? {
                    Some(Cached::Crop(c)) => Ok(c),
                    Some(Cached::NoFace(reason)) => Err(reason),
                    None => match decode_rgb(&bytes, &path) {
                        // Not cached: the message names this path, and content is its key.
                        Err(e) => Err(e.to_string()),
                        Ok(image) => {
                            let result = self.align(&image);
                            let value = match &result {
                                Ok(c) => Cached::Crop(c.clone()),
                                Err(e) => Cached::NoFace(e.clone()),
                            };
                            self.cache.put(&bytes, &value)?;
                            result
                        }
                    },
                };
                on_image();
                Ok(result)
            })
            .collect::<Result<Vec<_>>>()
    }
}
