//! The parity checks of `cargo xtask gpu-check`, run on any device: the same references and
//! tolerances as the CPU tests (`crates/*/tests/`), reported as results instead of panics.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use serde::Serialize;
use visnir_alignment::{Mtcnn, MtcnnConfig};
use visnir_ffe::Embedder;
use visnir_gan::{
    load_generator, AdamConfig, CycleGan, CycleGanConfig, Direction, DiscriminatorConfig,
    GeneratorConfig, ImagePool, LossWeights, NLayerDiscriminator, ResnetGenerator,
    ResnetGeneratorConfig,
};
use visnir_nn::load_rgb;

/// One check: what was compared, the worst deviation found and the bound it must stay within.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was compared with what.
    pub name: String,
    /// The worst deviation measured (its meaning is in `measure`).
    pub worst: f64,
    /// The bound `worst` must not exceed (or, for similarities, fall below).
    pub bound: f64,
    /// What `worst` and `bound` measure.
    pub measure: &'static str,
    /// Whether the check passed.
    pub passed: bool,
    /// An error that stopped the check, if any.
    pub error: Option<String>,
}

impl Check {
    fn at_most(name: &str, measure: &'static str, worst: f64, bound: f64) -> Self {
        Self {
            name: name.into(),
            worst,
            bound,
            measure,
            passed: worst <= bound,
            error: None,
        }
    }

    fn at_least(name: &str, measure: &'static str, worst: f64, bound: f64) -> Self {
        Self {
            passed: worst >= bound,
            ..Self::at_most(name, measure, worst, bound)
        }
    }

    fn failed(name: &str, error: anyhow::Error) -> Self {
        Self {
            name: name.into(),
            worst: f64::NAN,
            bound: f64::NAN,
            measure: "",
            passed: false,
            error: Some(format!("{error:#}")),
        }
    }
}

/// The repository's `tests/fixtures`, from the working directory (the GPU machine runs the
/// prebuilt binary in a copy of the tree) or from where xtask was built.
pub fn fixtures() -> PathBuf {
    let here = PathBuf::from("tests/fixtures");
    if here.is_dir() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
    }
}

fn json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default()
}

fn max_diff(a: &Tensor, b: &Tensor) -> anyhow::Result<f64> {
    let b = b.to_device(a.device())?;
    Ok((a - &b)?
        .abs()?
        .flatten_all()?
        .max(0)?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?)
}

/// A group of checks on a device.
type CheckFn = fn(&Device) -> anyhow::Result<Vec<Check>>;

/// Every check, in order; a check that errors is reported as failed with its error.
pub fn run_all(device: &Device) -> Vec<Check> {
    let checks: [(&str, CheckFn); 5] = [
        ("MTCNN", mtcnn),
        ("MobileFaceNet", mobilefacenet),
        ("official .pth translation", pth_translation),
        ("tiny CycleGAN activations", tiny_networks),
        ("two training steps", two_steps),
    ];
    let mut out = Vec::new();
    for (name, check) in checks {
        match check(device) {
            Ok(results) => out.extend(results),
            Err(e) => out.push(Check::failed(name, e)),
        }
    }
    out
}

/// MTCNN boxes, scores and landmarks against facenet-pytorch 2.6 (`mtcnn_golden.json`): IoU
/// >= 0.98, score within 0.01, landmarks within 1 px mean / 2 px max.
fn mtcnn(device: &Device) -> anyhow::Result<Vec<Check>> {
    let fixtures = fixtures();
    let golden = json(&fixtures.join("mtcnn_golden.json"))?;
    let detector = Mtcnn::bundled(MtcnnConfig::default(), device)?;
    let (mut worst_iou, mut worst_score, mut worst_mark) = (1.0f64, 0.0f64, 0.0f64);
    let (mut worst_mean_mark, mut worst_scale) = (0.0f64, 0.0f64);
    let mut count_ok = true;
    for image in golden["images"].as_array().into_iter().flatten() {
        let name = image["input"]
            .as_str()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        let rgb = load_rgb(&fixtures.join("faces").join(name))?;
        let scales = detector
            .config()
            .scales(rgb.height() as usize, rgb.width() as usize);
        let want_scales = numbers(&image["pyramid_scales"]);
        count_ok &= scales.len() == want_scales.len();
        for (s, w) in scales.iter().zip(&want_scales) {
            worst_scale = worst_scale.max((s - w).abs());
        }
        let faces = detector.detect(&rgb)?;
        let want = image["faces"].as_array().cloned().unwrap_or_default();
        count_ok &= faces.len() == want.len();
        for (face, reference) in faces.iter().zip(&want) {
            let b = numbers(&reference["box"]);
            let a = face.bbox.map(f64::from);
            let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
            let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
            let inter = w * h;
            let iou =
                inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
            worst_iou = worst_iou.min(iou);
            let prob = reference["prob"].as_f64().unwrap_or(f64::NAN);
            worst_score = worst_score.max((face.score as f64 - prob).abs());
            let mut mean = 0.0;
            for (got, want) in face
                .landmarks
                .iter()
                .zip(reference["landmarks"].as_array().into_iter().flatten())
            {
                let w = numbers(want);
                let d = ((got[0] as f64 - w[0]).powi(2) + (got[1] as f64 - w[1]).powi(2)).sqrt();
                worst_mark = worst_mark.max(d);
                mean += d / 5.0;
            }
            worst_mean_mark = worst_mean_mark.max(mean);
        }
    }
    Ok(vec![
        Check::at_most(
            "MTCNN: faces found vs facenet-pytorch",
            "0 when every photo has the reference's face and pyramid-level counts",
            if count_ok { 0.0 } else { 1.0 },
            0.0,
        ),
        Check::at_most(
            "MTCNN: pyramid scales vs facenet-pytorch",
            "largest |difference|",
            worst_scale,
            1e-12,
        ),
        Check::at_least(
            "MTCNN: box IoU vs facenet-pytorch",
            "smallest IoU",
            worst_iou,
            0.98,
        ),
        Check::at_most(
            "MTCNN: score vs facenet-pytorch",
            "largest |difference|",
            worst_score,
            0.01,
        ),
        Check::at_most(
            "MTCNN: landmarks vs facenet-pytorch, mean per face",
            "largest mean distance (px)",
            worst_mean_mark,
            1.0,
        ),
        Check::at_most(
            "MTCNN: landmarks vs facenet-pytorch",
            "largest distance (px)",
            worst_mark,
            2.0,
        ),
    ])
}

/// MobileFaceNet embeddings of the aligned fixture crops against the TFLite reference
/// (`mobilefacenet_golden.json`): cosine >= 0.9999.
fn mobilefacenet(device: &Device) -> anyhow::Result<Vec<Check>> {
    let fixtures = fixtures();
    let golden = json(&fixtures.join("mobilefacenet_golden.json"))?;
    let embedder = Embedder::bundled(device)?;
    let (mut worst, mut worst_norm) = (1.0f64, 0.0f64);
    let faces = golden["faces"].as_array().cloned().unwrap_or_default();
    anyhow::ensure!(!faces.is_empty(), "no reference faces");
    for face in &faces {
        let name = face["name"].as_str().unwrap_or("");
        let crop = image::open(fixtures.join(format!("aligned/{name}.png")))?.to_rgb8();
        let got = embedder.embed(&[crop])?.remove(0);
        let want = numbers(&face["embedding"]);
        let dot: f64 = got.iter().zip(&want).map(|(&a, b)| a as f64 * b).sum();
        let na = got.iter().map(|&a| (a as f64).powi(2)).sum::<f64>().sqrt();
        let nb = want.iter().map(|b| b * b).sum::<f64>().sqrt();
        worst = worst.min(dot / (na * nb));
        worst_norm = worst_norm.max((na - 1.0).abs());
    }
    let io = candle_core::safetensors::load(
        fixtures.join("parity/mobilefacenet_io.safetensors"),
        device,
    )?;
    let get = |key: &str| {
        io.get(key)
            .ok_or_else(|| anyhow::anyhow!("fixture lacks {key}"))
    };
    let input = get("input_nhwc")?.permute((0, 3, 1, 2))?.contiguous()?;
    let raw = embedder.network().forward(&input)?;
    Ok(vec![
        Check::at_least(
            "MobileFaceNet: embeddings vs TFLite",
            "smallest cosine",
            worst,
            0.9999,
        ),
        Check::at_most(
            "MobileFaceNet: embeddings are unit vectors",
            "largest | |e| - 1 |",
            worst_norm,
            1e-5,
        ),
        Check::at_most(
            "MobileFaceNet: raw network output vs TFLite",
            "largest |difference|",
            max_diff(&raw, get("embedding_tflite_mode")?)?,
            1e-4,
        ),
    ])
}

/// An official `torch.save(G.state_dict())` generator translating a 256 x 256 face, against the
/// PNG PyTorch's CycleGAN `test.py` wrote: within 1 grey level everywhere.
fn pth_translation(device: &Device) -> anyhow::Result<Vec<Check>> {
    let fixtures = fixtures();
    let generator = load_generator(
        &fixtures.join("gan/tiny_G.pth"),
        Direction::AToB,
        None,
        device,
    )?;
    let face = image::open(fixtures.join("gan/face256.png"))?.to_rgb8();
    let ours = visnir_pipeline::translate_with(&generator, &[face], device)?.remove(0);
    let torch = image::open(fixtures.join("gan/face256_tiny_G_torch.png"))?.to_rgb8();
    anyhow::ensure!(
        ours.dimensions() == torch.dimensions(),
        "output size differs"
    );
    let max = ours
        .as_raw()
        .iter()
        .zip(torch.as_raw())
        .map(|(&a, &b)| a.abs_diff(b))
        .max()
        .unwrap_or(0);
    Ok(vec![Check::at_most(
        "official .pth generator: translation vs PyTorch's PNG",
        "largest |difference| (grey levels)",
        max as f64,
        1.0,
    )])
}

fn tiny_resnet() -> ResnetGeneratorConfig {
    ResnetGeneratorConfig {
        ngf: 8,
        n_blocks: 2,
        ..Default::default()
    }
}

/// The tiny generator's 21 activations and the discriminator's outputs against PyTorch's
/// recording: within 1e-4.
fn tiny_networks(device: &Device) -> anyhow::Result<Vec<Check>> {
    let parity = fixtures().join("parity");
    let load = |name: &str| -> anyhow::Result<VarBuilder<'static>> {
        let tensors =
            candle_core::safetensors::load(parity.join(format!("{name}.safetensors")), device)?;
        Ok(VarBuilder::from_tensors(tensors, DType::F32, device))
    };
    let io = candle_core::safetensors::load(parity.join("cyclegan_tiny_io.safetensors"), device)?;
    let get = |key: &str| {
        io.get(key)
            .ok_or_else(|| anyhow::anyhow!("fixture lacks {key}"))
    };
    let g = ResnetGenerator::new(tiny_resnet(), load("cyclegan_tiny_G")?)?;
    let d = NLayerDiscriminator::new(
        DiscriminatorConfig {
            ndf: 8,
            ..Default::default()
        },
        load("cyclegan_tiny_D")?,
    )?;
    let x = get("input")?;
    let mut worst = 0.0f64;
    let trace = g.trace(x)?;
    anyhow::ensure!(
        trace.len() == 21,
        "{} activations, PyTorch recorded 21",
        trace.len()
    );
    for (i, activation) in trace.iter().enumerate() {
        worst = worst.max(max_diff(activation, get(&format!("act.G.model.{i}"))?)?);
    }
    let y = g.forward(x)?;
    worst = worst.max(max_diff(&y, get("G_output")?)?);
    worst = worst.max(max_diff(&d.forward(x)?, get("D_output_on_input")?)?);
    worst = worst.max(max_diff(&d.forward(&y)?, get("D_output_on_G_output")?)?);
    Ok(vec![Check::at_most(
        "tiny CycleGAN: activations and outputs vs PyTorch",
        "largest |difference|",
        worst,
        1e-4,
    )])
}

/// Two training iterations of the tiny CycleGAN (pixel term on, no pool, no identity) from
/// PyTorch's initial weights: every loss within 1e-4 relative of PyTorch's (`parity.json`).
fn two_steps(device: &Device) -> anyhow::Result<Vec<Check>> {
    let fixtures = fixtures();
    let reference = json(&fixtures.join("parity/parity.json"))?;
    let config = CycleGanConfig {
        generator: GeneratorConfig::Resnet(tiny_resnet()),
        discriminator: DiscriminatorConfig {
            ndf: 8,
            ..Default::default()
        },
        residual: false,
        monochrome_b: false,
        skip_affine: false,
        shading_map: None,
    };
    let mut gan = CycleGan::new(config, AdamConfig::default(), 0, device)?;
    let init = candle_core::safetensors::load(
        fixtures.join("parity/train_tiny_init.safetensors"),
        device,
    )?;
    {
        let data = gan
            .varmap()
            .data()
            .lock()
            .map_err(|_| anyhow::anyhow!("parameter lock poisoned"))?;
        anyhow::ensure!(
            data.len() == init.len(),
            "{} parameters, PyTorch's initial weights have {}",
            data.len(),
            init.len()
        );
        for (name, var) in data.iter() {
            let value = init
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("initial weights lack {name}"))?;
            var.set(value)?;
        }
    }
    let inputs = candle_core::safetensors::load(
        fixtures.join("parity/train_tiny_inputs.safetensors"),
        device,
    )?;
    let (a, b) = (
        inputs
            .get("A")
            .ok_or_else(|| anyhow::anyhow!("inputs lack A"))?,
        inputs
            .get("B")
            .ok_or_else(|| anyhow::anyhow!("inputs lack B"))?,
    );
    let weights = LossWeights {
        adversarial: 1.0,
        cycle: 10.0,
        identity: 0.0,
        pixel: 10.0,
        embedding: 0.0,
        subject: 0.0,
    };
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    let mut worst = 0.0f64;
    for step in 1..=2 {
        let l = gan.train_step(a, b, None, weights, (&mut pool_b, &mut pool_a))?;
        let want = &reference["train_tiny"][format!("losses_step{step}")];
        for (name, got) in [
            ("G_A", l.g_a),
            ("G_B", l.g_b),
            ("cycle_A", l.cycle_a),
            ("cycle_B", l.cycle_b),
            ("pix_A", l.pix_a),
            ("pix_B", l.pix_b),
            ("D_A", l.d_a),
            ("D_B", l.d_b),
            ("G", l.g),
        ] {
            let w = want[name]
                .as_f64()
                .ok_or_else(|| anyhow::anyhow!("parity.json lacks step {step} {name}"))?;
            worst = worst.max(((got as f64 - w) / w).abs());
        }
    }
    Ok(vec![Check::at_most(
        "two CycleGAN training steps: losses vs PyTorch",
        "largest relative difference",
        worst,
        1e-4,
    )])
}
