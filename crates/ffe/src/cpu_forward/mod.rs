//! MobileFaceNet's forward pass on the CPU without candle: channels-last maps, BatchNorm bias and
//! PReLU fused into each convolution, and the batch spread over the rayon pool one face per
//! task. The embedder runs on it on the CPU; the candle network is its oracle in the tests.

use std::cell::RefCell;

use rayon::prelude::*;
use visnir_nn::nhwc::MapShape;

use crate::error::Result;
use crate::mobilefacenet::{MobileFaceNet, EMBEDDING_DIM};

mod layers;

use layers::{Block, Pointwise, Spatial};

/// Output pixels per strip of a block run on one thread.
pub(super) const STRIP_PIXELS: usize = 128;

/// Side of the input crop.
const SIDE: usize = crate::embedder::CROP_SIZE as usize;

/// MobileFaceNet for CPU inference, built from a [`MobileFaceNet`].
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
    /// The same network with its weights rearranged for the channels-last kernels.
    pub fn new(net: &MobileFaceNet) -> Result<Self> {
        let stem = &net.stem;
        let blocks = std::iter::once(&stem.conv_23)
            .chain(&stem.conv_3)
            .chain([&stem.conv_34])
            .chain(&stem.conv_4)
            .chain([&net.conv_45])
            .chain(&net.conv_5)
            .map(Block::new)
            .collect::<Result<_>>()?;
        Ok(Self {
            conv1: Spatial::new(&stem.conv1)?,
            conv2_dw: Spatial::new(&stem.conv2_dw)?,
            conv2_pw: Pointwise::new(&stem.conv2_pw)?,
            blocks,
            conv_6_sep: Pointwise::new(&net.conv_6_sep)?,
            conv_6_dw: Spatial::new(&net.conv_6_dw)?,
            conv_6_pw: Pointwise::new(&net.conv_6_pw)?,
            linear: Pointwise::new(&net.linear)?,
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
