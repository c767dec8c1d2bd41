//! The embedding-consistency loss: how far a translation lies from its paired target in the
//! space of the frozen, pretrained MobileFaceNet that scores every experiment.
//!
//! Not in the paper. Its pixel-consistency loss pulls `G(v)` towards `n` pixel by pixel, which
//! an L1-optimal, blurred output satisfies while losing the cues a face embedder uses; this term
//! asks instead that `G(v)` be the same face as `n` to the embedder: `1 - cos(E(G(v)), E(n))`.

use candle_core::{Device, Module, Result, Tensor};
use visnir_ffe::{MobileFaceNet, CROP_SIZE};

/// The frozen embedder and the resizing that brings the networks' crops to its 112 x 112 input.
#[derive(Debug, Clone)]
pub struct EmbeddingJudge {
    net: MobileFaceNet,
}

impl EmbeddingJudge {
    /// The judge with the bundled pretrained MobileFaceNet (its weights are constants, never
    /// trained).
    pub fn bundled(device: &Device) -> std::result::Result<Self, visnir_ffe::FfeError> {
        Ok(Self {
            net: visnir_ffe::Embedder::bundled(device)?.network().clone(),
        })
    }

    /// L2-normalised embeddings `(N, 192)` of images `(N, 3, H, W)` in [-1, 1], resized to
    /// 112 x 112 as the evaluation resizes crops (bilinear, image's `Triangle` filter); the
    /// resizing and the network are differentiable with respect to the images.
    pub fn embed(&self, images: &Tensor) -> Result<Tensor> {
        let resized = triangle_resize(images, CROP_SIZE as usize)?;
        // Pixels v = (x + 1) * 127.5 and the network's input (v - 127.5) / 128.
        self.net.forward(&(resized * (127.5 / 128.0))?)
    }
}

/// The paired embedding-consistency loss of one direction: the mean over the batch of
/// `1 - cos(E(translated), E(paired_target))`, the target's embedding held constant.
pub fn embedding_consistency_loss(
    judge: &EmbeddingJudge,
    translated: &Tensor,
    paired_target: &Tensor,
) -> Result<Tensor> {
    let fake = judge.embed(translated)?;
    let real = judge.embed(&paired_target.detach())?;
    let cosine = (fake * real)?.sum(1)?;
    cosine.affine(-1.0, 1.0)?.mean_all()
}

/// Images `(N, C, H, W)` resized to `side` x `side` as `image::imageops::resize` with
/// `FilterType::Triangle` does (before its rounding to integers), as two matrix products, so
/// that gradients flow through it.
pub fn triangle_resize(images: &Tensor, side: usize) -> Result<Tensor> {
    let (_, _, h, w) = images.dims4()?;
    let rows = resize_matrix(h, side, images.device())?;
    let cols = resize_matrix(w, side, images.device())?.t()?;
    rows.broadcast_matmul(&images.contiguous()?)?
        .broadcast_matmul(&cols)
}

/// The `(to, from)` matrix of a separable triangle-filter resize from `from` to `to` samples:
/// half-pixel centres, the filter widened by the scale when shrinking, weights normalised over
/// the samples inside the image (as `image::imageops::resize` with `FilterType::Triangle`).
fn resize_matrix(from: usize, to: usize, device: &Device) -> Result<Tensor> {
    let ratio = from as f64 / to as f64;
    let scale = ratio.max(1.0);
    let mut weights = vec![0f32; to * from];
    for (i, row) in weights.chunks_exact_mut(from).enumerate() {
        let centre = (i as f64 + 0.5) * ratio;
        let first = (centre - scale).floor().max(0.0) as usize;
        let last = ((centre + scale).ceil() as usize).min(from);
        let mut sum = 0.0;
        for (j, weight) in row.iter_mut().enumerate().take(last).skip(first) {
            let t = ((j as f64 + 0.5 - centre) / scale).abs();
            let w = (1.0 - t).max(0.0);
            *weight = w as f32;
            sum += w;
        }
        if sum > 0.0 {
            row.iter_mut().for_each(|w| *w = (*w as f64 / sum) as f32);
        }
    }
    Tensor::from_vec(weights, (to, from), device)
}
