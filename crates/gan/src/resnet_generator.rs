//! CycleGAN's `ResnetGenerator` (junyanz/pytorch-CycleGAN-and-pix2pix), with its state-dict keys.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{
    Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, ConvTransposeSpec, PadMode,
};

use crate::layers::{Layer, Sequential};

/// An unpadded `k` x `k` convolution `cin -> cout` (a reflection pad precedes it).
fn conv(cin: usize, cout: usize, k: usize, vb: VarBuilder) -> Result<Layer> {
    Ok(Layer::Conv(Conv2d::new(
        Conv2dConfig::new(cin, cout, k),
        vb,
    )?))
}

/// CycleGAN's 3 x 3 upsampling by 2, `cin -> cout`.
pub(crate) fn upsample(cin: usize, cout: usize, vb: VarBuilder) -> Result<Layer> {
    let spec = ConvTransposeSpec {
        stride: 2,
        padding: 1,
        output_padding: 1,
    };
    let config = ConvTranspose2dConfig {
        cin,
        cout,
        kernel: 3,
        spec,
    };
    Ok(Layer::ConvTranspose(ConvTranspose2d::new(config, vb)?))
}

/// Size of a ResNet generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResnetGeneratorConfig {
    /// Input channels.
    pub input_nc: usize,
    /// Output channels.
    pub output_nc: usize,
    /// Filters of the first layer.
    pub ngf: usize,
    /// ResNet blocks at the bottleneck.
    pub n_blocks: usize,
}

impl Default for ResnetGeneratorConfig {
    fn default() -> Self {
        Self {
            input_nc: 3,
            output_nc: 3,
            ngf: 64,
            n_blocks: 6,
        }
    }
}

/// ReflPad3, Conv7, IN, ReLU; 2 x (Conv3 s2, IN, ReLU); n ResNet blocks; 2 x (ConvT3 s2, IN,
/// ReLU); ReflPad3, Conv7, Tanh. Keys `model.<i>.weight` as in PyTorch.
#[derive(Debug, Clone)]
pub struct ResnetGenerator {
    model: Sequential,
}

/// A ResNet block of `dim` channels at `vb` (`conv_block.1`, `conv_block.5`).
pub(crate) fn resnet_block(dim: usize, vb: VarBuilder) -> Result<Layer> {
    let vb = vb.pp("conv_block");
    Ok(Layer::ResBlock(Box::new(Sequential {
        layers: vec![
            Layer::ReflectPad(1),
            conv(dim, dim, 3, vb.pp("1"))?,
            Layer::InstanceNorm,
            Layer::Relu,
            Layer::ReflectPad(1),
            conv(dim, dim, 3, vb.pp("5"))?,
            Layer::InstanceNorm,
        ],
    })))
}

/// The decoder shared by both generators: two upsampling stages from `ngf * 4` channels and the
/// output convolution, appended at state-dict index `first`.
pub(crate) fn decoder(
    layers: &mut Vec<Layer>,
    ngf: usize,
    output_nc: usize,
    vb: &VarBuilder,
) -> Result<()> {
    for mult in [4, 2] {
        let index = layers.len();
        layers.push(upsample(
            ngf * mult,
            ngf * mult / 2,
            vb.pp(index.to_string()),
        )?);
        layers.push(Layer::InstanceNorm);
        layers.push(Layer::Relu);
    }
    layers.push(Layer::ReflectPad(3));
    let index = layers.len();
    layers.push(conv(ngf, output_nc, 7, vb.pp(index.to_string()))?);
    layers.push(Layer::Tanh);
    Ok(())
}

impl ResnetGenerator {
    /// Builds the generator; `vb` is the level holding `model.*` (for example the root of a
    /// `latest_net_G_A.pth` state dict).
    pub fn new(cfg: ResnetGeneratorConfig, vb: VarBuilder) -> Result<Self> {
        let vb = vb.pp("model");
        let ngf = cfg.ngf;
        let mut layers = vec![
            Layer::ReflectPad(3),
            conv(cfg.input_nc, ngf, 7, vb.pp("1"))?,
            Layer::InstanceNorm,
            Layer::Relu,
        ];
        for mult in [1, 2] {
            let index = layers.len();
            let down = Conv2dConfig::new(ngf * mult, ngf * mult * 2, 3)
                .stride(2)
                .pad(1, PadMode::Zeros);
            layers.push(Layer::Conv(Conv2d::new(down, vb.pp(index.to_string()))?));
            layers.push(Layer::InstanceNorm);
            layers.push(Layer::Relu);
        }
        for _ in 0..cfg.n_blocks {
            let index = layers.len();
            layers.push(resnet_block(ngf * 4, vb.pp(index.to_string()))?);
        }
        decoder(&mut layers, ngf, cfg.output_nc, &vb)?;
        Ok(Self {
            model: Sequential { layers },
        })
    }

    /// Biases that an instance norm cancels (see [`crate::Generator::norm_cancelled_biases`]).
    pub fn norm_cancelled_biases(&self) -> Vec<Tensor> {
        self.model.norm_cancelled_biases()
    }

    /// The weight of the output convolution.
    pub(crate) fn output_weight(&self) -> Option<&Tensor> {
        self.model.output_weight()
    }

    /// The output of every `model.<i>` layer, for parity checks.
    pub fn trace(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        self.model.trace(x)
    }
}

impl Module for ResnetGenerator {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.model.forward(x)
    }
}
