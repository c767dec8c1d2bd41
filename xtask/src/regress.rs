//! `cargo xtask regress`: a small deterministic end-to-end run on synthetic data
//! (`visnir_pipeline::regression_experiment`). Its reproducible part (sizes, faces found, the
//! no-translation row) must match `data/reference/regression.json`; its trained rows must pass
//! the learning checks, which no change of rounding moves but a training bug does.
//! `--bless` rewrites the reference on purpose.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use visnir_pipeline::{
    compare, comparison_table, learning_checks, regression_experiment, report_dir, PaperTable,
    Reference,
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

/// How far a no-translation metric may move: rounding of the embedder, never a flipped probe.
const TOLERANCE: f64 = 1e-6;

/// Runs the regression check; an error (non-zero exit) on any regression.
pub fn run(args: RegressArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let _ = std::fs::remove_dir_all(&args.out);
    let config = regression_experiment(&args.out);
    let outcome = visnir_pipeline::run(&config)?;
    visnir_pipeline::write_report(&report_dir(&args.out), PaperTable::Two, &outcome, "tiny")?;
    let description = format!(
        "cargo xtask regress: Table II pipeline, synthetic Oulu layout, scale tiny, 6 + 4 epochs, \
         seed 0, CPU (matrix kernels: {})",
        matrix_kernels()
    );
    let got = Reference::from_outcome(&outcome, &description, TOLERANCE);
    let learning = learning_checks(&outcome)?;
    if args.bless {
        let failed: Vec<_> = learning.iter().filter(|c| !c.passed()).collect();
        anyhow::ensure!(
            failed.is_empty(),
            "not blessed: the run fails its learning checks\n{}",
            comparison_table(&learning)
        );
        let text = serde_json::to_string_pretty(&got)? + "\n";
        std::fs::write(&args.reference, text)
            .with_context(|| format!("writing {}", args.reference.display()))?;
        println!("{}", comparison_table(&learning));
        println!("blessed {}", args.reference.display());
        return Ok(());
    }
    let text = std::fs::read_to_string(&args.reference)
        .with_context(|| format!("reading {}", args.reference.display()))?;
    let expected: Reference = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", args.reference.display()))?;
    if expected.description != got.description {
        println!(
            "note: the reference was recorded as `{}`, this run is `{}`",
            expected.description, got.description
        );
    }
    let comparisons: Vec<_> = compare(&expected, &got)
        .into_iter()
        .chain(learning)
        .collect();
    println!("{}", comparison_table(&comparisons));
    let failed = comparisons.iter().filter(|c| !c.passed()).count();
    println!("regress: {:.0} s", start.elapsed().as_secs_f64());
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} checks failed against {} (see the table above; `cargo xtask regress --bless` accepts a deliberate change of the reproducible part)",
        comparisons.len(),
        args.reference.display()
    );
    println!("all {} checks passed", comparisons.len());
    Ok(())
}

/// The instruction set of the gemm kernels this CPU runs (they are chosen at run time, and each
/// sums in its own order).
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
