//! Training checkpoints: every variable, both optimisers' moments and step counts, the image
//! pools with their random generators, and the position in the schedule, in one safetensors
//! file written atomically (temporary file + rename).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::cyclegan::CycleGan;
use crate::error::CheckpointError;
use crate::image_pool::ImagePool;

/// Where training stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Iterations completed since the start of training.
    pub global_step: u64,
    /// Epoch in progress (0-based).
    pub epoch: usize,
    /// Iterations completed within that epoch.
    pub iteration: usize,
}

fn rng_json(rng: &ChaCha8Rng) -> serde_json::Value {
    let seed: String = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
    json!({"seed": seed, "stream": rng.get_stream().to_string(), "word_pos": rng.get_word_pos().to_string()})
}

fn rng_from_json(v: &serde_json::Value) -> Option<ChaCha8Rng> {
    use rand::SeedableRng;
    let hex = v["seed"].as_str()?;
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let mut rng = ChaCha8Rng::from_seed(seed);
    rng.set_stream(v["stream"].as_str()?.parse().ok()?);
    rng.set_word_pos(v["word_pos"].as_str()?.parse().ok()?);
    Some(rng)
}

/// The `visnir` metadata that [`save_checkpoint`] writes into a safetensors header, if present.
pub(crate) fn visnir_metadata(header: &safetensors::tensor::Metadata) -> Option<serde_json::Value> {
    serde_json::from_str(header.metadata().as_ref()?.get("visnir")?).ok()
}

/// What a visnir checkpoint's metadata says about its generators; files without it hold plain
/// ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GeneratorKind {
    /// The generators add their output to their input.
    pub residual: bool,
    /// G_A's output is grey.
    pub monochrome_b: bool,
    /// The generators have a learned skip affine.
    pub skip_affine: bool,
    /// The side of the generators' learned shading map, if they have one.
    pub shading_map: Option<usize>,
}

impl GeneratorKind {
    /// The kind of `gan`'s generators.
    fn of(gan: &CycleGan) -> Self {
        Self {
            residual: gan.g_a.is_residual(),
            monochrome_b: gan.g_a.is_monochrome(),
            skip_affine: gan.g_a.has_skip_affine(),
            shading_map: gan.g_a.shading_map_side(),
        }
    }

    /// The kind recorded in a checkpoint's visnir metadata (absent keys: false).
    pub(crate) fn from_meta(meta: &serde_json::Value) -> Self {
        let flag = |key: &str| meta[key].as_bool().unwrap_or(false);
        Self {
            residual: flag("residual"),
            monochrome_b: flag("monochrome_b"),
            skip_affine: flag("skip_affine"),
            shading_map: meta["shading_map"]
                .as_u64()
                .and_then(|side| usize::try_from(side).ok()),
        }
    }
}

/// Writes a checkpoint atomically: a crash mid-write leaves the previous file intact. `settings`
/// (the run's options, e.g. [`crate::TrainConfig::settings`]) are stored with it, so that a
/// resume with other options is refused.
pub fn save_checkpoint(
    path: &Path,
    gan: &CycleGan,
    pools: [&ImagePool; 2],
    progress: Progress,
    settings: &serde_json::Value,
) -> Result<(), CheckpointError> {
    let io = |e: &dyn std::fmt::Display| CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    push_vars(gan.varmap(), "net.", &mut tensors).map_err(|e| io(&e))?;
    if let Some(average) = gan.weight_average() {
        push_vars(average.varmap(), "avg.", &mut tensors).map_err(|e| io(&e))?;
    }
    let (opt_g, opt_d) = gan.optimizers();
    for (tag, opt) in [("G", opt_g), ("D", opt_d)] {
        let (_, first, second) = opt.state();
        for (i, (m, v)) in first.iter().zip(second).enumerate() {
            tensors.push((format!("opt.{tag}.m.{i:05}"), m.clone()));
            tensors.push((format!("opt.{tag}.v.{i:05}"), v.clone()));
        }
    }
    for (tag, pool) in ["A", "B"].iter().zip(pools) {
        for (i, image) in pool.images().iter().enumerate() {
            tensors.push((format!("pool.{tag}.{i:03}"), image.clone()));
        }
    }
    let kind = GeneratorKind::of(gan);
    let meta = json!({
        "format": "visnir-cyclegan-checkpoint-2",
        "global_step": progress.global_step,
        "epoch": progress.epoch,
        "iteration": progress.iteration,
        "opt_g_steps": opt_g.steps(),
        "opt_d_steps": opt_d.steps(),
        "opt_g_lr": opt_g.lr(),
        "opt_d_lr": opt_d.lr(),
        "pool_a_rng": rng_json(pools[0].rng()),
        "pool_b_rng": rng_json(pools[1].rng()),
        "residual": kind.residual,
        "monochrome_b": kind.monochrome_b,
        "skip_affine": kind.skip_affine,
        "shading_map": kind.shading_map,
        "settings": settings,
    });
    let metadata = HashMap::from([("visnir".to_string(), meta.to_string())]);
    let cpu: Vec<(String, Tensor)> = tensors
        .into_iter()
        .map(|(n, t)| Ok((n, t.to_device(&Device::Cpu)?)))
        .collect::<candle_core::Result<_>>()?;
    let bytes = safetensors::serialize(cpu.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
        .map_err(|e| io(&e))?;
    let tmp = path.with_extension("safetensors.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| io(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(&e))
}

/// The options in which `saved` and `current` differ, as `name saved (now current)`.
fn settings_diff(saved: &serde_json::Value, current: &serde_json::Value) -> Vec<String> {
    let (Some(saved), Some(current)) = (saved.as_object(), current.as_object()) else {
        return Vec::new();
    };
    let mut names: Vec<&String> = saved.keys().chain(current.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| saved.get(*n) != current.get(*n))
        .map(|n| {
            let show = |v: Option<&serde_json::Value>| v.map_or("unset".into(), |v| v.to_string());
            format!("{n} {} (now {})", show(saved.get(n)), show(current.get(n)))
        })
        .collect()
}

/// Restores a checkpoint into `gan` and `pools`; returns where training stood. A checkpoint
/// saved with other `settings` than these is refused (older checkpoints record none).
pub fn load_checkpoint(
    path: &Path,
    gan: &mut CycleGan,
    pools: [&mut ImagePool; 2],
    settings: &serde_json::Value,
) -> Result<Progress, CheckpointError> {
    let format = |message: String| CheckpointError::Format {
        path: path.to_path_buf(),
        message,
    };
    let bytes = visnir_nn::read_regular_file(path, visnir_nn::MAX_WEIGHT_FILE_BYTES).map_err(
        |message| CheckpointError::Io {
            path: path.to_path_buf(),
            message,
        },
    )?;
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
    let meta = visnir_metadata(&header)
        .ok_or_else(|| format("no visnir training metadata (not a training checkpoint)".into()))?;
    if meta["format"] != "visnir-cyclegan-checkpoint-2" {
        return Err(format(format!(
            "checkpoint format {} is not visnir-cyclegan-checkpoint-2 (checkpoints of older \
             visnir versions cannot be resumed; start the run again)",
            meta["format"]
        )));
    }
    if !meta["settings"].is_null() {
        let differences = settings_diff(&meta["settings"], settings);
        if !differences.is_empty() {
            return Err(format(format!(
                "the run was started with other settings: {}; resume with the same options, \
                 or start a new run in another output directory",
                differences.join(", ")
            )));
        }
    }
    let (saved, model) = (GeneratorKind::from_meta(&meta), GeneratorKind::of(gan));
    let differences = [
        (
            saved.residual,
            model.residual,
            "generators are",
            "residual",
            "not residual",
        ),
        (
            saved.monochrome_b,
            model.monochrome_b,
            "G_A outputs are",
            "grey",
            "colour",
        ),
        (
            saved.skip_affine,
            model.skip_affine,
            "generators' skips are",
            "learned affines",
            "the identity",
        ),
    ];
    for (saved, model, what, yes, no) in differences {
        if saved != model {
            let kind = |b: bool| if b { yes } else { no };
            return Err(format(format!(
                "the checkpoint's {what} {}, the model's are {}; resume with the same \
                 options, or start a new run in another output directory",
                kind(saved),
                kind(model)
            )));
        }
    }
    if saved.shading_map != model.shading_map {
        let side = |s: Option<usize>| match s {
            Some(side) => format!("a {side} x {side} shading map"),
            None => "no shading map".to_string(),
        };
        return Err(format(format!(
            "the checkpoint's generators have {}, the model's have {}; resume with the same \
             options, or start a new run in another output directory",
            side(saved.shading_map),
            side(model.shading_map)
        )));
    }
    let device = gan
        .varmap()
        .all_vars()
        .first()
        .map(|v| v.device().clone())
        .unwrap_or(Device::Cpu);
    let tensors = candle_core::safetensors::load_buffer(&bytes, &device)?;
    restore_vars(gan.varmap(), "net.", &tensors).map_err(format)?;
    if let Some(average) = gan.weight_average() {
        restore_vars(average.varmap(), "avg.", &tensors).map_err(format)?;
    }
    let moments = |tag: &str, kind: &str, n: usize| -> Result<Vec<Tensor>, CheckpointError> {
        (0..n)
            .map(|i| {
                tensors
                    .get(&format!("opt.{tag}.{kind}.{i:05}"))
                    .cloned()
                    .ok_or_else(|| format(format!("missing optimizer state {tag}.{kind}.{i}")))
            })
            .collect()
    };
    let step_of = |key: &str| {
        meta[key]
            .as_u64()
            .ok_or_else(|| format(format!("missing {key}")))
    };
    let (opt_g, opt_d) = gan.optimizers_mut();
    for (tag, opt, key, lr) in [
        ("G", opt_g, "opt_g_steps", "opt_g_lr"),
        ("D", opt_d, "opt_d_steps", "opt_d_lr"),
    ] {
        let n = opt.state().0.len();
        opt.restore(moments(tag, "m", n)?, moments(tag, "v", n)?, step_of(key)?)?;
        opt.set_lr(
            meta[lr]
                .as_f64()
                .ok_or_else(|| format(format!("missing {lr}")))?,
        );
    }
    for ((tag, key), pool) in [("A", "pool_a_rng"), ("B", "pool_b_rng")]
        .into_iter()
        .zip(pools)
    {
        let mut images = Vec::new();
        while let Some(t) = tensors.get(&format!("pool.{tag}.{:03}", images.len())) {
            images.push(t.clone());
        }
        let rng = rng_from_json(&meta[key]).ok_or_else(|| format(format!("bad {key}")))?;
        pool.restore(images, rng);
    }
    Ok(Progress {
        global_step: step_of("global_step")?,
        epoch: step_of("epoch")? as usize,
        iteration: step_of("iteration")? as usize,
    })
}

/// Appends every variable of `varmap` as `<prefix><name>`.
fn push_vars(
    varmap: &VarMap,
    prefix: &str,
    tensors: &mut Vec<(String, Tensor)>,
) -> Result<(), String> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| "poisoned var map".to_string())?;
    for (name, var) in data.iter() {
        tensors.push((format!("{prefix}{name}"), var.as_tensor().clone()));
    }
    Ok(())
}

/// Sets every variable of `varmap` to the saved tensor `<prefix><name>`.
fn restore_vars(
    varmap: &VarMap,
    prefix: &str,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), String> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| "poisoned var map".to_string())?;
    for (name, var) in data.iter() {
        let saved = tensors
            .get(&format!("{prefix}{name}"))
            .ok_or_else(|| format!("missing {prefix}{name}"))?;
        if saved.dims() != var.dims() {
            return Err(format!(
                "{prefix}{name} has shape {:?}, the model {:?}",
                saved.dims(),
                var.dims()
            ));
        }
        var.set(saved).map_err(|e| format!("{prefix}{name}: {e}"))?;
    }
    Ok(())
}
