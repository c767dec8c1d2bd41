//! The whole experiment behind Table II (Oulu-CASIA layout) and Table I (WHU layout): data,
//! protocol, alignment, training of every method, evaluation, in that order, each stage
//! resumable (cached crops, checkpoints).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};
use visnir_datasets::{PairedLayout, Role, Split};
use visnir_ffe::Embedder;

use crate::data::{ensure_synthetic, pair_key, protocol, training_pairs};
use crate::error::{io_error, Result};
use crate::evaluate::{embed_crops, mean_abs_difference, score_row, RowMetrics};
use crate::prepare::{square_crop, Aligner};
use crate::preset::{Method, Preset, Settings};
use crate::train::{train, translate};

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
    pub preset: Preset,
    /// The numbers the run uses: `preset.settings()` unless overridden.
    pub settings: Settings,
    /// Add the authors'-code FFE row.
    pub with_official: bool,
    /// Where the models run.
    pub device: Device,
    /// Output directory: data (if synthetic), cache, models, report.
    pub out: PathBuf,
    /// Seed of the synthetic data, the split and training.
    pub seed: u64,
}

/// Images set aside for the translation figure: input VIS, true NIR, and each method's output.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    /// VIS inputs.
    pub vis: Vec<RgbImage>,
    /// Their NIR twins.
    pub nir: Vec<RgbImage>,
    /// `(method, translations of vis)`.
    pub translated: Vec<(Method, Vec<RgbImage>)>,
}

/// Counts of images that could not be used, per protocol role.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Skipped {
    /// Images without a detected face, by role name.
    pub no_face: BTreeMap<String, usize>,
    /// Training images dropped because their twin had no face.
    pub unpaired_training: usize,
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
    /// Wall-clock seconds per stage.
    pub seconds: Vec<(String, f64)>,
    /// The dataset root used.
    pub data_root: PathBuf,
}

fn bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

fn resize_all(crops: &[RgbImage], size: u32) -> Vec<RgbImage> {
    crops.iter().map(|c| square_crop(c, size)).collect()
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

/// Runs the experiment.
pub fn run(config: &ExperimentConfig) -> Result<Outcome> {
    let settings: Settings = config.settings;
    let mut seconds = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, seconds: &mut Vec<(String, f64)>| {
        seconds.push((name.to_string(), clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    std::fs::create_dir_all(&config.out).map_err(|e| io_error(&config.out, e))?;
    let root = match &config.data {
        Some(root) => root.clone(),
        None => {
            let root = config.out.join("synthetic-data");
            let b = bar("synth");
            ensure_synthetic(config.layout, &settings, config.seed, &root, &b)?;
            b.finish_and_clear();
            root
        }
    };
    lap("data", &mut seconds);
    let protocol = protocol(
        config.layout,
        &root,
        config.protocol.as_deref(),
        &settings,
        config.seed,
    )?;
    let protocol_file = config.out.join("protocol.txt");
    std::fs::write(&protocol_file, protocol.to_text()).map_err(|e| io_error(&protocol_file, e))?;

    let aligner = Aligner::new(&config.out.join("cache"), ALIGN_SIZE, &config.device)?;
    let mut skipped = Skipped::default();
    let mut no_face_list = Vec::new();
    let b = bar("align");
    let mut align_role = |paths: Vec<PathBuf>, role: &str| -> Result<Vec<Option<RgbImage>>> {
        b.inc_length(paths.len() as u64);
        let aligned = aligner.align_all(&root, &paths, &|| b.inc(1))?;
        let failures = aligned.failures(&paths);
        for (path, why) in &failures {
            tracing::debug!("{}: {why}; not used", path.display());
            no_face_list.push(format!("{role}\t{}\t{why}", path.display()));
        }
        if !failures.is_empty() {
            tracing::warn!(
                "{role}: {} of {} images without a usable face, not used (listed in no-face.txt)",
                failures.len(),
                paths.len()
            );
        }
        skipped.no_face.insert(role.to_string(), failures.len());
        Ok(aligned.crops.into_iter().map(|c| c.ok()).collect())
    };
    let pairs = training_pairs(&protocol);
    let train_vis = align_role(
        pairs.iter().map(|(v, _)| v.path.clone()).collect(),
        "train VIS",
    )?;
    let train_nir = align_role(
        pairs.iter().map(|(_, n)| n.path.clone()).collect(),
        "train NIR",
    )?;
    let gallery: Vec<_> = protocol
        .select(Split::Test, Role::Gallery)
        .cloned()
        .collect();
    let probes: Vec<_> = protocol.select(Split::Test, Role::Probe).cloned().collect();
    let gallery_crops = align_role(gallery.iter().map(|e| e.path.clone()).collect(), "gallery")?;
    let probe_crops = align_role(probes.iter().map(|e| e.path.clone()).collect(), "probe")?;
    b.finish_and_clear();
    let list_file = config.out.join("no-face.txt");
    std::fs::write(&list_file, no_face_list.join("\n") + "\n")
        .map_err(|e| io_error(&list_file, e))?;
    lap("align", &mut seconds);

    let size = settings.size;
    let mut train_pairs = Vec::new();
    for (v, n) in train_vis.iter().zip(&train_nir) {
        match (v, n) {
            (Some(v), Some(n)) => train_pairs.push((v.clone(), n.clone())),
            _ => skipped.unpaired_training += 1,
        }
    }
    let (vis_train, nir_train): (Vec<RgbImage>, Vec<RgbImage>) = train_pairs.into_iter().unzip();
    let train_pairs: Vec<(RgbImage, RgbImage)> = resize_all(&vis_train, size)
        .into_iter()
        .zip(resize_all(&nir_train, size))
        .collect();
    let keep = |entries: &[visnir_datasets::ProtocolEntry], crops: Vec<Option<RgbImage>>| {
        let (kept, crops): (Vec<_>, Vec<_>) = entries
            .iter()
            .zip(crops)
            .filter_map(|(e, c)| c.map(|c| (e.clone(), c)))
            .unzip();
        (kept, resize_all(&crops, size))
    };
    let (gallery, gallery_crops) = keep(&gallery, gallery_crops);
    let (probes, probe_crops) = keep(&probes, probe_crops);
    if train_pairs.is_empty() || gallery.is_empty() || probes.is_empty() {
        return Err(crate::PipelineError::Invalid(format!(
            "nothing to run: {} training pairs, {} gallery and {} probe images with a face",
            train_pairs.len(),
            gallery.len(),
            probes.len()
        )));
    }
    let gallery_ids: Vec<String> = gallery.iter().map(|e| e.subject.clone()).collect();
    let probe_ids: Vec<String> = probes.iter().map(|e| e.subject.clone()).collect();
    let mut sizes = BTreeMap::new();
    sizes.insert("training pairs".to_string(), train_pairs.len());
    sizes.insert("gallery images".to_string(), gallery.len());
    sizes.insert("probe images".to_string(), probes.len());
    let subjects: std::collections::BTreeSet<&String> = gallery_ids.iter().collect();
    sizes.insert("test subjects".to_string(), subjects.len());

    let examples_idx = example_indices(&gallery, &probes, 6);
    let mut examples = Examples {
        vis: examples_idx
            .iter()
            .map(|&(g, _)| gallery_crops[g].clone())
            .collect(),
        nir: examples_idx
            .iter()
            .map(|&(_, p)| probe_crops[p].clone())
            .collect(),
        translated: Vec::new(),
    };

    let embedder = Embedder::bundled(&config.device)?;
    let probe_embeddings = embed_crops(&embedder, &probe_crops)?;
    let mut rows = Vec::new();
    let mut loss_logs = Vec::new();
    for method in methods(config.with_official) {
        let fake = if method == Method::NoTranslation {
            gallery_crops.clone()
        } else {
            let dir = config.out.join("models").join(method.slug());
            let b = bar("train");
            let trainer = train(
                method,
                &settings,
                config.seed,
                &train_pairs,
                &dir,
                &config.device,
                &b,
            )?;
            b.finish_and_clear();
            loss_logs.push((method, dir.join("losses.jsonl")));
            let fake = translate(&trainer, &gallery_crops, &config.device)?;
            examples.translated.push((
                method,
                examples_idx.iter().map(|&(g, _)| fake[g].clone()).collect(),
            ));
            fake
        };
        let gallery_embeddings = embed_crops(&embedder, &fake)?;
        let mut row = score_row(
            method.label(),
            &gallery_embeddings,
            &gallery_ids,
            &probe_embeddings,
            &probe_ids,
        )?;
        let l1: Vec<f64> = examples_idx
            .iter()
            .map(|&(g, p)| mean_abs_difference(&fake[g], &probe_crops[p]))
            .collect();
        row.pixel_l1 = Some(l1.iter().sum::<f64>() / l1.len().max(1) as f64);
        tracing::info!(
            method = method.label(),
            rank1 = row.rank1,
            tar_1e2 = row.tar_far_1e2,
            "evaluated"
        );
        rows.push(row);
        lap(method.slug(), &mut seconds);
    }
    Ok(Outcome {
        rows,
        synthetic: config.data.is_none(),
        skipped,
        sizes,
        examples,
        loss_logs,
        seconds,
        data_root: root,
    })
}

/// Up to `n` (gallery, probe) index pairs of distinct subjects whose images are twins.
fn example_indices(
    gallery: &[visnir_datasets::ProtocolEntry],
    probes: &[visnir_datasets::ProtocolEntry],
    n: usize,
) -> Vec<(usize, usize)> {
    let by_key: BTreeMap<_, usize> = probes
        .iter()
        .enumerate()
        .map(|(i, p)| (pair_key(p), i))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (g, entry) in gallery.iter().enumerate() {
        if out.len() == n {
            break;
        }
        let probe = by_key
            .get(&pair_key(entry))
            .copied()
            .or_else(|| probes.iter().position(|p| p.subject == entry.subject));
        if let Some(p) = probe {
            if seen.insert(entry.subject.clone()) {
                out.push((g, p));
            }
        }
    }
    out
}

/// `out/report` under an experiment's output directory.
pub fn report_dir(out: &Path) -> PathBuf {
    out.join("report")
}
