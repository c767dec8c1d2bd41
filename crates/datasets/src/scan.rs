//! Directory walking and pairing shared by the layout scanners.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::record::{ImageRecord, Modality};

/// The entries of a directory as `(name, path)`, sorted by name, without hidden entries
/// (`.DS_Store`, visnir's own `.visnir-synth` stamp); a missing or unreadable directory is an
/// error naming it.
pub fn dir_entries(path: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(path).map_err(|e| DatasetError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    out.sort();
    Ok(out)
}

/// Whether a file name has an image extension (any case).
pub fn is_image(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".jpeg", ".jpg", ".png", ".bmp"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// VIS/NIR pairs of records with equal `key`, and the records without a twin.
pub fn pair_by_key<K: Ord>(
    records: &[ImageRecord],
    key: impl Fn(&ImageRecord) -> K,
) -> (Vec<(ImageRecord, ImageRecord)>, Vec<ImageRecord>) {
    let mut nir: BTreeMap<K, &ImageRecord> = records
        .iter()
        .filter(|r| r.modality == Modality::Nir)
        .map(|r| (key(r), r))
        .collect();
    let mut pairs = Vec::new();
    let mut unpaired = Vec::new();
    for vis in records.iter().filter(|r| r.modality == Modality::Vis) {
        match nir.remove(&key(vis)) {
            Some(n) => pairs.push((vis.clone(), n.clone())),
            None => unpaired.push(vis.clone()),
        }
    }
    unpaired.extend(nir.into_values().cloned());
    (pairs, unpaired)
}
