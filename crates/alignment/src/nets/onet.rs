//! ONet: the output network of MTCNN on 48 x 48 crops, with the five landmarks.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use visnir_nn::{max_pool2d_ceil, PRelu};

use super::{flatten_caffe, ConvPrelu};

/// Output network: `(N, 3, 48, 48)` crops in; box regression `(N, 4)`, landmarks `(N, 10)`
/// (x1..x5 then y1..y5, relative to the box) and face probability `(N, 2)` out.
#[derive(Debug, Clone)]
pub struct ONet {
    pub(super) layer1: ConvPrelu,
    pub(super) layer2: ConvPrelu,
    pub(super) layer3: ConvPrelu,
    pub(super) layer4: ConvPrelu,
    pub(super) dense5: Linear,
    pub(super) prelu5: PRelu,
    pub(super) dense6_1: Linear,
    pub(super) dense6_2: Linear,
    pub(super) dense6_3: Linear,
}

impl ONet {
    /// Loads the weights under `vb` (facenet-pytorch `onet.pt` keys).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            layer1: ConvPrelu::new(3, 32, 3, 1, &vb)?,
            layer2: ConvPrelu::new(32, 64, 3, 2, &vb)?,
            layer3: ConvPrelu::new(64, 64, 3, 3, &vb)?,
            layer4: ConvPrelu::new(64, 128, 2, 4, &vb)?,
            dense5: candle_nn::linear(1152, 256, vb.pp("dense5"))?,
            prelu5: PRelu::new(256, vb.pp("prelu5"))?,
            dense6_1: candle_nn::linear(256, 2, vb.pp("dense6_1"))?,
            dense6_2: candle_nn::linear(256, 4, vb.pp("dense6_2"))?,
            dense6_3: candle_nn::linear(256, 10, vb.pp("dense6_3"))?,
        })
    }

    /// Returns `(regression, landmarks, probability)`.
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let x = max_pool2d_ceil(&self.layer1.forward(x)?, 3, 2)?;
        let x = max_pool2d_ceil(&self.layer2.forward(&x)?, 3, 2)?;
        let x = max_pool2d_ceil(&self.layer3.forward(&x)?, 2, 2)?;
        let x = flatten_caffe(&self.layer4.forward(&x)?)?;
        let x = self.prelu5.forward(&self.dense5.forward(&x)?)?;
        let probability = candle_nn::ops::softmax(&self.dense6_1.forward(&x)?, 1)?;
        Ok((
            self.dense6_2.forward(&x)?,
            self.dense6_3.forward(&x)?,
            probability,
        ))
    }
}
