//! Transposed 2-D convolution (`torch.nn.ConvTranspose2d`, weight `(Cin, Cout, kh, kw)`): the
//! fast CPU path is the input gradient of the matching convolution (gemm + col2im).

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

use crate::conv::{conv2d, ConvSpec, PadMode};
use crate::conv_grad::{ConvInputGrad, ConvWeightGrad};
use crate::cpu_slice::f32_slice;

/// Stride, padding and output padding of a transposed convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvTransposeSpec {
    /// Upsampling factor.
    pub stride: usize,
    /// Rows/columns removed from each border of the full output.
    pub padding: usize,
    /// Rows/columns added at the bottom/right (less than `stride`).
    pub output_padding: usize,
}

impl ConvTransposeSpec {
    fn conv(&self) -> ConvSpec {
        ConvSpec::symmetric(self.stride, self.padding, PadMode::Zeros)
    }

    fn out_size(&self, input: usize, kernel: usize) -> usize {
        (input - 1) * self.stride + kernel + self.output_padding - 2 * self.padding
    }
}

/// Transposed convolution of `x` `(N, Cin, H, W)` with `weight` `(Cin, Cout, kh, kw)` plus
/// `bias` `(Cout)`; the fast kernel on f32 CPU tensors, candle's own op elsewhere.
pub fn conv_transpose2d(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    spec: ConvTransposeSpec,
) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.apply_op3(weight, bias, ConvTransposeOp { spec })
    } else {
        conv_transpose2d_generic(x, weight, bias, spec)
    }
}

/// The same operation with candle's `conv_transpose2d` and a broadcast bias.
pub fn conv_transpose2d_generic(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    spec: ConvTransposeSpec,
) -> Result<Tensor> {
    let y = x.conv_transpose2d(weight, spec.padding, spec.output_padding, spec.stride, 1)?;
    y.broadcast_add(&bias.reshape((1, bias.elem_count(), 1, 1))?)
}

struct ConvTransposeOp {
    spec: ConvTransposeSpec,
}

impl CustomOp3 for ConvTransposeOp {
    fn name(&self) -> &'static str {
        "visnir-conv-transpose2d"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        bs: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        use candle_core::CustomOp2;
        let (_, _, h, w) = xl.shape().dims4()?;
        let (_, cout, kh, kw) = wl.shape().dims4()?;
        if self.spec.output_padding >= self.spec.stride
            || (h - 1) * self.spec.stride + kh + self.spec.output_padding < 2 * self.spec.padding
        {
            candle_core::bail!(
                "conv_transpose2d: invalid {:?} for a {h}x{w} input",
                self.spec
            );
        }
        let out_hw = (self.spec.out_size(h, kh), self.spec.out_size(w, kw));
        let op = ConvInputGrad {
            spec: self.spec.conv(),
            input_hw: out_hw,
        };
        let (storage, shape) = op.cpu_fwd(xs, xl, ws, wl)?;
        let CpuStorage::F32(mut out) = storage else {
            candle_core::bail!("conv_transpose2d: f32 expected")
        };
        let bias = f32_slice(bs, bl, "conv_transpose2d")?;
        if bias.len() != cout {
            candle_core::bail!(
                "conv_transpose2d: {} biases for {cout} channels",
                bias.len()
            );
        }
        let plane = out_hw.0 * out_hw.1;
        for (i, chunk) in out.chunks_exact_mut(plane).enumerate() {
            let b = bias[i % cout];
            chunk.iter_mut().for_each(|v| *v += b);
        }
        Ok((CpuStorage::F32(out), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let spec = self.spec.conv();
        let dx = x
            .track_op()
            .then(|| {
                let zero = Tensor::zeros(weight.dim(0)?, weight.dtype(), weight.device())?;
                conv2d(&grad, &weight.contiguous()?, &zero, spec).map(|dx| dx.detach())
            })
            .transpose()?;
        let (_, _, kh, kw) = weight.dims4()?;
        let dw = weight
            .track_op()
            .then(|| {
                grad.apply_op2_no_bwd(
                    &x.contiguous()?,
                    &ConvWeightGrad {
                        spec,
                        kernel: (kh, kw),
                    },
                )
            })
            .transpose()?;
        let db = crate::conv_grad::bias_grad(bias, &grad)?;
        Ok((dx, dw, db))
    }
}
