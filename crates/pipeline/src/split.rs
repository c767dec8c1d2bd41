//! The prepared split: a protocol's images detected and aligned once (through the crop
//! cache), the faceless ones counted and listed, and what is left handed out as aligned
//! training pairs and labelled gallery and probe crops, twins kept together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use image::RgbImage;
use indicatif::ProgressBar;
use visnir_datasets::{Protocol, ProtocolEntry, Role, Split};

use crate::error::{PipelineError, Result};
use crate::prepare::{square_crop, Aligner};

/// An aligned face crop and the protocol image it came from.
#[derive(Debug, Clone)]
pub struct LabelledCrop {
    /// Subject identity.
    pub subject: String,
    /// The image, relative to the dataset root.
    pub path: PathBuf,
    /// The aligned crop at the split's size.
    pub crop: RgbImage,
}

/// An aligned VIS/NIR pair of one training subject (trained on, or held out for validation).
#[derive(Debug, Clone)]
pub struct SubjectPair {
    /// Subject identity.
    pub subject: String,
    /// The aligned VIS crop.
    pub vis: RgbImage,
    /// The aligned crop of its NIR twin.
    pub nir: RgbImage,
}

impl visnir_gan::TrainingPair for SubjectPair {
    fn a(&self) -> &RgbImage {
        &self.vis
    }
    fn b(&self) -> &RgbImage {
        &self.nir
    }
    fn subject(&self) -> Option<&str> {
        Some(&self.subject)
    }
}

/// Counts of images that could not be used, per protocol role.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Skipped {
    /// Images without a detected face, by role name.
    pub no_face: BTreeMap<String, usize>,
    /// Training images dropped because their twin had no face.
    pub unpaired_training: usize,
}

/// One image the split could not use, and why.
#[derive(Debug, Clone)]
pub struct SkippedImage {
    /// `train VIS`, `train NIR`, `val VIS`, `val NIR`, `gallery` or `probe`.
    pub role: &'static str,
    /// The image, relative to the dataset root.
    pub path: PathBuf,
    /// Why (no face found, unreadable, ...).
    pub reason: String,
}

/// Which parts of a protocol to prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Training pairs and the test set (an experiment).
    All,
    /// The test set only (evaluating a generator trained elsewhere).
    TestOnly,
}

/// A protocol with every image aligned: what training, translation and scoring consume.
#[derive(Debug, Clone)]
pub struct PreparedSplit {
    /// Aligned training pairs whose two images both have a face.
    pub train: Vec<SubjectPair>,
    /// Aligned validation pairs (training subjects, never trained on) with both faces.
    pub validation: Vec<SubjectPair>,
    /// The VIS gallery with a face, sorted by subject and path.
    pub gallery: Vec<LabelledCrop>,
    /// The NIR probes with a face, sorted by subject and path.
    pub probes: Vec<LabelledCrop>,
    /// `(gallery index, probe index)` of the test pairs whose two images both have a face.
    pub twins: Vec<(usize, usize)>,
    /// Counts of the images not used.
    pub skipped: Skipped,
    /// Every image not used, with the reason.
    pub skipped_images: Vec<SkippedImage>,
}

impl PreparedSplit {
    /// Aligns the `parts` of `protocol` (paths relative to `root`) to `size` x `size` crops,
    /// counting progress on `bar`. Fails when nothing usable is left.
    pub fn prepare(
        aligner: &Aligner,
        root: &Path,
        protocol: &Protocol,
        size: u32,
        parts: Parts,
        bar: &ProgressBar,
    ) -> Result<Self> {
        let mut split = Self {
            train: Vec::new(),
            validation: Vec::new(),
            gallery: Vec::new(),
            probes: Vec::new(),
            twins: Vec::new(),
            skipped: Skipped::default(),
            skipped_images: Vec::new(),
        };
        for e in protocol.unpaired.iter().filter(|e| e.split == Split::Train) {
            tracing::warn!(
                "{}: training image without a twin in the protocol, not used",
                e.path.display()
            );
        }
        if parts == Parts::All {
            let pairs: Vec<_> = protocol.pairs_of(Split::Train).collect();
            let vis: Vec<PathBuf> = pairs.iter().map(|p| p.vis.clone()).collect();
            let nir: Vec<PathBuf> = pairs.iter().map(|p| p.nir.clone()).collect();
            let vis = split.align_role(aligner, root, &vis, "train VIS", size, bar)?;
            let nir = split.align_role(aligner, root, &nir, "train NIR", size, bar)?;
            for ((pair, v), n) in pairs.iter().zip(vis).zip(nir) {
                match (v, n) {
                    (Some(vis), Some(nir)) => split.train.push(SubjectPair {
                        subject: pair.subject.clone(),
                        vis,
                        nir,
                    }),
                    _ => split.skipped.unpaired_training += 1,
                }
            }
            let held_out: Vec<_> = protocol.pairs_of(Split::Validation).collect();
            if !held_out.is_empty() {
                let vis: Vec<PathBuf> = held_out.iter().map(|p| p.vis.clone()).collect();
                let nir: Vec<PathBuf> = held_out.iter().map(|p| p.nir.clone()).collect();
                let vis = split.align_role(aligner, root, &vis, "val VIS", size, bar)?;
                let nir = split.align_role(aligner, root, &nir, "val NIR", size, bar)?;
                for ((pair, v), n) in held_out.iter().zip(vis).zip(nir) {
                    if let (Some(vis), Some(nir)) = (v, n) {
                        split.validation.push(SubjectPair {
                            subject: pair.subject.clone(),
                            vis,
                            nir,
                        });
                    }
                }
            }
        }
        let gallery = test_images(protocol, Role::Gallery);
        let probes = test_images(protocol, Role::Probe);
        let gallery_paths: Vec<PathBuf> = gallery.iter().map(|e| e.path.clone()).collect();
        let probe_paths: Vec<PathBuf> = probes.iter().map(|e| e.path.clone()).collect();
        let gallery_crops =
            split.align_role(aligner, root, &gallery_paths, "gallery", size, bar)?;
        let probe_crops = split.align_role(aligner, root, &probe_paths, "probe", size, bar)?;
        split.gallery = labelled(gallery, gallery_crops);
        split.probes = labelled(probes, probe_crops);
        let index = |crops: &[LabelledCrop]| -> BTreeMap<PathBuf, usize> {
            crops
                .iter()
                .enumerate()
                .map(|(i, c)| (c.path.clone(), i))
                .collect()
        };
        let (gallery_index, probe_index) = (index(&split.gallery), index(&split.probes));
        split.twins = protocol
            .pairs_of(Split::Test)
            .filter_map(|p| Some((*gallery_index.get(&p.vis)?, *probe_index.get(&p.nir)?)))
            .collect();
        split.twins.sort();
        let test = format!(
            "{} gallery and {} probe images with a face",
            split.gallery.len(),
            split.probes.len()
        );
        match parts {
            Parts::All
                if split.train.is_empty()
                    || split.gallery.is_empty()
                    || split.probes.is_empty() =>
            {
                return Err(PipelineError::Invalid(format!(
                    "nothing to run: {} training pairs, {test}",
                    split.train.len()
                )))
            }
            Parts::TestOnly if split.gallery.is_empty() || split.probes.is_empty() => {
                return Err(PipelineError::Invalid(format!("the test split has {test}")))
            }
            _ => {}
        }
        Ok(split)
    }

    /// Aligns the images of one role, recording the ones without a face.
    fn align_role(
        &mut self,
        aligner: &Aligner,
        root: &Path,
        paths: &[PathBuf],
        role: &'static str,
        size: u32,
        bar: &ProgressBar,
    ) -> Result<Vec<Option<RgbImage>>> {
        bar.inc_length(paths.len() as u64);
        let aligned = aligner.align_all(root, paths, &|| bar.inc(1))?;
        let mut crops = Vec::with_capacity(paths.len());
        let mut failures = 0;
        for (path, crop) in paths.iter().zip(aligned) {
            match crop {
                Ok(c) => crops.push(Some(square_crop(&c, size))),
                Err(reason) => {
                    tracing::debug!("{}: {reason}; not used", path.display());
                    self.skipped_images.push(SkippedImage {
                        role,
                        path: path.clone(),
                        reason,
                    });
                    failures += 1;
                    crops.push(None);
                }
            }
        }
        if failures > 0 {
            tracing::warn!(
                "{role}: {failures} of {} images without a usable face, not used",
                paths.len()
            );
        }
        self.skipped.no_face.insert(role.to_string(), failures);
        Ok(crops)
    }

    /// Subjects of the gallery crops, in order.
    pub fn gallery_ids(&self) -> Vec<String> {
        self.gallery.iter().map(|c| c.subject.clone()).collect()
    }

    /// Subjects of the probe crops, in order.
    pub fn probe_ids(&self) -> Vec<String> {
        self.probes.iter().map(|c| c.subject.clone()).collect()
    }

    /// The gallery crops, in order.
    pub fn gallery_crops(&self) -> Vec<RgbImage> {
        self.gallery.iter().map(|c| c.crop.clone()).collect()
    }

    /// The probe crops, in order.
    pub fn probe_crops(&self) -> Vec<RgbImage> {
        self.probes.iter().map(|c| c.crop.clone()).collect()
    }

    /// Up to `n` twins of distinct subjects, the first of each subject in gallery order.
    pub fn example_twins(&self, n: usize) -> Vec<(usize, usize)> {
        let mut seen = BTreeSet::new();
        self.twins
            .iter()
            .copied()
            .filter(|&(g, _)| seen.insert(self.gallery[g].subject.clone()))
            .take(n)
            .collect()
    }

    /// Training pairs, gallery and probe sizes, the number of test subjects and, when there
    /// are any, of validation pairs.
    pub fn sizes(&self) -> BTreeMap<String, usize> {
        let subjects: BTreeSet<&String> = self.gallery.iter().map(|c| &c.subject).collect();
        let mut sizes = BTreeMap::from([
            ("training pairs".to_string(), self.train.len()),
            ("gallery images".to_string(), self.gallery.len()),
            ("probe images".to_string(), self.probes.len()),
            ("test subjects".to_string(), subjects.len()),
        ]);
        if !self.validation.is_empty() {
            sizes.insert("validation pairs".to_string(), self.validation.len());
        }
        sizes
    }

    /// The `no-face.txt` listing: `role<TAB>path<TAB>reason` per skipped image.
    pub fn skipped_text(&self) -> String {
        self.skipped_images
            .iter()
            .map(|s| format!("{}\t{}\t{}\n", s.role, s.path.display(), s.reason))
            .collect()
    }
}

/// The test images of `role` (gallery or probe), paired or not, sorted by subject and path.
fn test_images(protocol: &Protocol, role: Role) -> Vec<ProtocolEntry> {
    protocol.select(Split::Test, role).collect()
}

/// The entries that have a crop, with it.
fn labelled(entries: Vec<ProtocolEntry>, crops: Vec<Option<RgbImage>>) -> Vec<LabelledCrop> {
    entries
        .into_iter()
        .zip(crops)
        .filter_map(|(e, crop)| {
            crop.map(|crop| LabelledCrop {
                subject: e.subject,
                path: e.path,
                crop,
            })
        })
        .collect()
}
