//! Where an experiment's images come from: a real dataset root, or the deterministic synthetic
//! dataset generated on first use; and the protocol that splits it.

use std::path::Path;

use indicatif::ProgressBar;
use visnir_datasets::synth::{self, SynthConfig};
use visnir_datasets::{OuluCasia, PairedLayout, Protocol, Split, Whu};

use crate::error::{io_error, Result};
use crate::scale::Settings;

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

/// The protocol of the experiment: read from `file` (paired as the layout's scan pairs), or
/// split with the scale's sizes; with held-out validation pairs unless it has some already.
pub fn protocol(
    layout: PairedLayout,
    root: &Path,
    file: Option<&Path>,
    settings: &Settings,
    seed: u64,
) -> Result<Protocol> {
    Ok(match layout {
        PairedLayout::Oulu => {
            let (train, test, frames) = settings.oulu_split;
            let data = OuluCasia::scan(root)?;
            for (path, problem) in &data.problems {
                tracing::warn!("{}: {problem}", path.display());
            }
            let protocol = match file {
                Some(file) => data.read_protocol(file)?,
                None => data.protocol_split(train, test, frames, seed)?,
            };
            with_validation(protocol, settings, |p, n| data.with_validation(p, n, seed))
        }
        PairedLayout::Whu => {
            let (train, test, pairs) = settings.whu_split;
            let data = Whu::scan(root)?;
            for (path, problem) in &data.problems {
                tracing::warn!("{}: {problem}", path.display());
            }
            let protocol = match file {
                Some(file) => data.read_protocol(file)?,
                None => data.protocol_split(train, test, pairs, seed)?,
            };
            with_validation(protocol, settings, |p, n| data.with_validation(p, n, seed))
        }
    })
}

/// `protocol` with the settings' validation pairs added by `add` when it has none.
fn with_validation(
    protocol: Protocol,
    settings: &Settings,
    add: impl FnOnce(Protocol, usize) -> Protocol,
) -> Protocol {
    let has_some = protocol.pairs_of(Split::Validation).next().is_some();
    if has_some || settings.validation_pairs == 0 {
        protocol
    } else {
        add(protocol, settings.validation_pairs)
    }
}
