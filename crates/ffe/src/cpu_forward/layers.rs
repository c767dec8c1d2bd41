//! The layers of [`super::CpuMobileFaceNet`]: weights rearranged for the channels-last kernels,
//! and the inverted residual block run in strips of rows.

use std::ops::Range;

use rayon::prelude::*;
use visnir_nn::nhwc::{
    depthwise_conv, full_conv, kernel_major, pointwise_conv, Epilogue, MapShape, Window,
};
use visnir_nn::{tf_same_padding, Padding};

use super::{Band, Scratch, STRIP_PIXELS};
use crate::error::Result;
use crate::layers::{ConvUnit, InvertedResidual};

/// A unit's bias and PReLU slopes (if it has a PReLU).
fn bias_prelu(unit: &ConvUnit) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
    let bias = unit.conv.bias().to_vec1()?;
    let prelu = match &unit.prelu {
        Some(p) => Some(p.weight().to_vec1()?),
        None => None,
    };
    Ok((bias, prelu))
}

/// A 1x1 convolution, weight as `cin x cout`.
#[derive(Debug, Clone)]
pub(super) struct Pointwise {
    weight: Vec<f32>,
    bias: Vec<f32>,
    prelu: Option<Vec<f32>>,
    cin: usize,
}

impl Pointwise {
    pub(super) fn new(unit: &ConvUnit) -> Result<Self> {
        let (bias, prelu) = bias_prelu(unit)?;
        Ok(Self {
            weight: kernel_major(unit.conv.weight())?,
            bias,
            prelu,
            cin: unit.conv.config().cin,
        })
    }

    pub(super) fn cout(&self) -> usize {
        self.bias.len()
    }

    /// Runs the convolution on a `shape` input into `out`.
    pub(super) fn run(
        &self,
        input: &[f32],
        shape: MapShape,
        residual: Option<&[f32]>,
        out: &mut Vec<f32>,
        parallel: bool,
    ) {
        out.resize(shape.height * shape.width * self.cout(), 0.0);
        self.apply(&input[..shape.len()], residual, out, parallel);
    }

    /// Runs the convolution on the pixels of `out` (as many as `input` holds).
    pub(super) fn apply(
        &self,
        input: &[f32],
        residual: Option<&[f32]>,
        out: &mut [f32],
        parallel: bool,
    ) {
        let epilogue = Epilogue {
            bias: &self.bias,
            prelu: self.prelu.as_deref(),
        };
        pointwise_conv(
            input,
            self.cin,
            &self.weight,
            epilogue,
            residual,
            out,
            parallel,
        );
    }
}

/// A full or depthwise `k x k` convolution with TF "SAME" padding (or none), weight as
/// `(ky, kx, ci) x cout` (full) or `(ky, kx) x c` (depthwise).
#[derive(Debug, Clone)]
pub(super) struct Spatial {
    weight: Vec<f32>,
    bias: Vec<f32>,
    prelu: Option<Vec<f32>>,
    kernel: usize,
    stride: usize,
    depthwise: bool,
    same: bool,
}

impl Spatial {
    pub(super) fn new(unit: &ConvUnit) -> Result<Self> {
        let config = unit.conv.config();
        let (bias, prelu) = bias_prelu(unit)?;
        Ok(Self {
            weight: kernel_major(unit.conv.weight())?,
            bias,
            prelu,
            kernel: config.kernel,
            stride: config.stride,
            depthwise: config.depthwise,
            same: config.padding == Padding::TfSame,
        })
    }

    /// The output's shape and the window of the convolution on a `shape` input.
    pub(super) fn geometry(&self, shape: MapShape) -> (MapShape, Window) {
        let padding = |size: usize| {
            if self.same {
                let (before, _) = tf_same_padding(size, self.kernel, self.stride);
                (size.div_ceil(self.stride), before)
            } else {
                ((size - self.kernel) / self.stride + 1, 0)
            }
        };
        let ((height, top), (width, left)) = (padding(shape.height), padding(shape.width));
        let out_shape = MapShape {
            height,
            width,
            channels: self.bias.len(),
        };
        let window = Window {
            kernel: self.kernel,
            stride: self.stride,
            pad: (top, left),
        };
        (out_shape, window)
    }

    pub(super) fn epilogue(&self) -> Epilogue<'_> {
        Epilogue {
            bias: &self.bias,
            prelu: self.prelu.as_deref(),
        }
    }

    /// Runs the convolution into `out`; returns the output's shape.
    pub(super) fn run(
        &self,
        input: &[f32],
        shape: MapShape,
        out: &mut Vec<f32>,
        parallel: bool,
    ) -> MapShape {
        let (out_shape, window) = self.geometry(shape);
        out.resize(out_shape.len(), 0.0);
        if self.depthwise {
            let rows = 0..out_shape.height;
            let (weight, epilogue) = (&self.weight, self.epilogue());
            depthwise_conv(
                input, shape, weight, window, epilogue, out_shape, rows, out, parallel,
            );
        } else {
            let (weight, epilogue) = (&self.weight, self.epilogue());
            full_conv(
                input, shape, weight, window, epilogue, out_shape, out, parallel,
            );
        }
        out_shape
    }
}

/// An inverted residual block: expand, depthwise, project (+ input).
#[derive(Debug, Clone)]
pub(super) struct Block {
    expand: Pointwise,
    dw: Spatial,
    project: Pointwise,
    residual: bool,
}

impl Block {
    pub(super) fn new(block: &InvertedResidual) -> Result<Self> {
        Ok(Self {
            expand: Pointwise::new(&block.expand)?,
            dw: Spatial::new(&block.dw)?,
            project: Pointwise::new(&block.project)?,
            residual: block.residual,
        })
    }

    /// Runs the block on `s.cur`, leaving its output there; returns the output's shape. With
    /// `parallel`, the output rows are cut into one band per rayon thread.
    pub(super) fn run(&self, shape: MapShape, s: &mut Scratch, parallel: bool) -> MapShape {
        let hidden = MapShape {
            channels: self.expand.cout(),
            ..shape
        };
        let (dw_shape, _) = self.dw.geometry(hidden);
        let out_shape = MapShape {
            channels: self.project.cout(),
            ..dw_shape
        };
        s.next.resize(out_shape.len(), 0.0);
        let bands = if parallel {
            rayon::current_num_threads().min(out_shape.height)
        } else {
            1
        };
        let band_rows = out_shape.height.div_ceil(bands);
        if s.bands.len() < bands {
            s.bands.resize_with(bands, Band::default);
        }
        let cur = &s.cur;
        let work = |(i, (next, band)): (usize, (&mut [f32], &mut Band))| {
            let top = i * band_rows;
            let rows = top..(top + band_rows).min(out_shape.height);
            self.run_band(shape, cur, rows, band, next);
        };
        let band_len = band_rows * out_shape.width * out_shape.channels;
        if bands > 1 {
            s.next
                .par_chunks_mut(band_len)
                .zip(s.bands.par_iter_mut())
                .enumerate()
                .for_each(work);
        } else {
            work((0, (&mut s.next[..], &mut s.bands[0])));
        }
        std::mem::swap(&mut s.cur, &mut s.next);
        out_shape
    }

    /// Output rows `rows` of the block into `out`, one strip of rows after the other: the
    /// expanded rows a strip reads are computed just before, so they are read from the cache.
    fn run_band(
        &self,
        shape: MapShape,
        input: &[f32],
        rows: Range<usize>,
        band: &mut Band,
        out: &mut [f32],
    ) {
        let (cin, hidden_channels) = (shape.channels, self.expand.cout());
        let hidden = MapShape {
            channels: hidden_channels,
            ..shape
        };
        let (dw_shape, window) = self.dw.geometry(hidden);
        let cout = self.project.cout();
        band.hidden.resize(hidden.len(), 0.0);
        band.dw.resize(dw_shape.len(), 0.0);
        let width = dw_shape.width;
        let strip = (STRIP_PIXELS / width).max(1);
        let band_start = rows.start;
        let mut expanded = (band_start * window.stride).saturating_sub(window.pad.0);
        for top in rows.clone().step_by(strip) {
            let bottom = (top + strip).min(rows.end);
            let needed = ((bottom - 1) * window.stride + window.kernel)
                .saturating_sub(window.pad.0)
                .min(shape.height);
            if needed > expanded {
                let (a, b) = (expanded * shape.width, needed * shape.width);
                self.expand.apply(
                    &input[a * cin..b * cin],
                    None,
                    &mut band.hidden[a * hidden_channels..b * hidden_channels],
                    false,
                );
                expanded = needed;
            }
            let (a, b) = (top * width, bottom * width);
            let dw = &mut band.dw[a * hidden_channels..b * hidden_channels];
            let epilogue = self.dw.epilogue();
            let weight = &self.dw.weight;
            let rows = top..bottom;
            depthwise_conv(
                &band.hidden,
                hidden,
                weight,
                window,
                epilogue,
                dw_shape,
                rows,
                dw,
                false,
            );
            let residual = self.residual.then(|| &input[a * cout..b * cout]);
            let origin = band_start * width;
            let out = &mut out[(a - origin) * cout..(b - origin) * cout];
            self.project.apply(dw, residual, out, false);
        }
    }
}
