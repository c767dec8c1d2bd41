//! `cargo xtask bounds`: what a translation would need, measured on a finished
//! `reproduce-table*` run (see `visnir_pipeline::BoundsConfig`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use visnir_pipeline::{bounds_markdown, measure_bounds, write_bounds, BoundsConfig, PairedLayout};

/// Arguments of `cargo xtask bounds`.
#[derive(Debug, Args)]
pub struct BoundsArgs {
    /// The run's output directory (default: the default run of reproduce-table2).
    #[arg(long, default_value = "target/reproduce/table2-quick")]
    out: PathBuf,
    /// The real dataset the run used (`--data`), if any.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Dataset layout: oulu (Table II) or whu (Table I).
    #[arg(long, default_value = "oulu")]
    layout: PairedLayout,
    /// The crop side the run's models were trained at (the quick scale: 64).
    #[arg(long, default_value_t = 64)]
    size: u32,
    /// The seed the run's synthetic data was generated with (its `--seed`).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compute device: cpu, cuda[:N] or metal[:N].
    #[arg(long, default_value = "cpu")]
    device: visnir_nn::DeviceChoice,
}

/// Runs `cargo xtask bounds`: prints the table and writes `report/bounds.{md,json}`.
pub fn run(args: BoundsArgs) -> anyhow::Result<()> {
    let config = BoundsConfig {
        out: args.out.clone(),
        data: args.data,
        layout: args.layout,
        size: args.size,
        seed: args.seed,
        device: args.device.device().context("selecting --device")?,
    };
    let bounds = measure_bounds(&config)
        .with_context(|| format!("measuring the run in {}", args.out.display()))?;
    print!("{}", bounds_markdown(&bounds));
    write_bounds(&args.out, &bounds)?;
    Ok(())
}
