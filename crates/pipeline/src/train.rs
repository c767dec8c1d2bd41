//! Stage 2: train one method's CycleGAN on the training pairs (resuming an interrupted run from
//! its checkpoint) and translate the VIS gallery with its VIS -> NIR generator.

use std::path::{Path, PathBuf};

use candle_core::{Device, Module, Tensor};
use image::RgbImage;
use indicatif::ProgressBar;
use visnir_gan::{data_fingerprint, Generator, TrainConfig, Trainer};
use visnir_nn::{to_image, to_tensor};

use crate::curves::{read_points, write_points, CurvePoint, Validation};
use crate::error::{io_error, PipelineError, Result};
use crate::method::Method;
use crate::scale::Settings;
use crate::split::SubjectPair;

/// Images translated per forward pass.
const BATCH: usize = 8;

/// The training configuration of `method` under `settings`, changed by `adjust` if given.
pub fn train_config(
    method: Method,
    settings: &Settings,
    adjust: Option<fn(Method, &mut TrainConfig)>,
    seed: u64,
) -> Result<TrainConfig> {
    let (architecture, loss) = method
        .model()
        .ok_or_else(|| PipelineError::Invalid(format!("{} trains no model", method.label())))?;
    let mut config = TrainConfig::cyclegan(settings.model(architecture), loss, settings.size, seed)
        .with_resize_and_crop(settings.resize_and_crop);
    config.adam.lr = settings.lr;
    config.batch_size = settings.batch_size;
    config.n_epochs = settings.n_epochs;
    config.n_epochs_decay = settings.n_epochs_decay;
    config.ema_decay = settings.ema_decay;
    if loss.pixel > 0.0 {
        config.loss.pixel = settings.pixel;
        config.loss.adversarial = settings.adversarial;
        config.loss.cycle = settings.cycle.unwrap_or(config.loss.cycle);
        config.loss.embedding = settings.embedding;
        config.loss.subject = settings.subject;
    }
    if let Some(adjust) = adjust {
        adjust(method, &mut config);
    }
    Ok(config)
}

/// A trained model and its learning curve.
pub struct Trained {
    /// The run, at the end of its schedule.
    pub trainer: Trainer,
    /// Validation points, step 0 first (empty without validation pairs).
    pub curve: Vec<CurvePoint>,
    /// The checkpoint with the best validation score, when there was validation.
    pub best: Option<PathBuf>,
}

/// Trains (or finishes training) `method` in `dir`, showing progress on `bar`; with a
/// validation set, measures it every `settings.validate_every` iterations into
/// `curves.jsonl` and keeps the best-scoring checkpoint as `best.safetensors`.
#[allow(clippy::too_many_arguments)]
pub fn train(
    method: Method,
    settings: &Settings,
    adjust: Option<fn(Method, &mut TrainConfig)>,
    seed: u64,
    pairs: &[SubjectPair],
    validation: Option<&Validation>,
    dir: &Path,
    device: &Device,
    bar: &ProgressBar,
) -> Result<Trained> {
    let config = TrainConfig {
        data: Some(data_fingerprint(pairs)),
        ..train_config(method, settings, adjust, seed)?
    };
    let mut trainer = Trainer::new(config, dir, true, device)?;
    let total = trainer.total_steps(pairs.len());
    let curves_file = dir.join("curves.jsonl");
    let best_file = dir.join("best.safetensors");
    let step = |t: &Trainer| t.progress().global_step;
    let mut curve = match validation {
        Some(_) => read_points(&curves_file, step(&trainer))?,
        None => Vec::new(),
    };
    bar.set_length(total);
    bar.set_position(step(&trainer).min(total));
    if step(&trainer) > 0 && step(&trainer) < total {
        tracing::info!(
            method = method.label(),
            step = step(&trainer),
            "resuming training from checkpoint"
        );
    }
    if let (Some(v), true) = (validation, curve.is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        curve.push(v.measure(trainer.model().translator(), step(&trainer), device)?);
        write_points(&curves_file, &curve)?;
        trainer.save_to(&best_file)?;
    }
    let every = match validation {
        Some(_) if settings.validate_every > 0 => settings.validate_every,
        _ => u64::MAX,
    };
    while step(&trainer) < total {
        let chunk = every - step(&trainer) % every;
        trainer.run(pairs, Some(chunk), |progress, losses| {
            bar.set_position(progress.global_step);
            bar.set_message(format!(
                "{}: G {:.2} D_A {:.2} D_B {:.2}",
                method.label(),
                losses.g,
                losses.d_a,
                losses.d_b
            ));
        })?;
        if let Some(v) = validation {
            let point = v.measure(trainer.model().translator(), step(&trainer), device)?;
            let best = curve.iter().map(CurvePoint::score).fold(f64::MIN, f64::max);
            curve.push(point);
            write_points(&curves_file, &curve)?;
            if point.score() > best {
                trainer.save_to(&best_file)?;
            }
            bar.set_message(format!(
                "{}: validation Rank-1 {:.1}%",
                method.label(),
                100.0 * point.rank1
            ));
        }
    }
    let best = validation.map(|_| best_file);
    Ok(Trained {
        trainer,
        curve,
        best,
    })
}

/// Translates `images` (VIS crops) to fake NIR with the trained VIS -> NIR generator.
pub fn translate(trainer: &Trainer, images: &[RgbImage], device: &Device) -> Result<Vec<RgbImage>> {
    translate_with(trainer.model().translator(), images, device)
}

/// Translates `images` with any generator, in batches.
pub fn translate_with(
    generator: &Generator,
    images: &[RgbImage],
    device: &Device,
) -> Result<Vec<RgbImage>> {
    let mut out = Vec::with_capacity(images.len());
    for chunk in images.chunks(BATCH) {
        let batch = chunk
            .iter()
            .map(|i| to_tensor(i, device))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let fake = generator.forward(&Tensor::cat(&batch, 0)?)?;
        for k in 0..chunk.len() {
            out.push(to_image(&fake.narrow(0, k, 1)?)?);
        }
    }
    Ok(out)
}
