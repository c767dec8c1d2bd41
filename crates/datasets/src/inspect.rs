//! A dataset health check: what a tree holds in a given layout and everything wrong with it
//! (unpaired images, unreadable files, unexpected names, protocol lines without an image).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;

use crate::casia2::Casia2;
use crate::error::Result;
use crate::oulu::OuluCasia;
use crate::record::{ImageRecord, Modality};
use crate::whu::Whu;

/// The dataset layouts visnir reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Oulu-CASIA NIR-VIS.
    Oulu,
    /// WHU VIS-NIR.
    Whu,
    /// CASIA NIR-VIS 2.0.
    Casia2,
}

impl FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "oulu" => Ok(Self::Oulu),
            "whu" => Ok(Self::Whu),
            "casia2" => Ok(Self::Casia2),
            other => Err(format!(
                "unknown layout `{other}` (expected oulu, whu or casia2)"
            )),
        }
    }
}

/// The layouts of paired VIS/NIR photos, which visnir splits with a seed and can synthesise
/// (CASIA NIR-VIS 2.0 comes with its own fold files instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairedLayout {
    /// Oulu-CASIA NIR-VIS: `{VL,NI}/<Illumination>/P###/<Expression>/###.jpeg`.
    Oulu,
    /// WHU VIS-NIR: `<subject>/{vis,nir}/<pose>_<nn>.<ext>`.
    Whu,
}

impl FromStr for PairedLayout {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "oulu" => Ok(Self::Oulu),
            "whu" => Ok(Self::Whu),
            other => Err(format!("unknown layout `{other}` (expected oulu or whu)")),
        }
    }
}

/// One thing wrong with a dataset tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The file or folder, relative to the root.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// What a dataset tree holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The layout it was read as.
    pub layout: Layout,
    /// Number of distinct subjects.
    pub subjects: usize,
    /// VIS images.
    pub vis_images: usize,
    /// NIR images.
    pub nir_images: usize,
    /// VIS/NIR pairs (0 for CASIA 2.0, which is not paired).
    pub pairs: usize,
    /// Everything wrong, sorted by path.
    pub problems: Vec<Problem>,
}

/// Scans `root` as `layout` and checks every image with `readable` (in parallel), which
/// returns why a file cannot be used.
pub fn inspect(
    layout: Layout,
    root: &Path,
    readable: impl Fn(&Path) -> std::result::Result<(), String> + Sync,
) -> Result<Inspection> {
    let mut problems = Vec::new();
    let (records, pairs): (Vec<ImageRecord>, usize) = match layout {
        Layout::Oulu | Layout::Whu => {
            let (records, scan_problems, (pairs, unpaired)) = if layout == Layout::Oulu {
                let d = OuluCasia::scan(root)?;
                let p = d.pairs();
                (d.records, d.problems, p)
            } else {
                let d = Whu::scan(root)?;
                let p = d.pairs();
                (d.records, d.problems, p)
            };
            problems.extend(
                scan_problems
                    .into_iter()
                    .map(|(path, reason)| Problem { path, reason }),
            );
            problems.extend(unpaired.into_iter().map(|r| Problem {
                reason: format!("no {} twin", other(r.modality)),
                path: r.path,
            }));
            (records, pairs.len())
        }
        Layout::Casia2 => {
            let data = Casia2::open(root)?;
            let mut seen = BTreeSet::new();
            let mut records = Vec::new();
            for fold in data.folds()? {
                let fold = data.fold(&fold)?;
                for (file, line, path) in fold.missing {
                    problems.push(Problem {
                        reason: format!("listed at {}:{line} but missing", file.display()),
                        path,
                    });
                }
                for e in fold.protocol.entries() {
                    if seen.insert(e.path.clone()) {
                        let modality =
                            if e.role == crate::Role::Vis || e.role == crate::Role::Gallery {
                                Modality::Vis
                            } else {
                                Modality::Nir
                            };
                        records.push(ImageRecord {
                            subject: e.subject,
                            modality,
                            illumination: None,
                            condition: String::new(),
                            frame: String::new(),
                            path: e.path,
                        });
                    }
                }
            }
            (records, 0)
        }
    };
    let unreadable: Vec<Problem> = records
        .par_iter()
        .filter_map(|r| {
            readable(&root.join(&r.path)).err().map(|reason| Problem {
                path: r.path.clone(),
                reason,
            })
        })
        .collect();
    problems.extend(unreadable);
    problems.extend(links_out_of(root, &records));
    problems.sort();
    let subjects: BTreeSet<&str> = records.iter().map(|r| r.subject.as_str()).collect();
    Ok(Inspection {
        layout,
        subjects: subjects.len(),
        vis_images: records
            .iter()
            .filter(|r| r.modality == Modality::Vis)
            .count(),
        nir_images: records
            .iter()
            .filter(|r| r.modality == Modality::Nir)
            .count(),
        pairs,
        problems,
    })
}

/// The records whose path resolves (through symbolic links) outside `root`. visnir follows such
/// links like any file; they are reported because a dataset copied or archived without its
/// link targets is then incomplete.
fn links_out_of(root: &Path, records: &[ImageRecord]) -> Vec<Problem> {
    let Ok(root) = root.canonicalize() else {
        return Vec::new();
    };
    records
        .par_iter()
        .filter_map(|r| {
            let target = root.join(&r.path).canonicalize().ok()?;
            (!target.starts_with(&root)).then(|| Problem {
                path: r.path.clone(),
                reason: format!(
                    "a symbolic link leading outside the dataset root (to {}); it is followed",
                    target.display()
                ),
            })
        })
        .collect()
}

fn other(m: Modality) -> &'static str {
    match m {
        Modality::Vis => "NIR",
        Modality::Nir => "VIS",
    }
}
