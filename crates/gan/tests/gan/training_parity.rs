//! Two CycleGAN iterations (pixel term on, no pool, no identity) against PyTorch.

use candle_core::{Device, Tensor};
use visnir_gan::{
    AdamConfig, CycleGan, CycleGanConfig, DiscriminatorConfig, GeneratorConfig, ImagePool,
    LossWeights, ResnetGeneratorConfig,
};

use crate::fixture;

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("parity/parity.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The tiny CycleGAN of the fixtures with PyTorch's initial weights, and its inputs.
fn tiny_gan(device: &Device) -> (CycleGan, std::collections::HashMap<String, Tensor>) {
    let config = CycleGanConfig {
        generator: GeneratorConfig::Resnet(ResnetGeneratorConfig {
            ngf: 8,
            n_blocks: 2,
            ..Default::default()
        }),
        discriminator: DiscriminatorConfig {
            ndf: 8,
            ..Default::default()
        },
    };
    let gan = CycleGan::new(config, AdamConfig::default(), 0, device).unwrap();
    let init =
        candle_core::safetensors::load(fixture("parity/train_tiny_init.safetensors"), device)
            .unwrap();
    {
        let data = gan.varmap().data().lock().unwrap();
        assert_eq!(data.len(), init.len(), "same set of parameters");
        for (name, var) in data.iter() {
            var.set(&init[name]).unwrap();
        }
    }
    let inputs =
        candle_core::safetensors::load(fixture("parity/train_tiny_inputs.safetensors"), device)
            .unwrap();
    (gan, inputs)
}

/// Every loss of both recorded iterations within 1e-4 relative.
#[test]
fn two_training_steps_match_pytorch_losses() {
    let device = Device::Cpu;
    let (mut gan, inputs) = tiny_gan(&device);
    let weights = LossWeights {
        cycle: 10.0,
        identity: 0.0,
        pixel: 10.0,
    };
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    let reference = golden();
    for step in 1..=2 {
        let losses = gan
            .train_step(
                &inputs["A"],
                &inputs["B"],
                weights,
                (&mut pool_b, &mut pool_a),
            )
            .unwrap();
        let want = &reference["train_tiny"][format!("losses_step{step}")];
        let pairs = [
            ("G_A", losses.g_a),
            ("G_B", losses.g_b),
            ("cycle_A", losses.cycle_a),
            ("cycle_B", losses.cycle_b),
            ("pix_A", losses.pix_a),
            ("pix_B", losses.pix_b),
            ("D_A", losses.d_a),
            ("D_B", losses.d_b),
            ("G", losses.g),
        ];
        for (name, got) in pairs {
            let w = want[name].as_f64().unwrap();
            let rel = ((got as f64 - w) / w).abs();
            eprintln!("step {step} {name}: relative error {rel:.2e}");
            assert!(
                rel <= 1e-4,
                "step {step} {name}: {got} vs {w} (relative {rel})"
            );
        }
    }
}

/// Every parameter after two steps within 1e-5 of PyTorch.
///
/// Open (see issue 5's note): biases that feed an InstanceNorm have a true gradient of 0, so
/// Adam turns the reference's rounding noise into +-lr moves that no other implementation can
/// reproduce (up to 7.7e-4 apart); and three G_B / D_A weight tensors differ by up to 1.7e-5.
#[test]
#[ignore = "open parity gap, tracked in issue 5: run with --ignored"]
fn parameters_after_two_steps_match_pytorch() {
    let device = Device::Cpu;
    let (mut gan, inputs) = tiny_gan(&device);
    let weights = LossWeights {
        cycle: 10.0,
        identity: 0.0,
        pixel: 10.0,
    };
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    for _ in 0..2 {
        gan.train_step(
            &inputs["A"],
            &inputs["B"],
            weights,
            (&mut pool_b, &mut pool_a),
        )
        .unwrap();
    }
    let after = candle_core::safetensors::load(
        fixture("parity/train_tiny_after2steps.safetensors"),
        &device,
    )
    .unwrap();
    let data = gan.varmap().data().lock().unwrap();
    for (name, want) in &after {
        let got: &Tensor = data[name].as_tensor();
        let diff = crate::max_diff(got, want);
        assert!(diff <= 1e-5, "{name}: max abs diff {diff} after 2 steps");
    }
}
