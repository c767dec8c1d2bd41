//! RNet: the refinement network of MTCNN on 24 x 24 crops.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use visnir_nn::{max_pool2d_ceil, PRelu};

use super::{flatten_caffe, ConvPrelu};

/// Refinement network: `(N, 3, 24, 24)` crops in, box regression `(N, 4)` and face
/// probability `(N, 2)` out.
#[derive(Debug, Clone)]
pub struct RNet {
    pub(super) layer1: ConvPrelu,
    pub(super) layer2: ConvPrelu,
    pub(super) layer3: ConvPrelu,
    pub(super) dense4: Linear,
    pub(super) prelu4: PRelu,
    pub(super) dense5_1: Linear,
    pub(super) dense5_2: Linear,
}

impl RNet {
    /// Loads the weights under `vb` (facenet-pytorch `rnet.pt` keys).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            layer1: ConvPrelu::new(3, 28, 3, 1, &vb)?,
            layer2: ConvPrelu::new(28, 48, 3, 2, &vb)?,
            layer3: ConvPrelu::new(48, 64, 2, 3, &vb)?,
            dense4: candle_nn::linear(576, 128, vb.pp("dense4"))?,
            prelu4: PRelu::new(128, vb.pp("prelu4"))?,
            dense5_1: candle_nn::linear(128, 2, vb.pp("dense5_1"))?,
            dense5_2: candle_nn::linear(128, 4, vb.pp("dense5_2"))?,
        })
    }

    /// Returns `(regression, probability)`.
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = max_pool2d_ceil(&self.layer1.forward(x)?, 3, 2)?;
        let x = max_pool2d_ceil(&self.layer2.forward(&x)?, 3, 2)?;
        let x = flatten_caffe(&self.layer3.forward(&x)?)?;
        let x = self.prelu4.forward(&self.dense4.forward(&x)?)?;
        let probability = candle_nn::ops::softmax(&self.dense5_1.forward(&x)?, 1)?;
        Ok((self.dense5_2.forward(&x)?, probability))
    }
}
