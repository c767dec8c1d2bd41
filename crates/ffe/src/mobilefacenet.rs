//! MobileFaceNet (sirius-ai MobileFaceNet_TF, MS1M + ArcFace, 192-d embedding).
//!
//! Tensor names follow the stage names of the FFE-CycleGAN authors' code (TreB1eN naming):
//! `conv1`, `conv2_dw`, `conv2_pw`, `conv_23`, `conv_3.{0..3}`, `conv_34`, `conv_4.{0..5}`,
//! `conv_45`, `conv_5.{0,1}`, `conv_6_sep`, `conv_6_dw`, `conv_6_pw`, `linear`. See
//! [`crate::tfjs_name`] for the mapping to the upstream TensorFlow names.

use candle_core::{Module, Result, Tensor, D};
use candle_nn::VarBuilder;

use visnir_nn::Conv2dConfig;

use crate::layers::{chain, residual_stack, ConvUnit, InvertedResidual, Stem};

/// A point in the network after which [`MobileFaceNet::trunk`] can stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// 3x3 stride-2 convolution, 64 channels (56 x 56 for a 112 input).
    Conv1,
    /// Depthwise 3x3 + 1x1, 64 channels.
    Conv2,
    /// First inverted residual, stride 2 (28 x 28).
    Conv23,
    /// Four residual blocks, 64 channels.
    Conv3,
    /// Inverted residual to 128 channels, stride 2 (14 x 14).
    Conv34,
    /// Six residual blocks, 128 channels.
    Conv4,
    /// Inverted residual, stride 2 (7 x 7).
    Conv45,
    /// Two residual blocks, 128 channels.
    Conv5,
    /// 1x1 to 512 channels + PReLU.
    Conv6Sep,
}

/// The pretrained MobileFaceNet face embedder.
#[derive(Debug, Clone)]
pub struct MobileFaceNet {
    pub(crate) stem: Stem,
    pub(crate) conv_45: InvertedResidual,
    pub(crate) conv_5: Vec<InvertedResidual>,
    pub(crate) conv_6_sep: ConvUnit,
    pub(crate) conv_6_dw: ConvUnit,
    pub(crate) conv_6_pw: ConvUnit,
    pub(crate) linear: ConvUnit,
}

/// Dimension of the embedding.
pub const EMBEDDING_DIM: usize = 192;

impl MobileFaceNet {
    /// Loads every tensor from `vb` (see the module doc for the names).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            stem: Stem::new(2, &vb)?,
            conv_45: InvertedResidual::new(128, 512, 128, 2, false, vb.pp("conv_45"))?,
            conv_5: residual_stack(2, 128, 256, &vb, "conv_5")?,
            conv_6_sep: ConvUnit::full(128, 512, 1, 1, true, vb.pp("conv_6_sep"))?,
            conv_6_dw: ConvUnit::new(Conv2dConfig::depthwise(512, 7), false, vb.pp("conv_6_dw"))?,
            conv_6_pw: ConvUnit::full(512, 512, 1, 1, false, vb.pp("conv_6_pw"))?,
            linear: ConvUnit::full(512, EMBEDDING_DIM, 1, 1, false, vb.pp("linear"))?,
        })
    }

    /// Runs the network on a normalised `(N, 3, H, W)` input up to and including `until`.
    pub fn trunk(&self, x: &Tensor, until: Stage) -> Result<Tensor> {
        use Stage::*;
        let mut x = x.clone();
        for stage in [
            Conv1, Conv2, Conv23, Conv3, Conv34, Conv4, Conv45, Conv5, Conv6Sep,
        ] {
            if stage > until {
                break;
            }
            x = self.run_stage(stage, &x)?;
        }
        Ok(x)
    }

    fn run_stage(&self, stage: Stage, x: &Tensor) -> Result<Tensor> {
        let stem = &self.stem;
        match stage {
            Stage::Conv1 => stem.conv1.forward(x),
            Stage::Conv2 => stem.conv2_pw.forward(&stem.conv2_dw.forward(x)?),
            Stage::Conv23 => stem.conv_23.forward(x),
            Stage::Conv3 => chain(&stem.conv_3, x),
            Stage::Conv34 => stem.conv_34.forward(x),
            Stage::Conv4 => chain(&stem.conv_4, x),
            Stage::Conv45 => self.conv_45.forward(x),
            Stage::Conv5 => chain(&self.conv_5, x),
            Stage::Conv6Sep => self.conv_6_sep.forward(x),
        }
    }

    /// The raw (not normalised) 192-d embedding of a normalised `(N, 3, 112, 112)` batch.
    pub fn forward_raw(&self, x: &Tensor) -> Result<Tensor> {
        let x = self.trunk(x, Stage::Conv6Sep)?;
        let x = self
            .linear
            .forward(&self.conv_6_pw.forward(&self.conv_6_dw.forward(&x)?)?)?;
        x.flatten_from(1)
    }
}

impl Module for MobileFaceNet {
    /// L2-normalised embeddings `(N, 192)` of a normalised `(N, 3, 112, 112)` batch.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        l2_normalize(&self.forward_raw(x)?)
    }
}

/// Divides each row by its L2 norm (rows of zeros stay zero).
pub fn l2_normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.maximum(1e-12)?;
    x.broadcast_div(&norm)
}
