//! Stage 2: train one method's CycleGAN on the training pairs (resuming an interrupted run from
//! its checkpoint) and translate the VIS gallery with its VIS -> NIR generator.

use std::path::Path;

use candle_core::{Device, Module, Tensor};
use image::RgbImage;
use indicatif::ProgressBar;
use visnir_gan::{to_image, to_tensor, AdamConfig, Generator, TrainConfig, Trainer};

use crate::error::{PipelineError, Result};
use crate::preset::{Method, Settings};

/// Images translated per forward pass.
const BATCH: usize = 8;

/// The training configuration of `method` under `settings`.
pub fn train_config(method: Method, settings: &Settings, seed: u64) -> Result<TrainConfig> {
    let loss = method
        .loss()
        .ok_or_else(|| PipelineError::Invalid(format!("{} trains no model", method.label())))?;
    Ok(TrainConfig {
        model: settings.model(method),
        loss: loss.weights(),
        adam: AdamConfig {
            lr: settings.lr,
            ..AdamConfig::default()
        },
        n_epochs: settings.n_epochs,
        n_epochs_decay: settings.n_epochs_decay,
        load_size: settings.size * 286 / 256,
        crop_size: settings.size,
        pool_size: 50,
        seed,
        checkpoint_every: 50,
        paired: true,
    })
}

/// Trains (or finishes training) `method` in `dir`, showing progress on `bar`.
pub fn train(
    method: Method,
    settings: &Settings,
    seed: u64,
    pairs: &[(RgbImage, RgbImage)],
    dir: &Path,
    device: &Device,
    bar: &ProgressBar,
) -> Result<Trainer> {
    let config = train_config(method, settings, seed)?;
    let mut trainer = Trainer::new(config, dir, true, device)?;
    let total = trainer.total_steps(pairs.len());
    bar.set_length(total);
    bar.set_position(trainer.progress().global_step.min(total));
    if trainer.progress().global_step < total {
        if trainer.progress().global_step > 0 {
            tracing::info!(
                method = method.label(),
                step = trainer.progress().global_step,
                "resuming training from checkpoint"
            );
        }
        trainer.run(pairs, None, |progress, losses| {
            bar.set_position(progress.global_step);
            bar.set_message(format!(
                "{}: G {:.2} D_A {:.2} D_B {:.2}",
                method.label(),
                losses.g,
                losses.d_a,
                losses.d_b
            ));
        })?;
    }
    Ok(trainer)
}

/// Translates `images` (VIS crops) to fake NIR with the trained VIS -> NIR generator.
pub fn translate(trainer: &Trainer, images: &[RgbImage], device: &Device) -> Result<Vec<RgbImage>> {
    translate_with(&trainer.model().g_a, images, device)
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
