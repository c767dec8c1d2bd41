//! CycleGAN's `NLayerDiscriminator` (the 70 x 70 PatchGAN for `n_layers = 3`).

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{Conv2d, Conv2dConfig, PadMode};

use crate::layers::{Layer, Sequential};

/// Size of a PatchGAN discriminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscriminatorConfig {
    /// Input channels.
    pub input_nc: usize,
    /// Filters of the first layer.
    pub ndf: usize,
    /// Stride-2 layers after the first.
    pub n_layers: usize,
}

impl Default for DiscriminatorConfig {
    fn default() -> Self {
        Self {
            input_nc: 3,
            ndf: 64,
            n_layers: 3,
        }
    }
}

/// Conv4 s2 + LReLU 0.2; (n_layers - 1) x (Conv4 s2, IN, LReLU); Conv4 s1, IN, LReLU; Conv4 s1
/// to one channel. Keys `model.<i>.weight` as in PyTorch.
#[derive(Debug, Clone)]
pub struct NLayerDiscriminator {
    model: Sequential,
}

impl NLayerDiscriminator {
    /// Builds the discriminator from `vb` (the level holding `model.*`).
    pub fn new(cfg: DiscriminatorConfig, vb: VarBuilder) -> Result<Self> {
        let vb = vb.pp("model");
        let conv = |cin, cout, stride, vb| -> Result<Layer> {
            let config = Conv2dConfig::new(cin, cout, 4)
                .stride(stride)
                .pad(1, PadMode::Zeros);
            Ok(Layer::Conv(Conv2d::new(config, vb)?))
        };
        let mut layers = vec![
            conv(cfg.input_nc, cfg.ndf, 2, vb.pp("0"))?,
            Layer::LeakyRelu(0.2),
        ];
        let mut mult = 1;
        for n in 1..=cfg.n_layers {
            let previous = mult;
            mult = (1 << n).min(8);
            let stride = if n < cfg.n_layers { 2 } else { 1 };
            let index = layers.len();
            layers.push(conv(
                cfg.ndf * previous,
                cfg.ndf * mult,
                stride,
                vb.pp(index.to_string()),
            )?);
            layers.push(Layer::InstanceNorm);
            layers.push(Layer::LeakyRelu(0.2));
        }
        let index = layers.len();
        layers.push(conv(cfg.ndf * mult, 1, 1, vb.pp(index.to_string()))?);
        Ok(Self {
            model: Sequential { layers },
        })
    }

    /// This discriminator with its weights cut from the graph, for the generator step: the
    /// adversarial loss reaches the generators without computing discriminator gradients.
    pub fn frozen(&self) -> Self {
        Self {
            model: self.model.frozen(),
        }
    }

    /// Biases of the convolutions before an instance norm: they never change the output, so
    /// training leaves them fixed.
    pub fn norm_cancelled_biases(&self) -> Vec<Tensor> {
        self.model.norm_cancelled_biases()
    }
}

impl Module for NLayerDiscriminator {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.model.forward(x)
    }
}
