//! Backward passes of the fast CPU kernels: against candle's autograd of the generic
//! compositions, and against central finite differences.

use candle_core::{Device, Tensor, Var};

use crate::{max_diff, random};
use visnir_nn::{
    conv2d, conv2d_generic, conv_transpose2d, conv_transpose2d_generic, depthwise_conv2d,
    depthwise_conv2d_generic, instance_norm, instance_norm_generic, leaky_relu, leaky_relu_generic,
    prelu, prelu_generic, ConvSpec, ConvTransposeSpec, PadMode,
};

type Layer = fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor>;

/// Loss `sum(f(x, w, b) * r)` and its gradients with respect to x, w, b.
fn grads(
    f: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor>,
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    r_seed: u64,
) -> (f32, Vec<Tensor>) {
    let (xv, wv, bv) = (
        Var::from_tensor(x).unwrap(),
        Var::from_tensor(w).unwrap(),
        Var::from_tensor(b).unwrap(),
    );
    let y = f(xv.as_tensor(), wv.as_tensor(), bv.as_tensor()).unwrap();
    let r = random(y.dims(), r_seed);
    let loss = (y * r).unwrap().sum_all().unwrap();
    let g = loss.backward().unwrap();
    let out = [&xv, &wv, &bv]
        .iter()
        .map(|v| {
            g.get(v.as_tensor())
                .cloned()
                .unwrap_or_else(|| v.as_tensor().zeros_like().unwrap())
        })
        .collect();
    (loss.to_scalar().unwrap(), out)
}

/// Central differences of the loss for a few coordinates of argument `which`.
fn finite_difference_check(
    f: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor>,
    args: [&Tensor; 3],
    analytic: &Tensor,
    which: usize,
    r_seed: u64,
) {
    let eps = 1e-2f32;
    let base: Vec<f32> = args[which].flatten_all().unwrap().to_vec1().unwrap();
    let grad: Vec<f32> = analytic.flatten_all().unwrap().to_vec1().unwrap();
    let step = (base.len() / 7).max(1);
    for i in (0..base.len()).step_by(step) {
        let loss_at = |delta: f32| {
            let mut v = base.clone();
            v[i] += delta;
            let moved = Tensor::from_vec(v, args[which].dims(), &Device::Cpu).unwrap();
            let mut a = [args[0].clone(), args[1].clone(), args[2].clone()];
            a[which] = moved;
            let y = f(&a[0], &a[1], &a[2]).unwrap();
            let r = random(y.dims(), r_seed);
            (y * r)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        let numeric = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps);
        let tolerance = 1e-2 + 1e-2 * grad[i].abs();
        assert!(
            (numeric - grad[i]).abs() <= tolerance,
            "arg {which} index {i}: numeric {numeric} vs analytic {}",
            grad[i]
        );
    }
}

#[test]
fn conv2d_gradients() {
    let specs = [
        (
            "3x3 zero s1",
            (2, 3, 9, 8),
            (4, 3, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Zeros),
        ),
        (
            "3x3 reflect s1",
            (1, 2, 7, 9),
            (3, 2, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Reflect),
        ),
        (
            "7x7 reflect",
            (1, 2, 10, 11),
            (2, 2, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Reflect),
        ),
        (
            "3x3 s2 odd",
            (2, 3, 11, 9),
            (4, 3, 3, 3),
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "tf same s2",
            (1, 3, 12, 12),
            (5, 3, 3, 3),
            ConvSpec {
                stride: 2,
                pad_before: 0,
                pad_after: 1,
                mode: PadMode::Zeros,
            },
        ),
        ("1x1", (2, 6, 5, 7), (4, 6, 1, 1), ConvSpec::VALID),
        (
            "4x4 s2",
            (1, 2, 12, 10),
            (3, 2, 4, 4),
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "3x3 zero s1, fewer outputs than inputs (input gradient as a forward conv)",
            (1, 6, 9, 8),
            (2, 6, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Zeros),
        ),
        (
            "7x7 reflect, fewer outputs than inputs (input gradient as a forward conv)",
            (2, 5, 10, 11),
            (2, 5, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Reflect),
        ),
        (
            "3x3 reflect s1, many outputs (weight gradient by gemm)",
            (1, 3, 8, 9),
            (12, 3, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Reflect),
        ),
        (
            "4x4 s2, many outputs (weight gradient by gemm)",
            (2, 4, 12, 12),
            (10, 4, 4, 4),
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "7x7 zero s1 on a 2-wide input: kernel columns wholly in the padding",
            (1, 2, 5, 2),
            (6, 2, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Zeros),
        ),
        (
            "asymmetric zero padding s1",
            (1, 6, 8, 8),
            (2, 6, 3, 3),
            ConvSpec {
                stride: 1,
                pad_before: 0,
                pad_after: 2,
                mode: PadMode::Zeros,
            },
        ),
        (
            "Winograd 3x3 reflect s1, odd sizes",
            (2, 32, 7, 9),
            (34, 32, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Reflect),
        ),
        (
            "Winograd 3x3 asymmetric zero padding",
            (1, 32, 6, 5),
            (32, 32, 3, 3),
            ConvSpec {
                stride: 1,
                pad_before: 0,
                pad_after: 2,
                mode: PadMode::Zeros,
            },
        ),
        (
            "few outputs, 7x7 reflect on rows of 37 columns (blocks of 32 and 8 lanes)",
            (2, 3, 6, 37),
            (3, 3, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Reflect),
        ),
        (
            "few outputs, 4x4 zero s1 as a PatchGAN's last layer, 9 taps a row",
            (1, 4, 5, 6),
            (1, 4, 4, 9),
            ConvSpec::symmetric(1, 4, PadMode::Zeros),
        ),
        (
            "wide input, several gemm tiles",
            (1, 300, 20, 20),
            (2, 300, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Reflect),
        ),
    ];
    for (i, (name, xs, ws, spec)) in specs.into_iter().enumerate() {
        let x = random(&[xs.0, xs.1, xs.2, xs.3], 10 + i as u64);
        let w = random(&[ws.0, ws.1, ws.2, ws.3], 20 + i as u64);
        let b = random(&[ws.0], 30 + i as u64);
        let fast: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor> =
            &|x, w, b| conv2d(x, w, b, spec);
        let generic: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor> =
            &|x, w, b| conv2d_generic(x, w, b, spec);
        let (loss_fast, g_fast) = grads(fast, &x, &w, &b, 5);
        let (loss_generic, g_generic) = grads(generic, &x, &w, &b, 5);
        assert!((loss_fast - loss_generic).abs() < 1e-3, "{name}: loss");
        for (k, (a, bb)) in g_fast.iter().zip(&g_generic).enumerate() {
            let d = max_diff(a, bb);
            assert!(d < 1e-3, "{name}: gradient {k} differs by {d}");
        }
        for (which, analytic) in g_fast.iter().enumerate().take(3) {
            finite_difference_check(fast, [&x, &w, &b], analytic, which, 5);
        }
    }
}

#[test]
fn depthwise_gradients() {
    let specs = [
        ((2, 4, 9, 9), 3, ConvSpec::symmetric(1, 1, PadMode::Zeros)),
        (
            (1, 3, 12, 12),
            3,
            ConvSpec {
                stride: 2,
                pad_before: 0,
                pad_after: 1,
                mode: PadMode::Zeros,
            },
        ),
        ((1, 2, 11, 9), 3, ConvSpec::symmetric(2, 1, PadMode::Zeros)),
        ((2, 3, 7, 7), 7, ConvSpec::VALID),
    ];
    for (i, (xs, k, spec)) in specs.into_iter().enumerate() {
        let x = random(&[xs.0, xs.1, xs.2, xs.3], 40 + i as u64);
        let w = random(&[xs.1, 1, k, k], 50 + i as u64);
        let b = random(&[xs.1], 60 + i as u64);
        let fast: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor> =
            &|x, w, b| depthwise_conv2d(x, w, b, spec);
        let generic: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor> =
            &|x, w, b| depthwise_conv2d_generic(x, w, b, spec);
        let (_, g_fast) = grads(fast, &x, &w, &b, 6);
        let (_, g_generic) = grads(generic, &x, &w, &b, 6);
        for (k, (a, bb)) in g_fast.iter().zip(&g_generic).enumerate() {
            let d = max_diff(a, bb);
            assert!(d < 1e-3, "depthwise case {i}: gradient {k} differs by {d}");
        }
        for (which, analytic) in g_fast.iter().enumerate().take(3) {
            finite_difference_check(fast, [&x, &w, &b], analytic, which, 6);
        }
    }
}

#[test]
fn prelu_gradients() {
    // Keep inputs away from the kink at 0 so that finite differences are exact.
    let x = random(&[2, 5, 4, 3], 70);
    let x = (x.sign().unwrap() * 0.05 + &x).unwrap();
    let a = random(&[5], 71);
    let unused = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
    let fast: Layer = |x, a, _| prelu(x, a);
    let generic: Layer = |x, a, _| prelu_generic(x, a);
    let (_, g_fast) = grads(&fast, &x, &a, &unused, 8);
    let (_, g_generic) = grads(&generic, &x, &a, &unused, 8);
    for k in 0..2 {
        let d = max_diff(&g_fast[k], &g_generic[k]);
        assert!(d < 1e-4, "prelu gradient {k} differs by {d}");
    }
    for (which, analytic) in g_fast.iter().enumerate().take(2) {
        finite_difference_check(&fast, [&x, &a, &unused], analytic, which, 8);
    }
}

#[test]
fn prelu_cpu_gradients_equal_the_candle_composition_bit_for_bit() {
    // Zeros of both signs and several items: the kink and the order of the slope sum.
    let x = random(&[3, 4, 7, 5], 72);
    let x = x
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, v)| match i % 17 {
            0 => 0.0,
            1 => -0.0,
            _ => v,
        })
        .collect::<Vec<_>>();
    let x = Tensor::from_vec(x, (3, 4, 7, 5), &Device::Cpu).unwrap();
    let a = random(&[4], 73);
    let unused = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
    let fast: Layer = |x, a, _| prelu(x, a);
    let (_, g) = grads(&fast, &x, &a, &unused, 9);
    // The gradients as candle's ops compose them: grad * (x > 0 ? 1 : a) and the sum over
    // items and positions of grad * min(x, 0).
    let r = random(&[3, 4, 7, 5], 9);
    let slope = a
        .reshape((1, 4, 1, 1))
        .unwrap()
        .broadcast_as(x.shape())
        .unwrap();
    let factor = x
        .gt(0f32)
        .unwrap()
        .where_cond(&x.ones_like().unwrap(), &slope)
        .unwrap();
    let dx = (&r * factor).unwrap();
    let ds = (&r * x.minimum(0f32).unwrap())
        .unwrap()
        .sum(vec![0, 2, 3])
        .unwrap();
    let bits = |t: &Tensor| -> Vec<u32> {
        let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        values.into_iter().map(f32::to_bits).collect()
    };
    assert_eq!(bits(&g[0]), bits(&dx));
    assert_eq!(bits(&g[1]), bits(&ds));
}

#[test]
fn conv_transpose_gradients() {
    let cases = [
        (
            (1, 4, 5, 6),
            (4, 3, 3, 3),
            ConvTransposeSpec {
                stride: 2,
                padding: 1,
                output_padding: 1,
            },
        ),
        (
            (2, 3, 4, 4),
            (3, 2, 3, 3),
            ConvTransposeSpec {
                stride: 2,
                padding: 1,
                output_padding: 0,
            },
        ),
        (
            (1, 2, 5, 5),
            (2, 3, 4, 4),
            ConvTransposeSpec {
                stride: 2,
                padding: 1,
                output_padding: 0,
            },
        ),
        (
            (1, 3, 6, 5),
            (3, 2, 3, 3),
            ConvTransposeSpec {
                stride: 1,
                padding: 1,
                output_padding: 0,
            },
        ),
    ];
    for (i, (xs, ws, spec)) in cases.into_iter().enumerate() {
        let x = random(&[xs.0, xs.1, xs.2, xs.3], 80 + i as u64);
        let w = random(&[ws.0, ws.1, ws.2, ws.3], 90 + i as u64);
        let b = random(&[ws.1], 100 + i as u64);
        let fast: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor> =
            &|x, w, b| conv_transpose2d(x, w, b, spec);
        let generic: &dyn Fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor> =
            &|x, w, b| conv_transpose2d_generic(x, w, b, spec);
        let (loss_fast, g_fast) = grads(fast, &x, &w, &b, 9);
        let (loss_generic, g_generic) = grads(generic, &x, &w, &b, 9);
        assert!(
            (loss_fast - loss_generic).abs() < 1e-3,
            "case {i}: loss {loss_fast} vs {loss_generic}"
        );
        for (k, (a, bb)) in g_fast.iter().zip(&g_generic).enumerate() {
            let d = max_diff(a, bb);
            assert!(
                d < 1e-3,
                "conv transpose case {i}: gradient {k} differs by {d}"
            );
        }
        for (which, analytic) in g_fast.iter().enumerate().take(3) {
            finite_difference_check(fast, [&x, &w, &b], analytic, which, 9);
        }
    }
}

#[test]
fn instance_norm_gradients() {
    let x = random(&[2, 3, 5, 7], 110).affine(3.0, 0.5).unwrap();
    let unused = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
    let fast: Layer = |x, _, _| instance_norm(x);
    let generic: Layer = |x, _, _| instance_norm_generic(x);
    let (loss_fast, g_fast) = grads(&fast, &x, &unused, &unused, 11);
    let (loss_generic, g_generic) = grads(&generic, &x, &unused, &unused, 11);
    assert!((loss_fast - loss_generic).abs() < 1e-4);
    let d = max_diff(&g_fast[0], &g_generic[0]);
    assert!(d < 1e-4, "instance norm gradient differs by {d}");
    finite_difference_check(&fast, [&x, &unused, &unused], &g_fast[0], 0, 11);
}

#[test]
fn leaky_relu_matches_generic_and_finite_differences() {
    // Away from the kink at 0, where finite differences are exact.
    let x = random(&[2, 5, 4, 3], 80);
    let x = (x.sign().unwrap() * 0.05 + &x).unwrap();
    let unused = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
    for slope in [0.0f32, 0.2] {
        let fast = move |x: &Tensor, _: &Tensor, _: &Tensor| leaky_relu(x, slope);
        let generic = move |x: &Tensor, _: &Tensor, _: &Tensor| leaky_relu_generic(x, slope);
        let (loss_fast, g_fast) = grads(&fast, &x, &unused, &unused, 9);
        let (loss_generic, g_generic) = grads(&generic, &x, &unused, &unused, 9);
        assert!(
            (loss_fast - loss_generic).abs() < 1e-5,
            "slope {slope}: loss"
        );
        let d = max_diff(&g_fast[0], &g_generic[0]);
        assert!(d < 1e-6, "slope {slope}: gradient differs by {d}");
        finite_difference_check(&fast, [&x, &unused, &unused], &g_fast[0], 0, 9);
    }
}
