//! The layers of PyTorch CycleGAN's `nn.Sequential` models, indexed as in their state dicts so
//! that `model.<i>.weight` keys load unchanged; a reflection pad is fused into the convolution
//! that follows it.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{
    conv2d, conv_transpose2d, instance_norm, leaky_relu, pad2d, ConvSpec, ConvTransposeSpec,
    PadMode,
};

/// CycleGAN's `init_weights(normal, 0.02)`: weights N(0, 0.02), biases 0.
pub(crate) const WEIGHT_INIT: candle_nn::Init = candle_nn::Init::Randn {
    mean: 0.0,
    stdev: 0.02,
};

/// One element of a PyTorch `nn.Sequential`.
#[derive(Debug, Clone)]
pub(crate) enum Layer {
    /// `nn.ReflectionPad2d(p)`.
    ReflectPad(usize),
    /// `nn.Conv2d` with zero padding `spec` (bias always present in CycleGAN with instance norm).
    Conv {
        weight: Tensor,
        bias: Tensor,
        spec: ConvSpec,
    },
    /// `nn.ConvTranspose2d`.
    ConvTranspose {
        weight: Tensor,
        bias: Tensor,
        spec: ConvTransposeSpec,
    },
    /// `nn.InstanceNorm2d(affine=False)`.
    InstanceNorm,
    /// `nn.ReLU`.
    Relu,
    /// `nn.LeakyReLU(slope)`.
    LeakyRelu(f64),
    /// `nn.Tanh`.
    Tanh,
    /// A ResNet block (`conv_block.*`) with its skip connection.
    ResBlock(Box<Sequential>),
}

/// Loads a convolution `cin -> cout`, `k` x `k`, as `weight` / `bias` under `vb`.
pub(crate) fn conv(
    cin: usize,
    cout: usize,
    k: usize,
    spec: ConvSpec,
    vb: VarBuilder,
) -> Result<Layer> {
    Ok(Layer::Conv {
        weight: vb.get_with_hints((cout, cin, k, k), "weight", WEIGHT_INIT)?,
        bias: vb.get_with_hints(cout, "bias", candle_nn::Init::Const(0.0))?,
        spec,
    })
}

/// Loads a transposed convolution `cin -> cout` (PyTorch weight layout `(cin, cout, k, k)`).
pub(crate) fn conv_transpose(
    cin: usize,
    cout: usize,
    k: usize,
    spec: ConvTransposeSpec,
    vb: VarBuilder,
) -> Result<Layer> {
    Ok(Layer::ConvTranspose {
        weight: vb.get_with_hints((cin, cout, k, k), "weight", WEIGHT_INIT)?,
        bias: vb.get_with_hints(cout, "bias", candle_nn::Init::Const(0.0))?,
        spec,
    })
}

/// A `nn.Sequential`: layers at their state-dict indices.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sequential {
    pub layers: Vec<Layer>,
}

impl Sequential {
    /// Biases of the convolutions that an affine-free instance norm follows. The norm subtracts
    /// each channel's mean, so these biases never change the output and their true gradient is
    /// zero; training leaves them fixed rather than let Adam amplify rounding noise into moves.
    pub fn norm_cancelled_biases(&self) -> Vec<Tensor> {
        let mut biases = Vec::new();
        for (layer, next) in self.layers.iter().zip(self.layers.iter().skip(1)) {
            match (layer, next) {
                (Layer::Conv { bias, .. }, Layer::InstanceNorm)
                | (Layer::ConvTranspose { bias, .. }, Layer::InstanceNorm) => {
                    biases.push(bias.clone())
                }
                _ => {}
            }
        }
        for layer in &self.layers {
            if let Layer::ResBlock(block) = layer {
                biases.extend(block.norm_cancelled_biases());
            }
        }
        biases
    }

    /// The weight of the last convolution (a generator's output layer).
    pub fn output_weight(&self) -> Option<&Tensor> {
        self.layers.iter().rev().find_map(|layer| match layer {
            Layer::Conv { weight, .. } => Some(weight),
            _ => None,
        })
    }

    /// A copy whose parameters are cut from the autograd graph: gradients still flow through
    /// it to its input, but none is computed for its weights (PyTorch's `requires_grad_(False)`).
    pub fn frozen(&self) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|layer| match layer {
                Layer::Conv { weight, bias, spec } => Layer::Conv {
                    weight: weight.detach(),
                    bias: bias.detach(),
                    spec: *spec,
                },
                Layer::ConvTranspose { weight, bias, spec } => Layer::ConvTranspose {
                    weight: weight.detach(),
                    bias: bias.detach(),
                    spec: *spec,
                },
                Layer::ResBlock(block) => Layer::ResBlock(Box::new(block.frozen())),
                other => other.clone(),
            })
            .collect();
        Self { layers }
    }

    /// Runs one layer on its own (reflection padding materialised).
    fn apply(layer: &Layer, x: &Tensor) -> Result<Tensor> {
        match layer {
            Layer::ReflectPad(p) => pad2d(x, *p, *p, PadMode::Reflect),
            Layer::Conv { weight, bias, spec } => conv2d(x, weight, bias, *spec),
            Layer::ConvTranspose { weight, bias, spec } => conv_transpose2d(x, weight, bias, *spec),
            Layer::InstanceNorm => instance_norm(x),
            Layer::Relu => leaky_relu(x, 0.0),
            Layer::LeakyRelu(slope) => leaky_relu(x, *slope as f32),
            Layer::Tanh => x.tanh(),
            Layer::ResBlock(block) => x + block.forward(x)?,
        }
    }

    /// Every layer's output in order (`model.<i>` activations), without fusing pads.
    pub fn trace(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        let mut outputs = Vec::with_capacity(self.layers.len());
        let mut x = x.clone();
        for layer in &self.layers {
            x = Self::apply(layer, &x)?;
            outputs.push(x.clone());
        }
        Ok(outputs)
    }
}

impl Module for Sequential {
    /// The output, with each reflection pad fused into the convolution after it.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        let mut i = 0;
        while i < self.layers.len() {
            if let (Layer::ReflectPad(p), Some(Layer::Conv { weight, bias, spec })) =
                (&self.layers[i], self.layers.get(i + 1))
            {
                if spec.pad_before == 0 && spec.pad_after == 0 {
                    let fused = ConvSpec {
                        pad_before: *p,
                        pad_after: *p,
                        mode: PadMode::Reflect,
                        ..*spec
                    };
                    x = conv2d(&x, weight, bias, fused)?;
                    i += 2;
                    continue;
                }
            }
            x = Self::apply(&self.layers[i], &x)?;
            i += 1;
        }
        Ok(x)
    }
}
