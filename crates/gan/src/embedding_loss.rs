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
    embedding_distance(&fake, &real)
}

/// The mean over rows of `1 - cos` between two batches of L2-normalised embeddings.
pub(crate) fn embedding_distance(translated: &Tensor, paired_target: &Tensor) -> Result<Tensor> {
    let cosine = (translated * paired_target)?.sum(1)?;
    cosine.affine(-1.0, 1.0)?.mean_all()
}

/// Cosines times this scale are the logits of [`subject_contrast_loss`] (a softmax
/// temperature of 0.1, as in embedding-space classification losses).
pub const SUBJECT_LOGIT_SCALE: f64 = 10.0;

/// The training subjects as the frozen embedder sees them in each domain: the mean embedding
/// of each subject's training images, L2-normalised, one row per subject.
#[derive(Debug, Clone)]
pub struct SubjectPrototypes {
    /// `(K, 192)`: the prototypes of domain A (VIS) images.
    pub a: Tensor,
    /// `(K, 192)`: the prototypes of domain B (NIR) images.
    pub b: Tensor,
}

impl SubjectPrototypes {
    /// Prototypes of the subjects `0..n_subjects` from images `(1, 3, H, W)` of both domains
    /// in [-1, 1] and the subject of each (every subject must have at least one image).
    pub fn new(
        judge: &EmbeddingJudge,
        images: &[(Tensor, Tensor)],
        subjects: &[u32],
        n_subjects: usize,
    ) -> Result<Self> {
        if images.len() != subjects.len() || subjects.iter().any(|&s| s as usize >= n_subjects) {
            candle_core::bail!("subject prototypes: labels do not match the images");
        }
        let device = images
            .first()
            .map(|(a, _)| a.device().clone())
            .unwrap_or(Device::Cpu);
        let mut one_hot = vec![0f32; n_subjects * subjects.len()];
        for (i, &s) in subjects.iter().enumerate() {
            one_hot[s as usize * subjects.len() + i] = 1.0;
        }
        let membership = Tensor::from_vec(one_hot, (n_subjects, subjects.len()), &device)?;
        let prototypes = |side: fn(&(Tensor, Tensor)) -> &Tensor| -> Result<Tensor> {
            let mut rows = Vec::with_capacity(images.len());
            for chunk in images.chunks(16) {
                let batch = chunk.iter().map(side).collect::<Vec<_>>();
                rows.push(judge.embed(&Tensor::cat(&batch, 0)?)?.detach());
            }
            let sums = membership.matmul(&Tensor::cat(&rows, 0)?)?;
            let norms = sums.sqr()?.sum_keepdim(1)?.sqrt()?;
            sums.broadcast_div(&norms)
        };
        Ok(Self {
            a: prototypes(|p| &p.0)?,
            b: prototypes(|p| &p.1)?,
        })
    }
}

/// The subject-contrast loss of one direction: the cross-entropy of each translation's own
/// subject among the training subjects, the logits [`SUBJECT_LOGIT_SCALE`] times the cosines
/// between its embedding `(N, 192)` and the target domain's prototypes `(K, 192)`. Where the
/// embedding-consistency loss only pulls a translation towards its twin, this also pushes it
/// away from the other subjects, which the whole gallery's shared domain shift does not.
pub fn subject_contrast_loss(
    translated: &Tensor,
    prototypes: &Tensor,
    subjects: &Tensor,
) -> Result<Tensor> {
    let logits = (translated.matmul(&prototypes.t()?)? * SUBJECT_LOGIT_SCALE)?;
    candle_nn::loss::cross_entropy(&logits, subjects)
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
