//! The rows of the results table: each a named pair of a generator architecture and the
//! loss weights it is trained with (or no translation at all).

use std::str::FromStr;

use visnir_gan::{Architecture, LossWeights};

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
    /// Every method, in table order.
    pub const ALL: [Method; 5] = [
        Method::NoTranslation,
        Method::Basic,
        Method::BasicLpc,
        Method::FfeLpc,
        Method::FfeOfficial,
    ];

    /// The method printed as `label` in a table.
    pub fn from_label(label: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.label() == label)
    }

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

    /// The generator architecture and loss weights the method trains, or `None` for the row
    /// without a model.
    pub fn model(self) -> Option<(Architecture, LossWeights)> {
        match self {
            Method::NoTranslation => None,
            Method::Basic => Some((Architecture::Resnet, LossWeights::CYCLEGAN)),
            Method::BasicLpc => Some((Architecture::Resnet, LossWeights::LPC)),
            Method::FfeLpc => Some((Architecture::Ffe, LossWeights::LPC)),
            Method::FfeOfficial => Some((Architecture::Ffe, LossWeights::AUTHORS_CODE)),
        }
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Method::NoTranslation,
            Method::Basic,
            Method::BasicLpc,
            Method::FfeLpc,
            Method::FfeOfficial,
        ]
        .into_iter()
        .find(|m| m.slug() == s)
        .ok_or_else(|| {
            format!("unknown method `{s}` (expected basic, basic-lpc, ffe-lpc or ffe-official)")
        })
    }
}
