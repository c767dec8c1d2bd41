//! The convolution layers every visnir model is built from (full or depthwise convolution with
//! fixed or TF "SAME" padding, transposed convolution) and the one weight initialisation of
//! fresh, trainable layers.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Init, VarBuilder, VarMap};

use crate::conv::{conv2d, ConvSpec, PadMode};
use crate::conv_transpose::{conv_transpose2d, ConvTransposeSpec};
use crate::depthwise::{depthwise_conv2d, tf_same_padding};

/// Standard deviation of fresh convolution weights: CycleGAN's `init_weights('normal', 0.02)`.
pub const INIT_STDEV: f64 = 0.02;

/// Fresh convolution weights: N(0, [`INIT_STDEV`]) (biases start at 0).
pub const WEIGHT_INIT: Init = Init::Randn {
    mean: 0.0,
    stdev: INIT_STDEV,
};

/// Redraws every convolution weight of `varmap` (names ending in `weight`, rank >= 2) from
/// N(0, [`INIT_STDEV`]) with a seeded generator, in name order, so that a run is reproducible
/// (candle's CPU generator cannot be seeded).
pub fn reseed_weights(varmap: &VarMap, seed: u64) -> Result<()> {
    use rand::SeedableRng;
    use rand_distr::Distribution;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("poisoned var map".into()))?;
    let mut names: Vec<&String> = data
        .keys()
        .filter(|k| k.ends_with("weight") && data[*k].rank() >= 2)
        .collect();
    names.sort();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = rand_distr::Normal::new(0f32, INIT_STDEV as f32)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    for name in names {
        let var = &data[name];
        let values: Vec<f32> = (0..var.elem_count())
            .map(|_| normal.sample(&mut rng))
            .collect();
        var.set(&Tensor::from_vec(values, var.dims(), var.device())?)?;
    }
    Ok(())
}

/// How a convolution pads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// `before` rows/columns at the top/left and `after` at the bottom/right, filled by `mode`.
    Fixed {
        /// Top/left padding.
        before: usize,
        /// Bottom/right padding.
        after: usize,
        /// Zeros or reflection.
        mode: PadMode,
    },
    /// TensorFlow's "SAME": the output is `ceil(input / stride)`, any odd pixel padded after.
    TfSame,
}

impl Padding {
    /// No padding ("VALID").
    pub const NONE: Self = Self::Fixed {
        before: 0,
        after: 0,
        mode: PadMode::Zeros,
    };
}

/// Shape of a [`Conv2d`]: `cin -> cout` channels, a square `kernel`, `stride`, padding and
/// whether it is depthwise (one filter per channel, `cout == cin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Square kernel side.
    pub kernel: usize,
    /// Step between output positions.
    pub stride: usize,
    /// How the input is padded.
    pub padding: Padding,
    /// One filter per channel (`groups = channels`) instead of a full convolution.
    pub depthwise: bool,
}

impl Conv2dConfig {
    /// A full `cin -> cout` convolution, stride 1, no padding.
    pub fn new(cin: usize, cout: usize, kernel: usize) -> Self {
        Self {
            cin,
            cout,
            kernel,
            stride: 1,
            padding: Padding::NONE,
            depthwise: false,
        }
    }

    /// A depthwise convolution of `channels`, stride 1, no padding.
    pub fn depthwise(channels: usize, kernel: usize) -> Self {
        Self {
            depthwise: true,
            ..Self::new(channels, channels, kernel)
        }
    }

    /// The same with `stride`.
    pub fn stride(self, stride: usize) -> Self {
        Self { stride, ..self }
    }

    /// The same with `pad` rows/columns on every side, filled by `mode`.
    pub fn pad(self, pad: usize, mode: PadMode) -> Self {
        Self {
            padding: Padding::Fixed {
                before: pad,
                after: pad,
                mode,
            },
            ..self
        }
    }

    /// The same with TF "SAME" padding.
    pub fn tf_same(self) -> Self {
        Self {
            padding: Padding::TfSame,
            ..self
        }
    }
}

/// A convolution with bias (tensors `weight` `(cout, cin or 1, k, k)` and `bias`, PyTorch's
/// names); fresh tensors start at [`WEIGHT_INIT`] and zero.
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Tensor,
    config: Conv2dConfig,
}

impl Conv2d {
    /// Loads (or creates) the layer's tensors under `vb`.
    pub fn new(config: Conv2dConfig, vb: VarBuilder) -> Result<Self> {
        let (k, cout) = (config.kernel, config.cout);
        let cin = if config.depthwise { 1 } else { config.cin };
        Ok(Self {
            weight: vb.get_with_hints((cout, cin, k, k), "weight", WEIGHT_INIT)?,
            bias: vb.get_with_hints(cout, "bias", Init::Const(0.0))?,
            config,
        })
    }

    /// The weight tensor.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias tensor.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The layer's shape.
    pub fn config(&self) -> &Conv2dConfig {
        &self.config
    }

    /// The same weights with other padding (for a padding layer fused into this convolution).
    pub fn with_padding(&self, padding: Padding) -> Self {
        Self {
            config: Conv2dConfig {
                padding,
                ..self.config
            },
            ..self.clone()
        }
    }

    /// A copy cut from the autograd graph: gradients still reach its input, none its tensors.
    pub fn detached(&self) -> Self {
        Self {
            weight: self.weight.detach(),
            bias: self.bias.detach(),
            config: self.config,
        }
    }

    fn spec(&self, height: usize, width: usize) -> Result<ConvSpec> {
        let Conv2dConfig { kernel, stride, .. } = self.config;
        let (pad_before, pad_after, mode) = match self.config.padding {
            Padding::Fixed {
                before,
                after,
                mode,
            } => (before, after, mode),
            Padding::TfSame => {
                let (before, after) = tf_same_padding(height, kernel, stride);
                if (before, after) != tf_same_padding(width, kernel, stride) {
                    candle_core::bail!(
                        "TF SAME padding differs between height {height} and width {width}; \
                         give a square input"
                    );
                }
                (before, after, PadMode::Zeros)
            }
        };
        Ok(ConvSpec {
            stride,
            pad_before,
            pad_after,
            mode,
        })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let spec = self.spec(h, w)?;
        if self.config.depthwise {
            depthwise_conv2d(x, &self.weight, &self.bias, spec)
        } else {
            conv2d(x, &self.weight, &self.bias, spec)
        }
    }
}

/// Shape of a [`ConvTranspose2d`]: `cin -> cout` channels, a square `kernel` and its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvTranspose2dConfig {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Square kernel side.
    pub kernel: usize,
    /// Stride, padding and output padding.
    pub spec: ConvTransposeSpec,
}

/// A transposed convolution with bias (`torch.nn.ConvTranspose2d`: `weight` `(cin, cout, k,
/// k)`, `bias`); fresh tensors start at [`WEIGHT_INIT`] and zero.
#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    weight: Tensor,
    bias: Tensor,
    spec: ConvTransposeSpec,
}

impl ConvTranspose2d {
    /// Loads (or creates) the layer's tensors under `vb`.
    pub fn new(config: ConvTranspose2dConfig, vb: VarBuilder) -> Result<Self> {
        let k = config.kernel;
        Ok(Self {
            weight: vb.get_with_hints((config.cin, config.cout, k, k), "weight", WEIGHT_INIT)?,
            bias: vb.get_with_hints(config.cout, "bias", Init::Const(0.0))?,
            spec: config.spec,
        })
    }

    /// The bias tensor.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// A copy cut from the autograd graph (see [`Conv2d::detached`]).
    pub fn detached(&self) -> Self {
        Self {
            weight: self.weight.detach(),
            bias: self.bias.detach(),
            spec: self.spec,
        }
    }
}

impl Module for ConvTranspose2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        conv_transpose2d(x, &self.weight, &self.bias, self.spec)
    }
}
