//! Integration tests of `visnir-nn`: fast CPU kernels against candle's generic ops (forward and
//! gradients, plus finite differences) and the weight-file readers.

mod fast_vs_generic;
mod fuzz;
mod gradients;
mod image;
mod layers;
mod nhwc;
mod torch_legacy;

use candle_core::{Device, Tensor};

/// A deterministic pseudo-random tensor with values in [-1, 1].
pub fn random(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let data: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 20001) as f32 / 10000.0 - 1.0
        })
        .collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

/// Largest absolute difference of two tensors of the same shape.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
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
