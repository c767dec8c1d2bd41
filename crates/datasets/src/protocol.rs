//! Protocol files: one line per image, `split role subject path` (path relative to the root),
//! so that a split is written once and reused by every tool. Lines starting with `#` are
//! comments.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{read_text, DatasetError, Result};
use crate::record::ImageRecord;

/// Training, validation or testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Split {
    /// Used to train the translation models.
    Train,
    /// Used to evaluate.
    Test,
    /// Held-out images of the training subjects, never trained on: the learning curves.
    Validation,
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

/// One protocol line: an image with its split, role and subject.
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

/// A VIS image and its NIR twin (the same scene, the same subject), paired when the dataset was
/// scanned. In training the two are a `vis`/`nir` pair; in testing the VIS image is a gallery
/// image and the NIR image a probe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pair {
    /// Train or test.
    pub split: Split,
    /// Subject identity.
    pub subject: String,
    /// The VIS image, relative to the dataset root.
    pub vis: PathBuf,
    /// Its NIR twin, relative to the dataset root.
    pub nir: PathBuf,
}

/// A complete split of a dataset: the VIS/NIR pairs, and the images that have no twin in the
/// protocol (CASIA NIR-VIS 2.0 lists its VIS and NIR images separately).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Protocol {
    /// Every pair, sorted (split, subject, VIS path).
    pub pairs: Vec<Pair>,
    /// Every image outside a pair, sorted.
    pub unpaired: Vec<ProtocolEntry>,
}

const SPLITS: [(&str, Split); 3] = [
    ("train", Split::Train),
    ("test", Split::Test),
    ("val", Split::Validation),
];
const ROLES: [(&str, Role); 4] = [
    ("vis", Role::Vis),
    ("nir", Role::Nir),
    ("gallery", Role::Gallery),
    ("probe", Role::Probe),
];

impl Role {
    /// The VIS and the NIR role of `split`: `vis`/`nir` in training and validation,
    /// `gallery`/`probe` in testing.
    fn of_pair(split: Split) -> (Role, Role) {
        match split {
            Split::Train | Split::Validation => (Role::Vis, Role::Nir),
            Split::Test => (Role::Gallery, Role::Probe),
        }
    }
}

impl Pair {
    /// The pair's two images as protocol lines (VIS first).
    pub fn entries(&self) -> [ProtocolEntry; 2] {
        let (vis_role, nir_role) = Role::of_pair(self.split);
        let entry = |role, path: &Path| ProtocolEntry {
            split: self.split,
            role,
            subject: self.subject.clone(),
            path: path.to_path_buf(),
        };
        [entry(vis_role, &self.vis), entry(nir_role, &self.nir)]
    }
}

impl Protocol {
    /// A protocol of `pairs` and `unpaired` images, both sorted.
    pub fn new(mut pairs: Vec<Pair>, mut unpaired: Vec<ProtocolEntry>) -> Self {
        pairs.sort();
        unpaired.sort();
        Self { pairs, unpaired }
    }

    /// Every image of the protocol, paired or not, as sorted protocol lines.
    pub fn entries(&self) -> Vec<ProtocolEntry> {
        let mut entries: Vec<ProtocolEntry> = self
            .pairs
            .iter()
            .flat_map(Pair::entries)
            .chain(self.unpaired.iter().cloned())
            .collect();
        entries.sort();
        entries
    }

    /// The pairs of one split, in order.
    pub fn pairs_of(&self, split: Split) -> impl Iterator<Item = &Pair> {
        self.pairs.iter().filter(move |p| p.split == split)
    }

    /// The images of one split and role, paired or not, sorted.
    pub fn select(&self, split: Split, role: Role) -> impl Iterator<Item = ProtocolEntry> {
        self.entries()
            .into_iter()
            .filter(move |e| e.split == split && e.role == role)
    }

    /// The text of the protocol file: one `split role subject path` line per image.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# visnir protocol: split role subject path (relative to the dataset root)\n",
        );
        for e in self.entries() {
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
    /// existing, and listed once. Errors name the file and line. The file lists images, not
    /// pairs: every image comes back unpaired until [`Protocol::paired_by`] matches twins.
    pub fn read(file: &Path, root: &Path) -> Result<Self> {
        Self::read_for(file, root, &[])
    }

    /// [`Protocol::read`] for a dataset whose scan found `records`: each line must name one of
    /// them (not a file the layout does not hold), with the subject its path belongs to.
    pub fn read_for(file: &Path, root: &Path, records: &[ImageRecord]) -> Result<Self> {
        let subjects: BTreeMap<&Path, &str> = records
            .iter()
            .map(|r| (r.path.as_path(), r.subject.as_str()))
            .collect();
        let mut seen: BTreeMap<PathBuf, usize> = BTreeMap::new();
        let text = read_text(file)?;
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
            if let Some(first) = seen.insert(path.clone(), n) {
                return Err(fail(
                    n,
                    format!("{} is listed twice (first at line {first})", path.display()),
                ));
            }
            if !records.is_empty() {
                match subjects.get(path.as_path()) {
                    None => {
                        return Err(fail(
                            n,
                            format!(
                                "{} is not an image of this dataset's layout",
                                path.display()
                            ),
                        ))
                    }
                    Some(owner) if *owner != subject => {
                        return Err(fail(
                            n,
                            format!(
                                "subject `{subject}` disagrees with the path {}, which belongs to `{owner}`",
                                path.display()
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
            entries.push(ProtocolEntry {
                split,
                role,
                subject: subject.to_string(),
                path,
            });
        }
        Ok(Self::new(Vec::new(), entries))
    }

    /// Pairs the unpaired images that are `twins` of each other (the VIS/NIR pairs a scanner
    /// found) when both are listed in the same split with the same subject, in their split's
    /// VIS and NIR roles; the others stay unpaired.
    pub fn paired_by(self, twins: &[(ImageRecord, ImageRecord)]) -> Self {
        let Self {
            mut pairs,
            unpaired,
        } = self;
        let twin_of: BTreeMap<&Path, &Path> = twins
            .iter()
            .map(|(vis, nir)| (vis.path.as_path(), nir.path.as_path()))
            .collect();
        let nir_lines: BTreeMap<(Split, &str, &Path), usize> = unpaired
            .iter()
            .enumerate()
            .filter(|(_, e)| e.role == Role::of_pair(e.split).1)
            .map(|(i, e)| ((e.split, e.subject.as_str(), e.path.as_path()), i))
            .collect();
        let mut used = vec![false; unpaired.len()];
        for (i, e) in unpaired.iter().enumerate() {
            if e.role != Role::of_pair(e.split).0 {
                continue;
            }
            let Some(nir) = twin_of.get(e.path.as_path()) else {
                continue;
            };
            if let Some(&j) = nir_lines.get(&(e.split, e.subject.as_str(), *nir)) {
                if !used[j] {
                    used[i] = true;
                    used[j] = true;
                    pairs.push(Pair {
                        split: e.split,
                        subject: e.subject.clone(),
                        vis: e.path.clone(),
                        nir: nir.to_path_buf(),
                    });
                }
            }
        }
        let unpaired = unpaired
            .into_iter()
            .zip(used)
            .filter_map(|(e, used)| (!used).then_some(e))
            .collect();
        Self::new(pairs, unpaired)
    }

    /// Adds up to `per_subject` validation pairs for every training subject, drawn by `seed`
    /// from the `twins` (a scanner's pairs) that pass `keep` and are not already in the
    /// protocol. The existing splits are unchanged.
    pub(crate) fn with_validation(
        mut self,
        twins: &[(ImageRecord, ImageRecord)],
        keep: impl Fn(&ImageRecord) -> bool,
        per_subject: usize,
        seed: u64,
    ) -> Self {
        let listed: BTreeSet<&Path> = self
            .pairs
            .iter()
            .flat_map(|p| [p.vis.as_path(), p.nir.as_path()])
            .chain(self.unpaired.iter().map(|e| e.path.as_path()))
            .collect();
        let training: BTreeSet<&str> = self
            .pairs_of(Split::Train)
            .map(|p| p.subject.as_str())
            .collect();
        let mut by_subject: BTreeMap<&str, Vec<&(ImageRecord, ImageRecord)>> = BTreeMap::new();
        for twin in twins {
            let (vis, nir) = twin;
            if keep(vis)
                && training.contains(vis.subject.as_str())
                && !listed.contains(vis.path.as_path())
                && !listed.contains(nir.path.as_path())
            {
                by_subject.entry(&vis.subject).or_default().push(twin);
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7661_6c69_6461_7465);
        let mut added = Vec::new();
        for (subject, mut candidates) in by_subject {
            candidates.shuffle(&mut rng);
            for (vis, nir) in candidates.into_iter().take(per_subject) {
                added.push(pair_of(Split::Validation, subject, vis, nir));
            }
        }
        self.pairs.extend(added);
        Self::new(self.pairs, self.unpaired)
    }
}

/// The pair of `vis` and `nir` records of `subject` in `split`.
pub(crate) fn pair_of(split: Split, subject: &str, vis: &ImageRecord, nir: &ImageRecord) -> Pair {
    Pair {
        split,
        subject: subject.to_string(),
        vis: vis.path.clone(),
        nir: nir.path.clone(),
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
