//! WHU VIS-NIR in the documented layout `<root>/<subject>/{vis,nir}/<name>.<ext>`: VIS and NIR
//! paired by file stem, the pose tag being the part of the stem before the last `_` (e.g.
//! `frontal_03`, `left_01`, `tiltup_02`).

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{DatasetError, Result};
use crate::protocol::{draw_subjects, pair_indices_by_subject, pair_of, Protocol};
use crate::record::{ImageRecord, Modality};
use crate::scan::{dir_entries, is_image, pair_by_key};

/// The pose tags of the documented WHU naming.
pub const POSE_TAGS: [&str; 5] = ["frontal", "left", "right", "tiltup", "tiltdown"];

/// A scanned WHU VIS-NIR tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Whu {
    /// The root directory.
    pub root: PathBuf,
    /// Every image found in the layout, sorted.
    pub records: Vec<ImageRecord>,
    /// Files or folders that do not fit the layout (relative paths), with the reason.
    pub problems: Vec<(PathBuf, String)>,
}

impl Whu {
    /// Scans `root`; fails when it is missing or no subject folder has `vis/` or `nir/`.
    pub fn scan(root: &Path) -> Result<Self> {
        let top = dir_entries(root)?;
        let mut records = Vec::new();
        let mut problems = Vec::new();
        let mut subjects_seen = 0;
        for (subject, subject_dir) in &top {
            if !subject_dir.is_dir() {
                problems.push((PathBuf::from(subject), "not a subject folder".into()));
                continue;
            }
            let mut any = false;
            for (name, dir) in dir_entries(subject_dir)? {
                let modality = match name.as_str() {
                    "vis" | "VIS" => Modality::Vis,
                    "nir" | "NIR" => Modality::Nir,
                    _ => {
                        problems.push((
                            Path::new(subject).join(&name),
                            "expected vis/ or nir/".into(),
                        ));
                        continue;
                    }
                };
                any = true;
                for (file, _) in dir_entries(&dir)? {
                    let rel = Path::new(subject).join(&name).join(&file);
                    if !is_image(&file) {
                        problems.push((rel, "not an image file name".into()));
                        continue;
                    }
                    let stem = Path::new(&file)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let (condition, frame) = match stem.rsplit_once('_') {
                        Some((tag, frame)) => (tag.to_ascii_lowercase(), frame.to_string()),
                        None => {
                            problems.push((rel.clone(), "no pose tag (`<pose>_<n>`)".into()));
                            (String::from("unknown"), stem.clone())
                        }
                    };
                    records.push(ImageRecord {
                        subject: subject.clone(),
                        modality,
                        illumination: None,
                        condition,
                        frame,
                        path: rel,
                    });
                }
            }
            subjects_seen += usize::from(any);
        }
        if subjects_seen == 0 {
            let found: Vec<&str> = top.iter().map(|(n, _)| n.as_str()).take(8).collect();
            return Err(DatasetError::WrongLayout {
                root: root.to_path_buf(),
                layout: "WHU VIS-NIR",
                found: format!(
                    "expected <subject>/vis/ and <subject>/nir/ folders, found [{}]",
                    found.join(", ")
                ),
            });
        }
        records.sort();
        Ok(Self {
            root: root.to_path_buf(),
            records,
            problems,
        })
    }

    /// `protocol` with up to `per_subject` held-out validation pairs of each training subject
    /// (pairs the protocol does not list), drawn by `seed`.
    pub fn with_validation(&self, protocol: Protocol, per_subject: usize, seed: u64) -> Protocol {
        protocol.with_validation(&self.pairs().0, |_| true, per_subject, seed)
    }

    /// Reads a protocol file of this dataset (see [`Protocol::read`]) with its VIS/NIR lines
    /// paired as this scan pairs them.
    pub fn read_protocol(&self, file: &Path) -> Result<Protocol> {
        Ok(Protocol::read_for(file, &self.root, &self.records)?.paired_by(&self.pairs().0))
    }

    /// VIS/NIR pairs by subject and file stem, and the images without a twin.
    pub fn pairs(&self) -> (Vec<(ImageRecord, ImageRecord)>, Vec<ImageRecord>) {
        pair_by_key(&self.records, |r| {
            (
                r.subject.clone(),
                r.path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default(),
            )
        })
    }

    /// The WHU protocol: `pairs_per_subject` pairs per subject drawn round-robin over the pose
    /// tags (so every tag present is covered), `n_train` / `n_test` subjects, all by `seed`.
    pub fn protocol_split(
        &self,
        n_train: usize,
        n_test: usize,
        pairs_per_subject: usize,
        seed: u64,
    ) -> Result<Protocol> {
        let (pairs, _) = self.pairs();
        let mut by_subject = pair_indices_by_subject(&pairs, |_| true);
        by_subject
            .retain(|_, tags| tags.values().map(Vec::len).sum::<usize>() >= pairs_per_subject);
        let subjects: Vec<&str> = by_subject.keys().copied().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let drawn = draw_subjects(subjects, (n_train, n_test), "WHU VIS-NIR", &mut rng)?;
        let mut chosen_pairs = Vec::new();
        for (split, subject) in drawn {
            let mut queues: Vec<Vec<usize>> = by_subject[subject]
                .values()
                .map(|v| {
                    let mut v = v.clone();
                    v.shuffle(&mut rng);
                    v
                })
                .collect();
            let mut chosen = Vec::new();
            while chosen.len() < pairs_per_subject {
                for q in queues.iter_mut() {
                    if let Some(i) = q.pop() {
                        if chosen.len() < pairs_per_subject {
                            chosen.push(i);
                        }
                    }
                }
            }
            for i in chosen {
                let (vis, nir) = &pairs[i];
                chosen_pairs.push(pair_of(split, subject, vis, nir));
            }
        }
        Ok(Protocol::new(chosen_pairs, Vec::new()))
    }
}
