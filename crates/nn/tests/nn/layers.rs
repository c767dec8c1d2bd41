//! The layer types (`Conv2d`, `ConvTranspose2d`) against the raw ops they configure, and the
//! seeded initialisation.

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{VarBuilder, VarMap};
use visnir_nn::{
    conv2d_generic, conv_transpose2d_generic, depthwise_conv2d_generic, reseed_weights,
    tf_same_padding, Conv2d, Conv2dConfig, ConvSpec, ConvTranspose2d, ConvTranspose2dConfig,
    ConvTransposeSpec, PadMode, Padding,
};

use crate::{max_diff, random};

fn loaded(weight: &Tensor, bias: &Tensor) -> VarBuilder<'static> {
    let tensors = HashMap::from([
        ("weight".to_string(), weight.clone()),
        ("bias".to_string(), bias.clone()),
    ]);
    VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu)
}

#[test]
fn tf_same_convolutions_pad_as_tensorflow() {
    for (size, stride) in [(8, 2), (7, 2), (9, 1), (6, 3)] {
        let x = random(&[2, 4, size, size], 1);
        let (before, after) = tf_same_padding(size, 3, stride);
        let spec = ConvSpec {
            stride,
            pad_before: before,
            pad_after: after,
            mode: PadMode::Zeros,
        };

        let (w, b) = (random(&[5, 4, 3, 3], 2), random(&[5], 3));
        let conv = Conv2d::new(
            Conv2dConfig::new(4, 5, 3).stride(stride).tf_same(),
            loaded(&w, &b),
        )
        .unwrap();
        let want = conv2d_generic(&x, &w, &b, spec).unwrap();
        assert_eq!(want.dim(2).unwrap(), size.div_ceil(stride));
        assert!(max_diff(&conv.forward(&x).unwrap(), &want) < 1e-5);

        let (w, b) = (random(&[4, 1, 3, 3], 4), random(&[4], 5));
        let dw = Conv2d::new(
            Conv2dConfig::depthwise(4, 3).stride(stride).tf_same(),
            loaded(&w, &b),
        )
        .unwrap();
        let want = depthwise_conv2d_generic(&x, &w, &b, spec).unwrap();
        assert!(max_diff(&dw.forward(&x).unwrap(), &want) < 1e-5);
    }
}

#[test]
fn tf_same_refuses_a_non_square_input_it_cannot_pad_alike() {
    let conv = Conv2d::new(
        Conv2dConfig::new(1, 1, 3).stride(2).tf_same(),
        loaded(&random(&[1, 1, 3, 3], 1), &random(&[1], 2)),
    )
    .unwrap();
    let err = conv.forward(&random(&[1, 1, 8, 7], 3)).unwrap_err();
    assert!(err.to_string().contains("square"), "{err}");
}

#[test]
fn fixed_padding_and_a_fused_reflection_match_the_raw_op() {
    let x = random(&[1, 3, 9, 9], 1);
    let (w, b) = (random(&[2, 3, 3, 3], 2), random(&[2], 3));
    let conv = Conv2d::new(
        Conv2dConfig::new(3, 2, 3).stride(2).pad(1, PadMode::Zeros),
        loaded(&w, &b),
    )
    .unwrap();
    let want = conv2d_generic(&x, &w, &b, ConvSpec::symmetric(2, 1, PadMode::Zeros)).unwrap();
    assert!(max_diff(&conv.forward(&x).unwrap(), &want) < 1e-5);

    let reflect = conv.with_padding(Padding::Fixed {
        before: 2,
        after: 2,
        mode: PadMode::Reflect,
    });
    let want = conv2d_generic(&x, &w, &b, ConvSpec::symmetric(2, 2, PadMode::Reflect)).unwrap();
    assert!(max_diff(&reflect.forward(&x).unwrap(), &want) < 1e-5);
    assert_eq!(
        conv.config().padding,
        Padding::Fixed {
            before: 1,
            after: 1,
            mode: PadMode::Zeros
        }
    );
}

#[test]
fn transposed_convolution_matches_the_raw_op() {
    let x = random(&[1, 4, 5, 5], 1);
    let (w, b) = (random(&[4, 2, 3, 3], 2), random(&[2], 3));
    let spec = ConvTransposeSpec {
        stride: 2,
        padding: 1,
        output_padding: 1,
    };
    let config = ConvTranspose2dConfig {
        cin: 4,
        cout: 2,
        kernel: 3,
        spec,
    };
    let layer = ConvTranspose2d::new(config, loaded(&w, &b)).unwrap();
    let want = conv_transpose2d_generic(&x, &w, &b, spec).unwrap();
    assert_eq!(want.dims(), &[1, 2, 10, 10]);
    assert!(max_diff(&layer.forward(&x).unwrap(), &want) < 1e-5);
}

fn fresh(seed: u64) -> (VarMap, Conv2d) {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let conv = Conv2d::new(Conv2dConfig::new(16, 32, 3), vb.pp("c")).unwrap();
    reseed_weights(&varmap, seed).unwrap();
    (varmap, conv)
}

#[test]
fn reseeded_weights_are_reproducible_normal_and_biases_stay_zero() {
    let (_, a) = fresh(7);
    let (_, b) = fresh(7);
    let (_, c) = fresh(8);
    assert_eq!(max_diff(a.weight(), b.weight()), 0.0);
    assert!(max_diff(a.weight(), c.weight()) > 0.01);
    let values: Vec<f32> = a.weight().flatten_all().unwrap().to_vec1().unwrap();
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    assert!(
        mean.abs() < 0.002 && (sd - 0.02).abs() < 0.001,
        "{mean} {sd}"
    );
    let bias: Vec<f32> = a.bias().to_vec1().unwrap();
    assert!(bias.iter().all(|&v| v == 0.0));
}
