//! `cargo xtask gpu-check`: one prepared run that proves a device. Every parity check of the CPU
//! tests on the device, the models timed beside PyTorch on the same device, peak memory, and the
//! default experiment's wall time; written as `gpu-check.json` and `gpu-check.log`. It needs no
//! Rust toolchain: the GPU machine runs the prebuilt xtask binary in a copy of the repository
//! (`scripts/gpu-check.sh`). `--device cpu` is the dry run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Device, Module, Tensor};
use clap::Args;
use serde_json::{json, Value};
use visnir_ffe::Embedder;
use visnir_gan::{
    AdamConfig, CycleGan, CycleGanConfig, DiscriminatorConfig, FfeGeneratorConfig, GeneratorConfig,
    ImagePool, LossWeights, ResnetGenerator, ResnetGeneratorConfig,
};
use visnir_nn::DeviceChoice;

use crate::gpu_parity;

/// Arguments of `cargo xtask gpu-check`.
#[derive(Debug, Args)]
pub struct GpuCheckArgs {
    /// The device to prove: cuda[:N], metal[:N] or cpu (the dry run).
    #[arg(long, default_value = "cuda")]
    device: DeviceChoice,
    /// Where gpu-check.json, gpu-check.log and the experiment go.
    #[arg(long, default_value = "target/gpu-check")]
    out: PathBuf,
    /// Side of the timed images (the paper's 256; smaller for a quick dry run).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(32..=1024))]
    size: u32,
    /// Timed repetitions per measurement (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    repeats: u32,
    /// Scale of the `reproduce-table2` run (quick, tiny, ...), or `none` to skip it.
    #[arg(long, default_value = "quick")]
    reproduce: String,
}

/// Lines printed and kept for `gpu-check.log`.
struct Log {
    lines: Vec<String>,
}

impl Log {
    fn say(&mut self, line: String) {
        println!("{line}");
        self.lines.push(line);
    }
}

/// Runs the check; fails (after writing its files) when a parity check failed.
pub fn run(args: GpuCheckArgs) -> anyhow::Result<()> {
    let device = args.device.device().context("opening --device")?;
    std::fs::create_dir_all(&args.out).with_context(|| args.out.display().to_string())?;
    let mut log = Log { lines: Vec::new() };
    let start = Instant::now();
    log.say(format!("gpu-check on {}", args.device));

    let parity = gpu_parity::run_all(&device);
    for c in &parity {
        log.say(format!(
            "{} {}: {} {:.3e} (bound {:.3e}){}",
            if c.passed { "PASS" } else { "FAIL" },
            c.name,
            c.measure,
            c.worst,
            c.bound,
            c.error
                .as_deref()
                .map_or(String::new(), |e| format!(" error: {e}"))
        ));
    }

    let timings = time_models(&device, args.size as usize, args.repeats as usize)?;
    let torch = pytorch_side(&args.device, args.size, args.repeats);
    for (what, ms) in &timings {
        let reference = torch[what]
            .as_f64()
            .map_or("–".to_string(), |t| format!("{t:.1} ms"));
        log.say(format!(
            "{what:<44} visnir {ms:>9.1} ms   PyTorch {reference}"
        ));
    }
    let peak = peak_memory_mib(&device);
    log.say(format!("peak memory of visnir: {peak:.0} MiB"));
    if let Some(p) = torch["peak memory (MiB)"].as_f64() {
        log.say(format!("peak memory PyTorch allocated: {p:.0} MiB"));
    }

    let experiment = experiment(&args, &mut log)?;
    let passed = parity.iter().all(|c| c.passed);
    log.say(format!(
        "{} parity checks, {} failed; {:.0} s in all",
        parity.len(),
        parity.iter().filter(|c| !c.passed).count(),
        start.elapsed().as_secs_f64()
    ));
    let report = json!({
        "device": args.device.to_string(),
        "parity": parity,
        "timings_ms": timings.iter().map(|(w, ms)| json!({"what": w, "visnir": ms, "pytorch": torch[w]})).collect::<Vec<_>>(),
        "pytorch": torch,
        "peak_memory_mib": peak,
        "experiment": experiment,
        "seconds": start.elapsed().as_secs_f64(),
        "passed": passed,
    });
    let json_path = args.out.join("gpu-check.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)
        .with_context(|| json_path.display().to_string())?;
    let log_path = args.out.join("gpu-check.log");
    std::fs::write(&log_path, log.lines.join("\n") + "\n")
        .with_context(|| log_path.display().to_string())?;
    println!("wrote {} and {}", json_path.display(), log_path.display());
    anyhow::ensure!(passed, "a parity check failed on {}", args.device);
    Ok(())
}

/// Median wall time of `repeats` calls after a warm-up, the device synchronised after each.
fn median_ms<T>(
    device: &Device,
    repeats: usize,
    mut work: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<f64> {
    work()?;
    device.synchronize()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        std::hint::black_box(work()?);
        device.synchronize()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The timed work: generator forward, CycleGAN steps at batch 1 and 8, an FFE-CycleGAN step,
/// MobileFaceNet on 256 faces.
fn time_models(device: &Device, size: usize, repeats: usize) -> anyhow::Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    let varmap = candle_nn::VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, device);
    let g = ResnetGenerator::new(ResnetGeneratorConfig::default(), vb)?;
    let x = Tensor::randn(0f32, 0.5, (1, 3, size, size), device)?;
    out.push((
        format!("ResnetGenerator forward, 1 x 3 x {size}^2"),
        median_ms(device, repeats, || Ok(g.forward(&x)?))?,
    ));
    let steps = [
        (
            "CycleGAN step",
            1,
            GeneratorConfig::Resnet(ResnetGeneratorConfig::default()),
            LossWeights::CYCLEGAN,
        ),
        (
            "CycleGAN step",
            8,
            GeneratorConfig::Resnet(ResnetGeneratorConfig::default()),
            LossWeights::CYCLEGAN,
        ),
        (
            "FFE-CycleGAN + Lpc step",
            1,
            GeneratorConfig::Ffe(FfeGeneratorConfig::default()),
            LossWeights::LPC,
        ),
    ];
    for (name, batch, generator, weights) in steps {
        let mut model = CycleGan::new(
            CycleGanConfig {
                generator,
                discriminator: DiscriminatorConfig::default(),
                residual: false,
                monochrome_b: false,
                skip_affine: false,
                shading_map: None,
            },
            AdamConfig::default(),
            0,
            device,
        )?;
        let a = Tensor::randn(0f32, 0.5, (batch, 3, size, size), device)?;
        let b = Tensor::randn(0f32, 0.5, (batch, 3, size, size), device)?;
        let (mut pool_a, mut pool_b) = (ImagePool::new(50, 0), ImagePool::new(50, 1));
        let ms = median_ms(device, repeats, || {
            Ok(model.train_step(&a, &b, None, weights, (&mut pool_b, &mut pool_a))?)
        })?;
        out.push((format!("{name}, batch {batch}, {size}^2"), ms));
    }
    let embedder = Embedder::bundled(device)?;
    let face = image::open(gpu_parity::fixtures().join("aligned/astronaut_f0.png"))?.to_rgb8();
    let faces = vec![face; 256];
    out.push((
        "MobileFaceNet, 256 aligned faces".to_string(),
        median_ms(device, repeats, || Ok(embedder.embed(&faces)?))?,
    ));
    Ok(out)
}

/// PyTorch's timings on the same device (`xtask/reference/gpu_bench.py`), or why there are none.
fn pytorch_side(device: &DeviceChoice, size: u32, repeats: u32) -> Value {
    let script = PathBuf::from("xtask/reference/gpu_bench.py");
    let script = if script.is_file() {
        script
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pytorch/gpu_bench.py")
    };
    // PyTorch names Apple's GPU `mps`; `cpu` and `cuda:N` are spelt alike.
    let torch_device = match device {
        DeviceChoice::Metal(_) => "mps".to_string(),
        other => other.to_string(),
    };
    let output = std::process::Command::new("python3")
        .arg(&script)
        .args([
            "--device",
            &torch_device,
            "--size",
            &size.to_string(),
            "--repeats",
            &repeats.to_string(),
        ])
        .output();
    match output {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| json!({"not measured": format!("unreadable output: {e}")})),
        Ok(out) => {
            json!({"not measured": String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("the script failed").to_string()})
        }
        Err(e) => json!({"not measured": format!("python3: {e}")}),
    }
}

/// The most memory the process held: the GPU's per-process figure from `nvidia-smi` on CUDA,
/// the resident set's high-water mark on the CPU.
fn peak_memory_mib(device: &Device) -> f64 {
    if device.is_cuda() {
        let pid = std::process::id().to_string();
        let out = std::process::Command::new("nvidia-smi")
            .args([
                "--query-compute-apps=pid,used_memory",
                "--format=csv,noheader,nounits",
            ])
            .output();
        return out
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .and_then(|text| {
                text.lines()
                    .filter_map(|l| l.split_once(','))
                    .find(|(p, _)| p.trim() == pid)
                    .and_then(|(_, m)| m.trim().parse().ok())
            })
            .unwrap_or(f64::NAN);
    }
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// `reproduce-table2 --device D --scale S` run by this same binary; its wall time and rows.
fn experiment(args: &GpuCheckArgs, log: &mut Log) -> anyhow::Result<Value> {
    if args.reproduce == "none" {
        return Ok(Value::Null);
    }
    let out = args.out.join("reproduce");
    let device = args.device.to_string();
    let start = Instant::now();
    let output = std::process::Command::new(std::env::current_exe()?)
        .args([
            "reproduce-table2",
            "--device",
            &device,
            "--scale",
            &args.reproduce,
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .context("running reproduce-table2")?;
    let seconds = start.elapsed().as_secs_f64();
    let log_path = args.out.join("reproduce.log");
    let mut file =
        std::fs::File::create(&log_path).with_context(|| log_path.display().to_string())?;
    file.write_all(&output.stdout)?;
    file.write_all(&output.stderr)?;
    let table = std::fs::read_to_string(out.join("report/table2.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    log.say(format!(
        "reproduce-table2 --scale {} --device {device}: {} in {seconds:.0} s (log: {})",
        args.reproduce,
        if output.status.success() {
            "done"
        } else {
            "FAILED"
        },
        log_path.display()
    ));
    if let Some(rows) = table.as_ref().and_then(|t| t["rows"].as_array()) {
        for r in rows {
            log.say(format!(
                "  {:<16} Rank-1 {:.1}  TAR@FAR=1% {:.1}",
                r["method"].as_str().unwrap_or("?"),
                100.0 * r["rank1"].as_f64().unwrap_or(f64::NAN),
                100.0 * r["tar_far_1e2"].as_f64().unwrap_or(f64::NAN)
            ));
        }
    }
    Ok(json!({
        "scale": args.reproduce,
        "seconds": seconds,
        "succeeded": output.status.success(),
        "rows": table.map(|t| t["rows"].clone()),
    }))
}
