//! Where an experiment's images come from: a real dataset root, or the deterministic synthetic
//! dataset generated on first use; and the protocol that splits it.

use std::path::Path;

use indicatif::ProgressBar;
use visnir_datasets::synth::{self, SynthConfig};
use visnir_datasets::{OuluCasia, PairedLayout, Protocol, Split, Whu};

use crate::error::{io_error, Result};
use crate::scale::{Scale, Settings};

/// Generates the synthetic dataset under `root` unless a complete one with the same
/// configuration is already there.
pub fn ensure_synthetic(
    layout: PairedLayout,
    settings: &Settings,
    seed: u64,
    root: &Path,
    bar: &ProgressBar,
) -> Result<()> {
    let config = synthetic_config(layout, settings, seed);
    if is_written(&config, root) {
        return Ok(());
    }
    bar.set_length(config.image_count() as u64 / 2);
    synth::generate(&config, root, &|| bar.inc(1))?;
    let marker = root.join(MARKER);
    std::fs::write(&marker, stamp(&config)).map_err(|e| io_error(&marker, e))
}

/// The file that records which configuration wrote a synthetic dataset.
const MARKER: &str = ".visnir-synth";

/// The synthetic data of `settings` and `seed`.
fn synthetic_config(layout: PairedLayout, settings: &Settings, seed: u64) -> SynthConfig {
    let (subjects, oulu_frames, whu_per_pose) = settings.synth;
    match layout {
        PairedLayout::Oulu => SynthConfig {
            per_condition: oulu_frames,
            ..SynthConfig::oulu(subjects, seed)
        },
        PairedLayout::Whu => SynthConfig {
            per_condition: whu_per_pose,
            ..SynthConfig::whu(subjects, seed)
        },
    }
}

/// What the marker file holds for `config`.
fn stamp(config: &SynthConfig) -> String {
    format!("{config:?}\n")
}

/// Whether `config` wrote the complete synthetic dataset under `root`.
fn is_written(config: &SynthConfig, root: &Path) -> bool {
    std::fs::read_to_string(root.join(MARKER)).ok() == Some(stamp(config))
}

/// The configuration that wrote the synthetic dataset under `root` with `seed`, when one of
/// the scales' did.
pub fn written_synthetic_config(
    layout: PairedLayout,
    root: &Path,
    seed: u64,
) -> Option<SynthConfig> {
    [Scale::Tiny, Scale::Quick, Scale::Cpu, Scale::Paper]
        .into_iter()
        .map(|scale| synthetic_config(layout, &scale.settings(), seed))
        .find(|config| is_written(config, root))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_that_wrote_the_data_is_found_by_its_seed() {
        let root = std::env::temp_dir().join(format!("visnir-written-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let tiny = Scale::Tiny.settings();
        ensure_synthetic(PairedLayout::Oulu, &tiny, 3, &root, &ProgressBar::hidden()).unwrap();
        let found = written_synthetic_config(PairedLayout::Oulu, &root, 3).unwrap();
        assert_eq!(
            format!("{found:?}"),
            format!("{:?}", synthetic_config(PairedLayout::Oulu, &tiny, 3))
        );
        assert!(written_synthetic_config(PairedLayout::Oulu, &root, 4).is_none());
        assert!(written_synthetic_config(PairedLayout::Whu, &root, 3).is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
