//! The three MTCNN networks, with facenet-pytorch's layer names so its state dicts load as is.

mod cascade;
mod cpu;
mod onet;
mod pnet;
mod rnet;

pub(crate) use cascade::{Cascade, CropOutput};
pub use onet::ONet;
pub use pnet::PNet;
pub use rnet::RNet;

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{Conv2d, Conv2dConfig, PRelu};

/// A valid (unpadded) convolution followed by its PReLU, as every MTCNN stage uses them.
#[derive(Debug, Clone)]
struct ConvPrelu {
    pub(super) conv: Conv2d,
    pub(super) prelu: PRelu,
}

impl ConvPrelu {
    fn new(cin: usize, cout: usize, k: usize, index: usize, vb: &VarBuilder) -> Result<Self> {
        let conv = Conv2d::new(
            Conv2dConfig::new(cin, cout, k),
            vb.pp(format!("conv{index}")),
        )?;
        let prelu = PRelu::new(cout, vb.pp(format!("prelu{index}")))?;
        Ok(Self { conv, prelu })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        use candle_core::Module;
        self.prelu.forward(&self.conv.forward(x)?)
    }
}

/// Caffe-order flatten: `(N, C, H, W)` -> permute to `(N, W, H, C)` -> `(N, W*H*C)`.
fn flatten_caffe(x: &Tensor) -> Result<Tensor> {
    let n = x.dim(0)?;
    x.permute((0, 3, 2, 1))?.contiguous()?.reshape((n, ()))
}
