//! The fast CPU kernels against the generic candle compositions on random inputs.

use crate::{max_diff, random};
use visnir_nn::{
    conv2d, conv2d_generic, depthwise_conv2d, depthwise_conv2d_generic, max_pool2d_ceil,
    max_pool2d_ceil_generic, prelu, prelu_generic, ConvSpec, PadMode,
};

#[test]
fn conv2d_matches_generic() {
    let cases = [
        ((2, 3, 13, 11), (5, 3, 3, 3), ConvSpec::VALID),
        ((1, 4, 9, 10), (6, 4, 1, 1), ConvSpec::VALID),
        (
            (2, 3, 16, 15),
            (4, 3, 3, 3),
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            (1, 3, 12, 12),
            (4, 3, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Reflect),
        ),
        (
            (1, 2, 7, 9),
            (3, 2, 3, 3),
            ConvSpec {
                stride: 2,
                pad_before: 0,
                pad_after: 1,
                mode: PadMode::Zeros,
            },
        ),
        (
            (1, 4, 70, 90),
            (8, 4, 4, 4),
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        ((3, 2, 5, 5), (2, 2, 2, 2), ConvSpec::VALID),
        // Many input channels make gemm tiles of 32 positions, which split the 33-wide rows:
        // a tile can end with patches that lie wholly in the right-hand reflection.
        (
            (1, 50, 33, 33),
            (2, 50, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Reflect),
        ),
        (
            (1, 300, 15, 15),
            (3, 300, 3, 3),
            ConvSpec::symmetric(2, 1, PadMode::Reflect),
        ),
        // 3x3 stride 1 with 32 channels or more: Winograd F(2x2, 3x3), with odd sizes (a
        // partial last tile), both paddings, asymmetric, full (the input gradient's) and none.
        (
            (2, 32, 9, 11),
            (33, 32, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Reflect),
        ),
        (
            (1, 40, 8, 8),
            (32, 40, 3, 3),
            ConvSpec::symmetric(1, 1, PadMode::Zeros),
        ),
        (
            (1, 32, 7, 6),
            (36, 32, 3, 3),
            ConvSpec {
                stride: 1,
                pad_before: 0,
                pad_after: 2,
                mode: PadMode::Zeros,
            },
        ),
        (
            (1, 32, 5, 5),
            (32, 32, 3, 3),
            ConvSpec::symmetric(1, 2, PadMode::Zeros),
        ),
        ((1, 32, 10, 7), (32, 32, 3, 3), ConvSpec::VALID),
        // Few output channels, stride 1 (computed directly in blocks of 8 and 32 columns):
        // rows of 45 columns (one block of 32, then 8, then a partial 8), a PatchGAN's last
        // layer on a 7 x 7 map, asymmetric padding, two items.
        (
            (2, 5, 9, 45),
            (3, 5, 7, 7),
            ConvSpec::symmetric(1, 3, PadMode::Reflect),
        ),
        (
            (1, 40, 7, 7),
            (1, 40, 4, 4),
            ConvSpec::symmetric(1, 1, PadMode::Zeros),
        ),
        (
            (1, 3, 6, 11),
            (8, 3, 3, 5),
            ConvSpec {
                stride: 1,
                pad_before: 0,
                pad_after: 2,
                mode: PadMode::Zeros,
            },
        ),
    ];
    for (i, (xs, ws, spec)) in cases.into_iter().enumerate() {
        let x = random(&[xs.0, xs.1, xs.2, xs.3], i as u64 + 1);
        let w = random(&[ws.0, ws.1, ws.2, ws.3], i as u64 + 100);
        let b = random(&[ws.0], i as u64 + 200);
        let fast = conv2d(&x, &w, &b, spec).unwrap();
        let generic = conv2d_generic(&x, &w, &b, spec).unwrap();
        let d = max_diff(&fast, &generic);
        assert!(d < 1e-4, "case {i} {spec:?}: max diff {d}");
    }
}

#[test]
fn prelu_and_pool_match_generic() {
    let x = random(&[2, 5, 7, 9], 7);
    let a = random(&[5], 8);
    assert!(max_diff(&prelu(&x, &a).unwrap(), &prelu_generic(&x, &a).unwrap()) < 1e-6);
    let x2 = random(&[4, 6], 9);
    let a2 = random(&[6], 10);
    assert!(max_diff(&prelu(&x2, &a2).unwrap(), &prelu_generic(&x2, &a2).unwrap()) < 1e-6);
    for (k, s) in [(2, 2), (3, 2)] {
        let fast = max_pool2d_ceil(&x, k, s).unwrap();
        let generic = max_pool2d_ceil_generic(&x, k, s).unwrap();
        assert_eq!(max_diff(&fast, &generic), 0.0);
    }
}

#[test]
fn depthwise_matches_generic() {
    let cases = [
        ((2, 6, 14, 14), 3, ConvSpec::symmetric(1, 1, PadMode::Zeros)),
        (
            (1, 4, 14, 14),
            3,
            ConvSpec {
                stride: 2,
                pad_before: 0,
                pad_after: 1,
                mode: PadMode::Zeros,
            },
        ),
        ((1, 3, 15, 13), 3, ConvSpec::symmetric(2, 1, PadMode::Zeros)),
        ((2, 5, 7, 7), 7, ConvSpec::VALID),
        ((1, 2, 9, 11), 7, ConvSpec::symmetric(2, 3, PadMode::Zeros)),
        (
            (1, 3, 5, 6),
            3,
            ConvSpec {
                stride: 3,
                pad_before: 2,
                pad_after: 2,
                mode: PadMode::Zeros,
            },
        ),
    ];
    for (i, (xs, k, spec)) in cases.into_iter().enumerate() {
        let x = random(&[xs.0, xs.1, xs.2, xs.3], i as u64 + 300);
        let w = random(&[xs.1, 1, k, k], i as u64 + 400);
        let b = random(&[xs.1], i as u64 + 500);
        let fast = depthwise_conv2d(&x, &w, &b, spec).unwrap();
        let generic = depthwise_conv2d_generic(&x, &w, &b, spec).unwrap();
        let d = max_diff(&fast, &generic);
        assert!(d < 1e-5, "case {i} {spec:?}: max diff {d}");
    }
}
