//! PNet, RNet and ONet on the CPU without candle: channels-last maps, PReLU fused into each
//! convolution, caffe's flatten order folded into the first dense layer's weights. The detector
//! runs them on the CPU one pyramid level or one crop per task; the candle networks are their
//! oracle in the tests.

use candle_core::{Result, Tensor};
use candle_nn::Linear;
use visnir_nn::nhwc::{
    full_conv, kernel_major, max_pool_ceil, max_pool_ceil_shape, pointwise_conv, Epilogue,
    MapShape, Window,
};
use visnir_nn::{Conv2d, PRelu};

use super::{ConvPrelu, ONet, PNet, RNet};

/// One of MTCNN's networks, ready for channels-last input.
#[derive(Debug, Clone)]
pub(crate) struct CpuNet {
    body: Vec<Layer>,
    heads: Vec<Head>,
}

#[derive(Debug, Clone)]
enum Layer {
    /// A full convolution without padding, stride 1, weight `(ky, kx, ci) x cout`.
    Conv {
        weight: Vec<f32>,
        bias: Vec<f32>,
        prelu: Option<Vec<f32>>,
        kernel: usize,
    },
    /// Max pooling in ceil mode.
    Pool { kernel: usize, stride: usize },
    /// A dense layer on the whole map flattened in `(h, w, c)` order, weight `inputs x outputs`.
    Dense {
        weight: Vec<f32>,
        bias: Vec<f32>,
        prelu: Option<Vec<f32>>,
    },
}

/// An output layer (per pixel for PNet, per crop for the others), optionally a softmax.
#[derive(Debug, Clone)]
struct Head {
    weight: Vec<f32>,
    bias: Vec<f32>,
    softmax: bool,
}

fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// `(rows, cols)` row-major values transposed to `(cols, rows)`.
fn transposed(t: &Tensor) -> Result<Vec<f32>> {
    values(&t.t()?.contiguous()?)
}

fn conv(unit: &ConvPrelu) -> Result<Layer> {
    Ok(Layer::Conv {
        weight: kernel_major(unit.conv.weight())?,
        bias: values(unit.conv.bias())?,
        prelu: Some(values(unit.prelu.weight())?),
        kernel: unit.conv.config().kernel,
    })
}

fn linear_bias(linear: &Linear) -> Result<Vec<f32>> {
    match linear.bias() {
        Some(b) => values(b),
        None => Ok(vec![0.0; linear.weight().dim(0)?]),
    }
}

/// The first dense layer after a `(h, w, c)` map: its weight columns are in caffe's `(w, h, c)`
/// order and are put in the map's own order.
fn dense_after_map(linear: &Linear, prelu: &PRelu, map: (usize, usize, usize)) -> Result<Layer> {
    let (h, w, c) = map;
    let outputs = linear.weight().dim(0)?;
    let caffe = values(linear.weight())?;
    let mut weight = vec![0f32; h * w * c * outputs];
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let (ours, theirs) = ((y * w + x) * c + ch, (x * h + y) * c + ch);
                for o in 0..outputs {
                    weight[ours * outputs + o] = caffe[o * h * w * c + theirs];
                }
            }
        }
    }
    Ok(Layer::Dense {
        weight,
        bias: linear_bias(linear)?,
        prelu: Some(values(prelu.weight())?),
    })
}

fn head(linear: &Linear, softmax: bool) -> Result<Head> {
    Ok(Head {
        weight: transposed(linear.weight())?,
        bias: linear_bias(linear)?,
        softmax,
    })
}

fn conv_head(conv: &Conv2d, softmax: bool) -> Result<Head> {
    Ok(Head {
        weight: kernel_major(conv.weight())?,
        bias: values(conv.bias())?,
        softmax,
    })
}

impl CpuNet {
    /// PNet: heads `conv4_1` (face probability, softmax) and `conv4_2` (box regression).
    pub fn pnet(net: &PNet) -> Result<Self> {
        let pool = Layer::Pool {
            kernel: 2,
            stride: 2,
        };
        Ok(Self {
            body: vec![
                conv(&net.layer1)?,
                pool,
                conv(&net.layer2)?,
                conv(&net.layer3)?,
            ],
            heads: vec![
                conv_head(&net.conv4_1, true)?,
                conv_head(&net.conv4_2, false)?,
            ],
        })
    }

    /// RNet on 24 x 24 crops: heads probability and regression.
    pub fn rnet(net: &RNet) -> Result<Self> {
        let pool = Layer::Pool {
            kernel: 3,
            stride: 2,
        };
        Ok(Self {
            body: vec![
                conv(&net.layer1)?,
                pool.clone(),
                conv(&net.layer2)?,
                pool,
                conv(&net.layer3)?,
                dense_after_map(&net.dense4, &net.prelu4, (3, 3, 64))?,
            ],
            heads: vec![head(&net.dense5_1, true)?, head(&net.dense5_2, false)?],
        })
    }

    /// ONet on 48 x 48 crops: heads probability, regression and landmarks.
    pub fn onet(net: &ONet) -> Result<Self> {
        let pool = |kernel| Layer::Pool { kernel, stride: 2 };
        Ok(Self {
            body: vec![
                conv(&net.layer1)?,
                pool(3),
                conv(&net.layer2)?,
                pool(3),
                conv(&net.layer3)?,
                pool(2),
                conv(&net.layer4)?,
                dense_after_map(&net.dense5, &net.prelu5, (3, 3, 128))?,
            ],
            heads: vec![
                head(&net.dense6_1, true)?,
                head(&net.dense6_2, false)?,
                head(&net.dense6_3, false)?,
            ],
        })
    }

    /// The heads' outputs on one channels-last input of `shape`: per head, `pixels x outputs`
    /// values (one pixel after a dense layer), and the final map's height and width.
    pub fn forward(&self, input: &[f32], shape: MapShape) -> (Vec<Vec<f32>>, (usize, usize)) {
        let mut x = input[..shape.len()].to_vec();
        let mut shape = shape;
        let mut next = Vec::new();
        for layer in &self.body {
            shape = layer.run(&x, shape, &mut next);
            std::mem::swap(&mut x, &mut next);
        }
        let pixels = shape.height * shape.width;
        let heads = self
            .heads
            .iter()
            .map(|head| {
                let outputs = head.bias.len();
                let mut out = vec![0f32; pixels * outputs];
                let epilogue = Epilogue {
                    bias: &head.bias,
                    prelu: None,
                };
                pointwise_conv(
                    &x,
                    shape.channels,
                    &head.weight,
                    epilogue,
                    None,
                    &mut out,
                    false,
                );
                if head.softmax {
                    out.chunks_exact_mut(outputs).for_each(softmax);
                }
                out
            })
            .collect();
        (heads, (shape.height, shape.width))
    }
}

impl Layer {
    /// Runs the layer into `out`; returns the output's shape.
    fn run(&self, x: &[f32], shape: MapShape, out: &mut Vec<f32>) -> MapShape {
        match self {
            Layer::Conv {
                weight,
                bias,
                prelu,
                kernel,
            } => {
                let out_shape = MapShape {
                    height: shape.height + 1 - kernel,
                    width: shape.width + 1 - kernel,
                    channels: bias.len(),
                };
                out.resize(out_shape.len(), 0.0);
                let window = Window {
                    kernel: *kernel,
                    stride: 1,
                    pad: (0, 0),
                };
                let epilogue = Epilogue {
                    bias,
                    prelu: prelu.as_deref(),
                };
                full_conv(x, shape, weight, window, epilogue, out_shape, out, false);
                out_shape
            }
            Layer::Pool { kernel, stride } => {
                let out_shape = max_pool_ceil_shape(shape, *kernel, *stride);
                out.resize(out_shape.len(), 0.0);
                max_pool_ceil(x, shape, *kernel, *stride, out);
                out_shape
            }
            Layer::Dense {
                weight,
                bias,
                prelu,
            } => {
                out.resize(bias.len(), 0.0);
                let epilogue = Epilogue {
                    bias,
                    prelu: prelu.as_deref(),
                };
                pointwise_conv(x, shape.len(), weight, epilogue, None, out, false);
                MapShape {
                    height: 1,
                    width: 1,
                    channels: bias.len(),
                }
            }
        }
    }
}

/// Softmax of one row, as candle's: `exp(x - max) / sum`.
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    row.iter_mut().for_each(|v| *v = (*v - max).exp());
    let sum: f32 = row.iter().sum();
    row.iter_mut().for_each(|v| *v /= sum);
}

/// A pixel value (0-255) as MTCNN's input: `(v - 127.5) / 128`.
pub(crate) fn normalize(v: f32) -> f32 {
    (v - 127.5) * 0.0078125
}

/// Channel-planar values `(3, h, w)` as channels-last `(h, w, 3)`, [`normalize`]d.
pub(crate) fn normalized_nhwc(planes: &[f32], height: usize, width: usize) -> Vec<f32> {
    let plane = height * width;
    let mut out = Vec::with_capacity(3 * plane);
    for i in 0..plane {
        for c in 0..3 {
            out.push(normalize(planes[c * plane + i]));
        }
    }
    out
}
