//! Where an experiment's images come from: a real dataset root, or the deterministic synthetic
//! dataset generated on first use; and the protocol that splits it.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use indicatif::ProgressBar;
use visnir_datasets::synth::{self, SynthConfig};
use visnir_datasets::{OuluCasia, PairedLayout, Protocol, ProtocolEntry, Role, Split, Whu};

use crate::error::{io_error, Result};
use crate::preset::Settings;

/// Generates the synthetic dataset under `root` unless a complete one with the same
/// configuration is already there.
pub fn ensure_synthetic(
    layout: PairedLayout,
    settings: &Settings,
    seed: u64,
    root: &Path,
    bar: &ProgressBar,
) -> Result<()> {
    let (subjects, oulu_frames, whu_per_pose) = settings.synth;
    let config = match layout {
        PairedLayout::Oulu => SynthConfig {
            per_condition: oulu_frames,
            ..SynthConfig::oulu(subjects, seed)
        },
        PairedLayout::Whu => SynthConfig {
            per_condition: whu_per_pose,
            ..SynthConfig::whu(subjects, seed)
        },
    };
    let marker = root.join(".visnir-synth");
    let stamp = format!("{config:?}\n");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    bar.set_length(config.image_count() as u64 / 2);
    synth::generate(&config, root, &|| bar.inc(1))?;
    std::fs::write(&marker, stamp).map_err(|e| io_error(&marker, e))
}

/// The protocol of the experiment: read from `file`, or split with the preset's sizes.
pub fn protocol(
    layout: PairedLayout,
    root: &Path,
    file: Option<&Path>,
    settings: &Settings,
    seed: u64,
) -> Result<Protocol> {
    if let Some(file) = file {
        return Ok(Protocol::read(file, root)?);
    }
    Ok(match layout {
        PairedLayout::Oulu => {
            let (train, test, frames) = settings.oulu_split;
            let data = OuluCasia::scan(root)?;
            for (path, problem) in &data.problems {
                tracing::warn!("{}: {problem}", path.display());
            }
            data.protocol_split(train, test, frames, seed)?
        }
        PairedLayout::Whu => {
            let (train, test, pairs) = settings.whu_split;
            let data = Whu::scan(root)?;
            for (path, problem) in &data.problems {
                tracing::warn!("{}: {problem}", path.display());
            }
            data.protocol_split(train, test, pairs, seed)?
        }
    })
}

/// The key pairing a VIS and an NIR entry: subject plus the path without its modality folder
/// and extension (Oulu `VL/…/001.jpeg` ~ `NI/…/001.jpeg`, WHU `S1/vis/x.jpg` ~ `S1/nir/x.jpg`).
pub fn pair_key(entry: &ProtocolEntry) -> (String, PathBuf) {
    let stripped: PathBuf = entry
        .path
        .with_extension("")
        .components()
        .filter(|c| match c {
            Component::Normal(name) => {
                let name = name.to_string_lossy().to_ascii_lowercase();
                !["vl", "ni", "vis", "nir"].contains(&name.as_str())
            }
            _ => true,
        })
        .collect();
    (entry.subject.clone(), stripped)
}

/// Training pairs `(vis, nir)` of the protocol by [`pair_key`]; unmatched entries are logged.
pub fn training_pairs(protocol: &Protocol) -> Vec<(ProtocolEntry, ProtocolEntry)> {
    let mut nir: BTreeMap<(String, PathBuf), &ProtocolEntry> = protocol
        .select(Split::Train, Role::Nir)
        .map(|e| (pair_key(e), e))
        .collect();
    let mut pairs = Vec::new();
    for vis in protocol.select(Split::Train, Role::Vis) {
        match nir.remove(&pair_key(vis)) {
            Some(n) => pairs.push((vis.clone(), n.clone())),
            None => tracing::warn!(
                "{}: training image without an NIR twin, skipped",
                vis.path.display()
            ),
        }
    }
    for n in nir.values() {
        tracing::warn!(
            "{}: training image without a VIS twin, skipped",
            n.path.display()
        );
    }
    pairs
}
