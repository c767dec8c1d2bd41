//! The three networks as the detector calls them: by candle on any device, or on the CPU by the
//! channels-last path ([`super::cpu`]), one pyramid level or one crop per task.

use candle_core::{Device, Tensor};
use rayon::prelude::*;
use visnir_nn::nhwc::MapShape;

use super::cpu::{normalize, normalized_nhwc, CpuNet};
use super::{ONet, PNet, RNet};
use crate::error::Result;
use crate::resample::Planar;

/// PNet's maps on one pyramid level, channel-planar: face probability and box regression.
pub(crate) struct PnetMaps {
    /// Probability of a face per cell, `height x width`.
    pub face: Vec<f32>,
    /// Regression `(4, height, width)`.
    pub reg: Vec<f32>,
    /// Rows of cells.
    pub height: usize,
    /// Columns of cells.
    pub width: usize,
}

/// RNet's or ONet's verdict on one crop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CropOutput {
    /// Probability of a face.
    pub face: f32,
    /// Box regression.
    pub reg: [f32; 4],
    /// Landmarks, x then y (ONet only; zeros for RNet).
    pub points: [f32; 10],
}

/// PNet, RNet and ONet with the CPU path when the device is the CPU.
#[derive(Debug, Clone)]
pub(crate) struct Cascade {
    pub pnet: PNet,
    pub rnet: RNet,
    pub onet: ONet,
    cpu: Option<[CpuNet; 3]>,
    device: Device,
}

impl Cascade {
    /// Wraps the candle networks; on the CPU also rearranges them for the channels-last path.
    pub fn new(pnet: PNet, rnet: RNet, onet: ONet, device: &Device) -> Result<Self> {
        let cpu = if device.is_cpu() {
            Some([
                CpuNet::pnet(&pnet)?,
                CpuNet::rnet(&rnet)?,
                CpuNet::onet(&onet)?,
            ])
        } else {
            None
        };
        Ok(Self {
            pnet,
            rnet,
            onet,
            cpu,
            device: device.clone(),
        })
    }

    /// True when levels and crops may run as parallel tasks (the CPU path).
    pub fn is_cpu(&self) -> bool {
        self.cpu.is_some()
    }

    fn normalized(&self, planes: &[f32], shape: (usize, usize, usize, usize)) -> Result<Tensor> {
        let data: Vec<f32> = planes.iter().map(|&v| normalize(v)).collect();
        Ok(Tensor::from_vec(data, shape, &self.device)?)
    }

    /// PNet on one pyramid level (RGB planes, 0-255).
    pub fn pnet(&self, level: &Planar) -> Result<PnetMaps> {
        let (h, w) = (level.height, level.width);
        let Some([pnet, _, _]) = &self.cpu else {
            let input = self.normalized(&level.data, (1, 3, h, w))?;
            let (reg, prob) = self.pnet.forward(&input)?;
            let (height, width) = (prob.dim(2)?, prob.dim(3)?);
            let prob: Vec<f32> = prob.flatten_all()?.to_vec1()?;
            return Ok(PnetMaps {
                face: prob[height * width..].to_vec(),
                reg: reg.flatten_all()?.to_vec1()?,
                height,
                width,
            });
        };
        let shape = MapShape {
            height: h,
            width: w,
            channels: 3,
        };
        let (heads, (height, width)) = pnet.forward(&normalized_nhwc(&level.data, h, w), shape);
        let cells = height * width;
        let face = heads[0].chunks_exact(2).map(|p| p[1]).collect();
        let mut reg = vec![0f32; 4 * cells];
        for (cell, r) in heads[1].chunks_exact(4).enumerate() {
            for (k, &v) in r.iter().enumerate() {
                reg[k * cells + cell] = v;
            }
        }
        Ok(PnetMaps {
            face,
            reg,
            height,
            width,
        })
    }

    /// RNet on 24 x 24 crops.
    pub fn rnet(&self, crops: &[Planar]) -> Result<Vec<CropOutput>> {
        match &self.cpu {
            Some([_, rnet, _]) => Ok(on_crops(rnet, crops)),
            None => {
                let (reg, prob) = self.rnet.forward(&self.batch(crops, 24)?)?;
                let (reg, prob): (Vec<Vec<f32>>, Vec<Vec<f32>>) = (reg.to_vec2()?, prob.to_vec2()?);
                Ok(reg
                    .iter()
                    .zip(&prob)
                    .map(|(r, p)| CropOutput {
                        face: p[1],
                        reg: [r[0], r[1], r[2], r[3]],
                        points: [0.0; 10],
                    })
                    .collect())
            }
        }
    }

    /// ONet on 48 x 48 crops.
    pub fn onet(&self, crops: &[Planar]) -> Result<Vec<CropOutput>> {
        match &self.cpu {
            Some([_, _, onet]) => Ok(on_crops(onet, crops)),
            None => {
                let (reg, points, prob) = self.onet.forward(&self.batch(crops, 48)?)?;
                let reg: Vec<Vec<f32>> = reg.to_vec2()?;
                let points: Vec<Vec<f32>> = points.to_vec2()?;
                let prob: Vec<Vec<f32>> = prob.to_vec2()?;
                Ok((0..reg.len())
                    .map(|i| CropOutput {
                        face: prob[i][1],
                        reg: [reg[i][0], reg[i][1], reg[i][2], reg[i][3]],
                        points: std::array::from_fn(|k| points[i][k]),
                    })
                    .collect())
            }
        }
    }

    fn batch(&self, crops: &[Planar], size: usize) -> Result<Tensor> {
        let data: Vec<f32> = crops.iter().flat_map(|c| c.data.iter().copied()).collect();
        self.normalized(&data, (crops.len(), 3, size, size))
    }
}

/// A crop network on each crop, crops spread over the rayon pool.
fn on_crops(net: &CpuNet, crops: &[Planar]) -> Vec<CropOutput> {
    crops
        .par_iter()
        .map(|crop| {
            let shape = MapShape {
                height: crop.height,
                width: crop.width,
                channels: 3,
            };
            let input = normalized_nhwc(&crop.data, crop.height, crop.width);
            let (heads, _) = net.forward(&input, shape);
            let mut points = [0f32; 10];
            if let Some(p) = heads.get(2) {
                points.copy_from_slice(&p[..10]);
            }
            CropOutput {
                face: heads[0][1],
                reg: [heads[1][0], heads[1][1], heads[1][2], heads[1][3]],
                points,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A planar image of pseudo-random 0-255 values.
    fn planar(height: usize, width: usize, seed: u32) -> Planar {
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        let data = (0..3 * height * width)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 256) as f32
            })
            .collect();
        Planar {
            channels: 3,
            height,
            width,
            data,
        }
    }

    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (a, b) in got.iter().zip(want) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{what}: {a} against {b}"
            );
        }
    }

    #[test]
    fn cpu_path_matches_the_candle_networks() {
        let vb = candle_nn::VarBuilder::from_buffered_safetensors(
            crate::BUNDLED_WEIGHTS.to_vec(),
            candle_core::DType::F32,
            &Device::Cpu,
        )
        .unwrap();
        let (pnet, rnet, onet) = (
            PNet::new(vb.pp("pnet")).unwrap(),
            RNet::new(vb.pp("rnet")).unwrap(),
            ONet::new(vb.pp("onet")).unwrap(),
        );
        let cpu = Cascade::new(pnet, rnet, onet, &Device::Cpu).unwrap();
        assert!(cpu.is_cpu());
        let candle = Cascade {
            cpu: None,
            ..cpu.clone()
        };
        for (h, w) in [(12, 12), (37, 53), (64, 45)] {
            let level = planar(h, w, (h * w) as u32);
            let (a, b) = (cpu.pnet(&level).unwrap(), candle.pnet(&level).unwrap());
            assert_eq!((a.height, a.width), (b.height, b.width));
            assert_close(&a.face, &b.face, "pnet face");
            assert_close(&a.reg, &b.reg, "pnet reg");
        }
        for (size, seed) in [(24, 1), (48, 2)] {
            let crops: Vec<Planar> = (0..5).map(|i| planar(size, size, seed * 10 + i)).collect();
            let (a, b) = if size == 24 {
                (cpu.rnet(&crops).unwrap(), candle.rnet(&crops).unwrap())
            } else {
                (cpu.onet(&crops).unwrap(), candle.onet(&crops).unwrap())
            };
            for (a, b) in a.iter().zip(&b) {
                assert_close(&[a.face], &[b.face], "face");
                assert_close(&a.reg, &b.reg, "reg");
                assert_close(&a.points, &b.points, "points");
            }
        }
    }
}
