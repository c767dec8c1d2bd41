//! How big an experiment is: the scales (`tiny` for CI regression, `quick` for the synthetic
//! default on a CPU, `paper` for the paper's settings on a GPU) and every number they fix.

use std::str::FromStr;

use visnir_gan::{Architecture, CycleGanConfig, DiscriminatorConfig};

/// How big an experiment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A few subjects at 32 x 32 for a few steps: the CI regression run.
    Tiny,
    /// The synthetic default for a CPU: 64 x 64, small residual networks (two ResNet blocks)
    /// with a learned skip affine and a grey VIS -> NIR output, six short epochs (4 + 2 of
    /// decay; the longer run's curves put Basic + Lpc's pixel error at a third of the untranslated
    /// one near 520 iterations) on pairs at the test images' scale (flips only), and in the
    /// pixel-consistency methods a pixel weight of 100 and the embedding-consistency and
    /// subject-contrast losses.
    Quick,
    /// The quick scale trained for 4 + 4 epochs instead of 4 + 2, with learning curves on
    /// held-out pairs of the training subjects: the longer CPU run (under an hour on two cores).
    Cpu,
    /// The paper's settings: 256 x 256, ngf 64, 100 + 80 epochs (a GPU job).
    Paper,
}

impl FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tiny" => Ok(Scale::Tiny),
            "quick" => Ok(Scale::Quick),
            "cpu" => Ok(Scale::Cpu),
            "paper" => Ok(Scale::Paper),
            other => Err(format!(
                "unknown scale `{other}` (expected quick, cpu, paper or tiny)"
            )),
        }
    }
}

/// Every number a scale fixes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Side of the crops the models train and are evaluated on.
    pub size: u32,
    /// Filters of the ResNet generator's first layer.
    pub ngf: usize,
    /// ResNet blocks in both generator kinds.
    pub n_blocks: usize,
    /// Filters of the discriminator's first layer.
    pub ndf: usize,
    /// Training pairs per iteration.
    pub batch_size: usize,
    /// CycleGAN's augmentation: each training pair resized by 286 / 256 and randomly cropped
    /// back to `size` (the paper); without it the pairs keep the test images' scale and are
    /// only flipped.
    pub resize_and_crop: bool,
    /// Residual generators (start at the identity; not in the paper).
    pub residual: bool,
    /// The VIS -> NIR generator's output is grey, as the NIR photos are (not in the paper).
    pub monochrome_nir: bool,
    /// Residual generators scale and shift their input per channel by learned values (not in
    /// the paper).
    pub skip_affine: bool,
    /// Residual generators add a learned per-pixel offset, a map of the crop size, to their
    /// identity path (not in the paper).
    pub shading_map: bool,
    /// Adam learning rate.
    pub lr: f64,
    /// Epochs at the initial learning rate.
    pub n_epochs: usize,
    /// Epochs of linear decay.
    pub n_epochs_decay: usize,
    /// Training subjects (Oulu layout; WHU uses `whu_split`).
    pub oulu_split: (usize, usize, usize),
    /// WHU: training subjects, test subjects, pairs per subject.
    pub whu_split: (usize, usize, usize),
    /// Synthetic data: subjects and images per condition (Oulu, WHU).
    pub synth: (usize, usize, usize),
    /// Held-out validation pairs per training subject (0: no learning curves).
    pub validation_pairs: usize,
    /// Iterations between two validation points of the learning curves.
    pub validate_every: u64,
    /// Weight of each direction's pixel-consistency L1 in the paired methods (the paper's
    /// gamma: 10).
    pub pixel: f64,
    /// Weight of the generators' adversarial terms in the paired methods (1; 0 is the
    /// ablation without them).
    pub adversarial: f64,
    /// Weight of each direction's cycle-consistency L1 in the paired methods; `None` keeps
    /// each method's own (the paper's lambda 1 with Lpc, 10 in the authors' code).
    pub cycle: Option<f64>,
    /// Weight of the embedding-consistency loss in the paired (pixel-consistency) methods;
    /// not in the paper (0: off).
    pub embedding: f64,
    /// Weight of the subject-contrast loss in the paired (pixel-consistency) methods; not in
    /// the paper (0: off).
    pub subject: f64,
    /// Decay of the generators' weight average that translates (0: the last step's weights,
    /// as the paper; see `visnir_gan::WeightAverage`).
    pub ema_decay: f64,
}

impl Scale {
    /// The scale's settings.
    pub fn settings(self) -> Settings {
        match self {
            Scale::Tiny => Settings {
                size: 32,
                ngf: 8,
                n_blocks: 2,
                ndf: 8,
                batch_size: 1,
                resize_and_crop: true,
                residual: false,
                monochrome_nir: false,
                skip_affine: false,
                shading_map: false,
                lr: 2e-4,
                n_epochs: 2,
                n_epochs_decay: 2,
                oulu_split: (4, 6, 1),
                whu_split: (4, 6, 5),
                synth: (10, 1, 1),
                validation_pairs: 0,
                validate_every: 0,
                pixel: 10.0,
                adversarial: 1.0,
                cycle: None,
                embedding: 0.0,
                subject: 0.0,
                ema_decay: 0.0,
            },
            Scale::Quick => Settings {
                size: 64,
                ngf: 32,
                n_blocks: 2,
                ndf: 32,
                batch_size: 1,
                resize_and_crop: false,
                residual: true,
                monochrome_nir: true,
                skip_affine: true,
                shading_map: true,
                lr: 2e-4,
                n_epochs: 4,
                n_epochs_decay: 2,
                oulu_split: (20, 20, 1),
                whu_split: (30, 10, 5),
                synth: (40, 1, 1),
                validation_pairs: 0,
                validate_every: 0,
                pixel: 100.0,
                adversarial: 1.0,
                cycle: None,
                embedding: 50.0,
                subject: 5.0,
                ema_decay: 0.99,
            },
            Scale::Cpu => Settings {
                n_epochs: 4,
                n_epochs_decay: 4,
                synth: (40, 2, 2),
                validation_pairs: 3,
                validate_every: 58,
                ..Scale::Quick.settings()
            },
            Scale::Paper => Settings {
                size: 256,
                ngf: 64,
                n_blocks: 6,
                ndf: 64,
                batch_size: 1,
                resize_and_crop: true,
                residual: false,
                monochrome_nir: false,
                skip_affine: false,
                shading_map: false,
                lr: 2e-4,
                n_epochs: 100,
                n_epochs_decay: 80,
                oulu_split: (20, 20, 8),
                whu_split: (70, 10, 20),
                synth: (40, 9, 5),
                validation_pairs: 6,
                validate_every: 960,
                pixel: 10.0,
                adversarial: 1.0,
                cycle: None,
                embedding: 0.0,
                subject: 0.0,
                ema_decay: 0.0,
            },
        }
    }

    /// The scale's name.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Quick => "quick",
            Scale::Cpu => "cpu",
            Scale::Paper => "paper",
        }
    }
}

impl Settings {
    /// The four networks with `architecture`'s generators under these settings.
    pub fn model(&self, architecture: Architecture) -> CycleGanConfig {
        CycleGanConfig {
            generator: architecture.config(self.ngf, self.n_blocks),
            discriminator: DiscriminatorConfig {
                ndf: self.ndf,
                ..Default::default()
            },
            residual: self.residual,
            monochrome_b: self.monochrome_nir,
            skip_affine: self.skip_affine,
            shading_map: self.shading_map.then_some(self.size as usize),
        }
    }
}
