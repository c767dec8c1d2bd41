//! Two CycleGAN iterations (pixel term on, no pool, no identity) against PyTorch.

use candle_core::{Device, Tensor};
use visnir_gan::{
    AdamConfig, CycleGan, CycleGanConfig, DiscriminatorConfig, GeneratorConfig, ImagePool,
    LossWeights, ResnetGeneratorConfig, StepLosses,
};

use crate::fixture;

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("parity/parity.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The loss weights of the recorded run (`parity.json`, "train_tiny"): no identity term.
const RECORDED_WEIGHTS: LossWeights = LossWeights {
    adversarial: 1.0,
    cycle: 10.0,
    identity: 0.0,
    pixel: 10.0,
    embedding: 0.0,
    subject: 0.0,
};

/// The tiny CycleGAN of the fixtures with PyTorch's initial weights, and the inputs of
/// `inputs` (a fixture file holding `A` and `B`).
fn tiny_gan(
    inputs: &str,
    device: &Device,
) -> (CycleGan, std::collections::HashMap<String, Tensor>) {
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
        residual: false,
        monochrome_b: false,
        skip_affine: false,
        shading_map: None,
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
    let inputs = candle_core::safetensors::load(fixture(inputs), device).unwrap();
    (gan, inputs)
}

/// The tiny CycleGAN after the two recorded iterations (no pool) on `inputs`, and the losses
/// of each.
fn two_steps(inputs: &str) -> (CycleGan, Vec<StepLosses>) {
    let (mut gan, inputs) = tiny_gan(inputs, &Device::Cpu);
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    let losses = (0..2)
        .map(|_| {
            gan.train_step(
                &inputs["A"],
                &inputs["B"],
                None,
                RECORDED_WEIGHTS,
                (&mut pool_b, &mut pool_a),
            )
            .unwrap()
        })
        .collect();
    (gan, losses)
}

/// Runs two recorded iterations from `inputs` and checks every loss within 1e-4 relative of
/// `reference` (`losses_step1`, `losses_step2`).
fn check_two_steps_losses(inputs: &str, reference: &serde_json::Value) {
    let (_, all_losses) = two_steps(inputs);
    for (step, losses) in (1..=2).zip(all_losses) {
        let want = &reference[format!("losses_step{step}")];
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

/// Every loss of both recorded iterations within 1e-4 relative.
#[test]
fn two_training_steps_match_pytorch_losses() {
    check_two_steps_losses(
        "parity/train_tiny_inputs.safetensors",
        &golden()["train_tiny"],
    );
}

/// Every parameter after two steps within 1e-5 of PyTorch, run in float64 from the same
/// weights and inputs (`tests/fixtures/pytorch/make_gan_fixtures.py`).
///
/// The float32 recording is not a reference for parameters: Adam's first step moves a
/// parameter by `lr * g / (|g| + eps)`, so gradients near zero (below eps = 1e-8) pass their
/// rounding noise on amplified up to lr / eps = 2e4 times. PyTorch 2.15 itself, in float32 on 1
/// thread instead of 2, ends up to 7.6e-4 from the recording (biases an instance norm cancels)
/// and 1.3e-7 on the weights; its float64 run is 4.0e-4 and 1.7e-5 from it.
#[test]
fn parameters_after_two_steps_match_pytorch() {
    let device = Device::Cpu;
    let (gan, _) = two_steps("parity/train_tiny_inputs.safetensors");
    let after = candle_core::safetensors::load(
        fixture("parity/train_tiny_after2steps_f64.safetensors"),
        &device,
    )
    .unwrap();
    let data = gan.varmap().data().lock().unwrap();
    assert_eq!(data.len(), after.len(), "same set of parameters");
    let mut worst = (0f32, String::new());
    for (name, want) in &after {
        let diff = crate::max_diff(data[name].as_tensor(), want);
        if diff > worst.0 {
            worst = (diff, name.clone());
        }
    }
    eprintln!("largest difference: {} ({})", worst.0, worst.1);
    assert!(
        worst.0 <= 1e-5,
        "{}: max abs diff {} after 2 steps",
        worst.1,
        worst.0
    );
}

/// A batch of four pairs: instance norm per sample, losses averaged over the batch as
/// PyTorch's `L1Loss` / `MSELoss` do; losses within 1e-4 relative of PyTorch's float64 run.
///
/// The parameters are no reference at batch 4: PyTorch's own float32 and float64 runs end two
/// steps up to 2 * lr apart on a fifth of G_B's weights (the L1 terms' signs flip on pixels near
/// zero), so `batched_gradients_are_the_mean_of_per_image_gradients` checks the batch instead.
#[test]
fn batch_of_four_matches_pytorch_losses() {
    let text = std::fs::read_to_string(fixture("parity/train_tiny_batch4_losses.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    check_two_steps_losses("parity/train_tiny_batch4_inputs.safetensors", &reference);
}

/// The parameters training changes are those with a gradient: every one but the biases that
/// an instance norm cancels, which stay where they were.
#[test]
fn training_moves_every_parameter_but_norm_cancelled_biases() {
    let device = Device::Cpu;
    let (mut gan, inputs) = tiny_gan("parity/train_tiny_inputs.safetensors", &device);
    let before: std::collections::HashMap<String, Tensor> = {
        let data = gan.varmap().data().lock().unwrap();
        data.iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().copy().unwrap()))
            .collect()
    };
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    gan.train_step(
        &inputs["A"],
        &inputs["B"],
        None,
        LossWeights {
            adversarial: 1.0,
            cycle: 10.0,
            identity: 0.5,
            pixel: 10.0,
            embedding: 0.0,
            subject: 0.0,
        },
        (&mut pool_b, &mut pool_a),
    )
    .unwrap();
    let data = gan.varmap().data().lock().unwrap();
    let mut fixed: Vec<&str> = data
        .iter()
        .filter(|(name, var)| crate::max_diff(var.as_tensor(), &before[*name]) == 0.0)
        .map(|(name, _)| name.as_str())
        .collect();
    fixed.sort();
    // ResNet generator: model.1, 4, 7, both convs of both blocks, 12, 15; the last conv (19)
    // feeds tanh. PatchGAN: model.2, 5, 8; the first (0) and last (11) have no norm after.
    let mut expected = Vec::new();
    for g in ["G_A", "G_B"] {
        for layer in [
            "1",
            "10.conv_block.1",
            "10.conv_block.5",
            "11.conv_block.1",
            "11.conv_block.5",
            "12",
            "15",
            "4",
            "7",
        ] {
            expected.push(format!("{g}.model.{layer}.bias"));
        }
    }
    for d in ["D_A", "D_B"] {
        for layer in ["2", "5", "8"] {
            expected.push(format!("{d}.model.{layer}.bias"));
        }
    }
    expected.sort();
    assert_eq!(fixed, expected);
}

/// Each tiny network's gradients on the batch of four equal the mean of its gradients on each
/// image alone (instance norm per image, losses averaged over the batch), to 1e-4 relative.
#[test]
fn batched_gradients_are_the_mean_of_per_image_gradients() {
    use candle_core::{DType, Module};
    use candle_nn::{VarBuilder, VarMap};
    use visnir_gan::{Generator, NLayerDiscriminator};
    let device = Device::Cpu;
    let init =
        candle_core::safetensors::load(fixture("parity/train_tiny_init.safetensors"), &device)
            .unwrap();
    let inputs = candle_core::safetensors::load(
        fixture("parity/train_tiny_batch4_inputs.safetensors"),
        &device,
    )
    .unwrap();
    for prefix in ["G_A", "D_A"] {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device).pp(prefix);
        let net: Box<dyn Module> = if prefix == "G_A" {
            let config = ResnetGeneratorConfig {
                ngf: 8,
                n_blocks: 2,
                ..Default::default()
            };
            Box::new(Generator::new(GeneratorConfig::Resnet(config), vb).unwrap())
        } else {
            let config = DiscriminatorConfig {
                ndf: 8,
                ..Default::default()
            };
            Box::new(NLayerDiscriminator::new(config, vb).unwrap())
        };
        for (name, var) in varmap.data().lock().unwrap().iter() {
            var.set(&init[name]).unwrap();
        }
        let loss = |x: &Tensor| {
            let y = net.forward(x).unwrap();
            (y - 0.5).unwrap().sqr().unwrap().mean_all().unwrap()
        };
        let batch = loss(&inputs["A"]).backward().unwrap();
        let single: Vec<_> = (0..4)
            .map(|i| {
                loss(&inputs["A"].narrow(0, i, 1).unwrap())
                    .backward()
                    .unwrap()
            })
            .collect();
        let data = varmap.data().lock().unwrap();
        let mut checked = 0;
        for (name, var) in data.iter() {
            let Some(got) = batch.get(var.as_tensor()) else {
                continue;
            };
            let mut mean = got.zeros_like().unwrap();
            for grads in &single {
                mean = (mean + grads.get(var.as_tensor()).unwrap()).unwrap();
            }
            let mean = (mean / 4.0).unwrap();
            let scale = crate::max_diff(&mean, &mean.zeros_like().unwrap());
            let diff = crate::max_diff(got, &mean);
            assert!(
                diff <= 1e-4 * scale + 1e-9,
                "{name}: batch gradient {diff} from the per-image mean (scale {scale})"
            );
            checked += 1;
        }
        assert!(checked >= 10, "{prefix}: only {checked} gradients checked");
    }
}
