//! Evaluating one trained generator on a dataset's test split: the recipe behind
//! `visnir evaluate` (no training; the same alignment cache, embedder and metrics as the
//! experiments).

use std::path::PathBuf;

use candle_core::Device;
use indicatif::ProgressBar;
use visnir_datasets::PairedLayout;
use visnir_ffe::Embedder;
use visnir_gan::{load_generator, Direction, FfeGeneratorConfig};

use crate::data::protocol;
use crate::error::Result;
use crate::evaluate::{GalleryEvaluation, RowMetrics};
use crate::experiment::ALIGN_SIZE;
use crate::experiment::{Examples, Outcome};
use crate::prepare::Aligner;
use crate::report::PaperTable;
use crate::scale::Settings;
use crate::split::{Parts, PreparedSplit};

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct CheckpointEval {
    /// Dataset layout.
    pub layout: PairedLayout,
    /// Dataset root.
    pub data: PathBuf,
    /// Protocol file; otherwise a seeded split with `split`'s sizes.
    pub protocol: Option<PathBuf>,
    /// Split sizes (and nothing else) are taken from these settings.
    pub split: Settings,
    /// Seed of the split.
    pub seed: u64,
    /// The generator: our checkpoint, a bare safetensors file or an official `.pth`.
    pub checkpoint: PathBuf,
    /// The FFE architecture instead of the ResNet generator.
    pub ffe: bool,
    /// Side of the crops the generator takes.
    pub size: u32,
    /// Where the models run.
    pub device: Device,
    /// Cache directory for aligned crops.
    pub cache: PathBuf,
    /// Subject-bootstrap resamples for 95% intervals (0: none).
    pub bootstrap: usize,
    /// A folder for the full report (score files, plots, `index.html`); `None` writes nothing.
    pub report: Option<PathBuf>,
}

/// The two rows (VIS gallery as is; translated) and how many test images had no face.
#[derive(Debug, Clone)]
pub struct CheckpointReport {
    /// `No translation`, then the translated gallery.
    pub rows: Vec<RowMetrics>,
    /// Gallery and probe images without a usable face.
    pub no_face: usize,
}

/// Aligns the test split, translates the VIS gallery with the generator and scores both the
/// untranslated and the translated gallery against the NIR probes.
pub fn evaluate_checkpoint(config: &CheckpointEval) -> Result<CheckpointReport> {
    let protocol = protocol(
        config.layout,
        &config.data,
        config.protocol.as_deref(),
        &config.split,
        config.seed,
    )?;
    let aligner = Aligner::new(&config.cache, ALIGN_SIZE, &config.device)?;
    let split = PreparedSplit::prepare(
        &aligner,
        &config.data,
        &protocol,
        config.size,
        Parts::TestOnly,
        &ProgressBar::hidden(),
    )?;
    for skipped in &split.skipped_images {
        tracing::warn!("{}: {}; not used", skipped.path.display(), skipped.reason);
    }
    let start = std::time::Instant::now();
    let gallery = split.gallery_crops();
    let ffe = config.ffe.then(FfeGeneratorConfig::default);
    let generator = load_generator(&config.checkpoint, Direction::AToB, ffe, &config.device)?;
    let fake = crate::train::translate_with(&generator, &gallery, &config.device)?;
    let embedder = Embedder::bundled(&config.device)?;
    let name = config.checkpoint.file_name().map_or_else(
        || "generator".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let evaluation = GalleryEvaluation::new(&embedder, &split, config.bootstrap, config.seed)?;
    let mut rows = Vec::new();
    for (label, images) in [
        ("No translation".to_string(), &gallery),
        (format!("Translated ({name})"), &fake),
    ] {
        rows.push(evaluation.row(&label, images, config.report.as_deref())?);
    }
    if let Some(dir) = &config.report {
        let mut examples = Examples::of(&split, 6);
        examples.add(&rows[1].method, &fake);
        let outcome = Outcome {
            rows: rows.clone(),
            synthetic: false,
            skipped: split.skipped.clone(),
            sizes: split.sizes(),
            examples,
            loss_logs: Vec::new(),
            curves: Vec::new(),
            validation_level: None,
            seconds: vec![("evaluate".into(), start.elapsed().as_secs_f64())],
            data_root: config.data.clone(),
            bootstrap_seed: config.seed,
        };
        let table = match config.layout {
            PairedLayout::Whu => PaperTable::One,
            _ => PaperTable::Two,
        };
        crate::report::write(dir, table, &outcome, "evaluate")?;
    }
    Ok(CheckpointReport {
        rows,
        no_face: split.skipped_images.len(),
    })
}
