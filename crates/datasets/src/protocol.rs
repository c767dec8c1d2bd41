//! Protocol files: one line per image, `split role subject path` (path relative to the root),
//! so that a split is written once and reused by every tool. Lines starting with `#` are
//! comments.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{DatasetError, Result};
use crate::oulu::OuluCasia;
use crate::record::ImageRecord;

/// Training or testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Split {
    /// Used to train the translation models.
    Train,
    /// Used to evaluate.
    Test,
}

/// The role of an image within its split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A VIS training image.
    Vis,
    /// An NIR training image.
    Nir,
    /// A VIS gallery image (test).
    Gallery,
    /// An NIR probe image (test).
    Probe,
}

/// One protocol line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProtocolEntry {
    /// Train or test.
    pub split: Split,
    /// Role within the split.
    pub role: Role,
    /// Subject identity.
    pub subject: String,
    /// Path relative to the dataset root.
    pub path: PathBuf,
}

/// A complete split of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Protocol {
    /// Every entry, sorted.
    pub entries: Vec<ProtocolEntry>,
}

const SPLITS: [(&str, Split); 2] = [("train", Split::Train), ("test", Split::Test)];
const ROLES: [(&str, Role); 4] = [
    ("vis", Role::Vis),
    ("nir", Role::Nir),
    ("gallery", Role::Gallery),
    ("probe", Role::Probe),
];

impl ProtocolEntry {
    /// The two entries of a VIS/NIR pair: `vis`/`nir` roles in training, `gallery`/`probe` in
    /// testing.
    pub fn pair(split: Split, subject: &str, vis: &Path, nir: &Path) -> [Self; 2] {
        let (vis_role, nir_role) = match split {
            Split::Train => (Role::Vis, Role::Nir),
            Split::Test => (Role::Gallery, Role::Probe),
        };
        [
            Self {
                split,
                role: vis_role,
                subject: subject.to_string(),
                path: vis.to_path_buf(),
            },
            Self {
                split,
                role: nir_role,
                subject: subject.to_string(),
                path: nir.to_path_buf(),
            },
        ]
    }
}

impl Protocol {
    /// The text of the protocol file.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# visnir protocol: split role subject path (relative to the dataset root)\n",
        );
        for e in &self.entries {
            let split = SPLITS
                .iter()
                .find(|(_, s)| *s == e.split)
                .map_or("?", |(n, _)| n);
            let role = ROLES
                .iter()
                .find(|(_, r)| *r == e.role)
                .map_or("?", |(n, _)| n);
            let _ = writeln!(out, "{split} {role} {} {}", e.subject, e.path.display());
        }
        out
    }

    /// Parses a protocol file and checks every path against `root`: relative, inside the root,
    /// and existing. Errors name the file and line.
    pub fn read(file: &Path, root: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file).map_err(|e| DatasetError::Io {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        let fail = |line: usize, message: String| DatasetError::Protocol {
            path: file.to_path_buf(),
            line,
            message,
        };
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.splitn(4, ' ').collect();
            let [split, role, subject, path] = fields[..] else {
                return Err(fail(
                    n,
                    format!("expected `split role subject path`, got `{line}`"),
                ));
            };
            let split = SPLITS
                .iter()
                .find(|(s, _)| *s == split)
                .map(|(_, v)| *v)
                .ok_or_else(|| fail(n, format!("unknown split `{split}`")))?;
            let role = ROLES
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, v)| *v)
                .ok_or_else(|| fail(n, format!("unknown role `{role}`")))?;
            let path = PathBuf::from(path);
            if path
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(fail(
                    n,
                    format!(
                        "path `{}` must stay inside the dataset root (no `..`, not absolute)",
                        path.display()
                    ),
                ));
            }
            if !root.join(&path).is_file() {
                return Err(fail(
                    n,
                    format!("{} does not exist under {}", path.display(), root.display()),
                ));
            }
            entries.push(ProtocolEntry {
                split,
                role,
                subject: subject.to_string(),
                path,
            });
        }
        entries.sort();
        Ok(Self { entries })
    }

    /// Entries of one split and role.
    pub fn select(&self, split: Split, role: Role) -> impl Iterator<Item = &ProtocolEntry> {
        self.entries
            .iter()
            .filter(move |e| e.split == split && e.role == role)
    }
}

/// Indices of `pairs` grouped by subject, then condition (expression or pose tag), keeping
/// the pairs whose VIS record passes `keep`.
pub(crate) fn pair_indices_by_subject(
    pairs: &[(ImageRecord, ImageRecord)],
    keep: impl Fn(&ImageRecord) -> bool,
) -> BTreeMap<&str, BTreeMap<&str, Vec<usize>>> {
    let mut by_subject: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for (i, (vis, _)) in pairs.iter().enumerate().filter(|(_, (vis, _))| keep(vis)) {
        by_subject
            .entry(&vis.subject)
            .or_default()
            .entry(&vis.condition)
            .or_default()
            .push(i);
    }
    by_subject
}

/// Shuffles `subjects` with `rng` and assigns the first `n_train` to training and the next
/// `n_test` to testing; an error names the layout when there are too few.
pub(crate) fn draw_subjects<'a>(
    mut subjects: Vec<&'a str>,
    (n_train, n_test): (usize, usize),
    layout: &'static str,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(Split, &'a str)>> {
    if subjects.len() < n_train + n_test {
        return Err(DatasetError::TooFewSubjects {
            layout,
            needed: n_train + n_test,
            found: subjects.len(),
        });
    }
    subjects.shuffle(rng);
    Ok(subjects
        .into_iter()
        .take(n_train + n_test)
        .enumerate()
        .map(|(k, s)| {
            (
                if k < n_train {
                    Split::Train
                } else {
                    Split::Test
                },
                s,
            )
        })
        .collect())
}

impl OuluCasia {
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
            expressions.len() == crate::oulu::EXPRESSIONS.len()
                && expressions.values().all(|v| v.len() >= frames)
        });
        let subjects: Vec<&str> = by_subject.keys().copied().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let drawn = draw_subjects(subjects, (n_train, n_test), "Oulu-CASIA", &mut rng)?;
        let mut entries = Vec::new();
        for (split, subject) in drawn {
            for indices in by_subject[subject].values() {
                let mut chosen = indices.clone();
                chosen.shuffle(&mut rng);
                for &i in chosen.iter().take(frames) {
                    let (vis, nir) = &pairs[i];
                    entries.extend(ProtocolEntry::pair(split, subject, &vis.path, &nir.path));
                }
            }
        }
        entries.sort();
        Ok(Protocol { entries })
    }
}
