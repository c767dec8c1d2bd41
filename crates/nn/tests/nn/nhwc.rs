//! The channels-last inference kernels against the NCHW layers they replace (candle's generic
//! composition as oracle), for every path: register slabs and the plain loop, interior and
//! border pixels, strides 1 and 2, row ranges, one thread and the rayon pool.

use candle_core::Tensor;
use visnir_nn::nhwc::{depthwise_conv, full_conv, pointwise_conv, Epilogue, MapShape, Window};
use visnir_nn::{
    conv2d_generic, depthwise_conv2d_generic, prelu_generic, tf_same_padding, ConvSpec, PadMode,
};

use crate::random;

/// `(1, C, H, W)` -> channels-last values.
fn to_nhwc(x: &Tensor) -> Vec<f32> {
    x.permute((0, 2, 3, 1))
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

/// The NCHW oracle's output with its epilogue, channels last.
fn oracle(y: Tensor, prelu: Option<&Tensor>, residual: Option<&Tensor>) -> Vec<f32> {
    let y = match prelu {
        Some(slopes) => prelu_generic(&y, slopes).unwrap(),
        None => y,
    };
    let y = match residual {
        Some(r) => (y + r).unwrap(),
        None => y,
    };
    to_nhwc(&y)
}

/// Equal up to f32 rounding of a different summation order: `1e-5` relative to the larger of
/// 1 and the value (a sum of 512 products of values in [-1, 1] reaches 10 and more).
fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        let tolerance = 1e-5 * b.abs().max(1.0);
        assert!(
            (a - b).abs() <= tolerance,
            "{what}: value {i}: {a} against {b}"
        );
    }
}

#[test]
fn pointwise_matches_a_1x1_convolution() {
    for (i, &(size, cin, cout, with_prelu, with_residual)) in [
        (9, 24, 40, true, false),
        (17, 64, 128, false, true),
        (23, 128, 64, true, true),
        (1, 512, 192, false, false),
    ]
    .iter()
    .enumerate()
    {
        let seed = 10 * i as u64;
        let x = random(&[1, cin, size, size], seed);
        let w = random(&[cout, cin, 1, 1], seed + 1);
        let b = random(&[cout], seed + 2);
        let slopes = random(&[cout], seed + 3);
        let residual = random(&[1, cout, size, size], seed + 4);
        let prelu = with_prelu.then_some(&slopes);
        let res = with_residual.then_some(&residual);
        let want = oracle(
            conv2d_generic(&x, &w, &b, ConvSpec::VALID).unwrap(),
            prelu,
            res,
        );
        let weight = to_nhwc(&w.permute((1, 0, 2, 3)).unwrap().contiguous().unwrap());
        let (bias, prelu) = (values(&b), prelu.map(values));
        let residual = res.map(to_nhwc);
        for parallel in [false, true] {
            let mut out = vec![f32::NAN; size * size * cout];
            let epilogue = Epilogue {
                bias: &bias,
                prelu: prelu.as_deref(),
            };
            let input = to_nhwc(&x);
            pointwise_conv(
                &input,
                cin,
                &weight,
                epilogue,
                residual.as_deref(),
                &mut out,
                parallel,
            );
            assert_close(
                &out,
                &want,
                &format!("pointwise case {i}, parallel {parallel}"),
            );
        }
    }
}

/// `(Cout, Cin, k, k)` weights in the kernels' `(ky, kx, ci) x cout` order (for a depthwise
/// `(C, 1, k, k)`: `(ky, kx) x c`).
fn spatial_weight(w: &Tensor) -> Vec<f32> {
    values(&w.permute((2, 3, 1, 0)).unwrap().contiguous().unwrap())
}

#[test]
fn depthwise_matches_the_grouped_convolution() {
    // Channels 48 and 64 take the register slabs, 20 the plain loop; kernel 5 the plain loop.
    for (i, &(h, w, c, kernel, stride)) in [
        (13, 11, 48, 3, 1),
        (12, 10, 64, 3, 2),
        (7, 9, 20, 3, 2),
        (6, 6, 32, 3, 1),
        (9, 8, 16, 5, 1),
        (2, 3, 16, 3, 2),
    ]
    .iter()
    .enumerate()
    {
        let seed = 100 + 10 * i as u64;
        let x = random(&[1, c, h, w], seed);
        let wt = random(&[c, 1, kernel, kernel], seed + 1);
        let b = random(&[c], seed + 2);
        let slopes = random(&[c], seed + 3);
        let (top, bottom) = tf_same_padding(h, kernel, stride);
        let (left, right) = tf_same_padding(w, kernel, stride);
        // The oracle pads explicitly (TF SAME may put one more row after than before).
        let padded = x
            .pad_with_zeros(2, top, bottom)
            .unwrap()
            .pad_with_zeros(3, left, right)
            .unwrap();
        let y = depthwise_conv2d_generic(
            &padded,
            &wt,
            &b,
            ConvSpec::symmetric(stride, 0, PadMode::Zeros),
        )
        .unwrap();
        let want = oracle(y.clone(), Some(&slopes), None);
        let shape = MapShape {
            height: h,
            width: w,
            channels: c,
        };
        let out_shape = MapShape {
            height: y.dim(2).unwrap(),
            width: y.dim(3).unwrap(),
            channels: c,
        };
        let window = Window {
            kernel,
            stride,
            pad: (top, left),
        };
        let (weight, bias, slopes) = (spatial_weight(&wt), values(&b), values(&slopes));
        let epilogue = Epilogue {
            bias: &bias,
            prelu: Some(&slopes),
        };
        let input = to_nhwc(&x);
        for parallel in [false, true] {
            let mut out = vec![f32::NAN; out_shape.len()];
            let rows = 0..out_shape.height;
            depthwise_conv(
                &input, shape, &weight, window, epilogue, out_shape, rows, &mut out, parallel,
            );
            assert_close(
                &out,
                &want,
                &format!("depthwise case {i}, parallel {parallel}"),
            );
        }
        // A range of rows writes those rows only, into a slice of their size.
        let row_len = out_shape.width * c;
        let rows = 1..out_shape.height;
        let mut part = vec![f32::NAN; rows.len() * row_len];
        depthwise_conv(
            &input, shape, &weight, window, epilogue, out_shape, rows, &mut part, false,
        );
        assert_close(
            &part,
            &want[row_len..],
            &format!("depthwise case {i}, rows 1.."),
        );
    }
}

#[test]
fn full_convolution_matches_the_convolution() {
    for (i, &(size, cin, cout, stride)) in [(12, 3, 16, 2), (9, 5, 8, 1), (7, 3, 64, 2)]
        .iter()
        .enumerate()
    {
        let seed = 200 + 10 * i as u64;
        let x = random(&[1, cin, size, size], seed);
        let wt = random(&[cout, cin, 3, 3], seed + 1);
        let b = random(&[cout], seed + 2);
        let slopes = random(&[cout], seed + 3);
        let (before, after) = tf_same_padding(size, 3, stride);
        let padded = x
            .pad_with_zeros(2, before, after)
            .unwrap()
            .pad_with_zeros(3, before, after)
            .unwrap();
        let y = conv2d_generic(
            &padded,
            &wt,
            &b,
            ConvSpec::symmetric(stride, 0, PadMode::Zeros),
        )
        .unwrap();
        let want = oracle(y.clone(), Some(&slopes), None);
        let shape = MapShape {
            height: size,
            width: size,
            channels: cin,
        };
        let out_shape = MapShape {
            height: y.dim(2).unwrap(),
            width: y.dim(3).unwrap(),
            channels: cout,
        };
        let window = Window {
            kernel: 3,
            stride,
            pad: (before, before),
        };
        let (weight, bias, slopes) = (spatial_weight(&wt), values(&b), values(&slopes));
        let epilogue = Epilogue {
            bias: &bias,
            prelu: Some(&slopes),
        };
        for parallel in [false, true] {
            let mut out = vec![f32::NAN; out_shape.len()];
            let input = to_nhwc(&x);
            full_conv(
                &input, shape, &weight, window, epilogue, out_shape, &mut out, parallel,
            );
            assert_close(&out, &want, &format!("full case {i}, parallel {parallel}"));
        }
    }
}

#[test]
fn max_pool_matches_the_ceil_mode_pooling() {
    use visnir_nn::max_pool2d_ceil_generic;
    use visnir_nn::nhwc::{max_pool_ceil, max_pool_ceil_shape};
    for (i, &(h, w, c, kernel, stride)) in
        [(11, 9, 10, 2, 2), (22, 22, 28, 3, 2), (9, 10, 48, 3, 2)]
            .iter()
            .enumerate()
    {
        let x = random(&[1, c, h, w], 300 + i as u64);
        let want = to_nhwc(&max_pool2d_ceil_generic(&x, kernel, stride).unwrap());
        let shape = MapShape {
            height: h,
            width: w,
            channels: c,
        };
        let mut out = vec![f32::NAN; max_pool_ceil_shape(shape, kernel, stride).len()];
        max_pool_ceil(&to_nhwc(&x), shape, kernel, stride, &mut out);
        assert_eq!(out, want, "pool case {i}");
    }
}
