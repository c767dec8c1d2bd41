//! The tiny generator and discriminator (ngf 8, 2 blocks, ndf 8) on PyTorch's recorded input.

use candle_core::{DType, Device, Module};
use candle_nn::VarBuilder;
use visnir_gan::{
    DiscriminatorConfig, NLayerDiscriminator, ResnetGenerator, ResnetGeneratorConfig,
};

use crate::{fixture, max_diff};

fn load(name: &str) -> VarBuilder<'static> {
    let tensors = candle_core::safetensors::load(
        fixture(&format!("parity/{name}.safetensors")),
        &Device::Cpu,
    )
    .unwrap();
    VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu)
}

#[test]
fn tiny_generator_and_discriminator_match_pytorch() {
    let io = candle_core::safetensors::load(
        fixture("parity/cyclegan_tiny_io.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    let g = ResnetGenerator::new(
        ResnetGeneratorConfig {
            ngf: 8,
            n_blocks: 2,
            ..Default::default()
        },
        load("cyclegan_tiny_G"),
    )
    .unwrap();
    let d = NLayerDiscriminator::new(
        DiscriminatorConfig {
            ndf: 8,
            ..Default::default()
        },
        load("cyclegan_tiny_D"),
    )
    .unwrap();
    let x = &io["input"];
    let trace = g.trace(x).unwrap();
    assert_eq!(trace.len(), 21);
    for (i, activation) in trace.iter().enumerate() {
        let want = &io[&format!("act.G.model.{i}")];
        let diff = max_diff(activation, want);
        assert!(diff <= 1e-4, "model.{i}: max abs diff {diff}");
    }
    let y = g.forward(x).unwrap();
    let diff = max_diff(&y, &io["G_output"]);
    assert!(diff <= 1e-4, "fused forward: {diff}");
    let diff = max_diff(&d.forward(x).unwrap(), &io["D_output_on_input"]);
    assert!(diff <= 1e-4, "D(input): {diff}");
    let diff = max_diff(&d.forward(&y).unwrap(), &io["D_output_on_G_output"]);
    assert!(diff <= 1e-4, "D(G(input)): {diff}");
}

#[test]
fn a_frozen_discriminator_passes_gradients_to_its_input_only() {
    let device = Device::Cpu;
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let cfg = visnir_gan::DiscriminatorConfig {
        input_nc: 3,
        ndf: 8,
        n_layers: 3,
    };
    let d = visnir_gan::NLayerDiscriminator::new(cfg, vb).unwrap();
    let x = candle_core::Var::randn(0f32, 1.0, (1, 3, 64, 64), &device).unwrap();
    let live = d.forward(&x).unwrap().sqr().unwrap().sum_all().unwrap();
    let frozen = d
        .frozen()
        .forward(&x)
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap();
    assert_eq!(
        live.to_scalar::<f32>().unwrap(),
        frozen.to_scalar::<f32>().unwrap()
    );
    let (live, frozen) = (live.backward().unwrap(), frozen.backward().unwrap());
    let dx = |g: &candle_core::backprop::GradStore| g.get(x.as_tensor()).unwrap().clone();
    assert_eq!(max_diff(&dx(&live), &dx(&frozen)), 0.0);
    let weights = varmap.all_vars();
    assert!(weights.iter().all(|w| live.get(w.as_tensor()).is_some()));
    assert!(weights.iter().all(|w| frozen.get(w.as_tensor()).is_none()));
}
