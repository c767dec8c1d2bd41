//! MobileFaceNet's forward pass on the CPU without candle: channels-last maps, BatchNorm bias and
//! PReLU fused into each convolution, and the batch spread over the rayon pool one face per
//! task. The embedder runs on it on the CPU; the candle network is its oracle in the tests.

use std::cell::RefCell;
use std::collections::HashMap;

use candle_core::Tensor;
use rayon::prelude::*;
use visnir_nn::nhwc::MapShape;

use crate::error::{FfeError, Result};

mod layers;

use crate::mobilefacenet::EMBEDDING_DIM;
use layers::{Block, Pointwise, Spatial, SpatialKind};

/// Output pixels per strip of a block run on one thread.
pub(super) const STRIP_PIXELS: usize = 128;

/// Side of the input crop.
const SIDE: usize = crate::embedder::CROP_SIZE as usize;

/// MobileFaceNet for CPU inference, built from the same tensors as [`crate::MobileFaceNet`].
#[derive(Debug, Clone)]
pub struct CpuMobileFaceNet {
    conv1: Spatial,
    conv2_dw: Spatial,
    conv2_pw: Pointwise,
    blocks: Vec<Block>,
    conv_6_sep: Pointwise,
    conv_6_dw: Spatial,
    conv_6_pw: Pointwise,
    linear: Pointwise,
}

impl CpuMobileFaceNet {
    /// Rearranges the network's tensors (names and shapes of [`crate::BUNDLED_WEIGHTS`]).
    pub fn from_tensors(tensors: &HashMap<String, Tensor>) -> Result<Self> {
        let t = Tensors(tensors);
        let mut blocks = vec![Block::load(&t, "conv_23", 2, false)?];
        for i in 0..4 {
            blocks.push(Block::load(&t, &format!("conv_3.{i}"), 1, true)?);
        }
        blocks.push(Block::load(&t, "conv_34", 2, false)?);
        for i in 0..6 {
            blocks.push(Block::load(&t, &format!("conv_4.{i}"), 1, true)?);
        }
        blocks.push(Block::load(&t, "conv_45", 2, false)?);
        for i in 0..2 {
            blocks.push(Block::load(&t, &format!("conv_5.{i}"), 1, true)?);
        }
        Ok(Self {
            conv1: Spatial::load(&t, "conv1", SpatialKind::Full { stride: 2 }, true)?,
            conv2_dw: Spatial::load(&t, "conv2_dw", SpatialKind::Depthwise { stride: 1 }, true)?,
            conv2_pw: Pointwise::load(&t, "conv2_pw", false)?,
            blocks,
            conv_6_sep: Pointwise::load(&t, "conv_6_sep", true)?,
            conv_6_dw: Spatial::load(&t, "conv_6_dw", SpatialKind::DepthwiseValid, false)?,
            conv_6_pw: Pointwise::load(&t, "conv_6_pw", false)?,
            linear: Pointwise::load(&t, "linear", false)?,
        })
    }

    /// Raw (not normalised) 192-d embeddings of `input`: normalised `112 x 112 x 3` crops,
    /// channels last, one after the other.
    pub fn forward_raw(&self, input: &[f32]) -> Vec<Vec<f32>> {
        let per_face = SIDE * SIDE * 3;
        let faces: Vec<&[f32]> = input.chunks_exact(per_face).collect();
        let threads = rayon::current_num_threads();
        if faces.len() >= threads {
            let chunk = faces.len().div_ceil(threads);
            faces
                .par_chunks(chunk)
                .flat_map_iter(|chunk| {
                    with_scratch(|scratch| {
                        chunk
                            .iter()
                            .map(|face| self.forward_one(face, scratch, false))
                            .collect::<Vec<_>>()
                    })
                })
                .collect()
        } else {
            with_scratch(|scratch| {
                faces
                    .iter()
                    .map(|face| self.forward_one(face, scratch, true))
                    .collect()
            })
        }
    }

    fn forward_one(&self, face: &[f32], s: &mut Scratch, parallel: bool) -> Vec<f32> {
        let shape = MapShape {
            height: SIDE,
            width: SIDE,
            channels: 3,
        };
        let shape = self.conv1.run(face, shape, &mut s.cur, parallel);
        let shape = self.conv2_dw.run(&s.cur, shape, &mut s.hidden, parallel);
        self.conv2_pw
            .run(&s.hidden, shape, None, &mut s.cur, parallel);
        let mut shape = MapShape {
            channels: self.conv2_pw.cout(),
            ..shape
        };
        for block in &self.blocks {
            shape = block.run(shape, s, parallel);
        }
        self.conv_6_sep
            .run(&s.cur, shape, None, &mut s.hidden, parallel);
        let shape = MapShape {
            channels: self.conv_6_sep.cout(),
            ..shape
        };
        let shape = self.conv_6_dw.run(&s.hidden, shape, &mut s.cur, parallel);
        self.conv_6_pw
            .run(&s.cur, shape, None, &mut s.hidden, parallel);
        let shape = MapShape {
            channels: self.conv_6_pw.cout(),
            ..shape
        };
        let mut embedding = vec![0f32; EMBEDDING_DIM];
        self.linear
            .run(&s.hidden, shape, None, &mut embedding, false);
        embedding
    }
}

thread_local! {
    /// Each thread's working maps, kept from call to call (a few MB).
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's working maps, or fresh ones if they are in use (a re-entrant
/// call from a task this thread picked up while waiting).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// The working maps of one face's forward pass, reused from face to face.
#[derive(Default)]
pub(super) struct Scratch {
    cur: Vec<f32>,
    hidden: Vec<f32>,
    next: Vec<f32>,
    bands: Vec<Band>,
}

/// The intermediate maps of an inverted residual block for one band of output rows.
#[derive(Default)]
pub(super) struct Band {
    /// The expanded input (rows the band reads).
    hidden: Vec<f32>,
    /// The depthwise output (the band's rows).
    dw: Vec<f32>,
}

pub(super) struct Tensors<'a>(&'a HashMap<String, Tensor>);

impl Tensors<'_> {
    /// The values of `name` and its dimensions.
    fn get(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        let t = self.0.get(name).ok_or_else(|| FfeError::MissingTensor {
            name: name.to_string(),
        })?;
        Ok((
            t.to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?,
            t.dims().to_vec(),
        ))
    }

    /// The values of the convolution weight `name.weight`, `(cout, cin, k, k)`.
    fn weight(&self, name: &str) -> Result<(Vec<f32>, [usize; 3])> {
        let name = format!("{name}.weight");
        let (values, dims) = self.get(&name)?;
        match dims[..] {
            [cout, cin, k, k2] if k == k2 => Ok((values, [cout, cin, k])),
            _ => Err(FfeError::ShapeMismatch {
                name,
                expected: vec![0, 0, 0, 0],
                found: dims,
            }),
        }
    }

    fn bias_prelu(&self, name: &str, prelu: bool) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let (bias, _) = self.get(&format!("{name}.bias"))?;
        let slopes = if prelu {
            Some(self.get(&format!("{name}.prelu"))?.0)
        } else {
            None
        };
        Ok((bias, slopes))
    }
}
