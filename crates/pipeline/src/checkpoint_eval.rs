//! Evaluating one trained generator on a dataset's test split: the recipe behind
//! `visnir evaluate` (no training; the same alignment cache, embedder and metrics as the
//! experiments).

use std::path::{Path, PathBuf};

use candle_core::Device;
use image::RgbImage;
use visnir_datasets::{PairedLayout, ProtocolEntry, Role, Split};
use visnir_ffe::Embedder;
use visnir_gan::{load_generator, Direction, FfeGeneratorConfig};

use crate::data::protocol;
use crate::error::{PipelineError, Result};
use crate::evaluate::{embed_crops, score_row, RowMetrics};
use crate::experiment::ALIGN_SIZE;
use crate::prepare::{square_crop, Aligner};
use crate::preset::Settings;

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
}

/// The two rows (VIS gallery as is; translated) and how many test images had no face.
#[derive(Debug, Clone)]
pub struct CheckpointReport {
    /// `No translation`, then the translated gallery.
    pub rows: Vec<RowMetrics>,
    /// Gallery and probe images without a usable face.
    pub no_face: usize,
}

fn crops_of(
    aligner: &Aligner,
    root: &Path,
    entries: &[ProtocolEntry],
    size: u32,
    no_face: &mut usize,
) -> Result<(Vec<RgbImage>, Vec<String>)> {
    let paths: Vec<PathBuf> = entries.iter().map(|e| e.path.clone()).collect();
    let aligned = aligner.align_all(root, &paths, &|| {})?;
    let mut crops = Vec::new();
    let mut ids = Vec::new();
    for (entry, crop) in entries.iter().zip(aligned.crops) {
        match crop {
            Ok(c) => {
                crops.push(square_crop(&c, size));
                ids.push(entry.subject.clone());
            }
            Err(why) => {
                tracing::warn!("{}: {why}; not used", entry.path.display());
                *no_face += 1;
            }
        }
    }
    Ok((crops, ids))
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
    let gallery: Vec<ProtocolEntry> = protocol
        .select(Split::Test, Role::Gallery)
        .cloned()
        .collect();
    let probes: Vec<ProtocolEntry> = protocol.select(Split::Test, Role::Probe).cloned().collect();
    let mut no_face = 0;
    let (gallery, gallery_ids) =
        crops_of(&aligner, &config.data, &gallery, config.size, &mut no_face)?;
    let (probes, probe_ids) = crops_of(&aligner, &config.data, &probes, config.size, &mut no_face)?;
    if gallery.is_empty() || probes.is_empty() {
        return Err(PipelineError::Invalid(format!(
            "the test split has {} gallery and {} probe images with a face",
            gallery.len(),
            probes.len()
        )));
    }
    let ffe = config.ffe.then(FfeGeneratorConfig::default);
    let generator = load_generator(&config.checkpoint, Direction::AToB, ffe, &config.device)?;
    let fake = crate::train::translate_with(&generator, &gallery, &config.device)?;
    let embedder = Embedder::bundled(&config.device)?;
    let probe_embeddings = embed_crops(&embedder, &probes)?;
    let name = config.checkpoint.file_name().map_or_else(
        || "generator".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut rows = Vec::new();
    for (label, images) in [
        ("No translation".to_string(), &gallery),
        (format!("Translated ({name})"), &fake),
    ] {
        let embeddings = embed_crops(&embedder, images)?;
        rows.push(score_row(
            &label,
            &embeddings,
            &gallery_ids,
            &probe_embeddings,
            &probe_ids,
        )?);
    }
    Ok(CheckpointReport { rows, no_face })
}
