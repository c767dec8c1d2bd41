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

/// Parses a loss weight: a finite number >= 0.
pub fn parse_loss_weight(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        _ => Err(format!("`{text}` is not a loss weight (a number >= 0)")),
    }
}

/// Weights of the generator objective `adversarial * (GAN_G + GAN_F) + cycle * L_cyc + identity_total * L_idt
/// + pixel * L_pc + embedding * L_emb + subject * L_sub` (each L summed over both directions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Weight of the generators' LSGAN terms (1 in CycleGAN and the paper; 0 drops them, an
    /// ablation: the discriminators still train but no longer steer the generators).
    pub adversarial: f64,
    /// Weight of each direction's cycle L1 (the paper's lambda; CycleGAN's lambda_A = lambda_B).
    pub cycle: f64,
    /// Identity weight relative to `cycle`, as CycleGAN's `lambda_identity` (0 = off).
    pub identity: f64,
    /// Weight of each direction's pixel-consistency L1 (the paper's gamma; 0 = off).
    pub pixel: f64,
    /// Weight of each direction's embedding-consistency loss (not in the paper; 0 = off; see
    /// [`crate::embedding_consistency_loss`]).
    pub embedding: f64,
    /// Weight of each direction's subject-contrast loss (not in the paper; 0 = off; see
    /// [`crate::subject_contrast_loss`]).
    pub subject: f64,
}

impl LossWeights {
    /// CycleGAN as published: cycle 10, identity 0.5, no pixel consistency.
    pub const CYCLEGAN: Self = Self {
        adversarial: 1.0,
        cycle: 10.0,
        identity: 0.5,
        pixel: 0.0,
        embedding: 0.0,
        subject: 0.0,
    };
    /// The paper's objective with pixel consistency: lambda 1, gamma 10, no identity loss.
    pub const LPC: Self = Self {
        adversarial: 1.0,
        cycle: 1.0,
        identity: 0.0,
        pixel: 10.0,
        embedding: 0.0,
        subject: 0.0,
    };
    /// The authors' code: cycle 10, identity 0.5, pixel 10.
    pub const AUTHORS_CODE: Self = Self {
        adversarial: 1.0,
        cycle: 10.0,
        identity: 0.5,
        pixel: 10.0,
        embedding: 0.0,
        subject: 0.0,
    };
}
