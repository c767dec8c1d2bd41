//! `cargo xtask`: the project's automation, one module per task.

mod bench;
mod bench_datasets;
mod import_weights;

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
    /// Convert the upstream weight packages into `data/weights/*.safetensors` (+ PROVENANCE.md).
    ImportWeights(import_weights::ImportArgs),
}

fn main() -> anyhow::Result<()> {
    visnir_nn::reuse_freed_buffers();
    match Xtask::parse().task {
        Task::Bench(args) => bench::run(args),
        Task::ImportWeights(args) => import_weights::run(args),
    }
}
