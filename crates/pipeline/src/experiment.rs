//! The whole experiment behind Table II (Oulu-CASIA layout) and Table I (WHU layout): data,
//! protocol, alignment, training of every method, evaluation, in that order, each stage
//! resumable (cached crops, checkpoints).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};
use visnir_datasets::PairedLayout;
use visnir_ffe::Embedder;
use visnir_gan::{load_generator, Direction, GeneratorConfig, TrainConfig};

use crate::curves::{CurvePoint, Validation};
use crate::data::{ensure_synthetic, protocol};
use crate::error::{io_error, Result};
use crate::evaluate::{GalleryEvaluation, RowMetrics};
use crate::method::Method;
use crate::prepare::Aligner;
use crate::scale::{Scale, Settings};
use crate::split::{Parts, PreparedSplit, Skipped};
use crate::train::{train, translate, translate_with};

/// Side of the cached aligned crops (the paper's translation crop).
pub const ALIGN_SIZE: u32 = 256;

/// What to run.
#[derive(Debug, Clone)]
pub struct ExperimentConfig {
    /// Oulu-CASIA (Table II) or WHU (Table I).
    pub layout: PairedLayout,
    /// A real dataset root; `None` generates the synthetic one.
    pub data: Option<PathBuf>,
    /// A protocol file to use instead of a seeded split.
    pub protocol: Option<PathBuf>,
    /// Experiment size (its name labels the report).
    pub scale: Scale,
    /// The numbers the run uses: `scale.settings()` unless overridden.
    pub settings: Settings,
    /// The rows, in order (see [`methods`]).
    pub methods: Vec<Method>,
    /// Where the models run.
    pub device: Device,
    /// Output directory: data (if synthetic), cache, models, report.
    pub out: PathBuf,
    /// Seed of the synthetic data, the split, the bootstrap and (unless `training_seed` is
    /// set) training.
    pub seed: u64,
    /// Seed of training alone, for runs that repeat training on a fixed split; its models and
    /// report go under `out/seeds/<seed>/`.
    pub training_seed: Option<u64>,
    /// Which checkpoint of each model translates the test gallery.
    pub select: Select,
    /// Subject-bootstrap resamples for the table's 95% intervals (0: none).
    pub bootstrap: usize,
    /// A change to each method's training configuration (an ablation; `None` for the methods
    /// as defined).
    pub adjust: Option<fn(Method, &mut TrainConfig)>,
}

impl ExperimentConfig {
    /// Where the models and the report go: `out`, or `out/seeds/<training seed>`.
    pub fn run_dir(&self) -> PathBuf {
        match self.training_seed {
            Some(seed) => self.out.join("seeds").join(seed.to_string()),
            None => self.out.clone(),
        }
    }
}

/// Which checkpoint of a trained model is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Select {
    /// The end of the schedule (the paper tests a fixed epoch).
    #[default]
    Last,
    /// The checkpoint with the best validation Rank-1 + TAR@FAR=1% (needs validation pairs).
    Best,
}

/// Images set aside for the translation figure: input VIS, true NIR, and each method's output.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    /// VIS inputs.
    pub vis: Vec<RgbImage>,
    /// Their NIR twins.
    pub nir: Vec<RgbImage>,
    /// `(row label, translations of vis)`, in table order.
    pub translated: Vec<(String, Vec<RgbImage>)>,
    /// The examples' indices in the gallery.
    gallery_indices: Vec<usize>,
}

impl Examples {
    /// The first `n` test twins of `split` (VIS crop and NIR crop), no translations yet.
    pub(crate) fn of(split: &PreparedSplit, n: usize) -> Self {
        let twins = split.example_twins(n);
        Self {
            vis: twins
                .iter()
                .map(|&(g, _)| split.gallery[g].crop.clone())
                .collect(),
            nir: twins
                .iter()
                .map(|&(_, p)| split.probes[p].crop.clone())
                .collect(),
            translated: Vec::new(),
            gallery_indices: twins.iter().map(|&(g, _)| g).collect(),
        }
    }

    /// Adds the column `label`: the examples' images out of its translated `gallery`.
    pub(crate) fn add(&mut self, label: &str, gallery: &[RgbImage]) {
        let shown = self
            .gallery_indices
            .iter()
            .map(|&g| gallery[g].clone())
            .collect();
        self.translated.push((label.to_string(), shown));
    }
}

/// Everything an experiment produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The rows, no-translation first.
    pub rows: Vec<RowMetrics>,
    /// Whether the data was the synthetic default.
    pub synthetic: bool,
    /// Images that could not be used.
    pub skipped: Skipped,
    /// Training pairs, gallery and probe sizes, test subjects.
    pub sizes: BTreeMap<String, usize>,
    /// The translation figure's images.
    pub examples: Examples,
    /// `(method, losses.jsonl)` of each trained model.
    pub loss_logs: Vec<(Method, PathBuf)>,
    /// `(method, learning curve)` of each trained model (empty without validation pairs).
    pub curves: Vec<(Method, Vec<CurvePoint>)>,
    /// The validation set matched without translation (the curves' reference level).
    pub validation_level: Option<CurvePoint>,
    /// Wall-clock seconds per stage.
    pub seconds: Vec<(String, f64)>,
    /// The dataset root used.
    pub data_root: PathBuf,
    /// The seed of the bootstrap intervals.
    pub bootstrap_seed: u64,
}

/// A progress bar for one stage.
pub(crate) fn bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// The methods of the table in row order.
pub fn methods(with_official: bool) -> Vec<Method> {
    let mut m = vec![
        Method::NoTranslation,
        Method::Basic,
        Method::BasicLpc,
        Method::FfeLpc,
    ];
    if with_official {
        m.push(Method::FfeOfficial);
    }
    m
}

/// Wall-clock seconds per stage.
struct Laps {
    clock: Instant,
    seconds: Vec<(String, f64)>,
}

impl Laps {
    fn lap(&mut self, name: &str) {
        self.seconds
            .push((name.to_string(), self.clock.elapsed().as_secs_f64()));
        self.clock = Instant::now();
    }
}

/// Runs the experiment: data, protocol, prepared split, then each method trained, its
/// translated gallery scored against the probes.
pub fn run(config: &ExperimentConfig) -> Result<Outcome> {
    let mut laps = Laps {
        clock: Instant::now(),
        seconds: Vec::new(),
    };
    std::fs::create_dir_all(&config.out).map_err(|e| io_error(&config.out, e))?;
    let root = dataset_root(config)?;
    laps.lap("data");
    let split = prepared_split(config, &root)?;
    laps.lap("align");

    let embedder = Embedder::bundled(&config.device)?;
    let validation = Validation::new(&embedder, &split.validation)?;
    let validation_level = validation
        .as_ref()
        .map(Validation::untranslated)
        .transpose()?;
    let evaluation = GalleryEvaluation::new(&embedder, &split, config.bootstrap, config.seed)?;
    let mut examples = Examples::of(&split, 6);
    let (mut rows, mut loss_logs, mut curves) = (Vec::new(), Vec::new(), Vec::new());
    for &method in &config.methods {
        let fake = if method == Method::NoTranslation {
            split.gallery_crops()
        } else {
            let dir = config.run_dir().join("models").join(method.slug());
            let (fake, curve) =
                train_and_translate(config, method, &split, validation.as_ref(), &dir)?;
            loss_logs.push((method, dir.join("losses.jsonl")));
            curves.push((method, curve));
            examples.add(method.label(), &fake);
            fake
        };
        let report = report_dir(&config.run_dir());
        let row = evaluation.row(method.label(), &fake, Some(&report))?;
        tracing::info!(
            method = method.label(),
            rank1 = row.rank1,
            tar_1e2 = row.tar_far_1e2,
            "evaluated"
        );
        rows.push(row);
        laps.lap(method.slug());
    }
    Ok(Outcome {
        rows,
        synthetic: config.data.is_none(),
        sizes: split.sizes(),
        skipped: split.skipped,
        examples,
        loss_logs,
        curves,
        validation_level,
        seconds: laps.seconds,
        data_root: root,
        bootstrap_seed: config.seed,
    })
}

/// Trains `method` in `dir` and translates the test gallery with the selected checkpoint;
/// returns the translations and the learning curve.
fn train_and_translate(
    config: &ExperimentConfig,
    method: Method,
    split: &PreparedSplit,
    validation: Option<&Validation>,
    dir: &Path,
) -> Result<(Vec<RgbImage>, Vec<CurvePoint>)> {
    let b = bar("train");
    let trained = train(
        method,
        &config.settings,
        config.adjust,
        config.training_seed.unwrap_or(config.seed),
        &split.train,
        validation,
        dir,
        &config.device,
        &b,
    )?;
    b.finish_and_clear();
    let gallery = split.gallery_crops();
    let fake = match (config.select, &trained.best) {
        (Select::Best, Some(best)) => {
            let ffe = match trained.trainer.config().model.generator {
                GeneratorConfig::Ffe(c) => Some(c),
                GeneratorConfig::Resnet(_) => None,
            };
            let generator = load_generator(best, Direction::AToB, ffe, &config.device)?;
            translate_with(&generator, &gallery, &config.device)?
        }
        _ => translate(&trained.trainer, &gallery, &config.device)?,
    };
    Ok((fake, trained.curve))
}

/// The dataset root: `--data`, or the synthetic dataset generated (once) under the output.
fn dataset_root(config: &ExperimentConfig) -> Result<PathBuf> {
    if let Some(root) = &config.data {
        return Ok(root.clone());
    }
    let root = config.out.join("synthetic-data");
    let b = bar("synth");
    ensure_synthetic(config.layout, &config.settings, config.seed, &root, &b)?;
    b.finish_and_clear();
    Ok(root)
}

/// The protocol (written to `protocol.txt`) with every image aligned once; the images without
/// a face are listed in `no-face.txt`.
fn prepared_split(config: &ExperimentConfig, root: &Path) -> Result<PreparedSplit> {
    let protocol = protocol(
        config.layout,
        root,
        config.protocol.as_deref(),
        &config.settings,
        config.seed,
    )?;
    let protocol_file = config.out.join("protocol.txt");
    std::fs::write(&protocol_file, protocol.to_text()).map_err(|e| io_error(&protocol_file, e))?;
    let aligner = Aligner::new(&config.out.join("cache"), ALIGN_SIZE, &config.device)?;
    let b = bar("align");
    let split = PreparedSplit::prepare(
        &aligner,
        root,
        &protocol,
        config.settings.size,
        Parts::All,
        &b,
    )?;
    b.finish_and_clear();
    let list_file = config.out.join("no-face.txt");
    std::fs::write(&list_file, split.skipped_text()).map_err(|e| io_error(&list_file, e))?;
    Ok(split)
}

/// `out/report` under an experiment's output directory.
pub fn report_dir(out: &Path) -> PathBuf {
    out.join("report")
}
