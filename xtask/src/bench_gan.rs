//! `cargo xtask bench gan`: the ResNet generator's forward pass and the CycleGAN and
//! FFE-CycleGAN training steps, then PyTorch's (`reference/bench_cyclegan.py`); and the quick
//! scale's two 64 x 64 steps measured in turn with PyTorch's for a number of rounds, since this
//! machine's speed drifts by more than the difference being measured.

use std::time::Duration;

use candle_core::{DType, Device, Module, Tensor};
use visnir_gan::{
    AdamConfig, CycleGan, CycleGanConfig, DiscriminatorConfig, FfeGeneratorConfig, GeneratorConfig,
    ImagePool, LossWeights, ResnetGenerator, ResnetGeneratorConfig, WeightAverage,
};

use crate::bench::{median_time, reference_side, report, run_reference};

/// The PyTorch script of this benchmark.
const SCRIPT: &str = "bench_cyclegan.py";

/// One training-step configuration.
#[derive(Clone, Copy)]
struct StepCase {
    name: &'static str,
    size: usize,
    ndf: usize,
    generator: GeneratorConfig,
    weights: LossWeights,
}

/// The steps of the table: the quick scale's 64 x 64 ones first.
fn step_cases() -> [StepCase; 5] {
    let resnet = |ngf| {
        GeneratorConfig::Resnet(ResnetGeneratorConfig {
            ngf,
            ..Default::default()
        })
    };
    let ffe = GeneratorConfig::Ffe(FfeGeneratorConfig::default());
    let no_identity = LossWeights {
        adversarial: 1.0,
        cycle: 10.0,
        identity: 0.0,
        pixel: 0.0,
        embedding: 0.0,
        subject: 0.0,
    };
    let lpc_no_identity = LossWeights {
        pixel: 10.0,
        ..no_identity
    };
    let case = |name, size, ndf, generator, weights| StepCase {
        name,
        size,
        ndf,
        generator,
        weights,
    };
    [
        case(
            "CycleGAN + Lpc, no identity, ngf 32",
            64,
            32,
            resnet(32),
            lpc_no_identity,
        ),
        case("FFE-CycleGAN + Lpc, ndf 32", 64, 32, ffe, LossWeights::LPC),
        case(
            "CycleGAN, no identity loss",
            128,
            64,
            resnet(64),
            no_identity,
        ),
        case(
            "CycleGAN, identity 0.5",
            128,
            64,
            resnet(64),
            LossWeights::CYCLEGAN,
        ),
        case(
            "FFE-CycleGAN, official losses",
            128,
            64,
            ffe,
            LossWeights::AUTHORS_CODE,
        ),
    ]
}

/// A model ready to take training steps on a fixed pair of random images.
struct Step {
    model: CycleGan,
    config: CycleGanConfig,
    a: Tensor,
    b: Tensor,
    pool_a: ImagePool,
    pool_b: ImagePool,
    weights: LossWeights,
}

impl Step {
    fn new(case: StepCase, device: &Device) -> anyhow::Result<Self> {
        let config = CycleGanConfig {
            generator: case.generator,
            discriminator: DiscriminatorConfig {
                ndf: case.ndf,
                ..Default::default()
            },
            residual: false,
            monochrome_b: false,
            skip_affine: false,
            shading_map: None,
        };
        let shape = (1, 3, case.size, case.size);
        Ok(Self {
            model: CycleGan::new(config, AdamConfig::default(), 0, device)?,
            config,
            a: Tensor::randn(0f32, 0.5, shape, device)?,
            b: Tensor::randn(0f32, 0.5, shape, device)?,
            pool_a: ImagePool::new(50, 0),
            pool_b: ImagePool::new(50, 1),
            weights: case.weights,
        })
    }

    /// Median time of one training step over `repeats` (after one warm-up step).
    fn time(&mut self, repeats: usize) -> Duration {
        let Self {
            model,
            a,
            b,
            pool_a,
            pool_b,
            weights,
            ..
        } = self;
        median_time(repeats, || {
            model.train_step(a, b, None, *weights, (&mut *pool_b, &mut *pool_a))
        })
    }
}

/// Runs the benchmark: the table, PyTorch's side, then `rounds` rounds of the 64 x 64 steps in
/// turn with PyTorch's.
pub fn run(repeats: usize, rounds: usize) -> anyhow::Result<()> {
    let device = Device::Cpu;
    let varmap = candle_nn::VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let g = ResnetGenerator::new(ResnetGeneratorConfig::default(), vb)?;
    for size in [128, 256] {
        let x = Tensor::randn(0f32, 0.5, (1, 3, size, size), &device)?;
        let time = median_time(repeats, || g.forward(&x));
        report(
            &format!("ResnetGenerator forward 1 x 3 x {size}^2"),
            time,
            "",
        );
    }
    for case in step_cases() {
        let mut step = Step::new(case, &device)?;
        let time = step.time(repeats.min(9));
        report(
            &format!("{}: step, batch 1, {}^2", case.name, case.size),
            time,
            "",
        );
        if case.size == 64 {
            let average = WeightAverage::new(step.config, step.model.varmap(), 0.99, &device)?;
            let time = median_time(repeats, || average.update());
            report(
                &format!("{}: weight-average update (both generators)", case.name),
                time,
                "",
            );
        }
    }
    reference_side(SCRIPT, "pip install torch");
    if rounds > 0 {
        side_by_side_64(rounds, &device)?;
    }
    Ok(())
}

/// The two 64 x 64 steps, visnir's and then PyTorch's (a fresh process each round, 3 untimed
/// steps before each measurement as visnir's models get before round 1), `rounds` times;
/// prints each round's times and ratio and the median ratio.
fn side_by_side_64(rounds: usize, device: &Device) -> anyhow::Result<()> {
    let cases = step_cases();
    let mut steps = [Step::new(cases[0], device)?, Step::new(cases[1], device)?];
    for step in &mut steps {
        step.time(1);
    }
    println!("The 64 x 64 steps in turn with PyTorch's ({rounds} rounds; visnir / PyTorch, ms):");
    let mut ratios = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        let ours = [steps[0].time(9), steps[1].time(7)].map(|t| t.as_secs_f64() * 1e3);
        let theirs = match pytorch_steps_64() {
            Ok(times) => times,
            Err(why) => {
                println!("  not measured: {why} (pip install torch)");
                return Ok(());
            }
        };
        let mut line = format!("  round {round}:");
        for k in 0..2 {
            let ratio = ours[k] / theirs[k];
            ratios[k].push(ratio);
            line += &format!(
                "  {} {:.1} / {:.1} ({ratio:.2}x)",
                cases[k].name, ours[k], theirs[k]
            );
        }
        println!("{line}");
    }
    for (case, ratios) in cases.iter().zip(ratios.iter_mut()) {
        ratios.sort_by(f64::total_cmp);
        println!(
            "  {}: median ratio {:.2}x (rounds {:.2}-{:.2}x)",
            case.name,
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
    Ok(())
}

/// PyTorch's two 64 x 64 step times in ms (`bench_cyclegan.py --steps-64`), or why not.
fn pytorch_steps_64() -> Result<[f64; 2], String> {
    let stdout = run_reference(SCRIPT, &["--steps-64"])?;
    let time = |key: &str| {
        stdout
            .lines()
            .filter_map(|l| l.strip_prefix(key))
            .find_map(|v| v.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("{SCRIPT} printed no `{key}` line"))
    };
    Ok([time("resnet64 ")?, time("ffe64 ")?])
}
