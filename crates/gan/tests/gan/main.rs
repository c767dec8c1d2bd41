//! Integration tests of `visnir-gan` against the PyTorch CycleGAN reference.

mod adversarial_weight;
mod embedding_loss;
mod fuzz;
mod network_parity;
mod shading_map;
mod subject_loss;
mod training_parity;
mod training_runs;
mod weight_average;

use std::path::PathBuf;

/// A path under the workspace's `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(relative)
}

/// A square image of uniform random pixels, seeded.
pub fn noise(side: u32, seed: u64) -> image::RgbImage {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    image::RgbImage::from_fn(side, side, |_, _| {
        image::Rgb([rng.random(), rng.random(), rng.random()])
    })
}

/// Largest absolute difference of two tensors of the same shape.
pub fn max_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}
