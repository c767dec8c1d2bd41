//! What an experiment runs: the table's methods and the presets (`tiny` for CI regression,
//! `quick` for the synthetic default on a CPU, `paper` for the paper's settings on a GPU).

use std::str::FromStr;

use visnir_gan::{
    CycleGanConfig, DiscriminatorConfig, FfeGeneratorConfig, GeneratorConfig, LossPreset,
    ResnetGeneratorConfig,
};

/// One row of the results table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// VIS gallery against NIR probes directly.
    NoTranslation,
    /// CycleGAN (cycle 10, identity 0.5).
    Basic,
    /// CycleGAN plus the pixel-consistency loss.
    BasicLpc,
    /// The FFE generator plus the pixel-consistency loss (the paper's method).
    FfeLpc,
    /// The FFE generator with the authors' code's loss weights.
    FfeOfficial,
}

impl Method {
    /// The name printed in the table (the paper's wording).
    pub fn label(self) -> &'static str {
        match self {
            Method::NoTranslation => "No translation",
            Method::Basic => "Basic CycleGAN",
            Method::BasicLpc => "Basic + Lpc",
            Method::FfeLpc => "FFE + Lpc",
            Method::FfeOfficial => "FFE (authors' code)",
        }
    }

    /// A file-name form of the label.
    pub fn slug(self) -> &'static str {
        match self {
            Method::NoTranslation => "no-translation",
            Method::Basic => "basic",
            Method::BasicLpc => "basic-lpc",
            Method::FfeLpc => "ffe-lpc",
            Method::FfeOfficial => "ffe-official",
        }
    }

    /// The loss preset, or `None` for the row without a model.
    pub fn loss(self) -> Option<LossPreset> {
        match self {
            Method::NoTranslation => None,
            Method::Basic => Some(LossPreset::Basic),
            Method::BasicLpc => Some(LossPreset::BasicLpc),
            Method::FfeLpc => Some(LossPreset::FfeLpc),
            Method::FfeOfficial => Some(LossPreset::FfeOfficial),
        }
    }

    /// Whether the generator is the FFE generator.
    pub fn uses_ffe(self) -> bool {
        matches!(self, Method::FfeLpc | Method::FfeOfficial)
    }
}

/// How big an experiment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// A few subjects at 32 x 32 for a few steps: the CI regression run.
    Tiny,
    /// The synthetic default for a CPU: 64 x 64, small networks, one short epoch.
    Quick,
    /// The paper's settings: 256 x 256, ngf 64, 100 + 80 epochs (a GPU job).
    Paper,
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tiny" => Ok(Preset::Tiny),
            "quick" => Ok(Preset::Quick),
            "paper" => Ok(Preset::Paper),
            other => Err(format!(
                "unknown preset `{other}` (expected quick, paper or tiny)"
            )),
        }
    }
}

/// Every number a preset fixes.
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
}

impl Preset {
    /// The preset's settings.
    pub fn settings(self) -> Settings {
        match self {
            Preset::Tiny => Settings {
                size: 32,
                ngf: 8,
                n_blocks: 2,
                ndf: 8,
                lr: 2e-4,
                n_epochs: 2,
                n_epochs_decay: 2,
                oulu_split: (4, 6, 1),
                whu_split: (4, 6, 5),
                synth: (10, 1, 1),
                validation_pairs: 0,
                validate_every: 0,
            },
            Preset::Quick => Settings {
                size: 64,
                ngf: 32,
                n_blocks: 6,
                ndf: 32,
                lr: 2e-4,
                n_epochs: 1,
                n_epochs_decay: 0,
                oulu_split: (20, 20, 1),
                whu_split: (30, 10, 5),
                synth: (40, 1, 1),
                validation_pairs: 0,
                validate_every: 0,
            },
            Preset::Paper => Settings {
                size: 256,
                ngf: 64,
                n_blocks: 6,
                ndf: 64,
                lr: 2e-4,
                n_epochs: 100,
                n_epochs_decay: 80,
                oulu_split: (20, 20, 8),
                whu_split: (70, 10, 20),
                synth: (40, 8, 4),
                validation_pairs: 6,
                validate_every: 960,
            },
        }
    }

    /// The preset's name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Quick => "quick",
            Preset::Paper => "paper",
        }
    }
}

impl Settings {
    /// The four networks of `method` under these settings.
    pub fn model(&self, method: Method) -> CycleGanConfig {
        let generator = if method.uses_ffe() {
            GeneratorConfig::Ffe(FfeGeneratorConfig {
                n_blocks: self.n_blocks,
                ..Default::default()
            })
        } else {
            GeneratorConfig::Resnet(ResnetGeneratorConfig {
                ngf: self.ngf,
                n_blocks: self.n_blocks,
                ..Default::default()
            })
        };
        CycleGanConfig {
            generator,
            discriminator: DiscriminatorConfig {
                ndf: self.ndf,
                ..Default::default()
            },
        }
    }
}
