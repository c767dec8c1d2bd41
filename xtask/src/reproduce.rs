//! `cargo xtask reproduce-table2` (Oulu-CASIA layout) and `reproduce-table1` (WHU layout): the
//! main job. Without `--data` it generates the synthetic dataset and runs the `quick` scale.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use visnir_pipeline::{
    report_dir, ExperimentConfig, Method, PairedLayout, PaperTable, Scale, Select,
};

/// Arguments of both reproduce tasks.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Root of the real dataset (Oulu-CASIA NIR-VIS for Table II, WHU VIS-NIR for Table I);
    /// without it a synthetic dataset in the same layout is generated.
    #[arg(long)]
    data: Option<PathBuf>,
    /// A protocol file (`split role subject path` lines) instead of the seeded split.
    #[arg(long)]
    protocol: Option<PathBuf>,
    /// quick (CPU, minutes), cpu (quick for 4 + 4 epochs with learning curves, under an hour),
    /// paper (the paper's settings, a GPU job) or tiny (CI).
    #[arg(long, default_value = "quick")]
    scale: Scale,
    /// Compute device: cpu, cuda[:N] or metal[:N].
    #[arg(long, default_value = "cpu")]
    device: visnir_nn::DeviceChoice,
    /// Output directory (data, cache, models, report); re-running resumes.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also train the FFE generator with the authors' code's loss weights (a fourth model).
    #[arg(long)]
    with_official: bool,
    /// Train only these methods (comma-separated: basic, basic-lpc, ffe-lpc, ffe-official);
    /// the no-translation row is always there.
    #[arg(long, value_delimiter = ',')]
    methods: Option<Vec<Method>>,
    /// Seed of the synthetic data, the split and training.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Override the scale's epochs at the initial learning rate (0 to 100000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    epochs: Option<u64>,
    /// Override the scale's epochs of linear decay (0 to 100000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    epochs_decay: Option<u64>,
    /// Override the scale's learning rate (a positive number).
    #[arg(long, value_parser = parse_lr)]
    lr: Option<f64>,
    /// Override the scale's crop size (side of the images the models train on), a multiple of
    /// 4 from 32 to 1024.
    #[arg(long, value_parser = visnir_gan::parse_crop_side)]
    size: Option<u32>,
    /// Override the scale's number of ResNet blocks in both generator kinds (0 to 64).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=64))]
    n_blocks: Option<u64>,
    /// Override the scale's filters in the ResNet generator's first layer (its ResNet blocks
    /// have 4x as many; the FFE generator's widths are fixed by its trunk), 1 to 256.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    ngf: Option<u64>,
    /// Override the scale's generators: residual (`true`: they add their output to their input
    /// and start at the identity; the quick scale) or CycleGAN's (`false`; the paper).
    #[arg(long)]
    residual: Option<bool>,
    /// Override the scale's VIS -> NIR generator output: grey (`true`: the mean of its three
    /// channels in each, as the NIR photos; the quick scale) or three free channels (`false`;
    /// the paper).
    #[arg(long)]
    monochrome_nir: Option<bool>,
    /// Override the scale's skip affine of residual generators: their input scaled and shifted
    /// per channel by learned values before their output is added (`true`; the quick scale) or
    /// the plain input (`false`).
    #[arg(long)]
    skip_affine: Option<bool>,
    /// Override the scale's shading map of residual generators: a learned offset per pixel (a
    /// map of the crop size, starting at 0) added to their identity path, for the shading that
    /// aligned NIR faces share at each position (`true`; the quick scale) or none (`false`).
    #[arg(long)]
    shading_map: Option<bool>,
    /// Override the scale's augmentation: each training pair resized by 286 / 256 and randomly
    /// cropped back to the crop size (`true`; CycleGAN's and the paper's) or kept at the test
    /// images' scale and only flipped (`false`; the quick scale).
    #[arg(long)]
    resize_and_crop: Option<bool>,
    /// Override the scale's training pairs per iteration, 1 to 1024 (instance norm stays per
    /// image).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    batch_size: Option<u64>,
    /// Override the scale's frames per expression (Oulu) or pairs per subject (WHU) of the
    /// protocol.
    #[arg(long)]
    frames: Option<usize>,
    /// Override the scale's weight of each direction's pixel-consistency L1 in the
    /// pixel-consistency methods (the paper's gamma, 10).
    #[arg(long, value_parser = visnir_gan::parse_loss_weight)]
    pixel_weight: Option<f64>,
    /// Override the weight of the generators' adversarial (LSGAN) terms in the
    /// pixel-consistency methods (1; 0 drops them, an ablation).
    #[arg(long, value_parser = visnir_gan::parse_loss_weight)]
    adversarial_weight: Option<f64>,
    /// Override the scale's weight of each direction's cycle-consistency L1 in the
    /// pixel-consistency methods (the paper's lambda, 1; Basic CycleGAN keeps CycleGAN's 10).
    #[arg(long, value_parser = visnir_gan::parse_loss_weight)]
    cycle_weight: Option<f64>,
    /// Override the scale's weight of the embedding-consistency loss (`1 - cos` of the frozen
    /// MobileFaceNet's embeddings of a translation and its paired target; not in the paper) in
    /// the pixel-consistency methods; 0 turns it off.
    #[arg(long, value_parser = visnir_gan::parse_loss_weight)]
    embedding_weight: Option<f64>,
    /// Override the scale's weight of the subject-contrast loss (cross-entropy of each
    /// translation's subject among the training subjects' mean MobileFaceNet embeddings; not in
    /// the paper) in the pixel-consistency methods; 0 turns it off.
    #[arg(long, value_parser = visnir_gan::parse_loss_weight)]
    subject_weight: Option<f64>,
    /// Override the scale's decay of the generators' weight average, which translates
    /// instead of the last step's weights (quick: 0.99; 0: none, as the paper).
    #[arg(long, value_parser = visnir_gan::parse_ema_decay)]
    ema_decay: Option<f64>,
    /// Held-out validation pairs per training subject for the learning curves (0: none);
    /// synthetic data gets one more frame per condition to hold out.
    #[arg(long)]
    validation_pairs: Option<usize>,
    /// Iterations between two points of the learning curves.
    #[arg(long)]
    validate_every: Option<u64>,
    /// Which checkpoint translates the test gallery: `last` (end of the schedule, as the
    /// paper) or `best` (best validation Rank-1 + TAR@FAR=1%).
    #[arg(long, default_value = "last", value_parser = parse_select)]
    select: Select,
    /// Repeat training with each of these seeds on the same data and split (`--seed`), each in
    /// `<out>/seeds/<seed>/` (resumable), and summarise mean +- sd in `report/seeds.md`.
    #[arg(long, value_delimiter = ',')]
    seeds: Option<Vec<u64>>,
    /// Subject-bootstrap resamples behind the table's 95% intervals (0: no intervals).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    bootstrap: u64,
}

fn parse_lr(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(lr),
        _ => Err(format!("`{s}` is not a positive learning rate")),
    }
}

fn parse_select(s: &str) -> Result<Select, String> {
    match s {
        "last" => Ok(Select::Last),
        "best" => Ok(Select::Best),
        other => Err(format!(
            "unknown checkpoint `{other}` (expected last or best)"
        )),
    }
}

/// Runs the experiment behind `table` and prints its table.
pub fn run(args: ReproduceArgs, table: PaperTable) -> anyhow::Result<()> {
    let start = Instant::now();
    let device = args.device.device().context("selecting --device")?;
    let layout = match table {
        PaperTable::One => PairedLayout::Whu,
        PaperTable::Two => PairedLayout::Oulu,
    };
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("target").join("reproduce").join(format!(
            "{}-{}",
            table.stem(),
            args.scale.name()
        ))
    });
    if let Some(data) = &args.data {
        anyhow::ensure!(
            data.is_dir(),
            "--data {}: no such directory",
            data.display()
        );
    }
    let mut settings = args.scale.settings();
    settings.n_epochs = args.epochs.map_or(settings.n_epochs, |e| e as usize);
    settings.n_epochs_decay = args
        .epochs_decay
        .map_or(settings.n_epochs_decay, |e| e as usize);
    anyhow::ensure!(
        settings.n_epochs + settings.n_epochs_decay > 0,
        "--epochs and --epochs-decay are both 0: there is nothing to train"
    );
    settings.lr = args.lr.unwrap_or(settings.lr);
    settings.size = args.size.unwrap_or(settings.size);
    settings.residual = args.residual.unwrap_or(settings.residual);
    settings.monochrome_nir = args.monochrome_nir.unwrap_or(settings.monochrome_nir);
    settings.skip_affine = args.skip_affine.unwrap_or(settings.skip_affine);
    settings.shading_map = args.shading_map.unwrap_or(settings.shading_map);
    settings.resize_and_crop = args.resize_and_crop.unwrap_or(settings.resize_and_crop);
    settings.n_blocks = args.n_blocks.map_or(settings.n_blocks, |n| n as usize);
    settings.ngf = args.ngf.map_or(settings.ngf, |n| n as usize);
    settings.pixel = args.pixel_weight.unwrap_or(settings.pixel);
    settings.adversarial = args.adversarial_weight.unwrap_or(settings.adversarial);
    settings.cycle = args.cycle_weight.or(settings.cycle);
    settings.embedding = args.embedding_weight.unwrap_or(settings.embedding);
    settings.subject = args.subject_weight.unwrap_or(settings.subject);
    settings.ema_decay = args.ema_decay.unwrap_or(settings.ema_decay);
    settings.batch_size = args.batch_size.map_or(settings.batch_size, |b| b as usize);
    if let Some(frames) = args.frames {
        settings.oulu_split.2 = frames;
        settings.whu_split.2 = frames;
        settings.synth.1 = settings.synth.1.max(frames);
        settings.synth.2 = settings.synth.2.max(frames.div_ceil(5));
    }
    settings.validation_pairs = args.validation_pairs.unwrap_or(settings.validation_pairs);
    settings.validate_every = args.validate_every.unwrap_or(settings.validate_every);
    if settings.validation_pairs > 0 && args.data.is_none() {
        settings.synth.1 = settings.synth.1.max(settings.oulu_split.2 + 1);
        settings.synth.2 = settings.synth.2.max(settings.whu_split.2.div_ceil(5) + 1);
    }
    anyhow::ensure!(
        args.select == Select::Last || settings.validation_pairs > 0,
        "--select best needs validation pairs (--validation-pairs N)"
    );
    let config = ExperimentConfig {
        layout,
        data: args.data,
        protocol: args.protocol,
        scale: args.scale,
        settings,
        methods: match args.methods {
            Some(chosen) => std::iter::once(Method::NoTranslation)
                .chain(chosen.into_iter().filter(|m| *m != Method::NoTranslation))
                .collect(),
            None => visnir_pipeline::methods(args.with_official),
        },
        device,
        out: out.clone(),
        seed: args.seed,
        select: args.select,
        training_seed: None,
        bootstrap: args.bootstrap as usize,
        adjust: None,
    };
    match args.seeds {
        Some(seeds) => run_seeds(&config, &seeds, table, args.scale.name())?,
        None => {
            let outcome = visnir_pipeline::run(&config)?;
            let dir = report_dir(&out);
            let files = visnir_pipeline::write_report(&dir, table, &outcome, args.scale.name())?;
            println!(
                "{}",
                visnir_pipeline::markdown(table, &outcome, args.scale.name())?
            );
            println!("report:");
            for f in files {
                println!("  {}", f.display());
            }
        }
    }
    println!("total wall time: {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// Trains and evaluates every method once per training seed on the one split of `config`,
/// writes each seed's report and the summary `report/seeds.{md,json}`.
fn run_seeds(
    config: &ExperimentConfig,
    seeds: &[u64],
    table: PaperTable,
    scale: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(!seeds.is_empty(), "--seeds lists no seed");
    let mut distinct = seeds.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    anyhow::ensure!(
        distinct.len() == seeds.len(),
        "--seeds lists a seed twice: {seeds:?}"
    );
    let mut runs = Vec::new();
    for &seed in seeds {
        let run = ExperimentConfig {
            training_seed: Some(seed),
            ..config.clone()
        };
        let outcome = visnir_pipeline::run(&run)?;
        visnir_pipeline::write_report(&report_dir(&run.run_dir()), table, &outcome, scale)?;
        println!(
            "training seed {seed}: {}",
            report_dir(&run.run_dir()).join("index.html").display()
        );
        runs.push((seed, outcome.rows));
    }
    let dir = report_dir(&config.out);
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let md = visnir_pipeline::seeds::markdown(&runs, config.seed);
    let md_path = dir.join("seeds.md");
    std::fs::write(&md_path, &md).with_context(|| md_path.display().to_string())?;
    let json_path = dir.join("seeds.json");
    let json = visnir_pipeline::seeds::json(&runs, config.seed);
    std::fs::write(&json_path, serde_json::to_string_pretty(&json)?)
        .with_context(|| json_path.display().to_string())?;
    println!("{md}");
    println!(
        "report:\n  {}\n  {}",
        md_path.display(),
        json_path.display()
    );
    Ok(())
}
