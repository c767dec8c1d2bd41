//! Face embeddings from aligned 112 x 112 crops, with the bundled pretrained weights or others.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use image::RgbImage;

use crate::cpu_forward::CpuMobileFaceNet;
use crate::error::{FfeError, Result};
use crate::mobilefacenet::{l2_normalize, MobileFaceNet};

/// The converted sirius-ai MobileFaceNet bundled with visnir (`data/weights/mobilefacenet.safetensors`).
pub const BUNDLED_WEIGHTS: &[u8] =
    include_bytes!("../../../data/weights/mobilefacenet.safetensors");

/// Side of the aligned crops the network takes.
pub const CROP_SIZE: u32 = 112;

/// Faces per forward pass.
const BATCH: usize = 64;

/// Faces per forward pass of the CPU path (whose memory grows with the batch only by its input).
const CPU_BATCH: usize = 256;

/// Embeds aligned face crops into L2-normalised 192-d vectors.
#[derive(Debug, Clone)]
pub struct Embedder {
    net: MobileFaceNet,
    /// The same network for the CPU's fast path (`None` on other devices).
    cpu: Option<CpuMobileFaceNet>,
    device: Device,
}

impl Embedder {
    /// The embedder with the bundled weights.
    pub fn bundled(device: &Device) -> Result<Self> {
        let tensors = candle_core::safetensors::load_buffer(BUNDLED_WEIGHTS, &Device::Cpu)?;
        Self::from_tensors(tensors, device)
    }

    fn from_tensors(tensors: HashMap<String, Tensor>, device: &Device) -> Result<Self> {
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let net = MobileFaceNet::new(vb)?;
        let cpu = if device.is_cpu() {
            Some(CpuMobileFaceNet::new(&net)?)
        } else {
            None
        };
        Ok(Self {
            net,
            cpu,
            device: device.clone(),
        })
    }

    /// The embedder with weights from a safetensors file, checked tensor by tensor against the
    /// bundled layout (a missing tensor or a wrong shape is named in the error).
    pub fn from_safetensors(path: &Path, device: &Device) -> Result<Self> {
        let weights_error = |message: String| FfeError::Weights {
            path: path.to_path_buf(),
            message,
        };
        let bytes = visnir_nn::read_regular_file(path, visnir_nn::MAX_WEIGHT_FILE_BYTES)
            .map_err(weights_error)?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .map_err(|e| weights_error(format!("not a readable safetensors file: {e}")))?;
        check_layout(&tensors)?;
        Self::from_tensors(tensors, device)
    }

    /// The underlying network.
    pub fn network(&self) -> &MobileFaceNet {
        &self.net
    }

    /// L2-normalised embeddings of aligned 112 x 112 RGB crops, batched.
    pub fn embed(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>> {
        self.embed_with(faces, false)
    }

    /// sirius-ai's evaluation convention: the embedding of each crop plus that of its mirror
    /// image, L2-normalised.
    pub fn embed_flip_sum(&self, faces: &[RgbImage]) -> Result<Vec<Vec<f32>>> {
        self.embed_with(faces, true)
    }

    fn embed_with(&self, faces: &[RgbImage], flip_sum: bool) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(faces.len());
        if let Some(cpu) = &self.cpu {
            for chunk in faces.chunks(CPU_BATCH) {
                let raw = cpu.forward_raw(&preprocess_nhwc(chunk, false)?);
                if flip_sum {
                    let mirrored = cpu.forward_raw(&preprocess_nhwc(chunk, true)?);
                    out.extend(raw.into_iter().zip(mirrored).map(|(a, b)| {
                        let sum: Vec<f32> = normalized(a)
                            .iter()
                            .zip(normalized(b))
                            .map(|(a, b)| a + b)
                            .collect();
                        normalized(sum)
                    }));
                } else {
                    out.extend(raw.into_iter().map(normalized));
                }
            }
            return Ok(out);
        }
        for chunk in faces.chunks(BATCH) {
            let batch = preprocess(chunk, &self.device)?;
            let embedding = if flip_sum {
                let raw = self.net.forward_raw(&batch)?;
                let mirrored = self.net.forward_raw(&batch.flip(&[3])?)?;
                l2_normalize(&(l2_normalize(&raw)? + l2_normalize(&mirrored)?)?)?
            } else {
                self.net.forward(&batch)?
            };
            out.extend(embedding.to_vec2::<f32>()?);
        }
        Ok(out)
    }
}

fn check_layout(tensors: &HashMap<String, Tensor>) -> Result<()> {
    let expected = candle_core::safetensors::load_buffer(BUNDLED_WEIGHTS, &Device::Cpu)?;
    let mut names: Vec<&String> = expected.keys().collect();
    names.sort();
    for name in names {
        let want = expected[name].dims();
        match tensors.get(name) {
            None => return Err(FfeError::MissingTensor { name: name.clone() }),
            Some(t) if t.dims() != want => {
                return Err(FfeError::ShapeMismatch {
                    name: name.clone(),
                    expected: want.to_vec(),
                    found: t.dims().to_vec(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `v` divided by its L2 norm, as [`l2_normalize`] does.
fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// A pixel value as the network was trained on it: `(v - 127.5) / 128`.
fn normalize(v: u8) -> f32 {
    (v as f32 - 127.5) / 128.0
}

/// Refuses a crop that is not `CROP_SIZE` x `CROP_SIZE`.
fn check_crop(face: &RgbImage) -> Result<()> {
    if face.dimensions() != (CROP_SIZE, CROP_SIZE) {
        return Err(FfeError::WrongCropSize {
            width: face.width(),
            height: face.height(),
        });
    }
    Ok(())
}

/// [`preprocess`] into channels-last values for [`CpuMobileFaceNet`], each crop mirrored left
/// to right when `mirror`.
fn preprocess_nhwc(faces: &[RgbImage], mirror: bool) -> Result<Vec<f32>> {
    let side = CROP_SIZE as usize;
    let mut data = Vec::with_capacity(faces.len() * side * side * 3);
    for face in faces {
        check_crop(face)?;
        for row in face.as_raw().chunks_exact(side * 3) {
            let mut pixels: Vec<&[u8]> = row.chunks_exact(3).collect();
            if mirror {
                pixels.reverse();
            }
            for p in pixels {
                data.extend(p.iter().map(|&v| normalize(v)));
            }
        }
    }
    Ok(data)
}

/// Normalises aligned crops as the network was trained: RGB, `(x - 127.5) / 128`, NCHW.
pub fn preprocess(faces: &[RgbImage], device: &Device) -> Result<Tensor> {
    let side = CROP_SIZE as usize;
    let plane = side * side;
    let mut data = vec![0f32; faces.len() * 3 * plane];
    for (face, out) in faces.iter().zip(data.chunks_exact_mut(3 * plane)) {
        check_crop(face)?;
        visnir_nn::planar_into(face, out, normalize);
    }
    Ok(Tensor::from_vec(
        data,
        (faces.len(), 3, side, side),
        device,
    )?)
}
