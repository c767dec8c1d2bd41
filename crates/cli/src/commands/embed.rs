//! `visnir embed`: 192-d MobileFaceNet embeddings of aligned crops (or of photos with `--align`).

use std::path::PathBuf;

use clap::Args;
use image::RgbImage;
use serde_json::json;
use visnir_alignment::Template;
use visnir_ffe::{Embedder, CROP_SIZE};
use visnir_nn::load_rgb;
use visnir_nn::WeightsSource;

use crate::commands::detect::{finish, DetectorArgs};
use crate::commands::images::for_each_image;
use crate::exit::{CliError, InputContext};

/// Arguments of `visnir embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Aligned 112 x 112 face crops (or photos, with `--align`).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Detect faces with MTCNN and embed the largest one, aligned to the ArcFace template.
    #[arg(long)]
    align: bool,
    /// Embed each crop plus its mirror image (sirius-ai's evaluation convention).
    #[arg(long)]
    flip_sum: bool,
    /// MobileFaceNet weights: a safetensors file or hf:OWNER/REPO/FILE (default: bundled).
    #[arg(long)]
    weights: Option<String>,
    /// Print JSON to stdout instead of a summary table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    detector: DetectorArgs,
}

/// Runs `visnir embed`.
pub fn run(args: EmbedArgs) -> Result<(), CliError> {
    let device = args.detector.device()?;
    let embedder = match &args.weights {
        None => Embedder::bundled(&device).input()?,
        Some(source) => {
            let path = source.parse::<WeightsSource>().input()?.fetch().input()?;
            Embedder::from_safetensors(&path, &device).input()?
        }
    };
    let detector = if args.align {
        Some(args.detector.detector()?)
    } else {
        None
    };
    let template = Template::arcface(CROP_SIZE);
    let outcomes = for_each_image(
        &args.images,
        "reading",
        |path| -> Result<RgbImage, String> {
            let image = load_rgb(path).map_err(|e| e.to_string())?;
            match &detector {
            Some(mtcnn) => mtcnn
                .align_largest(&image, &template)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "no face found".to_string()),
            None if image.dimensions() != (CROP_SIZE, CROP_SIZE) => Err(format!(
                "is {} x {}; embed takes {CROP_SIZE} x {CROP_SIZE} aligned crops: pass --align to detect and \
                 align the face first, or make crops with `visnir align --size {CROP_SIZE}`",
                image.width(),
                image.height()
            )),
            None => Ok(image),
        }
        },
    );
    outcomes.report_failures();
    let (paths, crops): (Vec<&PathBuf>, Vec<RgbImage>) = outcomes
        .results
        .iter()
        .filter_map(|(p, r)| r.as_ref().ok().map(|c| (p, c.clone())))
        .unzip();
    let embeddings = if args.flip_sum {
        embedder.embed_flip_sum(&crops)
    } else {
        embedder.embed(&crops)
    }
    .map_err(anyhow::Error::from)?;
    if args.json {
        let listed: Vec<_> = paths
            .iter()
            .zip(&embeddings)
            .map(|(p, e)| json!({"image": p.to_string_lossy(), "embedding": e}))
            .collect();
        println!("{}", serde_json::to_string(&listed)?);
    } else {
        for (p, e) in paths.iter().zip(&embeddings) {
            println!(
                "{}: [{:.4}, {:.4}, {:.4}, ...] ({}-d)",
                p.display(),
                e[0],
                e[1],
                e[2],
                e.len()
            );
        }
    }
    finish(
        args.images.len(),
        embeddings.len(),
        "embeddings",
        outcomes.failures(),
    )
}
