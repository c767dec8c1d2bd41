//! Building blocks shared by the visnir models: device choice, photo loading and image <-> tensor
//! conversion, the convolution layers (full, depthwise, transposed; zero, reflect or TF SAME
//! padding) with their one weight initialisation, instance norm, (leaky) ReLU, PReLU, ceil-mode
//! max pooling, and readers for upstream weight files.
//!
//! Each layer has a fast CPU kernel (a candle custom op) and a generic composition of candle
//! ops; the generic path runs on CUDA/Metal and is the oracle the CPU kernels are tested against.
//!
//! ```
//! use candle_core::{Device, Module, Tensor};
//! use visnir_nn::{max_pool2d_ceil, PRelu};
//!
//! let x = Tensor::new(&[[[[-2f32, 1.], [3., -4.]]]], &Device::Cpu).unwrap();
//! let prelu = PRelu::from_weight(Tensor::new(&[0.25f32], &Device::Cpu).unwrap());
//! let y = prelu.forward(&x).unwrap();
//! assert_eq!(y.flatten_all().unwrap().to_vec1::<f32>().unwrap(), [-0.5, 1., 3., -1.]);
//! assert_eq!(max_pool2d_ceil(&y, 2, 2).unwrap().dims(), &[1, 1, 1, 1]);
//! ```

#[macro_use]
mod simd;

mod allocator;
mod conv;
mod conv_grad;
mod conv_transpose;
mod cpu_slice;
mod depthwise;
mod device;
mod error;
mod few_channels;
mod image;
mod instance_norm;
mod layers;
mod leaky_relu;
pub mod nhwc;
mod pool;
mod prelu;
mod sgemm;
pub mod tfjs;
mod threads;
pub mod torch_legacy;
mod weights_source;
mod winograd;

pub use allocator::reuse_freed_buffers;
pub use conv::{conv2d, conv2d_generic, pad2d, ConvSpec, PadMode};
pub use conv_transpose::{conv_transpose2d, conv_transpose2d_generic, ConvTransposeSpec};
pub use cpu_slice::f32_slice;
pub use depthwise::{depthwise_conv2d, depthwise_conv2d_generic, tf_same_padding};
pub use device::DeviceChoice;
pub use error::{NnError, Result};
pub use image::{
    decode_rgb, from_signed_planar, load_rgb, max_pixels, planar, planar_into, read_image_file,
    read_regular_file, to_image, to_signed_planar, to_tensor, DEFAULT_MAX_PIXELS, MAX_FILE_BYTES,
    MAX_PIXELS_VAR, MAX_SIDE, MAX_WEIGHT_FILE_BYTES,
};
pub use instance_norm::{instance_norm, instance_norm_generic, INSTANCE_NORM_EPS};
pub use layers::{
    reseed_weights, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Padding,
    INIT_STDEV, WEIGHT_INIT,
};
pub use leaky_relu::{leaky_relu, leaky_relu_generic};
pub use pool::{max_pool2d_ceil, max_pool2d_ceil_generic};
pub use prelu::{prelu, prelu_generic, PRelu};
pub use threads::{on_cpu_workers, park_idle_candle_threads};
pub use weights_source::WeightsSource;
