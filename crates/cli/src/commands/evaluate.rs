//! `visnir evaluate`: how much a trained VIS -> NIR generator helps VIS-NIR matching on a
//! dataset's test split (Rank-1, TAR@FAR, with and without translation).

use std::path::PathBuf;

use clap::Args;
use visnir_gan::Architecture;
use visnir_pipeline::{evaluate_checkpoint, CheckpointEval, PairedLayout, Scale};

use crate::commands::DeviceArg;
use crate::exit::{CliError, InputContext};

/// Arguments of `visnir evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The generator: a visnir checkpoint, a safetensors generator or an official `.pth`.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Generator architecture: resnet or ffe.
    #[arg(long, default_value = "resnet")]
    arch: Architecture,
    /// Dataset layout: oulu or whu.
    #[arg(long, default_value = "oulu")]
    layout: PairedLayout,
    /// Dataset root.
    #[arg(long)]
    data: PathBuf,
    /// Protocol file (`split role subject path`); otherwise a seeded split.
    #[arg(long)]
    protocol: Option<PathBuf>,
    /// Split sizes of the seeded split: those of the `paper` or `quick` scale.
    #[arg(long, default_value = "paper")]
    split: Scale,
    /// Seed of the split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Side of the crops the generator was trained on.
    #[arg(long, default_value_t = 256)]
    size: u32,
    /// Cache of aligned crops (reused across runs).
    #[arg(long, default_value = "visnir-cache")]
    cache: PathBuf,
    #[command(flatten)]
    device: DeviceArg,
    /// Subject-bootstrap resamples for 95% intervals of Rank-1, TAR@FAR and EER (0: none).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    bootstrap: u64,
    /// Write the full report into this folder: score files (bob 4-column), ROC / DET / CMC /
    /// score plots, the translation grid, table2.md/json (table1 for WHU) and index.html.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `visnir evaluate`.
pub fn run(args: EvaluateArgs) -> Result<(), CliError> {
    let device = args.device.open()?;
    let layout = args.layout;
    if !args.checkpoint.is_file() {
        return Err(CliError::Input(anyhow::anyhow!(
            "--checkpoint {}: no such file",
            args.checkpoint.display()
        )));
    }
    let config = CheckpointEval {
        layout,
        data: args.data,
        protocol: args.protocol,
        split: args.split.settings(),
        seed: args.seed,
        checkpoint: args.checkpoint,
        ffe: args.arch == Architecture::Ffe,
        size: args.size,
        device,
        cache: args.cache,
        bootstrap: args.bootstrap as usize,
        report: args.report.clone(),
    };
    let report = evaluate_checkpoint(&config).input()?;
    if args.json {
        let rows: Vec<serde_json::Value> = report
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({"method": r.method, "rank1": r.rank1, "tar_far_1e2": r.tar_far_1e2,
                    "tar_far_1e3": r.tar_far_1e3, "auc": r.auc, "eer": r.eer,
                    "intervals": r.intervals, "pixel_l1": r.pixel_l1, "quality": r.quality})
            })
            .collect();
        let json = serde_json::json!({"rows": rows, "no_face": report.no_face});
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!("| Method | Rank-1 | TAR@FAR=1% | TAR@FAR=0.1% | AUC | EER | SSIM to NIR |");
        println!("|---|---|---|---|---|---|---|");
        for r in &report.rows {
            let [rank1, tar_1e2, tar_1e3, eer] = r
                .rates_with_intervals()
                .map(|(v, i)| visnir_pipeline::percent_with_interval(v, i));
            println!(
                "| {} | {rank1} | {tar_1e2} | {tar_1e3} | {:.3} | {eer} | {} |",
                r.method,
                r.auc,
                r.quality.map_or("–".into(), |q| format!("{:.3}", q.ssim)),
            );
        }
        if let Some(dir) = &args.report {
            eprintln!("report: {}", dir.join("index.html").display());
        }
        if report.no_face > 0 {
            eprintln!(
                "{} test images without a usable face were not used",
                report.no_face
            );
        }
    }
    Ok(())
}
