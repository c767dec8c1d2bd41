//! What one image of a VIS-NIR dataset is.

use std::path::PathBuf;

/// The spectrum an image was taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modality {
    /// Visible light.
    Vis,
    /// Near infrared.
    Nir,
}

/// One image: who, in which spectrum, under which condition, and where (relative to the root).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageRecord {
    /// Subject identity, e.g. `P001`.
    pub subject: String,
    /// VIS or NIR.
    pub modality: Modality,
    /// Illumination (`Dark`, `Strong`, `Weak`) where the dataset has it.
    pub illumination: Option<String>,
    /// Expression or pose tag, e.g. `Happiness` or `left`.
    pub condition: String,
    /// Frame name within the condition, e.g. `001`.
    pub frame: String,
    /// Path relative to the dataset root.
    pub path: PathBuf,
}
