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
