//! CASIA NIR-VIS 2.0 through its official protocol files: `protocols/vis_gallery_N.txt`,
//! `nir_probe_N.txt`, `vis_train_N.txt`, `nir_train_N.txt` (N = 1..10 for View 2, `dev` for
//! View 1), one Windows path per line (`s2\NIR\10153\001.bmp`), identity = third component.

use std::path::{Component, Path, PathBuf};

use crate::error::{read_text, DatasetError, Result};
use crate::protocol::{Protocol, ProtocolEntry, Role, Split};
use crate::scan::is_image;

/// A CASIA NIR-VIS 2.0 root with its `protocols/` folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Casia2 {
    /// The dataset root (the folder holding `protocols/`, `s1/`, `s2/`, ...).
    pub root: PathBuf,
}

/// The four files of one fold with the split and role of their images.
const FOLD_FILES: [(&str, Split, Role); 4] = [
    ("vis_train", Split::Train, Role::Vis),
    ("nir_train", Split::Train, Role::Nir),
    ("vis_gallery", Split::Test, Role::Gallery),
    ("nir_probe", Split::Test, Role::Probe),
];

/// A protocol fold read from the official files, with the lines whose image is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Casia2Fold {
    /// The fold as a protocol (only images that exist).
    pub protocol: Protocol,
    /// `(protocol file, line, path)` of listed images not found under the root.
    pub missing: Vec<(PathBuf, usize, PathBuf)>,
}

impl Casia2 {
    /// Opens `root`; fails when it has no `protocols/` folder.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(DatasetError::Io {
                path: root.to_path_buf(),
                message: "no such directory".into(),
            });
        }
        if !root.join("protocols").is_dir() {
            return Err(DatasetError::WrongLayout {
                root: root.to_path_buf(),
                layout: "CASIA NIR-VIS 2.0",
                found: "no protocols/ folder with vis_gallery_N.txt / nir_probe_N.txt".into(),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The fold names present (`1`..`10`, `dev`), from the `vis_gallery_*.txt` files.
    pub fn folds(&self) -> Result<Vec<String>> {
        let mut folds: Vec<String> = crate::scan::dir_entries(&self.root.join("protocols"))?
            .into_iter()
            .filter_map(|(name, _)| {
                let rest = name.strip_prefix("vis_gallery_")?.strip_suffix(".txt")?;
                Some(rest.to_string())
            })
            .collect();
        folds.sort_by_key(|f| (f.parse::<u32>().unwrap_or(u32::MAX), f.clone()));
        Ok(folds)
    }

    /// Reads fold `name` (`1`..`10` or `dev`). Malformed lines and paths escaping the root are
    /// errors with the line number; listed images that do not exist are returned in `missing`.
    pub fn fold(&self, name: &str) -> Result<Casia2Fold> {
        let mut entries = Vec::new();
        let mut missing = Vec::new();
        for (prefix, split, role) in FOLD_FILES {
            let file = self
                .root
                .join("protocols")
                .join(format!("{prefix}_{name}.txt"));
            if !file.exists() && split == Split::Train {
                continue;
            }
            let text = read_text(&file)?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let fail = |message: String| DatasetError::Protocol {
                    path: file.clone(),
                    line: i + 1,
                    message,
                };
                let path: PathBuf = line.split(['\\', '/']).collect();
                if path
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
                {
                    return Err(fail(format!(
                        "path `{line}` must stay inside the dataset root (no `..`, not absolute)"
                    )));
                }
                let parts: Vec<&str> = line.split(['\\', '/']).collect();
                if parts.len() < 4 || !is_image(line) {
                    return Err(fail(format!(
                        "expected `session\\MODALITY\\identity\\file`, got `{line}`"
                    )));
                }
                match self.resolve(&path) {
                    Some(found) => entries.push(ProtocolEntry {
                        split,
                        role,
                        subject: parts[2].to_string(),
                        path: found,
                    }),
                    None => missing.push((file.clone(), i + 1, path)),
                }
            }
        }
        Ok(Casia2Fold {
            protocol: Protocol::new(Vec::new(), entries),
            missing,
        })
    }

    /// The path as listed, or the same stem with another image extension (the official lists
    /// name `.jpg` where some releases hold `.bmp`, and the case varies).
    fn resolve(&self, path: &Path) -> Option<PathBuf> {
        if self.root.join(path).is_file() {
            return Some(path.to_path_buf());
        }
        ["jpg", "JPG", "bmp", "BMP", "png", "PNG", "jpeg"]
            .iter()
            .map(|ext| path.with_extension(ext))
            .find(|p| self.root.join(p).is_file())
    }
}
