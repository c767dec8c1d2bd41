//! The units MobileFaceNet is built from: a convolution (full or depthwise, BatchNorm folded
//! into its bias) with an optional PReLU, and the inverted-residual block.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use visnir_nn::{conv2d, depthwise_conv2d, prelu, tf_same_padding, ConvSpec, PadMode};

/// Full or depthwise convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvKind {
    /// Every output channel sees every input channel.
    Full,
    /// One filter per channel (`groups = channels`).
    Depthwise,
}

/// A convolution with TF "SAME" padding (or none), a bias, and an optional PReLU
/// (tensors `weight`, `bias`, `prelu`). Fresh (trainable) units start as CycleGAN's
/// `init_weights`: weights N(0, 0.02), biases 0, PReLU slopes 0.25.
#[derive(Debug, Clone)]
pub struct ConvUnit {
    weight: Tensor,
    bias: Tensor,
    slope: Option<Tensor>,
    kind: ConvKind,
    kernel: usize,
    stride: usize,
    same_padding: bool,
}

/// Shape of a [`ConvUnit`].
#[derive(Debug, Clone, Copy)]
pub struct UnitSpec {
    /// Input channels.
    pub cin: usize,
    /// Output channels (equal to `cin` for depthwise).
    pub cout: usize,
    /// Square kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Full or depthwise.
    pub kind: ConvKind,
    /// Whether a PReLU follows.
    pub prelu: bool,
    /// TF SAME padding (true) or VALID (false).
    pub same_padding: bool,
}

impl UnitSpec {
    /// A unit with TF SAME padding.
    pub fn same(
        cin: usize,
        cout: usize,
        kernel: usize,
        stride: usize,
        kind: ConvKind,
        prelu: bool,
    ) -> Self {
        Self {
            cin,
            cout,
            kernel,
            stride,
            kind,
            prelu,
            same_padding: true,
        }
    }
}

impl ConvUnit {
    /// Loads the unit's tensors from `vb`.
    pub fn new(spec: UnitSpec, vb: VarBuilder) -> Result<Self> {
        let normal = candle_nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let (k, cout) = (spec.kernel, spec.cout);
        let weight = match spec.kind {
            ConvKind::Full => vb.get_with_hints((cout, spec.cin, k, k), "weight", normal)?,
            ConvKind::Depthwise => vb.get_with_hints((cout, 1, k, k), "weight", normal)?,
        };
        Ok(Self {
            weight,
            bias: vb.get_with_hints(cout, "bias", candle_nn::Init::Const(0.0))?,
            slope: if spec.prelu {
                Some(vb.get_with_hints(cout, "prelu", candle_nn::Init::Const(0.25))?)
            } else {
                None
            },
            kind: spec.kind,
            kernel: spec.kernel,
            stride: spec.stride,
            same_padding: spec.same_padding,
        })
    }
}

impl Module for ConvUnit {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let (pad_before, pad_after) = if self.same_padding {
            let (a, b) = tf_same_padding(h, self.kernel, self.stride);
            if (a, b) != tf_same_padding(w, self.kernel, self.stride) {
                candle_core::bail!("MobileFaceNet takes square inputs, got {h} x {w}");
            }
            (a, b)
        } else {
            (0, 0)
        };
        let spec = ConvSpec {
            stride: self.stride,
            pad_before,
            pad_after,
            mode: PadMode::Zeros,
        };
        let y = match self.kind {
            ConvKind::Full => conv2d(x, &self.weight, &self.bias, spec)?,
            ConvKind::Depthwise => depthwise_conv2d(x, &self.weight, &self.bias, spec)?,
        };
        match &self.slope {
            Some(slope) => prelu(&y, slope),
            None => Ok(y),
        }
    }
}

/// MobileNetV2 inverted residual: 1x1 expand + PReLU, 3x3 depthwise + PReLU, 1x1 linear
/// projection, plus the input when `residual` (tensors `expand.*`, `dw.*`, `project.*`).
#[derive(Debug, Clone)]
pub struct InvertedResidual {
    expand: ConvUnit,
    dw: ConvUnit,
    project: ConvUnit,
    residual: bool,
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
        let unit = |cin, cout, kernel, stride, kind, prelu| UnitSpec {
            cin,
            cout,
            kernel,
            stride,
            kind,
            prelu,
            same_padding: true,
        };
        Ok(Self {
            expand: ConvUnit::new(
                unit(cin, hidden, 1, 1, ConvKind::Full, true),
                vb.pp("expand"),
            )?,
            dw: ConvUnit::new(
                unit(hidden, hidden, 3, stride, ConvKind::Depthwise, true),
                vb.pp("dw"),
            )?,
            project: ConvUnit::new(
                unit(hidden, cout, 1, 1, ConvKind::Full, false),
                vb.pp("project"),
            )?,
            residual,
        })
    }
}

/// `n` residual blocks of `c` channels (hidden `hidden`) at `vb.<name>.<i>`.
pub fn residual_stack(
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
