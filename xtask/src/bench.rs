//! `cargo xtask bench <part>`: median wall-clock timings printed as a table.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which part to measure.
    part: Part,
    /// Timed repetitions per measurement (the median is reported).
    #[arg(long, default_value_t = 15)]
    repeats: usize,
    /// Rounds of the 64 x 64 training steps measured in turn with PyTorch's (`gan` only; 0
    /// for none).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Subjects of the synthetic dataset (`datasets` only).
    #[arg(long, default_value_t = 20)]
    subjects: usize,
    /// Seed of the synthetic dataset (`datasets` only).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Part {
    /// ROC + every verification metric on 10^6 scores; a 960 x 960 x 192 cosine matrix.
    Metrics,
    /// MTCNN on 320 x 240, 512 x 512 and 1920 x 1280 photos and 1,000 frames, beside facenet-pytorch.
    Alignment,
    /// MobileFaceNet on 1, 64 and 256 aligned faces beside TFLite; the FFE trunk's training step.
    Ffe,
    /// ResNet generator forward, CycleGAN and FFE-CycleGAN training steps.
    Gan,
    /// Forward and backward of each generator layer shape, and of the whole generator.
    Layers,
    /// 200 FFE-CycleGAN iterations on 10 paired crops at 64 x 64: does pixel consistency fall?
    FfeTraining,
    /// Synthetic generator: images per second, MTCNN detection rate, VIS-VIS and NIR-VIS Rank-1.
    Datasets,
}

/// Runs the benchmark of one part.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    println!("rayon threads: {}", rayon_threads());
    match args.part {
        Part::Metrics => metrics(args.repeats),
        Part::Alignment => alignment(args.repeats),
        Part::Ffe => ffe(args.repeats),
        Part::Gan => crate::bench_gan::run(args.repeats, args.rounds),
        Part::Layers => crate::bench_layers::run(args.repeats),
        Part::FfeTraining => ffe_training(),
        Part::Datasets => crate::bench_datasets::run(args.subjects, args.seed),
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Median of `repeats` timed calls of `work`, after one warm-up call.
pub(crate) fn median_time<T>(repeats: usize, mut work: impl FnMut() -> T) -> Duration {
    std::hint::black_box(work());
    let mut times: Vec<Duration> = (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(work());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

pub(crate) fn report(what: &str, time: Duration, reference: &str) {
    println!(
        "{what:<52} {:>10.2} ms   {reference}",
        time.as_secs_f64() * 1e3
    );
}

fn metrics(repeats: usize) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let genuine_dist = Normal::new(0.55, 0.15)?;
    let impostor_dist = Normal::new(0.0, 0.12)?;
    let round = |x: f64| (x * 1e6).round() / 1e6;
    let genuine: Vec<f64> = (0..10_000)
        .map(|_| round(genuine_dist.sample(&mut rng)))
        .collect();
    let impostor: Vec<f64> = (0..990_000)
        .map(|_| round(impostor_dist.sample(&mut rng)))
        .collect();
    let targets = [1e-2, 1e-3, 1e-4];
    let time = median_time(repeats, || {
        visnir_metrics::verify(&genuine, &impostor, &targets)
    });
    report(
        "ROC + AUC + EER + TAR@FAR (3 targets), 10^6 scores",
        time,
        "sklearn roc_curve alone: 176 ms",
    );

    let (n, dim) = (960, 192);
    let probes: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let gallery: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let time = median_time(repeats, || {
        visnir_metrics::cosine_similarity_matrix(&probes, &gallery, dim)
    });
    report(
        "cosine similarity matrix 960 x 960 x 192",
        time,
        "target: < 20 ms",
    );
    Ok(())
}

fn alignment(repeats: usize) -> anyhow::Result<()> {
    use visnir_alignment::{Mtcnn, MtcnnConfig};
    use visnir_nn::load_rgb;
    let mtcnn = Mtcnn::bundled(MtcnnConfig::default(), &candle_core::Device::Cpu)?;
    let faces = std::path::Path::new("tests/fixtures/faces");
    for name in ["grace_hopper_320x240", "astronaut", "faceapi_sample1"] {
        let image = load_rgb(&faces.join(format!("{name}.png")))?;
        let time = median_time(repeats, || mtcnn.detect(&image));
        let what = format!("MTCNN detect {name} ({}x{})", image.width(), image.height());
        report(&what, time, "");
    }
    let frame = load_rgb(&faces.join("grace_hopper_320x240.png"))?;
    let frames = vec![frame; 1000];
    let start = Instant::now();
    for result in mtcnn.detect_many(&frames) {
        result?;
    }
    let rate = frames.len() as f64 / start.elapsed().as_secs_f64();
    println!(
        "{:<52} {rate:>10.1} images/s",
        "MTCNN detect_many, 1000 frames 320x240"
    );
    reference_side(
        "bench_mtcnn_facenet_pytorch.py",
        "pip install facenet-pytorch torchvision pillow",
    );
    Ok(())
}

fn ffe(repeats: usize) -> anyhow::Result<()> {
    let embedder = visnir_ffe::Embedder::bundled(&candle_core::Device::Cpu)?;
    let mut crops = Vec::new();
    for entry in std::fs::read_dir("tests/fixtures/aligned")? {
        crops.push(image::open(entry?.path())?.to_rgb8());
    }
    for count in [1, 64, 256] {
        let faces: Vec<_> = crops.iter().cycle().take(count).cloned().collect();
        let time = median_time(repeats, || embedder.embed(&faces));
        report(
            &format!("MobileFaceNet forward, {count} faces (112 x 112)"),
            time,
            "",
        );
    }
    reference_side(
        "bench_mobilefacenet_tflite.py",
        "pip install ai-edge-litert",
    );

    use candle_core::Module;
    let device = candle_core::Device::Cpu;
    for variant in [
        visnir_ffe::TrunkVariant::Authors,
        visnir_ffe::TrunkVariant::PaperText,
    ] {
        let varmap = candle_nn::VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, candle_core::DType::F32, &device);
        let trunk = visnir_ffe::FfeTrunk::new(variant, vb)?;
        visnir_ffe::FfeTrunk::load_pretrained(&varmap)?;
        let x = candle_core::Tensor::randn(0f32, 0.5, (1, 3, 256, 256), &device)?;
        let x = candle_core::Var::from_tensor(&x)?;
        let time = median_time(repeats, || -> candle_core::Result<()> {
            let loss = trunk.forward(x.as_tensor())?.sqr()?.mean_all()?;
            loss.backward()?;
            Ok(())
        });
        report(
            &format!("FFE trunk ({variant:?}) forward + backward, 1 x 256 x 256"),
            time,
            "",
        );
    }
    Ok(())
}

/// `xtask/reference/<script>`: the reference implementation's side of a benchmark.
fn reference_script(script: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reference")
        .join(script)
}

/// Runs `python3 xtask/reference/<script> <args>` and returns what it printed, or why it did not
/// run (python3's error, or the script's last line of stderr).
pub(crate) fn run_reference(script: &str, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("python3")
        .arg(reference_script(script))
        .args(args)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(stderr.lines().last().unwrap_or("the script failed").into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `xtask/reference/<script>` (the reference implementation's side of a benchmark: PyTorch,
/// TFLite, facenet-pytorch) right after visnir's, so both are measured in the same minutes, and
/// prints its lines; says why when it cannot run (`install` names what it needs).
pub(crate) fn reference_side(script: &str, install: &str) {
    println!(
        "Reference, same run ({}):",
        reference_script(script).display()
    );
    match run_reference(script, &[]) {
        Ok(stdout) => {
            for line in stdout.lines() {
                println!("  {line}");
            }
        }
        Err(why) => println!("  not measured: {why} ({install})"),
    }
}

/// A NIR-like twin of a VIS crop: grey, brighter skin, flattened contrast (a stand-in until the
/// synthetic generator lands).
fn nir_like(vis: &image::RgbImage) -> image::RgbImage {
    image::RgbImage::from_fn(vis.width(), vis.height(), |x, y| {
        let [r, g, b] = vis.get_pixel(x, y).0.map(|v| v as f32 / 255.0);
        let grey = (0.5 * r + 0.35 * g + 0.15 * b).powf(0.7) * 0.9 + 0.05;
        let v = (grey.clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([v, v, v])
    })
}

fn ffe_training() -> anyhow::Result<()> {
    use visnir_gan::*;
    let device = candle_core::Device::Cpu;
    let mut pairs = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir("tests/fixtures/aligned")?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for path in names {
        let vis = image::imageops::resize(
            &image::open(&path)?.to_rgb8(),
            72,
            72,
            image::imageops::FilterType::Triangle,
        );
        let nir = nir_like(&vis);
        pairs.push((vis, nir));
    }
    let config = TrainConfig {
        model: CycleGanConfig {
            generator: GeneratorConfig::Ffe(FfeGeneratorConfig::default()),
            discriminator: DiscriminatorConfig::default(),
            residual: false,
            monochrome_b: false,
            skip_affine: false,
            shading_map: None,
        },
        loss: LossWeights::LPC,
        adam: AdamConfig::default(),
        discriminator_lr_factor: 1.0,
        n_epochs: 20,
        n_epochs_decay: 0,
        load_size: 72,
        crop_size: 64,
        pool_size: 50,
        seed: 1,
        checkpoint_every: 0,
        paired: true,
        batch_size: 1,
        data: None,
        ema_decay: 0.0,
    };
    let out = std::env::temp_dir().join("visnir-ffe-training-bench");
    let mut trainer = Trainer::new(config, &out, false, &device)?;
    let start = Instant::now();
    let mut history = Vec::new();
    trainer.run(&pairs, Some(200), |progress, losses| {
        history.push((
            losses.pix_a + losses.pix_b,
            losses.g,
            losses.d_a + losses.d_b,
        ));
        if progress.global_step % 20 == 0 {
            println!(
                "step {:>3}: pixel consistency {:.3}, G {:.3}, D {:.3}",
                progress.global_step,
                losses.pix_a + losses.pix_b,
                losses.g,
                losses.d_a + losses.d_b
            );
        }
    })?;
    let mean = |r: std::ops::Range<usize>| {
        history[r.clone()].iter().map(|h| h.0).sum::<f32>() / r.len() as f32
    };
    println!(
        "pixel consistency (weighted, both directions): first 10 steps {:.3}, last 10 steps {:.3}; {:.2} s per step",
        mean(0..10),
        mean(history.len() - 10..history.len()),
        start.elapsed().as_secs_f64() / history.len() as f64
    );
    Ok(())
}
