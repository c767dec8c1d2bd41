//! Max pooling with PyTorch's `ceil_mode=True` output size.

use candle_core::{Result, Tensor};

/// 2-D max pooling of an `(N, C, H, W)` tensor with `ceil_mode=True` and no padding: a partial
/// window at the bottom/right edge still produces an output (the missing cells count as -inf).
pub fn max_pool2d_ceil(x: &Tensor, kernel: usize, stride: usize) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let out = |n: usize| {
        let mut o = (n.saturating_sub(kernel)).div_ceil(stride) + 1;
        if (o - 1) * stride >= n {
            o -= 1;
        }
        o
    };
    let (oh, ow) = (out(h), out(w));
    let pad_h = ((oh - 1) * stride + kernel).saturating_sub(h);
    let pad_w = ((ow - 1) * stride + kernel).saturating_sub(w);
    let x = if pad_h > 0 || pad_w > 0 {
        let low = f32::MIN;
        let x = if pad_h > 0 {
            pad_with(x, 2, pad_h, low)?
        } else {
            x.clone()
        };
        if pad_w > 0 {
            pad_with(&x, 3, pad_w, low)?
        } else {
            x
        }
    } else {
        x.clone()
    };
    x.max_pool2d_with_stride(kernel, stride)
}

fn pad_with(x: &Tensor, dim: usize, amount: usize, value: f32) -> Result<Tensor> {
    let mut shape = x.dims().to_vec();
    shape[dim] = amount;
    let fill = Tensor::full(value, shape, x.device())?.to_dtype(x.dtype())?;
    Tensor::cat(&[x, &fill], dim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn ceil_mode_keeps_the_partial_window() {
        let x = Tensor::arange(0f32, 25., &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 5, 5))
            .unwrap();
        let y = max_pool2d_ceil(&x, 2, 2).unwrap();
        assert_eq!(y.dims(), &[1, 1, 3, 3]);
        let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(v, [6., 8., 9., 16., 18., 19., 21., 23., 24.]);
        let y = max_pool2d_ceil(&x, 3, 2).unwrap();
        assert_eq!(y.dims(), &[1, 1, 2, 2]);
        let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(v, [12., 14., 22., 24.]);
    }
}
