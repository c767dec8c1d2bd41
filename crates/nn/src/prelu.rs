//! Parametric ReLU with one slope per channel (channel axis 1), as `torch.nn.PReLU(C)`.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

/// `max(0, x) + a_c * min(0, x)` with a learned slope `a_c` per channel.
#[derive(Debug, Clone)]
pub struct PRelu {
    weight: Tensor,
}

impl PRelu {
    /// Loads the `weight` tensor of `channels` slopes.
    pub fn new(channels: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(channels, "weight")?,
        })
    }

    /// Wraps existing slopes.
    pub fn from_weight(weight: Tensor) -> Self {
        Self { weight }
    }
}

impl Module for PRelu {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut shape = vec![1; x.rank()];
        shape[1] = self.weight.elem_count();
        let slope = self.weight.reshape(shape)?;
        let negative = x.minimum(0f32)?;
        x.relu()? + negative.broadcast_mul(&slope)?
    }
}
