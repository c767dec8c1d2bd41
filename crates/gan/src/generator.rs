//! The two generator architectures behind one type: CycleGAN's ResNet generator and the FFE
//! generator (MobileFaceNet trunk -> ResNet blocks -> CycleGAN decoder).

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_ffe::{FfeTrunk, TrunkVariant};

use crate::layers::{Layer, Sequential};
use crate::resnet_generator::{
    decoder, resnet_block, upsample, ResnetGenerator, ResnetGeneratorConfig,
};

/// The generator architectures, without their sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// CycleGAN's ResNet generator.
    Resnet,
    /// FFE-CycleGAN's generator (MobileFaceNet trunk, the authors' variant).
    Ffe,
}

impl Architecture {
    /// The generator of this architecture with `n_blocks` ResNet blocks (and, for the ResNet
    /// generator, `ngf` filters in its first layer; the FFE trunk's widths are fixed).
    pub fn config(self, ngf: usize, n_blocks: usize) -> GeneratorConfig {
        match self {
            Self::Resnet => GeneratorConfig::Resnet(ResnetGeneratorConfig {
                ngf,
                n_blocks,
                ..Default::default()
            }),
            Self::Ffe => GeneratorConfig::Ffe(FfeGeneratorConfig {
                n_blocks,
                ..Default::default()
            }),
        }
    }
}

impl std::str::FromStr for Architecture {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "resnet" => Ok(Self::Resnet),
            "ffe" => Ok(Self::Ffe),
            other => Err(format!(
                "unknown architecture `{other}` (expected resnet or ffe)"
            )),
        }
    }
}

/// Which generator to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorConfig {
    /// CycleGAN's ResNet generator.
    Resnet(ResnetGeneratorConfig),
    /// FFE-CycleGAN's generator.
    Ffe(FfeGeneratorConfig),
}

impl GeneratorConfig {
    /// True for the FFE generator (its trunk starts from the pretrained embedder).
    pub fn uses_ffe(&self) -> bool {
        matches!(self, Self::Ffe(_))
    }

    /// Channels of the images the generator takes.
    pub fn input_channels(&self) -> usize {
        match self {
            Self::Resnet(c) => c.input_nc,
            Self::Ffe(_) => 3,
        }
    }
}

/// Size of the FFE generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FfeGeneratorConfig {
    /// Trunk architecture (the authors' code by default).
    pub variant: TrunkVariant,
    /// ResNet blocks after the trunk (the paper: 6).
    pub n_blocks: usize,
    /// Output channels.
    pub output_nc: usize,
}

impl Default for FfeGeneratorConfig {
    fn default() -> Self {
        Self {
            variant: TrunkVariant::Authors,
            n_blocks: 6,
            output_nc: 3,
        }
    }
}

/// FFE trunk (`ffe.*`, MobileFaceNet names) -> ResNet blocks and decoder (`model.<i>.*`, indices
/// as in the authors' `MBFResnetGenerator` after its trunk).
#[derive(Debug, Clone)]
pub struct FfeGenerator {
    trunk: FfeTrunk,
    head: Sequential,
}

impl FfeGenerator {
    /// Builds the generator (fresh weights from a `VarMap`-backed `vb`; load the trunk's
    /// pretrained values with [`FfeTrunk::load_pretrained_with_prefix`] on `<prefix>.ffe.`).
    pub fn new(cfg: FfeGeneratorConfig, vb: VarBuilder) -> Result<Self> {
        let trunk = FfeTrunk::new(cfg.variant, vb.pp("ffe"))?;
        let vb = vb.pp("model");
        let channels = cfg.variant.out_channels();
        let mut layers = Vec::new();
        if cfg.variant == TrunkVariant::PaperText {
            // The paper-text trunk is at stride 8: one more upsampling brings it to stride 4.
            layers.push(upsample(channels, 256, vb.pp("0"))?);
            layers.push(Layer::InstanceNorm);
            layers.push(Layer::Relu);
        }
        for _ in 0..cfg.n_blocks {
            let index = layers.len();
            layers.push(resnet_block(256, vb.pp(index.to_string()))?);
        }
        decoder(&mut layers, 64, cfg.output_nc, &vb)?;
        Ok(Self {
            trunk,
            head: Sequential { layers },
        })
    }
}

impl FfeGenerator {
    /// Biases that an instance norm cancels in the head (the trunk has no biases before a norm).
    pub fn norm_cancelled_biases(&self) -> Vec<Tensor> {
        self.head.norm_cancelled_biases()
    }

    /// The weight of the output convolution.
    pub(crate) fn output_weight(&self) -> Option<&Tensor> {
        self.head.output_weight()
    }
}

impl Module for FfeGenerator {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.head.forward(&self.trunk.forward(x)?)
    }
}

/// Either network of a generator.
#[derive(Debug, Clone)]
enum Network {
    Resnet(ResnetGenerator),
    Ffe(Box<FfeGenerator>),
}

/// The learned identity path of a residual generator: each input channel scaled by `gain`
/// (starting at 1) and moved by `shift` (starting at 0) before the network's output is added.
/// The network's instance norms make its output blind to the input's brightness and contrast,
/// so without it a residual generator passes them through unchanged.
#[derive(Debug, Clone)]
struct SkipAffine {
    gain: Tensor,
    shift: Tensor,
}

/// Either generator, optionally residual: it then adds its tanh output to its input (clamped to
/// [-1, 1]), so that with its output convolution at zero an untrained generator is the
/// identity and training learns the change from VIS to NIR rather than the whole image; with a
/// skip affine the input is first scaled and shifted per channel by learned values, and with a
/// shading map a learned offset is added to each of its pixels.
/// A monochrome generator writes the mean of its output's channels into each of them, as
/// CycleGAN's one-channel output (`output_nc 1`) for a grey domain such as NIR.
#[derive(Debug, Clone)]
pub struct Generator {
    network: Network,
    input_channels: usize,
    residual: bool,
    skip: Option<SkipAffine>,
    shading_map: Option<Tensor>,
    monochrome: bool,
}

impl Generator {
    /// Builds the configured generator under `vb` (not residual).
    pub fn new(cfg: GeneratorConfig, vb: VarBuilder) -> Result<Self> {
        let network = match cfg {
            GeneratorConfig::Resnet(c) => Network::Resnet(ResnetGenerator::new(c, vb)?),
            GeneratorConfig::Ffe(c) => Network::Ffe(Box::new(FfeGenerator::new(c, vb)?)),
        };
        Ok(Self {
            network,
            input_channels: cfg.input_channels(),
            residual: false,
            skip: None,
            shading_map: None,
            monochrome: false,
        })
    }

    /// The same generator, residual or not.
    pub fn with_residual(self, residual: bool) -> Self {
        Self { residual, ..self }
    }

    /// Whether the generator adds its output to its input.
    pub fn is_residual(&self) -> bool {
        self.residual
    }

    /// The same generator with a learned skip affine (`skip.gain`, `skip.shift` under `vb`, one
    /// value per input channel, starting at the identity) if `skip_affine` and the generator is
    /// residual (set [`Self::with_residual`] first): only a residual generator has a skip.
    pub fn with_skip_affine(self, skip_affine: bool, vb: VarBuilder) -> Result<Self> {
        if !(skip_affine && self.residual) {
            return Ok(Self { skip: None, ..self });
        }
        let vb = vb.pp("skip");
        let shape = (1, self.input_channels, 1, 1);
        let skip = SkipAffine {
            gain: vb.get_with_hints(shape, "gain", candle_nn::Init::Const(1.0))?,
            shift: vb.get_with_hints(shape, "shift", candle_nn::Init::Const(0.0))?,
        };
        Ok(Self {
            skip: Some(skip),
            ..self
        })
    }

    /// Whether the generator has a learned skip affine.
    pub fn has_skip_affine(&self) -> bool {
        self.skip.is_some()
    }

    /// The skip affine's gain and shift (none without one).
    pub fn skip_affine_vars(&self) -> Vec<Tensor> {
        self.skip
            .iter()
            .flat_map(|s| [s.gain.clone(), s.shift.clone()])
            .collect()
    }

    /// The same generator with a learned shading map (`skip.map` under `vb`, `side x side`,
    /// starting at 0) if `side` is given and the generator is residual: an offset per pixel
    /// added to the identity path of every channel, for the shading that aligned faces of the
    /// output domain share at each position; resized bilinearly for images of another size.
    pub fn with_shading_map(self, side: Option<usize>, vb: VarBuilder) -> Result<Self> {
        let shading_map = match side {
            Some(side) if self.residual => Some(vb.pp("skip").get_with_hints(
                (1, 1, side, side),
                "map",
                candle_nn::Init::Const(0.0),
            )?),
            _ => None,
        };
        Ok(Self {
            shading_map,
            ..self
        })
    }

    /// The side of the learned shading map (none without one).
    pub fn shading_map_side(&self) -> Option<usize> {
        self.shading_map
            .as_ref()
            .and_then(|m| m.dims().last().copied())
    }

    /// The shading map's variable (none without one).
    pub fn shading_map_vars(&self) -> Vec<Tensor> {
        self.shading_map.iter().cloned().collect()
    }

    /// The same generator, with a grey output or not.
    pub fn with_monochrome(self, monochrome: bool) -> Self {
        Self { monochrome, ..self }
    }

    /// Whether the generator's output is grey.
    pub fn is_monochrome(&self) -> bool {
        self.monochrome
    }

    /// Biases of the convolutions that an affine-free instance norm follows. The norm removes
    /// each channel's mean, so they never change the output and their true gradient is zero;
    /// the trainer leaves them at their initial (or loaded) values.
    pub fn norm_cancelled_biases(&self) -> Vec<Tensor> {
        match &self.network {
            Network::Resnet(g) => g.norm_cancelled_biases(),
            Network::Ffe(g) => g.norm_cancelled_biases(),
        }
    }

    /// The weight of the output convolution (zeroed to start a residual generator at the
    /// identity).
    pub fn output_weight(&self) -> Option<&Tensor> {
        match &self.network {
            Network::Resnet(g) => g.output_weight(),
            Network::Ffe(g) => g.output_weight(),
        }
    }
}

impl Module for Generator {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = match &self.network {
            Network::Resnet(g) => g.forward(x)?,
            Network::Ffe(g) => g.forward(x)?,
        };
        let y = if self.residual {
            let identity = match &self.skip {
                Some(s) => x.broadcast_mul(&s.gain)?.broadcast_add(&s.shift)?,
                None => x.clone(),
            };
            let identity = match &self.shading_map {
                Some(map) => {
                    let (_, _, h, w) = x.dims4()?;
                    let map = if map.dims()[2..] == [h, w] {
                        map.clone()
                    } else {
                        map.upsample_bilinear2d(h, w, false)?
                    };
                    identity.broadcast_add(&map)?
                }
                None => identity,
            };
            (identity + y)?.clamp(-1f32, 1f32)?
        } else {
            y
        };
        if self.monochrome {
            y.mean_keepdim(1)?.broadcast_as(y.shape())?.contiguous()
        } else {
            Ok(y)
        }
    }
}
