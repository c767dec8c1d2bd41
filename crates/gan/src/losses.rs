//! The objectives of CycleGAN and FFE-CycleGAN: LSGAN, cycle, identity and pixel consistency.

use candle_core::{Result, Tensor};

/// LSGAN objective: mean squared distance of the discriminator's patch outputs from 1 (real)
/// or 0 (fake).
pub fn lsgan_loss(prediction: &Tensor, target_is_real: bool) -> Result<Tensor> {
    let target = if target_is_real { 1.0 } else { 0.0 };
    prediction.affine(1.0, -target)?.sqr()?.mean_all()
}

/// Mean absolute difference (PyTorch `L1Loss`).
pub fn l1_loss(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    (a - b)?.abs()?.mean_all()
}

/// Cycle consistency of one direction: `|F(G(x)) - x|_1`.
pub fn cycle_loss(reconstructed: &Tensor, original: &Tensor) -> Result<Tensor> {
    l1_loss(reconstructed, original)
}

/// Identity loss of one generator: `|G(y) - y|_1` for `y` already in its target domain.
pub fn identity_loss(mapped: &Tensor, original: &Tensor) -> Result<Tensor> {
    l1_loss(mapped, original)
}

/// The paper's pixel-consistency loss of one direction on (approximately) paired images:
/// `|G(v) - n|_1`.
pub fn pixel_consistency_loss(translated: &Tensor, paired_target: &Tensor) -> Result<Tensor> {
    l1_loss(translated, paired_target)
}

/// Weights of the generator objective `GAN_G + GAN_F + cycle * L_cyc + identity_total * L_idt
/// + pixel * L_pc` (each L summed over both directions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Weight of each direction's cycle L1 (the paper's lambda; CycleGAN's lambda_A = lambda_B).
    pub cycle: f64,
    /// Identity weight relative to `cycle`, as CycleGAN's `lambda_identity` (0 = off).
    pub identity: f64,
    /// Weight of each direction's pixel-consistency L1 (the paper's gamma; 0 = off).
    pub pixel: f64,
}

/// Named loss settings of the experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossPreset {
    /// CycleGAN as published: cycle 10, identity 0.5, no pixel consistency.
    Basic,
    /// Basic CycleGAN + L_pc with the paper's weights (lambda 1, gamma 10).
    BasicLpc,
    /// FFE generator + L_pc with the paper's weights (lambda 1, gamma 10).
    FfeLpc,
    /// The authors' code: cycle 10, identity 0.5, pixel 10.
    FfeOfficial,
}

impl LossPreset {
    /// The weights of the preset.
    pub fn weights(self) -> LossWeights {
        match self {
            Self::Basic => LossWeights {
                cycle: 10.0,
                identity: 0.5,
                pixel: 0.0,
            },
            Self::BasicLpc | Self::FfeLpc => LossWeights {
                cycle: 1.0,
                identity: 0.0,
                pixel: 10.0,
            },
            Self::FfeOfficial => LossWeights {
                cycle: 10.0,
                identity: 0.5,
                pixel: 10.0,
            },
        }
    }
}
