//! Synthetic paired VIS/NIR faces written in the real dataset layouts, so every loader, split
//! and experiment runs without licensed data. Each subject has its own face geometry and
//! appearance; each VIS photo has an NIR twin rendered from the same scene with an NIR
//! reflectance model, a frontal illuminator, sensor noise and a slightly offset camera.

mod face;
mod identity;
mod noise;
mod render;
mod scene;

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ExtendedColorType, GrayImage, ImageEncoder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use identity::{HairStyle, Identity};
pub use render::render_pair;
pub use scene::{Expression, Pose, PoseRange, Scene};

use crate::error::{DatasetError, Result};
use crate::inspect::PairedLayout;
use crate::oulu::EXPRESSIONS;
use crate::whu::POSE_TAGS;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// The layout to write.
    pub layout: PairedLayout,
    /// Number of subjects.
    pub subjects: usize,
    /// Frames per expression (Oulu) or images per pose tag (WHU).
    pub per_condition: usize,
    /// Seed: the same seed writes the same bytes.
    pub seed: u64,
}

impl SynthConfig {
    /// Oulu-like data with enough frames for the usual protocol (8 per expression).
    pub fn oulu(subjects: usize, seed: u64) -> Self {
        Self {
            layout: PairedLayout::Oulu,
            subjects,
            per_condition: 8,
            seed,
        }
    }

    /// WHU-like data: 4 images per pose tag, 20 pairs per subject.
    pub fn whu(subjects: usize, seed: u64) -> Self {
        Self {
            layout: PairedLayout::Whu,
            subjects,
            per_condition: 4,
            seed,
        }
    }

    fn size(&self) -> (u32, u32) {
        match self.layout {
            PairedLayout::Oulu => (320, 240),
            PairedLayout::Whu => (256, 256),
        }
    }

    fn conditions(&self) -> &'static [&'static str] {
        match self.layout {
            PairedLayout::Oulu => &EXPRESSIONS,
            PairedLayout::Whu => &POSE_TAGS,
        }
    }

    /// The subject's identity, drawn from the seed and its index only.
    pub fn identity(&self, subject: usize) -> Identity {
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ (subject as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        Identity::sample(&mut rng)
    }

    /// The scene of one image, drawn from the seed, subject, condition and frame only.
    pub fn scene(&self, subject: usize, condition: usize, frame: usize) -> Scene {
        let key = ((subject as u64) << 32) ^ ((condition as u64) << 16) ^ frame as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed.wrapping_add(0x5eed) ^ key.wrapping_mul(0xd134_2543_de82_ef95),
        );
        let (width, height) = self.size();
        let name = self.conditions()[condition];
        match self.layout {
            PairedLayout::Oulu => {
                let strength = (frame + 1) as f32 / self.per_condition as f32;
                let expression = Expression::named(name, strength);
                Scene::sample(&mut rng, PoseRange::free(), expression, width, height)
            }
            PairedLayout::Whu => Scene::sample(
                &mut rng,
                PoseRange::tagged(name),
                Expression::named("Neutral", 0.0),
                width,
                height,
            ),
        }
    }

    /// The NIR photo of one image's scene taken again with another draw (`draw`) of the NIR
    /// camera's offset, illuminator, blur and noise: what a translation cannot know from the VIS
    /// photo, so the spread of such photos is the floor of any translation's pixel error.
    /// It passes through the same JPEG encoding as the written photos.
    pub fn nir_retake(
        &self,
        subject: usize,
        condition: usize,
        frame: usize,
        draw: u64,
    ) -> Result<GrayImage> {
        let key = ((subject as u64) << 32) ^ ((condition as u64) << 16) ^ frame as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(
            (self.seed ^ key.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .wrapping_add(draw.wrapping_mul(0x2545_f491_4f6c_dd1d)),
        );
        let (width, height) = self.size();
        let scene = self
            .scene(subject, condition, frame)
            .with_nir_camera(&mut rng, width, height);
        let nir = render_pair(&self.identity(subject), &scene, width, height).1;
        let io = |message: String| DatasetError::Io {
            path: PathBuf::from("(NIR retake)"),
            message,
        };
        let bytes = encode_jpeg(&DynamicImage::ImageLuma8(nir)).map_err(io)?;
        image::load_from_memory(&bytes)
            .map(|image| image.to_luma8())
            .map_err(|e| io(e.to_string()))
    }

    /// The subject, condition and frame of the VIS or NIR photo at `path` (relative to the
    /// root), if this configuration writes it.
    pub fn locate(&self, path: &Path) -> Option<(usize, usize, usize)> {
        let conditions = self.conditions().len();
        (0..self.subjects)
            .flat_map(|s| {
                (0..conditions).flat_map(move |c| (0..self.per_condition).map(move |f| (s, c, f)))
            })
            .find(|&(s, c, f)| {
                let (vis, nir) = self.paths(s, c, f);
                vis == path || nir == path
            })
    }

    /// The VIS and NIR paths of one image relative to the root.
    pub fn paths(&self, subject: usize, condition: usize, frame: usize) -> (PathBuf, PathBuf) {
        let name = self.conditions()[condition];
        match self.layout {
            PairedLayout::Oulu => {
                let rel = format!("Strong/P{:03}/{name}/{:03}.jpeg", subject + 1, frame + 1);
                (Path::new("VL").join(&rel), Path::new("NI").join(&rel))
            }
            PairedLayout::Whu => {
                let dir = PathBuf::from(format!("S{:03}", subject + 1));
                let file = format!("{name}_{:02}.jpg", frame + 1);
                (dir.join("vis").join(&file), dir.join("nir").join(&file))
            }
        }
    }

    /// Number of images (VIS plus NIR) this configuration writes.
    pub fn image_count(&self) -> usize {
        2 * self.subjects * self.conditions().len() * self.per_condition
    }
}

/// The photo as the dataset stores it: JPEG, quality 92.
fn encode_jpeg(image: &DynamicImage) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let (colour, data) = match image {
        DynamicImage::ImageLuma8(g) => (ExtendedColorType::L8, g.as_raw().as_slice()),
        DynamicImage::ImageRgb8(c) => (ExtendedColorType::Rgb8, c.as_raw().as_slice()),
        _ => return Err("unsupported pixel format".into()),
    };
    JpegEncoder::new_with_quality(&mut bytes, 92)
        .write_image(data, image.width(), image.height(), colour)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn write_jpeg(path: &Path, image: DynamicImage) -> Result<()> {
    let io = |e: String| DatasetError::Io {
        path: path.to_path_buf(),
        message: e,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(e.to_string()))?;
    }
    let bytes = encode_jpeg(&image).map_err(io)?;
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, &bytes).map_err(|e| io(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| io(e.to_string()))
}

/// Writes the dataset under `out` (in parallel; the bytes depend only on the configuration),
/// calling `on_pair` after each VIS/NIR pair. Returns the number of images written.
pub fn generate(config: &SynthConfig, out: &Path, on_pair: &(dyn Fn() + Sync)) -> Result<usize> {
    let conditions = config.conditions().len();
    let jobs: Vec<(usize, usize, usize)> = (0..config.subjects)
        .flat_map(|s| {
            (0..conditions).flat_map(move |c| (0..config.per_condition).map(move |f| (s, c, f)))
        })
        .collect();
    let identities: Vec<Identity> = (0..config.subjects).map(|s| config.identity(s)).collect();
    let (width, height) = config.size();
    jobs.par_iter().try_for_each(|&(s, c, f)| {
        let scene = config.scene(s, c, f);
        let (vis, nir) = render_pair(&identities[s], &scene, width, height);
        let (vis_path, nir_path) = config.paths(s, c, f);
        write_jpeg(&out.join(vis_path), DynamicImage::ImageRgb8(vis))?;
        write_jpeg(&out.join(nir_path), DynamicImage::ImageLuma8(nir))?;
        on_pair();
        Ok(())
    })?;
    Ok(jobs.len() * 2)
}
