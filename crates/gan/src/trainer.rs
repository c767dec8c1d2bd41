//! The training loop: deterministic paired augmentation, linear learning-rate decay, periodic
//! atomic checkpoints, a per-step loss log, resumption, and a clean stop on a non-finite loss.

use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use visnir_nn::to_tensor;

use crate::adam::{linear_decay_lr, AdamConfig};
use crate::checkpoint::{load_checkpoint, save_checkpoint, Progress};
use crate::cyclegan::{CycleGan, CycleGanConfig, StepLosses};
use crate::embedding_loss::{EmbeddingJudge, SubjectPrototypes};
use crate::error::TrainError;
use crate::image_pool::ImagePool;
use crate::losses::LossWeights;
use crate::training_data::{augment, TrainingPair};
use crate::weight_average::WeightAverage;

/// Everything that defines a training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The four networks.
    pub model: CycleGanConfig,
    /// Loss weights.
    pub loss: LossWeights,
    /// Optimiser settings (both optimisers).
    pub adam: AdamConfig,
    /// The discriminators' learning rate relative to the generators' (1: the same, as
    /// CycleGAN; other values give two time-scale updates).
    pub discriminator_lr_factor: f64,
    /// Epochs at the initial learning rate.
    pub n_epochs: usize,
    /// Epochs of linear decay to zero after them.
    pub n_epochs_decay: usize,
    /// Side images are resized to before cropping (CycleGAN: 286).
    pub load_size: u32,
    /// Side of the random crop fed to the networks (CycleGAN: 256).
    pub crop_size: u32,
    /// Size of each image pool (CycleGAN: 50).
    pub pool_size: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Iterations between checkpoints (0: only at the end).
    pub checkpoint_every: u64,
    /// Pairs are aligned (same crop and flip on both images); otherwise B is drawn at random.
    pub paired: bool,
    /// Pairs per iteration (CycleGAN: 1); an epoch's last batch holds what is left.
    pub batch_size: usize,
    /// A fingerprint of the training pairs ([`data_fingerprint`]), kept with the run's
    /// settings so that resuming on other data is refused; `None` leaves the data unchecked.
    pub data: Option<[u8; 32]>,
    /// Decay of the generators' weight average that translates (see [`WeightAverage`]; 0: no
    /// average, the last step's weights translate).
    pub ema_decay: f64,
}

/// Crop sides the generators and discriminators train and translate at: from 32 (the PatchGAN
/// downsamples four times) to 1024 (activations grow with the square of the side).
pub const CROP_SIDES: std::ops::RangeInclusive<u32> = 32..=1024;

/// Parses a crop side: a number in [`CROP_SIDES`] and a multiple of 4 (the generators
/// downsample twice by 2 and upsample back).
pub fn parse_crop_side(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(side) if CROP_SIDES.contains(&side) && side.is_multiple_of(4) => Ok(side),
        _ => Err(format!(
            "`{text}` is not a crop side: a multiple of 4 in {}..={}",
            CROP_SIDES.start(),
            CROP_SIDES.end()
        )),
    }
}

impl TrainConfig {
    /// CycleGAN's training settings for `model` and `loss` at `crop_size` (images resized to
    /// `crop_size * 286 / 256` first, pools of 50, Adam at 2e-4, 100 + 100 epochs, paired
    /// augmentation, batches of 1, a checkpoint every 50 iterations).
    pub fn cyclegan(model: CycleGanConfig, loss: LossWeights, crop_size: u32, seed: u64) -> Self {
        Self {
            model,
            loss,
            adam: AdamConfig::default(),
            discriminator_lr_factor: 1.0,
            n_epochs: 100,
            n_epochs_decay: 100,
            load_size: crop_size,
            crop_size,
            pool_size: 50,
            seed,
            checkpoint_every: 50,
            paired: true,
            batch_size: 1,
            data: None,
            ema_decay: 0.0,
        }
        .with_resize_and_crop(true)
    }

    /// The same settings with CycleGAN's augmentation (`true`: each pair resized to
    /// `crop_size * 286 / 256` and randomly cropped back) or without it (`false`: each pair
    /// resized to `crop_size` and only flipped, the scale of the images translated later).
    pub fn with_resize_and_crop(self, resize_and_crop: bool) -> Self {
        let load_size = if resize_and_crop {
            self.crop_size * 286 / 256
        } else {
            self.crop_size
        };
        Self { load_size, ..self }
    }

    /// The options that define a run (everything but the checkpoint interval), as saved in its
    /// checkpoints: resuming with other values is refused.
    pub fn settings(&self) -> serde_json::Value {
        let mut settings = serde_json::json!({
            "size": self.crop_size,
            "load_size": self.load_size,
            "seed": self.seed,
            "epochs": self.n_epochs,
            "epochs_decay": self.n_epochs_decay,
            "batch_size": self.batch_size,
            "paired": self.paired,
            "pool_size": self.pool_size,
            "lr": self.adam.lr,
            "discriminator_lr_factor": self.discriminator_lr_factor,
            "loss": {
                "cycle": self.loss.cycle,
                "identity": self.loss.identity,
                "pixel": self.loss.pixel,
            },
            "data": self
                .data
                .map(|d| d.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        });
        // Written only when on, so that checkpoints from before the term still resume.
        if self.loss.embedding > 0.0 {
            settings["loss"]["embedding"] = self.loss.embedding.into();
        }
        if self.loss.subject > 0.0 {
            settings["loss"]["subject"] = self.loss.subject.into();
        }
        if self.loss.adversarial != 1.0 {
            settings["loss"]["adversarial"] = self.loss.adversarial.into();
        }
        if self.ema_decay > 0.0 {
            settings["ema_decay"] = self.ema_decay.into();
        }
        settings
    }
}

/// A run in progress: model, pools, position, output directory.
pub struct Trainer {
    config: TrainConfig,
    gan: CycleGan,
    pools: [ImagePool; 2],
    progress: Progress,
    out_dir: PathBuf,
    device: Device,
    /// The subject index of each training pair, once the prototypes are built.
    subjects: Option<Vec<u32>>,
}

/// `checkpoint.safetensors` in the output directory.
pub fn checkpoint_path(out_dir: &Path) -> PathBuf {
    out_dir.join("checkpoint.safetensors")
}

impl Trainer {
    /// A new run writing into `out_dir`, or the continuation of the run saved there.
    pub fn new(
        config: TrainConfig,
        out_dir: &Path,
        resume: bool,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let mut gan = CycleGan::new(config.model, config.adam, config.seed, device)?;
        if config.loss.embedding > 0.0 || config.loss.subject > 0.0 {
            gan.set_judge(EmbeddingJudge::bundled(device)?);
        }
        if config.ema_decay > 0.0 {
            let average = WeightAverage::new(config.model, gan.varmap(), config.ema_decay, device)?;
            gan.set_weight_average(average);
        }
        let mut pools = [
            ImagePool::new(config.pool_size, config.seed ^ 0xa),
            ImagePool::new(config.pool_size, config.seed ^ 0xb),
        ];
        let path = checkpoint_path(out_dir);
        let progress = if resume && path.exists() {
            let [a, b] = &mut pools;
            let progress = load_checkpoint(&path, &mut gan, [a, b], &config.settings())?;
            truncate_log(&out_dir.join("losses.jsonl"), progress.global_step)?;
            progress
        } else {
            if !resume {
                let _ = std::fs::remove_file(out_dir.join("losses.jsonl"));
            }
            Progress::default()
        };
        Ok(Self {
            config,
            gan,
            pools,
            progress,
            out_dir: out_dir.to_path_buf(),
            device: device.clone(),
            subjects: None,
        })
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The model being trained.
    pub fn model(&self) -> &CycleGan {
        &self.gan
    }

    /// Where training stands.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Pairs per iteration (a configured 0 counts as 1).
    fn batch_size(&self) -> usize {
        self.config.batch_size.max(1)
    }

    /// Iterations of one epoch over `n_pairs` training pairs.
    pub fn steps_per_epoch(&self, n_pairs: usize) -> usize {
        n_pairs.div_ceil(self.batch_size())
    }

    /// Total iterations of the run for `n_pairs` training pairs.
    pub fn total_steps(&self, n_pairs: usize) -> u64 {
        ((self.config.n_epochs + self.config.n_epochs_decay) * self.steps_per_epoch(n_pairs)) as u64
    }

    /// Trains on `pairs` (A, B) until the schedule ends or `stop_after` more iterations ran,
    /// calling `on_step` after each iteration; checkpoints every `checkpoint_every` steps and
    /// at the end of the schedule.
    pub fn run<P: TrainingPair>(
        &mut self,
        pairs: &[P],
        stop_after: Option<u64>,
        mut on_step: impl FnMut(Progress, &StepLosses),
    ) -> Result<Progress, TrainError> {
        if pairs.is_empty() {
            return Err(TrainError::NoData);
        }
        if self.config.loss.subject > 0.0 && self.subjects.is_none() {
            self.subjects = Some(self.build_prototypes(pairs)?);
        }
        std::fs::create_dir_all(&self.out_dir).map_err(|e| TrainError::Log {
            path: self.out_dir.clone(),
            message: e.to_string(),
        })?;
        let epochs = self.config.n_epochs + self.config.n_epochs_decay;
        let mut budget = stop_after.unwrap_or(u64::MAX);
        while self.progress.epoch < epochs && budget > 0 {
            let lr = linear_decay_lr(
                self.config.adam.lr,
                self.progress.epoch,
                self.config.n_epochs,
                self.config.n_epochs_decay,
            );
            let (opt_g, opt_d) = self.gan.optimizers_mut();
            opt_g.set_lr(lr);
            opt_d.set_lr(lr * self.config.discriminator_lr_factor);
            let order = epoch_order(self.config.seed, self.progress.epoch, pairs.len());
            let batch_size = self.batch_size();
            let steps = self.steps_per_epoch(pairs.len());
            while self.progress.iteration < steps && budget > 0 {
                let step = self.progress.global_step;
                let mut rng = ChaCha8Rng::seed_from_u64(
                    self.config.seed ^ step.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                );
                let first = self.progress.iteration * batch_size;
                let batch = &order[first..(first + batch_size).min(pairs.len())];
                let (mut batch_a, mut batch_b) = (Vec::new(), Vec::new());
                for &index in batch {
                    let b = if self.config.paired {
                        pairs[index].b()
                    } else {
                        pairs[rng.random_range(0..pairs.len())].b()
                    };
                    let (a, b) =
                        augment(pairs[index].a(), b, &self.config, &mut rng, &self.device)?;
                    batch_a.push(a);
                    batch_b.push(b);
                }
                let a = Tensor::cat(&batch_a, 0)?;
                let b = Tensor::cat(&batch_b, 0)?;
                let subjects = match &self.subjects {
                    Some(all) => {
                        let ids: Vec<u32> = batch.iter().map(|&i| all[i]).collect();
                        Some(Tensor::new(ids, &self.device)?)
                    }
                    None => None,
                };
                let [pool_a, pool_b] = &mut self.pools;
                let losses = self
                    .gan
                    .train_step(
                        &a,
                        &b,
                        subjects.as_ref(),
                        self.config.loss,
                        (pool_b, pool_a),
                    )
                    .map_err(|e| TrainError::at_step(step + 1, e))?;
                self.progress.global_step += 1;
                self.progress.iteration += 1;
                budget -= 1;
                self.log(&losses, lr)?;
                on_step(self.progress, &losses);
                if self.config.checkpoint_every > 0
                    && self
                        .progress
                        .global_step
                        .is_multiple_of(self.config.checkpoint_every)
                {
                    self.save()?;
                }
            }
            if self.progress.iteration >= steps {
                self.progress.epoch += 1;
                self.progress.iteration = 0;
            }
        }
        if self.progress.epoch >= epochs {
            self.save()?;
        }
        Ok(self.progress)
    }

    /// Numbers the pairs' subjects (in sorted order) and gives the model each subject's
    /// prototypes in both domains, from the unaugmented images; returns each pair's number.
    fn build_prototypes<P: TrainingPair>(&mut self, pairs: &[P]) -> Result<Vec<u32>, TrainError> {
        let mut names = Vec::with_capacity(pairs.len());
        for (index, pair) in pairs.iter().enumerate() {
            names.push(pair.subject().ok_or(TrainError::Unlabelled { index })?);
        }
        let numbers: std::collections::BTreeMap<&str, u32> = {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.into_iter().zip(0..).collect()
        };
        let subjects: Vec<u32> = names.iter().map(|n| numbers[n]).collect();
        let images = pairs
            .iter()
            .map(|p| {
                Ok((
                    to_tensor(p.a(), &self.device)?,
                    to_tensor(p.b(), &self.device)?,
                ))
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let judge = self.gan.judge().ok_or(TrainError::Step {
            step: self.progress.global_step,
            source: candle_core::Error::Msg(crate::error::StepError::NoJudge.to_string()),
        })?;
        let prototypes = SubjectPrototypes::new(judge, &images, &subjects, numbers.len())?;
        self.gan.set_subject_prototypes(prototypes);
        Ok(subjects)
    }

    /// Writes the checkpoint now.
    pub fn save(&self) -> Result<(), TrainError> {
        self.save_to(&checkpoint_path(&self.out_dir))
    }

    /// Writes a checkpoint of the run as it is now to `path` (e.g. the best one so far).
    pub fn save_to(&self, path: &Path) -> Result<(), TrainError> {
        let [a, b] = &self.pools;
        let settings = self.config.settings();
        Ok(save_checkpoint(
            path,
            &self.gan,
            [a, b],
            self.progress,
            &settings,
        )?)
    }

    fn log(&self, losses: &StepLosses, lr: f64) -> Result<(), TrainError> {
        let path = self.out_dir.join("losses.jsonl");
        let line = serde_json::json!({
            "step": self.progress.global_step, "epoch": self.progress.epoch, "lr": lr,
            "G_A": losses.g_a, "G_B": losses.g_b, "cycle_A": losses.cycle_a, "cycle_B": losses.cycle_b,
            "idt_A": losses.idt_a, "idt_B": losses.idt_b, "pix_A": losses.pix_a, "pix_B": losses.pix_b,
            "emb_A": losses.emb_a, "emb_B": losses.emb_b, "sub_A": losses.sub_a, "sub_B": losses.sub_b,
            "G": losses.g, "D_A": losses.d_a, "D_B": losses.d_b,
        });
        let fail = |e: std::io::Error| TrainError::Log {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(fail)?;
        writeln!(file, "{line}").map_err(fail)
    }
}

/// Drops log lines of steps after `step` (they are redone after a resume).
fn truncate_log(path: &Path, step: u64) -> Result<(), TrainError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s <= step)
        })
        .collect();
    std::fs::write(
        path,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .map_err(|e| TrainError::Log {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The visiting order of an epoch: a seeded shuffle.
fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed.wrapping_add(epoch as u64)
            .wrapping_mul(0x2545_f491_4f6c_dd1d),
    );
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    order
}
