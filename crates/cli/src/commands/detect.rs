//! `visnir detect` and `visnir align`: MTCNN face detection and template alignment of photos.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use visnir_alignment::{align, Face, Mtcnn, MtcnnConfig, Template};
use visnir_nn::load_rgb;
use visnir_nn::WeightsSource;

use crate::commands::images::{for_each_image, output_stems, save_output};
use crate::commands::DeviceArg;
use crate::exit::{CliError, InputContext};

/// Detector options shared by every command that finds faces.
#[derive(Debug, Args)]
pub struct DetectorArgs {
    /// Smallest face searched for, in pixels.
    #[arg(long, default_value_t = 20.0)]
    min_face_size: f64,
    /// PNet, RNet and ONet score thresholds.
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 1,
        default_value = "0.6,0.7,0.7"
    )]
    thresholds: Vec<f32>,
    /// Scale ratio between pyramid levels.
    #[arg(long, default_value_t = 0.709)]
    factor: f64,
    #[command(flatten)]
    device: DeviceArg,
    /// MTCNN weights: a safetensors file or hf:OWNER/REPO/FILE (default: the bundled weights).
    #[arg(long)]
    mtcnn_weights: Option<String>,
}

impl DetectorArgs {
    /// Builds the detector with the bundled weights.
    pub fn detector(&self) -> Result<Mtcnn, CliError> {
        let [a, b, c] = self.thresholds[..] else {
            return Err(CliError::Input(anyhow::anyhow!(
                "--thresholds needs three values (PNet,RNet,ONet), got {}",
                self.thresholds.len()
            )));
        };
        let config = MtcnnConfig {
            min_face_size: self.min_face_size,
            thresholds: [a, b, c],
            factor: self.factor,
        };
        let device = self.device()?;
        match &self.mtcnn_weights {
            None => Mtcnn::bundled(config, &device).input(),
            Some(source) => {
                let path = source.parse::<WeightsSource>().input()?.fetch().input()?;
                Mtcnn::from_safetensors(&path, config, &device).input()
            }
        }
    }

    /// The compute device named by `--device`.
    pub fn device(&self) -> Result<candle_core::Device, CliError> {
        self.device.open()
    }
}

/// Arguments of `visnir detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Photos to search (PNG, JPEG, BMP; grayscale, RGBA and 16-bit are converted).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    detector: DetectorArgs,
    /// Print JSON to stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// Which landmark template the crops follow.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TemplateKind {
    /// The ArcFace 112 template scaled to the crop size (the 112 crop is a resize of the 256 one).
    Arcface,
    /// insightface's `estimate_norm` template (256: ratio 2, +16 px in x).
    Insightface,
}

/// Arguments of `visnir align`.
#[derive(Debug, Args)]
pub struct AlignArgs {
    /// Photos to align.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Side of the square crops: 112 for recognition, 256 for translation.
    #[arg(long, default_value_t = 112, value_parser = clap::value_parser!(u32).range(16..=4096))]
    size: u32,
    /// Landmark template.
    #[arg(long, value_enum, default_value = "arcface")]
    template: TemplateKind,
    /// Output directory; crops are written as `<stem>_f<k>.png`, k in detection order.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    detector: DetectorArgs,
}

fn face_json(face: &Face) -> Value {
    json!({
        "box": face.bbox,
        "score": face.score,
        "landmarks": face.landmarks,
    })
}

/// Runs `visnir detect`.
pub fn run_detect(args: DetectArgs) -> Result<(), CliError> {
    let mtcnn = args.detector.detector()?;
    let outcomes = for_each_image(&args.images, "detecting", |path| {
        let image = load_rgb(path).map_err(|e| e.to_string())?;
        mtcnn.detect(&image).map_err(|e| e.to_string())
    });
    outcomes.report_failures();
    let mut listed = Vec::new();
    let mut table = String::new();
    let mut n_faces = 0;
    for (path, result) in &outcomes.results {
        let Ok(faces) = result else { continue };
        n_faces += faces.len();
        listed.push(json!({
            "image": path.to_string_lossy(),
            "faces": faces.iter().map(face_json).collect::<Vec<_>>(),
        }));
        table.push_str(&format!("{}: {} faces\n", path.display(), faces.len()));
        for (k, f) in faces.iter().enumerate() {
            table.push_str(&format!(
                "  f{k}  score {:.4}  box [{:.1}, {:.1}, {:.1}, {:.1}]\n",
                f.score, f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3]
            ));
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&Value::Array(listed))?);
    } else {
        print!("{table}");
    }
    finish(args.images.len(), n_faces, "faces", outcomes.failures())
}

/// Prints the summary line (`N images, M <what>, K failures`) and turns failures into exit
/// status 2.
pub fn finish(images: usize, count: usize, what: &str, failures: usize) -> Result<(), CliError> {
    eprintln!("{images} images, {count} {what}, {failures} failures");
    if failures > 0 {
        Err(CliError::Input(anyhow::anyhow!(
            "{failures} of {images} images could not be processed"
        )))
    } else {
        Ok(())
    }
}

/// Runs `visnir align`.
pub fn run_align(args: AlignArgs) -> Result<(), CliError> {
    let stems: HashMap<&Path, String> = args
        .images
        .iter()
        .map(PathBuf::as_path)
        .zip(output_stems(&args.images)?)
        .collect();
    let mtcnn = args.detector.detector()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let template = match args.template {
        TemplateKind::Arcface => Template::arcface(args.size),
        TemplateKind::Insightface => Template::insightface(args.size),
    };
    let outcomes = for_each_image(&args.images, "aligning", |path| {
        let image = load_rgb(path).map_err(|e| e.to_string())?;
        let faces = mtcnn.detect(&image).map_err(|e| e.to_string())?;
        let stem = &stems[path];
        for (k, face) in faces.iter().enumerate() {
            let crop = align(&image, &face.landmarks, &template).map_err(|e| e.to_string())?;
            save_output(&crop, &args.out.join(format!("{stem}_f{k}.png")))?;
        }
        Ok(faces.len())
    });
    outcomes.report_failures();
    let faces = outcomes
        .results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .sum();
    finish(args.images.len(), faces, "faces", outcomes.failures())
}
