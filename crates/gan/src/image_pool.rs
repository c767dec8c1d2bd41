//! CycleGAN's history of generated images: the discriminator sees, with probability 1/2, an
//! older fake instead of the newest one.

use candle_core::{Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A buffer of up to `size` previously generated images (size 0 = no buffer).
#[derive(Debug, Clone)]
pub struct ImagePool {
    size: usize,
    images: Vec<Tensor>,
    rng: ChaCha8Rng,
}

impl ImagePool {
    /// An empty pool of `size` images drawing from a seeded generator.
    pub fn new(size: usize, seed: u64) -> Self {
        Self {
            size,
            images: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// For each image of the batch: while the pool is filling, store and return it; afterwards
    /// with probability 1/2 return a stored image and store the new one in its place.
    pub fn query(&mut self, batch: &Tensor) -> Result<Tensor> {
        if self.size == 0 {
            return Ok(batch.clone());
        }
        let mut out = Vec::with_capacity(batch.dim(0)?);
        for i in 0..batch.dim(0)? {
            let image = batch.narrow(0, i, 1)?;
            if self.images.len() < self.size {
                self.images.push(image.clone());
                out.push(image);
            } else if self.rng.random::<f64>() > 0.5 {
                let k = self.rng.random_range(0..self.size);
                out.push(std::mem::replace(&mut self.images[k], image));
            } else {
                out.push(image);
            }
        }
        Tensor::cat(&out, 0)
    }

    /// The stored images, for checkpoints.
    pub fn images(&self) -> &[Tensor] {
        &self.images
    }

    /// The random generator's state, for checkpoints.
    pub fn rng(&self) -> &ChaCha8Rng {
        &self.rng
    }

    /// Restores stored images and generator state.
    pub fn restore(&mut self, images: Vec<Tensor>, rng: ChaCha8Rng) {
        self.images = images;
        self.rng = rng;
    }
}
