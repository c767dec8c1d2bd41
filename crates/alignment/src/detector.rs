//! The MTCNN cascade (PNet pyramid -> RNet -> ONet) exactly as facenet-pytorch's `detect_face`.

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use image::RgbImage;
use rayon::prelude::*;

use crate::align::{align, Template};
use crate::boxes::{crop_window, nms, regress, regress_pnet, select, square, Candidate, Overlap};
use crate::error::{AlignmentError, Result};
use crate::nets::{Cascade, CropOutput, ONet, PNet, RNet};
use crate::resample::Planar;

/// The converted facenet-pytorch 2.6.0 weights bundled with visnir (`data/weights/mtcnn.safetensors`).
pub const BUNDLED_WEIGHTS: &[u8] = include_bytes!("../../../data/weights/mtcnn.safetensors");

/// Detector parameters, with facenet-pytorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MtcnnConfig {
    /// Smallest face side searched for, in pixels (first pyramid scale = 12 / this).
    pub min_face_size: f64,
    /// Score thresholds of PNet, RNet and ONet.
    pub thresholds: [f32; 3],
    /// Ratio between pyramid scales.
    pub factor: f64,
}

impl Default for MtcnnConfig {
    fn default() -> Self {
        Self {
            min_face_size: 20.0,
            thresholds: [0.6, 0.7, 0.7],
            factor: 0.709,
        }
    }
}

/// Largest first pyramid level MTCNN scans (pixels): a 40-megapixel photo at the default
/// `min_face_size` of 20 is 14.4 megapixels there.
pub const MAX_PYRAMID_PIXELS: u64 = 16_000_000;

impl MtcnnConfig {
    fn validate(&self) -> Result<()> {
        if !(self.min_face_size.is_finite() && self.min_face_size > 0.0) {
            return Err(AlignmentError::Config(format!(
                "min_face_size {} must be > 0",
                self.min_face_size
            )));
        }
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(AlignmentError::Config(format!(
                "factor {} must be in (0, 1)",
                self.factor
            )));
        }
        if let Some(t) = self.thresholds.iter().find(|t| !(0.0..=1.0).contains(*t)) {
            return Err(AlignmentError::Config(format!(
                "threshold {t} must be in [0, 1]"
            )));
        }
        Ok(())
    }

    /// The pyramid scales for an image of `height` x `width`.
    pub fn scales(&self, height: usize, width: usize) -> Vec<f64> {
        let m = 12.0 / self.min_face_size;
        let mut min_side = height.min(width) as f64 * m;
        let mut scale = m;
        let mut scales = Vec::new();
        while min_side >= 12.0 {
            scales.push(scale);
            scale *= self.factor;
            min_side *= self.factor;
        }
        scales
    }
}

/// One detected face: box, ONet probability and five landmarks (left eye, right eye, nose,
/// left mouth corner, right mouth corner), in pixel coordinates of the input image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// `[x1, y1, x2, y2]` after the final regression; not clipped to the image.
    pub bbox: [f32; 4],
    /// Face probability from ONet.
    pub score: f32,
    /// `[x, y]` of the five landmarks.
    pub landmarks: [[f32; 2]; 5],
}

/// The MTCNN face detector.
#[derive(Debug, Clone)]
pub struct Mtcnn {
    nets: Cascade,
    config: MtcnnConfig,
}

impl Mtcnn {
    /// Builds the detector from weights under `pnet.*`, `rnet.*` and `onet.*`.
    pub fn new(config: MtcnnConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let (pnet, rnet, onet) = (
            PNet::new(vb.pp("pnet"))?,
            RNet::new(vb.pp("rnet"))?,
            ONet::new(vb.pp("onet"))?,
        );
        Ok(Self {
            nets: Cascade::new(pnet, rnet, onet, vb.device())?,
            config,
        })
    }

    /// The detector with the bundled facenet-pytorch weights.
    pub fn bundled(config: MtcnnConfig, device: &Device) -> Result<Self> {
        let vb =
            VarBuilder::from_buffered_safetensors(BUNDLED_WEIGHTS.to_vec(), DType::F32, device)?;
        Self::new(config, vb)
    }

    /// The detector with weights from a safetensors file.
    pub fn from_safetensors(path: &Path, config: MtcnnConfig, device: &Device) -> Result<Self> {
        let bytes = visnir_nn::read_regular_file(path, visnir_nn::MAX_WEIGHT_FILE_BYTES).map_err(
            |message| AlignmentError::Weights {
                path: path.to_path_buf(),
                message,
            },
        )?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(|e| {
            AlignmentError::Weights {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
        Self::new(config, vb).map_err(|e| AlignmentError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The parameters in use.
    pub fn config(&self) -> &MtcnnConfig {
        &self.config
    }

    /// The networks, for parity tests and custom pipelines.
    pub fn nets(&self) -> (&PNet, &RNet, &ONet) {
        (&self.nets.pnet, &self.nets.rnet, &self.nets.onet)
    }

    /// The most prominent face of `image` (the largest box) aligned to `template`, or `None`
    /// when there is no face.
    pub fn align_largest(&self, image: &RgbImage, template: &Template) -> Result<Option<RgbImage>> {
        match self.detect(image)?.first() {
            Some(face) => Ok(Some(align(image, &face.landmarks, template)?)),
            None => Ok(None),
        }
    }

    /// Detects faces, largest box first.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Face>> {
        self.check_pyramid(image.height() as usize, image.width() as usize)?;
        let planar = Planar::from_rgb(image);
        let boxes = self.propose(&planar)?;
        let boxes = self.refine(&planar, boxes)?;
        self.output(&planar, boxes)
    }

    /// Refuses images whose first pyramid level (the image scaled by `12 / min_face_size`)
    /// would exceed [`MAX_PYRAMID_PIXELS`]: PNet's activations there grow with it.
    fn check_pyramid(&self, height: usize, width: usize) -> Result<()> {
        let m = 12.0 / self.config.min_face_size;
        let pixels = height as f64 * width as f64 * m * m;
        if pixels > MAX_PYRAMID_PIXELS as f64 {
            let least = 12.0 * (height as f64 * width as f64 / MAX_PYRAMID_PIXELS as f64).sqrt();
            return Err(AlignmentError::Config(format!(
                "a {width} x {height} image with min_face_size {} starts MTCNN's pyramid at {:.0} \
                 megapixels, over the {} megapixel limit: use min_face_size {} or more, or a \
                 smaller image",
                self.config.min_face_size,
                pixels / 1e6,
                MAX_PYRAMID_PIXELS / 1_000_000,
                least.ceil()
            )));
        }
        Ok(())
    }

    /// Detects faces in many images, spread over the rayon pool.
    pub fn detect_many(&self, images: &[RgbImage]) -> Vec<Result<Vec<Face>>> {
        images.par_iter().map(|image| self.detect(image)).collect()
    }

    /// Stage 1: PNet over the pyramid, per-scale NMS 0.5, global NMS 0.7, regression, squaring.
    fn propose(&self, image: &Planar) -> Result<Vec<Candidate>> {
        let scales = self.config.scales(image.height, image.width);
        let levels: Vec<Vec<Candidate>> = if self.nets.is_cpu() {
            scales
                .par_iter()
                .map(|&scale| self.level_candidates(image, scale))
                .collect::<Result<_>>()?
        } else {
            scales
                .iter()
                .map(|&scale| self.level_candidates(image, scale))
                .collect::<Result<_>>()?
        };
        let all: Vec<Candidate> = levels.into_iter().flatten().collect();
        let mut boxes = select(&all, &nms(&all, 0.7, Overlap::Union));
        for b in &mut boxes {
            regress_pnet(b);
            square(b);
        }
        Ok(boxes)
    }

    /// PNet's candidates on the pyramid level at `scale`, after their NMS 0.5.
    fn level_candidates(&self, image: &Planar, scale: f64) -> Result<Vec<Candidate>> {
        let (h, w) = (image.height, image.width);
        let hs = (h as f64 * scale + 1.0) as usize;
        let ws = (w as f64 * scale + 1.0) as usize;
        let maps = self.nets.pnet(&image.resize_area(hs, ws))?;
        let cells = maps.height * maps.width;
        let scale32 = scale as f32;
        let mut found = Vec::new();
        for cell in 0..cells {
            let score = maps.face[cell];
            if score >= self.config.thresholds[0] {
                let (y, x) = ((cell / maps.width) as f32, (cell % maps.width) as f32);
                let reg = &maps.reg;
                found.push(Candidate {
                    x1: ((2.0 * x + 1.0) / scale32).floor(),
                    y1: ((2.0 * y + 1.0) / scale32).floor(),
                    x2: ((2.0 * x + 12.0) / scale32).floor(),
                    y2: ((2.0 * y + 12.0) / scale32).floor(),
                    score,
                    reg: [
                        reg[cell],
                        reg[cells + cell],
                        reg[2 * cells + cell],
                        reg[3 * cells + cell],
                    ],
                });
            }
        }
        let keep = nms(&found, 0.5, Overlap::Union);
        Ok(select(&found, &keep))
    }

    /// Crops every box (truncated, clipped), area-resized to `size`.
    fn crops(image: &Planar, boxes: &[Candidate], size: usize) -> (Vec<Candidate>, Vec<Planar>) {
        boxes
            .par_iter()
            .filter_map(|b| {
                let (y0, y1, x0, x1) = crop_window(b, image.width, image.height)?;
                Some((*b, image.crop(y0, y1, x0, x1).resize_area(size, size)))
            })
            .unzip()
    }

    /// Stage 2: RNet on 24 x 24 crops, threshold, NMS 0.7, regression, squaring.
    fn refine(&self, image: &Planar, boxes: Vec<Candidate>) -> Result<Vec<Candidate>> {
        let (boxes, crops) = Self::crops(image, &boxes, 24);
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let outputs = self.nets.rnet(&crops)?;
        let passed: Vec<Candidate> = boxes
            .iter()
            .zip(&outputs)
            .filter(|(_, o)| o.face > self.config.thresholds[1])
            .map(|(b, o)| Candidate {
                score: o.face,
                reg: o.reg,
                ..*b
            })
            .collect();
        let mut boxes = select(&passed, &nms(&passed, 0.7, Overlap::Union));
        for b in &mut boxes {
            regress(b, b.reg);
            square(b);
        }
        Ok(boxes)
    }

    /// Stage 3: ONet on 48 x 48 crops, threshold, landmarks, regression, Min-NMS 0.7, largest first.
    fn output(&self, image: &Planar, boxes: Vec<Candidate>) -> Result<Vec<Face>> {
        let (boxes, crops) = Self::crops(image, &boxes, 48);
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let outputs: Vec<CropOutput> = self.nets.onet(&crops)?;
        let mut passed = Vec::new();
        let mut landmarks = Vec::new();
        for (b, o) in boxes.iter().zip(&outputs) {
            let score = o.face;
            if score <= self.config.thresholds[2] {
                continue;
            }
            let (w, h) = (b.x2 - b.x1 + 1.0, b.y2 - b.y1 + 1.0);
            let p = &o.points;
            landmarks.push(std::array::from_fn::<[f32; 2], 5, _>(|k| {
                [w * p[k] + b.x1 - 1.0, h * p[k + 5] + b.y1 - 1.0]
            }));
            let mut c = Candidate { score, ..*b };
            regress(&mut c, o.reg);
            passed.push(c);
        }
        let mut faces: Vec<Face> = nms(&passed, 0.7, Overlap::Min)
            .into_iter()
            .map(|i| {
                let b = passed[i];
                Face {
                    bbox: [b.x1, b.y1, b.x2, b.y2],
                    score: b.score,
                    landmarks: landmarks[i],
                }
            })
            .collect();
        let area = |f: &Face| (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]);
        faces.sort_by(|a, b| area(b).total_cmp(&area(a)));
        Ok(faces)
    }
}
