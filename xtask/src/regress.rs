//! `cargo xtask regress`: a tiny deterministic end-to-end run on synthetic data (the `tiny`
//! scale) whose metrics must match `data/reference/regression.json` within its tolerances.
//! `--bless` rewrites the reference on purpose.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use visnir_pipeline::{
    compare, comparison_table, methods, report_dir, ExperimentConfig, PairedLayout, PaperTable,
    Reference, Scale, Select, Tolerances,
};

/// Arguments of `cargo xtask regress`.
#[derive(Debug, Args)]
pub struct RegressArgs {
    /// The reference metrics.
    #[arg(long, default_value = "data/reference/regression.json")]
    reference: PathBuf,
    /// Write the measured metrics as the new reference instead of comparing.
    #[arg(long)]
    bless: bool,
    /// Working directory (removed first, so the run starts from nothing).
    #[arg(long, default_value = "target/regress")]
    out: PathBuf,
}

/// Runs the regression check; an error (non-zero exit) on any regression.
pub fn run(args: RegressArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let _ = std::fs::remove_dir_all(&args.out);
    let config = ExperimentConfig {
        layout: PairedLayout::Oulu,
        data: None,
        protocol: None,
        scale: Scale::Tiny,
        settings: Scale::Tiny.settings(),
        methods: methods(false),
        device: candle_core::Device::Cpu,
        out: args.out.clone(),
        seed: 0,
        select: Select::Last,
    };
    let outcome = visnir_pipeline::run(&config)?;
    visnir_pipeline::write_report(&report_dir(&args.out), PaperTable::Two, &outcome, "tiny")?;
    let description = format!(
        "cargo xtask regress: Table II pipeline, synthetic Oulu layout, scale tiny, seed 0, CPU \
         (matrix kernels: {})",
        matrix_kernels()
    );
    if args.bless {
        let tolerances = std::fs::read_to_string(&args.reference)
            .ok()
            .and_then(|t| serde_json::from_str::<Reference>(&t).ok())
            .map_or_else(Tolerances::default, |r| r.tolerances);
        let reference = Reference::from_outcome(&outcome, &description, tolerances);
        let text = serde_json::to_string_pretty(&reference)? + "\n";
        std::fs::write(&args.reference, text)
            .with_context(|| format!("writing {}", args.reference.display()))?;
        println!("blessed {}", args.reference.display());
        return Ok(());
    }
    let text = std::fs::read_to_string(&args.reference)
        .with_context(|| format!("reading {}", args.reference.display()))?;
    let expected: Reference = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", args.reference.display()))?;
    let got = Reference::from_outcome(&outcome, &description, expected.tolerances);
    if expected.description != got.description {
        println!(
            "note: the reference was recorded as `{}`, this run is `{}`: the trained rows move \
             with the kernels' summation order",
            expected.description, got.description
        );
    }
    let comparisons = compare(&expected, &got);
    println!("{}", comparison_table(&comparisons));
    let failed = comparisons.iter().filter(|c| !c.passed()).count();
    println!("regress: {:.0} s", start.elapsed().as_secs_f64());
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} quantities regressed against {} (see the table above; `cargo xtask regress --bless` accepts a deliberate change)",
        comparisons.len(),
        args.reference.display()
    );
    println!("all {} quantities within tolerance", comparisons.len());
    Ok(())
}

/// The instruction set of the gemm kernels this CPU runs (they are chosen at run time, and each
/// sums in its own order, which the GAN rows of the check amplify).
fn matrix_kernels() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "x86-64 AVX-512";
        }
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
        {
            return "x86-64 AVX2+FMA";
        }
        "x86-64 baseline"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH
    }
}
