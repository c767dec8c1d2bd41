//! What a translation would need, measured on a finished run: its test gallery mapped by fixed
//! functions of the true NIR twins (blurred, shifted, at a lower resolution, with the VIS
//! crop's detail above that resolution), by the simplest learned maps (the mean training NIR
//! face, a per-pixel linear colour map) and its trained models' translations with and without
//! that detail, each scored like a row of the table, plus how far apart the training twin
//! crops are. It tells a poor translator's blur from its misplacement, and a budget's ceiling:
//! the true twins scored in the table's own setting are what an exact translation would score.

use std::path::{Path, PathBuf};

use candle_core::Device;
use image::{imageops, RgbImage};
use indicatif::ProgressBar;
use visnir_datasets::PairedLayout;
use visnir_ffe::{Embedder, CROP_SIZE};
use visnir_gan::{load_generator, Architecture, Direction, FfeGeneratorConfig};

use crate::data::{protocol, written_synthetic_config};
use crate::error::Result;
use crate::evaluate::{embed_crops, score_row, twin_l1, GalleryEvaluation};
use crate::experiment::{methods, ALIGN_SIZE};
use crate::nir_floor::{median_retakes, RETAKES};
use crate::pixel_regression::{mean_nir_face, PixelRegression};
use crate::prepare::{square_crop, Aligner};
use crate::register::{grey_plane, shifted, twin_shift};
use crate::scale::Scale;
use crate::split::{Parts, PreparedSplit};
use crate::train::translate_with;

/// A finished experiment to measure.
#[derive(Debug, Clone)]
pub struct BoundsConfig {
    /// The experiment's output directory (`protocol.txt`, `cache/`, `models/`).
    pub out: PathBuf,
    /// The real dataset it ran on (`--data`), or `None` for its synthetic data.
    pub data: Option<PathBuf>,
    /// The dataset layout.
    pub layout: PairedLayout,
    /// The crop side its models were trained at.
    pub size: u32,
    /// The seed of its synthetic data (`--seed` of the run), which the retakes of the NIR twins
    /// need; ignored with `data`.
    pub seed: u64,
    /// Where the embedder and the generators run.
    pub device: Device,
}

/// One mapping of the test gallery and how it scores against the NIR probes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BoundRow {
    /// What the gallery was mapped by.
    pub mapping: String,
    /// Rank-1 identification rate (0..1).
    pub rank1: f64,
    /// TAR at FAR = 1e-2.
    pub tar_far_1e2: f64,
    /// TAR at FAR = 1e-3.
    pub tar_far_1e3: f64,
    /// Mean absolute pixel difference (0..1) to the true NIR twins, at 112 x 112 (in
    /// [`Bounds::table_rows`]: at the run's crop size).
    pub pixel_l1: f64,
}

/// Every row, and the mean whole-pixel offset (at 112 x 112) of the training twin crops.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bounds {
    /// The rows, fixed mappings first, then the trained models.
    pub rows: Vec<BoundRow>,
    /// The VIS gallery, its true NIR twins and the models' translations scored as the table
    /// scores them: gallery and probes at the run's crop size (the rows above use 112 x 112
    /// crops), so the true twins' row is what an exact translation would score in the table.
    pub table_rows: Vec<BoundRow>,
    /// Mean length of the shift that best registers a training NIR crop onto its VIS crop.
    pub mean_twin_offset_px: f64,
}

fn grey(image: &RgbImage) -> Vec<f32> {
    grey_plane(image).into_raw()
}

fn from_grey(values: &[f32], side: u32) -> RgbImage {
    RgbImage::from_fn(side, side, |x, y| {
        let g = (values[(y * side + x) as usize].clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([g, g, g])
    })
}

fn blurred(image: &RgbImage, sigma: f32) -> RgbImage {
    from_grey(
        imageops::blur(&grey_plane(image), sigma).as_raw(),
        image.width(),
    )
}

/// `image` taken down to `low` pixels a side and back up.
fn through(image: &RgbImage, low: u32) -> RgbImage {
    square_crop(&square_crop(image, low), image.width())
}

/// `base` (grey) plus the detail of `vis` above `low` pixels a side.
fn with_detail(base: &RgbImage, vis: &RgbImage, low: u32) -> RgbImage {
    let (b, v, coarse) = (grey(base), grey(vis), grey(&through(vis, low)));
    let out: Vec<f32> = (0..b.len()).map(|i| b[i] + v[i] - coarse[i]).collect();
    from_grey(&out, vis.width())
}

/// The split's gallery with every crop that has an NIR twin replaced by that twin's crop.
fn twin_gallery(split: &PreparedSplit) -> Vec<RgbImage> {
    let mut gallery = split.gallery_crops();
    for &(g, p) in &split.twins {
        gallery[g] = split.probes[p].crop.clone();
    }
    gallery
}

/// Measures the bounds of the run in `config.out` (see the module doc).
pub fn measure(config: &BoundsConfig) -> Result<Bounds> {
    let root = config
        .data
        .clone()
        .unwrap_or_else(|| config.out.join("synthetic-data"));
    let protocol_file = config.out.join("protocol.txt");
    let settings = Scale::Quick.settings();
    let protocol = protocol(config.layout, &root, Some(&protocol_file), &settings, 0)?;
    let aligner = Aligner::new(&config.out.join("cache"), ALIGN_SIZE, &config.device)?;
    let bar = ProgressBar::hidden();
    let split = PreparedSplit::prepare(&aligner, &root, &protocol, CROP_SIZE, Parts::All, &bar)?;
    let small = PreparedSplit::prepare(&aligner, &root, &protocol, config.size, Parts::All, &bar)?;
    let embedder = Embedder::bundled(&config.device)?;
    let probes = embed_crops(&embedder, &split.probe_crops())?;
    let (gallery_ids, probe_ids) = (split.gallery_ids(), split.probe_ids());
    let gallery = split.gallery_crops();
    let mut twin: Vec<Option<&RgbImage>> = vec![None; gallery.len()];
    for &(g, p) in &split.twins {
        twin[g] = Some(&split.probes[p].crop);
    }
    let mut rows = Vec::new();
    let mut score = |mapping: String, mapped: Vec<RgbImage>| -> Result<()> {
        let m = score_row(
            &mapping,
            &embed_crops(&embedder, &mapped)?,
            &gallery_ids,
            &probes,
            &probe_ids,
        )?;
        let l1 = twin_l1(&split, &mapped);
        rows.push(BoundRow {
            mapping,
            rank1: m.rank1,
            tar_far_1e2: m.tar_far_1e2,
            tar_far_1e3: m.tar_far_1e3,
            pixel_l1: l1,
        });
        Ok(())
    };
    let of_twins = |f: &dyn Fn(&RgbImage, &RgbImage) -> RgbImage| -> Vec<RgbImage> {
        gallery
            .iter()
            .zip(&twin)
            .map(|(vis, nir)| nir.map_or_else(|| vis.clone(), |nir| f(vis, nir)))
            .collect()
    };
    score("none (the VIS gallery)".into(), gallery.clone())?;
    score(
        "grey VIS".into(),
        of_twins(&|vis, _| from_grey(&grey(vis), vis.width())),
    )?;
    score("true NIR twins".into(), twin_gallery(&split))?;
    for px in [1, 2, 3] {
        score(
            format!("true NIR shifted by {px} px"),
            of_twins(&|_, nir| shifted(nir, (px, 0))),
        )?;
    }
    for sigma in [1.0, 2.0, 3.0] {
        score(
            format!("true NIR blurred, sigma {sigma} px"),
            of_twins(&|_, nir| blurred(nir, sigma)),
        )?;
    }
    for low in [32, 48, 64] {
        score(
            format!("true NIR at {low} x {low}"),
            of_twins(&|_, nir| through(nir, low)),
        )?;
        score(
            format!("true NIR at {low} x {low} + VIS detail"),
            of_twins(&|vis, nir| with_detail(&through(nir, low), vis, low)),
        )?;
    }
    if let Some(mean) = mean_nir_face(&split.train) {
        score(
            "the mean training NIR face".into(),
            of_twins(&|_, _| mean.clone()),
        )?;
    }
    if let Some(map) = PixelRegression::fit(&split.train) {
        score(
            "per-pixel linear colour map (least squares on the training twins)".into(),
            of_twins(&|vis, _| map.apply(vis).unwrap_or_else(|| vis.clone())),
        )?;
    }
    if config.data.is_none() {
        match written_synthetic_config(config.layout, &root, config.seed) {
            Some(synth) => {
                let retakes = median_retakes(&synth, &split, &aligner, CROP_SIZE);
                let missing = retakes.medians.iter().filter(|m| m.is_none()).count();
                let mapped = gallery
                    .iter()
                    .zip(retakes.medians)
                    .map(|(vis, median)| median.unwrap_or_else(|| vis.clone()))
                    .collect();
                let mut label = format!("pixel median of {RETAKES} retakes of each NIR twin (other NIR camera draws): the floor of pixel L1");
                if retakes.lost > 0 {
                    label += &format!(
                        "; {} of {} retakes lost (no face), {missing} images without any kept as VIS",
                        retakes.lost,
                        RETAKES as usize * split.twins.len()
                    );
                }
                score(label, mapped)?;
            }
            None => tracing::warn!(
                "{}: no synthetic data of seed {} found; the pixel-L1 floor is not measured",
                root.display(),
                config.seed
            ),
        }
    }
    let small_gallery = small.gallery_crops();
    let table = GalleryEvaluation::new(&embedder, &small, 0, 0)?;
    let mut table_rows = Vec::new();
    let mut in_table_setting = |mapping: String, mapped: &[RgbImage]| -> Result<()> {
        let m = table.row(&mapping, mapped, None)?;
        table_rows.push(BoundRow {
            mapping,
            rank1: m.rank1,
            tar_far_1e2: m.tar_far_1e2,
            tar_far_1e3: m.tar_far_1e3,
            pixel_l1: m.pixel_l1.unwrap_or(f64::NAN),
        });
        Ok(())
    };
    in_table_setting("none (the VIS gallery)".into(), &small_gallery)?;
    in_table_setting("true NIR twins".into(), &twin_gallery(&small))?;
    for method in methods(true) {
        let Some((architecture, _)) = method.model() else {
            continue;
        };
        let checkpoint = config
            .out
            .join("models")
            .join(method.slug())
            .join("checkpoint.safetensors");
        if !checkpoint.is_file() {
            continue;
        }
        let ffe = (architecture == Architecture::Ffe).then(FfeGeneratorConfig::default);
        let generator = load_generator(&checkpoint, Direction::AToB, ffe, &config.device)?;
        let fake = translate_with(&generator, &small_gallery, &config.device)?;
        let label = method.label();
        in_table_setting(format!("{label} (its translations)"), &fake)?;
        let up: Vec<RgbImage> = fake.iter().map(|f| square_crop(f, CROP_SIZE)).collect();
        score(format!("{label} (its translations)"), up.clone())?;
        let detailed = up
            .iter()
            .zip(&gallery)
            .map(|(f, vis)| with_detail(f, vis, config.size))
            .collect();
        score(format!("{label} + VIS detail"), detailed)?;
    }
    let offsets: Vec<f64> = split
        .train
        .iter()
        .map(|pair| {
            let (dx, dy) = twin_shift(&pair.vis, &pair.nir);
            ((dx * dx + dy * dy) as f64).sqrt()
        })
        .collect();
    Ok(Bounds {
        rows,
        table_rows,
        mean_twin_offset_px: offsets.iter().sum::<f64>() / offsets.len().max(1) as f64,
    })
}

fn row_markdown(r: &BoundRow) -> String {
    format!(
        "| {} | {:.1} | {:.1} | {:.1} | {:.3} |\n",
        r.mapping,
        100.0 * r.rank1,
        100.0 * r.tar_far_1e2,
        100.0 * r.tar_far_1e3,
        r.pixel_l1
    )
}

/// The bounds as Markdown tables.
pub fn bounds_markdown(bounds: &Bounds) -> String {
    let mut out = String::from(
        "| gallery mapped by | Rank-1 | TAR@FAR=1% | TAR@FAR=0.1% | pixel L1 to NIR |\n|---|---|---|---|---|\n",
    );
    for r in &bounds.rows {
        out.push_str(&row_markdown(r));
    }
    out.push_str(
        "\nIn the table's setting (gallery and probes at the run's crop size; pixel L1 at that size):\n\n| gallery | Rank-1 | TAR@FAR=1% | TAR@FAR=0.1% | pixel L1 to NIR |\n|---|---|---|---|---|\n"
    );
    for r in &bounds.table_rows {
        out.push_str(&row_markdown(r));
    }
    out.push_str(&format!(
        "\nTraining twins: the NIR crop lies {:.1} px (mean, at {CROP_SIZE} x {CROP_SIZE}) from where it best matches its VIS crop.\n",
        bounds.mean_twin_offset_px
    ));
    out
}

/// `report/bounds.md` and `report/bounds.json` under `out`.
pub fn write_bounds(out: &Path, bounds: &Bounds) -> Result<()> {
    let dir = crate::experiment::report_dir(out);
    std::fs::create_dir_all(&dir).map_err(|e| crate::error::io_error(&dir, e))?;
    let md = dir.join("bounds.md");
    std::fs::write(&md, bounds_markdown(bounds)).map_err(|e| crate::error::io_error(&md, e))?;
    let json = dir.join("bounds.json");
    let text =
        serde_json::to_string_pretty(bounds).map_err(|e| crate::error::io_error(&json, e))?;
    std::fs::write(&json, text).map_err(|e| crate::error::io_error(&json, e))
}
