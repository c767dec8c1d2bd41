//! The layers of PyTorch CycleGAN's `nn.Sequential` models, indexed as in their state dicts so
//! that `model.<i>.weight` keys load unchanged; a reflection pad is fused into the convolution
//! that follows it.

use candle_core::{Module, Result, Tensor};
use visnir_nn::{instance_norm, leaky_relu, pad2d, Conv2d, ConvTranspose2d, PadMode, Padding};

/// One element of a PyTorch `nn.Sequential`.
#[derive(Debug, Clone)]
pub(crate) enum Layer {
    /// `nn.ReflectionPad2d(p)`.
    ReflectPad(usize),
    /// `nn.Conv2d` (bias always present in CycleGAN with instance norm).
    Conv(Conv2d),
    /// `nn.ConvTranspose2d`.
    ConvTranspose(ConvTranspose2d),
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
                (Layer::Conv(conv), Layer::InstanceNorm) => biases.push(conv.bias().clone()),
                (Layer::ConvTranspose(conv), Layer::InstanceNorm) => {
                    biases.push(conv.bias().clone())
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
            Layer::Conv(conv) => Some(conv.weight()),
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
                Layer::Conv(conv) => Layer::Conv(conv.detached()),
                Layer::ConvTranspose(conv) => Layer::ConvTranspose(conv.detached()),
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
            Layer::Conv(conv) => conv.forward(x),
            Layer::ConvTranspose(conv) => conv.forward(x),
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
            if let (Layer::ReflectPad(p), Some(Layer::Conv(conv))) =
                (&self.layers[i], self.layers.get(i + 1))
            {
                if conv.config().padding == Padding::NONE {
                    let fused = conv.with_padding(Padding::Fixed {
                        before: *p,
                        after: *p,
                        mode: PadMode::Reflect,
                    });
                    x = fused.forward(&x)?;
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
