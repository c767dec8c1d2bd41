//! PNet: the fully convolutional proposal network of MTCNN (12 x 12 receptive field, stride 2).

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{max_pool2d_ceil, Conv2d, Conv2dConfig};

use super::ConvPrelu;

/// Proposal network: image in, per-cell box regression `(N,4,h,w)` and face probability
/// `(N,2,h,w)` (softmax over dim 1) out.
#[derive(Debug, Clone)]
pub struct PNet {
    pub(super) layer1: ConvPrelu,
    pub(super) layer2: ConvPrelu,
    pub(super) layer3: ConvPrelu,
    pub(super) conv4_1: Conv2d,
    pub(super) conv4_2: Conv2d,
}

impl PNet {
    /// Loads the weights under `vb` (keys `conv1.weight`, `prelu1.weight`, ..., `conv4_2.bias`).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            layer1: ConvPrelu::new(3, 10, 3, 1, &vb)?,
            layer2: ConvPrelu::new(10, 16, 3, 2, &vb)?,
            layer3: ConvPrelu::new(16, 32, 3, 3, &vb)?,
            conv4_1: Conv2d::new(Conv2dConfig::new(32, 2, 1), vb.pp("conv4_1"))?,
            conv4_2: Conv2d::new(Conv2dConfig::new(32, 4, 1), vb.pp("conv4_2"))?,
        })
    }

    /// Returns `(regression, probability)` for a normalised `(N, 3, H, W)` input.
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = self.layer1.forward(x)?;
        let x = max_pool2d_ceil(&x, 2, 2)?;
        let x = self.layer3.forward(&self.layer2.forward(&x)?)?;
        let probability = candle_nn::ops::softmax(&self.conv4_1.forward(&x)?, 1)?;
        Ok((self.conv4_2.forward(&x)?, probability))
    }
}
