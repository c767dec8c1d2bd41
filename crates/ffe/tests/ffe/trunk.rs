//! The FFE trunk: shapes of both variants, pretrained initialisation, gradients, freezing.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use visnir_ffe::{Embedder, FfeTrunk, Stage, TrunkVariant};

fn input(size: usize) -> Tensor {
    Tensor::randn(0f32, 0.5, (1, 3, size, size), &Device::Cpu).unwrap()
}

#[test]
fn variants_have_the_documented_shapes() {
    let varmap = VarMap::new();
    let trunk = FfeTrunk::new(
        TrunkVariant::Authors,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    assert_eq!(trunk.forward(&input(64)).unwrap().dims(), &[1, 256, 16, 16]);
    let varmap = VarMap::new();
    let trunk = FfeTrunk::new(
        TrunkVariant::PaperText,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    assert_eq!(trunk.forward(&input(64)).unwrap().dims(), &[1, 128, 8, 8]);
}

#[test]
fn paper_variant_with_pretrained_weights_equals_the_embedder_trunk() {
    let varmap = VarMap::new();
    let trunk = FfeTrunk::new(
        TrunkVariant::PaperText,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    let (loaded, fresh) = FfeTrunk::load_pretrained(&varmap).unwrap();
    assert!(fresh.is_empty(), "{fresh:?}");
    assert!(loaded.len() > 50);
    let x = input(112);
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let want = embedder.network().trunk(&x, Stage::Conv4).unwrap();
    let got = trunk.forward(&x).unwrap();
    let diff: f32 = (got - want)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn authors_variant_loads_what_matches_and_trains() {
    let varmap = VarMap::new();
    let trunk = FfeTrunk::new(
        TrunkVariant::Authors,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    let (loaded, fresh) = FfeTrunk::load_pretrained(&varmap).unwrap();
    assert!(
        loaded.iter().any(|n| n == "conv_34.expand.weight"),
        "conv_34 keeps its pretrained weights at stride 1"
    );
    assert!(
        fresh
            .iter()
            .all(|n| n.starts_with("conv__45") || n.starts_with("conv__5")),
        "{fresh:?}"
    );
    assert!(!fresh.is_empty());
    let x = Var::from_tensor(&input(32)).unwrap();
    let loss = trunk
        .forward(x.as_tensor())
        .unwrap()
        .sqr()
        .unwrap()
        .mean_all()
        .unwrap();
    let grads = loss.backward().unwrap();
    let gx = grads.get(x.as_tensor()).expect("gradient to the input");

    assert!(
        gx.abs()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
            > 0.0
    );
    for var in varmap.all_vars() {
        assert!(
            grads.get(var.as_tensor()).is_some(),
            "a weight without gradient"
        );
    }
}

#[test]
fn frozen_trunk_passes_gradients_to_its_input_only() {
    let trunk = FfeTrunk::frozen(TrunkVariant::Authors, &Device::Cpu).unwrap();
    let x = Var::from_tensor(&input(32)).unwrap();
    let loss = trunk
        .forward(x.as_tensor())
        .unwrap()
        .sqr()
        .unwrap()
        .mean_all()
        .unwrap();
    let grads = loss.backward().unwrap();
    assert!(grads.get(x.as_tensor()).is_some());
}
