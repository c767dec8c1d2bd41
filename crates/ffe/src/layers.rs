//! The units MobileFaceNet is built from (a convolution with TF "SAME" padding and BatchNorm
//! folded into its bias, with an optional PReLU; the inverted-residual block) and its stem, the
//! stages that the embedder and the FFE trunk share.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{Conv2d, Conv2dConfig, PRelu};

/// A [`Conv2d`] and an optional PReLU (tensors `weight`, `bias`, `prelu`); fresh slopes start
/// at 0.25 as in PyTorch.
#[derive(Debug, Clone)]
pub(crate) struct ConvUnit {
    pub conv: Conv2d,
    pub prelu: Option<PRelu>,
}

impl ConvUnit {
    /// Loads the unit's tensors from `vb`.
    pub fn new(config: Conv2dConfig, prelu: bool, vb: VarBuilder) -> Result<Self> {
        let prelu = if prelu {
            let slopes = vb.get_with_hints(config.cout, "prelu", candle_nn::Init::Const(0.25))?;
            Some(PRelu::from_weight(slopes))
        } else {
            None
        };
        Ok(Self {
            conv: Conv2d::new(config, vb)?,
            prelu,
        })
    }

    /// A full `cin -> cout` convolution with TF SAME padding.
    pub fn full(
        cin: usize,
        cout: usize,
        kernel: usize,
        stride: usize,
        prelu: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        let config = Conv2dConfig::new(cin, cout, kernel)
            .stride(stride)
            .tf_same();
        Self::new(config, prelu, vb)
    }

    /// A depthwise convolution of `channels` with TF SAME padding.
    pub fn depthwise(
        channels: usize,
        kernel: usize,
        stride: usize,
        prelu: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        let config = Conv2dConfig::depthwise(channels, kernel)
            .stride(stride)
            .tf_same();
        Self::new(config, prelu, vb)
    }
}

impl Module for ConvUnit {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.conv.forward(x)?;
        match &self.prelu {
            Some(prelu) => prelu.forward(&y),
            None => Ok(y),
        }
    }
}

/// MobileNetV2 inverted residual: 1x1 expand + PReLU, 3x3 depthwise + PReLU, 1x1 linear
/// projection, plus the input when `residual` (tensors `expand.*`, `dw.*`, `project.*`).
#[derive(Debug, Clone)]
pub(crate) struct InvertedResidual {
    pub expand: ConvUnit,
    pub dw: ConvUnit,
    pub project: ConvUnit,
    pub residual: bool,
}

impl InvertedResidual {
    /// A block `cin -> hidden -> cout` at `stride`.
    pub fn new(
        cin: usize,
        hidden: usize,
        cout: usize,
        stride: usize,
        residual: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            expand: ConvUnit::full(cin, hidden, 1, 1, true, vb.pp("expand"))?,
            dw: ConvUnit::depthwise(hidden, 3, stride, true, vb.pp("dw"))?,
            project: ConvUnit::full(hidden, cout, 1, 1, false, vb.pp("project"))?,
            residual,
        })
    }
}

/// `n` residual blocks of `c` channels (hidden `hidden`) at `vb.<name>.<i>`.
pub(crate) fn residual_stack(
    n: usize,
    c: usize,
    hidden: usize,
    vb: &VarBuilder,
    name: &str,
) -> Result<Vec<InvertedResidual>> {
    (0..n)
        .map(|i| InvertedResidual::new(c, hidden, c, 1, true, vb.pp(format!("{name}.{i}"))))
        .collect()
}

/// Runs `blocks` one after the other.
pub(crate) fn chain(blocks: &[InvertedResidual], x: &Tensor) -> Result<Tensor> {
    blocks.iter().try_fold(x.clone(), |x, b| b.forward(&x))
}

impl Module for InvertedResidual {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self
            .project
            .forward(&self.dw.forward(&self.expand.forward(x)?)?)?;
        if self.residual {
            y + x
        } else {
            Ok(y)
        }
    }
}

/// MobileFaceNet from its input through `conv_4` (`conv1`, `conv2_dw`, `conv2_pw`, `conv_23`,
/// `conv_3.*`, `conv_34`, `conv_4.*`): 128 channels at stride 16, or at stride 8 when `conv_34`
/// keeps the resolution (the FFE-CycleGAN authors' trunk).
#[derive(Debug, Clone)]
pub(crate) struct Stem {
    pub conv1: ConvUnit,
    pub conv2_dw: ConvUnit,
    pub conv2_pw: ConvUnit,
    pub conv_23: InvertedResidual,
    pub conv_3: Vec<InvertedResidual>,
    pub conv_34: InvertedResidual,
    pub conv_4: Vec<InvertedResidual>,
}

impl Stem {
    /// Loads the stem from `vb` with `conv_34` at `conv_34_stride` (MobileFaceNet: 2).
    pub fn new(conv_34_stride: usize, vb: &VarBuilder) -> Result<Self> {
        Ok(Self {
            conv1: ConvUnit::full(3, 64, 3, 2, true, vb.pp("conv1"))?,
            conv2_dw: ConvUnit::depthwise(64, 3, 1, true, vb.pp("conv2_dw"))?,
            conv2_pw: ConvUnit::full(64, 64, 1, 1, false, vb.pp("conv2_pw"))?,
            conv_23: InvertedResidual::new(64, 128, 64, 2, false, vb.pp("conv_23"))?,
            conv_3: residual_stack(4, 64, 128, vb, "conv_3")?,
            conv_34: InvertedResidual::new(64, 256, 128, conv_34_stride, false, vb.pp("conv_34"))?,
            conv_4: residual_stack(6, 128, 256, vb, "conv_4")?,
        })
    }
}

impl Module for Stem {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = self
            .conv2_pw
            .forward(&self.conv2_dw.forward(&self.conv1.forward(x)?)?)?;
        let x = chain(&self.conv_3, &self.conv_23.forward(&x)?)?;
        chain(&self.conv_4, &self.conv_34.forward(&x)?)
    }
}
