//! What training reads: pairs of images with their subject when known, the fingerprint that
//! ties a checkpoint to its data, and CycleGAN's paired augmentation.

use candle_core::{Device, Tensor};
use image::{imageops, RgbImage};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use visnir_nn::to_tensor;

use crate::trainer::TrainConfig;

/// One training pair: an image of domain A, its (possibly unaligned) counterpart in domain B,
/// and the subject both show when it is known.
pub trait TrainingPair {
    /// The domain A (VIS) image.
    fn a(&self) -> &RgbImage;
    /// The domain B (NIR) image.
    fn b(&self) -> &RgbImage;
    /// The subject of the pair, if known (the subject-contrast loss needs it).
    fn subject(&self) -> Option<&str> {
        None
    }
}

impl TrainingPair for (RgbImage, RgbImage) {
    fn a(&self) -> &RgbImage {
        &self.0
    }
    fn b(&self) -> &RgbImage {
        &self.1
    }
}

/// A fingerprint of training pairs: the SHA-256 of their count, sizes, pixels and subjects,
/// in order.
pub fn data_fingerprint<P: TrainingPair>(pairs: &[P]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update((pairs.len() as u64).to_le_bytes());
    for pair in pairs {
        for image in [pair.a(), pair.b()] {
            hash.update(image.width().to_le_bytes());
            hash.update(image.height().to_le_bytes());
            hash.update(image.as_raw());
        }
        if let Some(subject) = pair.subject() {
            hash.update((subject.len() as u64).to_le_bytes());
            hash.update(subject.as_bytes());
        }
    }
    hash.finalize().into()
}

/// CycleGAN's paired augmentation: resize to `load_size` (bicubic), the same random
/// `crop_size` crop and horizontal flip on both images, then to `(1, 3, s, s)` in [-1, 1].
pub fn augment(
    a: &RgbImage,
    b: &RgbImage,
    config: &TrainConfig,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let (load, crop) = (config.load_size, config.crop_size.min(config.load_size));
    let x = rng.random_range(0..=load - crop);
    let y = rng.random_range(0..=load - crop);
    let flip = rng.random::<f64>() < 0.5;
    let prepare = |image: &RgbImage| {
        let resized = imageops::resize(image, load, load, imageops::FilterType::CatmullRom);
        let mut cropped = imageops::crop_imm(&resized, x, y, crop, crop).to_image();
        if flip {
            imageops::flip_horizontal_in_place(&mut cropped);
        }
        to_tensor(&cropped, device)
    };
    Ok((prepare(a)?, prepare(b)?))
}
