//! `visnir`: the command line of the visnir workspace.
//!
//! Each subcommand is a thin layer over one library crate; see `visnir --help`.

mod commands;
mod exit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Translate visible-light face photos to near-infrared and evaluate VIS-NIR face matching.
#[derive(Debug, Parser)]
#[command(name = "visnir", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verification and identification metrics from score files (ROC, TAR@FAR, EER, Rank-1).
    #[command(subcommand)]
    Metrics(commands::metrics::MetricsCommand),
    /// Detect faces with MTCNN: boxes, scores and five landmarks per face.
    Detect(commands::detect::DetectArgs),
    /// Detect and align faces to the ArcFace template, writing `<stem>_f<k>.png` crops.
    Align(commands::detect::AlignArgs),
    /// 192-d MobileFaceNet face embeddings of aligned 112 x 112 crops (or photos with --align).
    Embed(commands::embed::EmbedArgs),
    /// Translate aligned face crops with a trained generator (VIS -> NIR by default).
    Translate(commands::gan::TranslateArgs),
    /// Train a CycleGAN / FFE-CycleGAN on a directory of A/ and B/ images.
    Train(commands::gan::TrainArgs),
    /// Score a trained VIS -> NIR generator on a dataset's test split (with and without translation).
    Evaluate(commands::evaluate::EvaluateArgs),
    /// Inspect a dataset tree (Oulu-CASIA, WHU, CASIA 2.0) or write a protocol split.
    #[command(subcommand)]
    Dataset(commands::dataset::DatasetCommand),
    /// Generate a synthetic paired VIS/NIR face dataset in the Oulu-CASIA or WHU layout.
    Synth(commands::dataset::SynthArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    visnir_nn::reuse_freed_buffers();
    visnir_nn::park_idle_candle_threads();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Metrics(command) => commands::metrics::run(command),
        Command::Detect(args) => commands::detect::run_detect(args),
        Command::Align(args) => commands::detect::run_align(args),
        Command::Embed(args) => commands::embed::run(args),
        Command::Translate(args) => commands::gan::run_translate(args),
        Command::Train(args) => commands::gan::run_train(args),
        Command::Evaluate(args) => commands::evaluate::run(args),
        Command::Dataset(command) => commands::dataset::run(command),
        Command::Synth(args) => commands::dataset::run_synth(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.status())
        }
    }
}
