//! Oulu-CASIA NIR-VIS: `<root>/{NI,VL}/{Dark,Strong,Weak}/P###/<Expression>/###.jpeg`, VIS and
//! NIR captured together and paired by identical relative path.

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{DatasetError, Result};
use crate::protocol::{draw_subjects, pair_indices_by_subject, pair_of, Protocol};
use crate::record::{ImageRecord, Modality};
use crate::scan::{dir_entries, is_image, pair_by_key};

/// The six expressions of the database.
pub const EXPRESSIONS: [&str; 6] = [
    "Anger",
    "Disgust",
    "Fear",
    "Happiness",
    "Sadness",
    "Surprise",
];

/// Illuminations of the database.
pub const ILLUMINATIONS: [&str; 3] = ["Dark", "Strong", "Weak"];

/// A scanned Oulu-CASIA tree.
#[derive(Debug, Clone, PartialEq)]
pub struct OuluCasia {
    /// The root directory.
    pub root: PathBuf,
    /// Every image found in the layout, sorted.
    pub records: Vec<ImageRecord>,
    /// Files or folders that do not fit the layout (relative paths), with the reason.
    pub problems: Vec<(PathBuf, String)>,
}

impl OuluCasia {
    /// Scans `root`; fails when it is missing or has neither `NI/` nor `VL/`.
    pub fn scan(root: &Path) -> Result<Self> {
        let top = dir_entries(root)?;
        let modalities: Vec<(Modality, PathBuf)> = top
            .iter()
            .filter_map(|(name, path)| match name.as_str() {
                "VL" => Some((Modality::Vis, path.clone())),
                "NI" => Some((Modality::Nir, path.clone())),
                _ => None,
            })
            .collect();
        if modalities.is_empty() {
            let found: Vec<&str> = top.iter().map(|(n, _)| n.as_str()).take(8).collect();
            return Err(DatasetError::WrongLayout {
                root: root.to_path_buf(),
                layout: "Oulu-CASIA NIR-VIS",
                found: format!("expected NI/ and VL/ folders, found [{}]", found.join(", ")),
            });
        }
        let mut records = Vec::new();
        let mut problems = Vec::new();
        let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
        for (modality, dir) in modalities {
            for (light, light_dir) in dir_entries(&dir)? {
                if !ILLUMINATIONS.contains(&light.as_str()) {
                    problems.push((
                        relative(&light_dir),
                        "unexpected illumination folder".into(),
                    ));
                    continue;
                }
                for (subject, subject_dir) in dir_entries(&light_dir)? {
                    let valid = subject.len() == 4
                        && subject.starts_with('P')
                        && subject[1..].chars().all(|c| c.is_ascii_digit());
                    if !valid {
                        problems.push((
                            relative(&subject_dir),
                            "subject folders are named P###".into(),
                        ));
                        continue;
                    }
                    for (expression, expression_dir) in dir_entries(&subject_dir)? {
                        if !EXPRESSIONS.contains(&expression.as_str()) {
                            problems.push((
                                relative(&expression_dir),
                                "unexpected expression folder".into(),
                            ));
                            continue;
                        }
                        for (file, path) in dir_entries(&expression_dir)? {
                            if !is_image(&file) {
                                problems.push((relative(&path), "not an image file name".into()));
                                continue;
                            }
                            let frame = Path::new(&file)
                                .file_stem()
                                .map(|s| s.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            records.push(ImageRecord {
                                subject: subject.clone(),
                                modality,
                                illumination: Some(light.clone()),
                                condition: expression.clone(),
                                frame,
                                path: relative(&path),
                            });
                        }
                    }
                }
            }
        }
        records.sort();
        Ok(Self {
            root: root.to_path_buf(),
            records,
            problems,
        })
    }

    /// `protocol` with up to `per_subject` held-out validation pairs of each training subject
    /// (Strong illumination, pairs the protocol does not list), drawn by `seed`.
    pub fn with_validation(&self, protocol: Protocol, per_subject: usize, seed: u64) -> Protocol {
        protocol.with_validation(
            &self.pairs().0,
            |vis| vis.illumination.as_deref() == Some("Strong"),
            per_subject,
            seed,
        )
    }

    /// Reads a protocol file of this dataset (see [`Protocol::read`]) with its VIS/NIR lines
    /// paired as this scan pairs them.
    pub fn read_protocol(&self, file: &Path) -> Result<Protocol> {
        Ok(Protocol::read_for(file, &self.root, &self.records)?.paired_by(&self.pairs().0))
    }

    /// VIS/NIR pairs by identical path below the modality folder, and the images without a twin.
    pub fn pairs(&self) -> (Vec<(ImageRecord, ImageRecord)>, Vec<ImageRecord>) {
        pair_by_key(&self.records, |r| {
            r.path.components().skip(1).collect::<PathBuf>()
        })
    }

    /// The usual Oulu-CASIA NIR-VIS protocol (Shao & Fu; the paper's section IV): Strong
    /// illumination, `n_train` / `n_test` subjects drawn by `seed`, `frames` random frames per
    /// expression (paired VIS/NIR) per subject; test = VIS gallery + NIR probes.
    pub fn protocol_split(
        &self,
        n_train: usize,
        n_test: usize,
        frames: usize,
        seed: u64,
    ) -> Result<Protocol> {
        let (pairs, _) = self.pairs();
        let mut by_subject =
            pair_indices_by_subject(&pairs, |vis| vis.illumination.as_deref() == Some("Strong"));
        by_subject.retain(|_, expressions| {
            expressions.len() == EXPRESSIONS.len()
                && expressions.values().all(|v| v.len() >= frames)
        });
        let subjects: Vec<&str> = by_subject.keys().copied().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let drawn = draw_subjects(subjects, (n_train, n_test), "Oulu-CASIA", &mut rng)?;
        let mut chosen_pairs = Vec::new();
        for (split, subject) in drawn {
            for indices in by_subject[subject].values() {
                let mut chosen = indices.clone();
                chosen.shuffle(&mut rng);
                for &i in chosen.iter().take(frames) {
                    let (vis, nir) = &pairs[i];
                    chosen_pairs.push(pair_of(split, subject, vis, nir));
                }
            }
        }
        Ok(Protocol::new(chosen_pairs, Vec::new()))
    }
}
