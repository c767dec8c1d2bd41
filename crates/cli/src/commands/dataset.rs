//! `visnir dataset inspect|split` and `visnir synth`: look at a dataset tree, write a protocol
//! file, or generate a synthetic dataset in a real layout.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use visnir_datasets::synth::{self, SynthConfig};
use visnir_datasets::PairedLayout;
use visnir_datasets::{inspect, Layout, OuluCasia, Whu};

use crate::exit::{CliError, InputContext};

/// Dataset tools.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Count subjects, images and pairs of a dataset tree and list every problem.
    Inspect(InspectArgs),
    /// Write a seeded protocol file (train/test subjects, gallery/probe roles).
    Split(SplitArgs),
}

/// Arguments of `visnir dataset inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The layout to read the tree as: oulu, whu or casia2.
    #[arg(long)]
    layout: Layout,
    /// The dataset root.
    dir: PathBuf,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// Arguments of `visnir dataset split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The layout: oulu or whu (CASIA 2.0 ships its own fold files).
    #[arg(long)]
    layout: Layout,
    /// The dataset root.
    dir: PathBuf,
    /// Seed of the subject and frame draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training subjects (default: 20 for Oulu-CASIA, 70 for WHU).
    #[arg(long)]
    train: Option<usize>,
    /// Test subjects (default: 20 for Oulu-CASIA, 10 for WHU).
    #[arg(long)]
    test: Option<usize>,
    /// Frames per expression (Oulu-CASIA, default 8) or pairs per subject (WHU, default 20).
    #[arg(long)]
    per_subject: Option<usize>,
    /// The protocol file to write.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `visnir synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The layout to imitate: oulu or whu.
    #[arg(long, default_value = "oulu")]
    layout: Layout,
    /// Number of subjects.
    #[arg(long, default_value_t = 40)]
    subjects: usize,
    /// Frames per expression (oulu, default 8) or images per pose tag (whu, default 4).
    #[arg(long)]
    per_condition: Option<usize>,
    /// Seed: the same seed writes the same images.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (the dataset root).
    #[arg(long)]
    out: PathBuf,
}

/// Runs a `visnir dataset` subcommand.
pub fn run(command: DatasetCommand) -> Result<(), CliError> {
    match command {
        DatasetCommand::Inspect(args) => run_inspect(args),
        DatasetCommand::Split(args) => run_split(args),
    }
}

fn run_inspect(args: InspectArgs) -> Result<(), CliError> {
    let report = inspect(args.layout, &args.dir, |path| {
        visnir_nn::load_rgb(path)
            .map(|_| ())
            .map_err(|e| format!("unreadable image: {e}"))
    })
    .input()?;
    if args.json {
        let problems: Vec<serde_json::Value> = report
            .problems
            .iter()
            .map(|p| serde_json::json!({"path": p.path, "problem": p.reason}))
            .collect();
        let json = serde_json::json!({
            "root": args.dir,
            "layout": format!("{:?}", report.layout).to_lowercase(),
            "subjects": report.subjects,
            "images": {"vis": report.vis_images, "nir": report.nir_images},
            "pairs": report.pairs,
            "problems": problems,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!(
            "{}: {} subjects, {} VIS and {} NIR images, {} pairs, {} problems",
            args.dir.display(),
            report.subjects,
            report.vis_images,
            report.nir_images,
            report.pairs,
            report.problems.len()
        );
        for p in &report.problems {
            println!("  {}: {}", p.path.display(), p.reason);
        }
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Input(anyhow::anyhow!(
            "{}: {} problems found (listed above)",
            args.dir.display(),
            report.problems.len()
        )))
    }
}

fn run_split(args: SplitArgs) -> Result<(), CliError> {
    let protocol = match args.layout {
        Layout::Oulu => OuluCasia::scan(&args.dir).input()?.protocol_split(
            args.train.unwrap_or(20),
            args.test.unwrap_or(20),
            args.per_subject.unwrap_or(8),
            args.seed,
        ),
        Layout::Whu => Whu::scan(&args.dir).input()?.protocol_split(
            args.train.unwrap_or(70),
            args.test.unwrap_or(10),
            args.per_subject.unwrap_or(20),
            args.seed,
        ),
        Layout::Casia2 => {
            return Err(CliError::Input(anyhow::anyhow!(
                "CASIA NIR-VIS 2.0 is split by its official protocols/*.txt fold files; use them as they are"
            )))
        }
    }
    .input()?;
    std::fs::write(&args.out, protocol.to_text())
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "{}: {} entries",
        args.out.display(),
        protocol.entries().len()
    );
    Ok(())
}

/// Runs `visnir synth`.
pub fn run_synth(args: SynthArgs) -> Result<(), CliError> {
    let mut config = match args.layout {
        Layout::Oulu => SynthConfig::oulu(args.subjects, args.seed),
        Layout::Whu => SynthConfig::whu(args.subjects, args.seed),
        Layout::Casia2 => {
            return Err(CliError::Input(anyhow::anyhow!(
                "synthetic data is written in the oulu or whu layout"
            )))
        }
    };
    if let Some(k) = args.per_condition {
        config.per_condition = k;
    }
    if config.subjects == 0 || config.per_condition == 0 {
        return Err(CliError::Input(anyhow::anyhow!(
            "--subjects and --per-condition must be at least 1"
        )));
    }
    let pairs = config.image_count() / 2;
    let bar = ProgressBar::new(pairs as u64);
    bar.set_style(
        ProgressStyle::with_template("synth [{bar:30}] {pos}/{len} pairs, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let done = AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let images = synth::generate(&config, &args.out, &|| {
        done.fetch_add(1, Ordering::Relaxed);
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let layout = if config.layout == PairedLayout::Oulu {
        "oulu"
    } else {
        "whu"
    };
    eprintln!(
        "{}: {images} images ({layout} layout, {} subjects) in {:.1} s",
        args.out.display(),
        config.subjects,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
