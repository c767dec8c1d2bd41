//! `visnir translate` and `visnir train`: run and train VIS -> NIR generators.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::Module;
use clap::{Args, ValueEnum};
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};
use visnir_alignment::Template;
use visnir_gan::{
    data_fingerprint, load_generator, Architecture, CycleGanConfig, Direction, DiscriminatorConfig,
    FfeGeneratorConfig, LossWeights, TrainConfig, Trainer, TrainingPair, CROP_SIDES,
};
use visnir_nn::load_rgb;
use visnir_nn::{to_image, to_tensor};

use crate::commands::detect::{finish, DetectorArgs};
use crate::commands::images::{output_stems, report_failure, save_output};
use crate::commands::DeviceArg;
use crate::exit::{CliError, InputContext};

/// Which generator of a two-generator checkpoint.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DirectionArg {
    /// G_A: A -> B (VIS -> NIR).
    A2b,
    /// G_B: B -> A (NIR -> VIS).
    B2a,
}

/// Arguments of `visnir translate`.
#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// A visnir training checkpoint, a safetensors generator, or an official PyTorch CycleGAN
    /// generator (`latest_net_G_A.pth`).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Generator architecture: resnet (CycleGAN's ResNet generator) or ffe (FFE-CycleGAN's,
    /// the MobileFaceNet trunk of the authors' code).
    #[arg(long, default_value = "resnet")]
    arch: Architecture,
    /// Which generator of a training checkpoint to run.
    #[arg(long, value_enum, default_value = "a2b")]
    direction: DirectionArg,
    /// Aligned square face crops (256 x 256), or photos with --align.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Output directory; results are written as `<stem>.png`.
    #[arg(long)]
    out: PathBuf,
    /// Detect and align the largest face of each photo to the 256 template first.
    #[arg(long)]
    align: bool,
    #[command(flatten)]
    detector: DetectorArgs,
}

/// Runs `visnir translate`.
pub fn run_translate(args: TranslateArgs) -> Result<(), CliError> {
    let device = args.detector.device()?;
    let direction = match args.direction {
        DirectionArg::A2b => Direction::AToB,
        DirectionArg::B2a => Direction::BToA,
    };
    let stems = output_stems(&args.images)?;
    let ffe = (args.arch == Architecture::Ffe).then(FfeGeneratorConfig::default);
    let generator = load_generator(&args.checkpoint, direction, ffe, &device).input()?;
    let detector = if args.align {
        Some(args.detector.detector()?)
    } else {
        None
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let bar = ProgressBar::new(args.images.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("translating [{bar:30}] {pos}/{len}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failures = 0;
    for (path, stem) in args.images.iter().zip(&stems) {
        let target = args.out.join(format!("{stem}.png"));
        let result = translate_one(path, &generator, detector.as_ref(), &target, &device);
        if let Err(message) = result {
            bar.suspend(|| report_failure(path, &message));
            failures += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    finish(
        args.images.len(),
        args.images.len() - failures,
        "translations",
        failures,
    )
}

fn translate_one(
    path: &Path,
    generator: &visnir_gan::Generator,
    detector: Option<&visnir_alignment::Mtcnn>,
    target: &Path,
    device: &candle_core::Device,
) -> Result<(), String> {
    let image = load_rgb(path).map_err(|e| e.to_string())?;
    let crop = match detector {
        Some(mtcnn) => mtcnn
            .align_largest(&image, &Template::arcface(256))
            .map_err(|e| e.to_string())?
            .ok_or("no face found")?,
        None if image.width() != image.height() || image.width() % 4 != 0 => {
            return Err(format!(
                "is {} x {}; translate takes square aligned crops (256 x 256) whose side is a multiple of 4: \
                 pass --align, or make crops with `visnir align --size 256`",
                image.width(),
                image.height()
            ))
        }
        None if image.width() > *CROP_SIDES.end() => {
            return Err(format!(
                "is {0} x {0}; translate takes crops of at most {1} x {1} (the largest --size \
                 train accepts): pass --align, or resize the crops",
                image.width(),
                CROP_SIDES.end()
            ))
        }
        None => image,
    };
    let x = to_tensor(&crop, device).map_err(|e| e.to_string())?;
    let y = generator.forward(&x).map_err(|e| e.to_string())?;
    let finite = y
        .flatten_all()
        .and_then(|v| v.to_vec1::<f32>())
        .map_err(|e| e.to_string())?
        .iter()
        .all(|v| v.is_finite());
    if !finite {
        return Err("the generator produced non-finite values (NaN or infinity)".into());
    }
    save_output(&to_image(&y).map_err(|e| e.to_string())?, target)
}

/// The loss weights `visnir train` can use.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LossArg {
    /// CycleGAN: cycle 10, identity 0.5.
    Cyclegan,
    /// The paper's pixel-consistency objective: cycle 1, pixel 10 (Basic + Lpc, FFE + Lpc).
    Lpc,
    /// The authors' code: cycle 10, identity 0.5, pixel 10.
    AuthorsCode,
}

impl LossArg {
    fn weights(self) -> LossWeights {
        match self {
            LossArg::Cyclegan => LossWeights::CYCLEGAN,
            LossArg::Lpc => LossWeights::LPC,
            LossArg::AuthorsCode => LossWeights::AUTHORS_CODE,
        }
    }
}

/// Arguments of `visnir train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Directory with `A/` (e.g. VIS) and `B/` (e.g. NIR) images; pairs share a file stem, or,
    /// in subject folders (`A/<subject>/`, `B/<subject>/`), the folder and the file stem.
    #[arg(long)]
    data: PathBuf,
    /// Output directory: `checkpoint.safetensors`, `losses.jsonl`.
    #[arg(long)]
    out: PathBuf,
    /// Generator architecture: resnet (CycleGAN's ResNet generator) or ffe (FFE-CycleGAN's,
    /// the MobileFaceNet trunk of the authors' code).
    #[arg(long, default_value = "resnet")]
    arch: Architecture,
    /// Loss weights.
    #[arg(long, value_enum, default_value = "cyclegan")]
    loss: LossArg,
    /// Weight of the embedding-consistency loss added to --loss (not in the paper): 1 - cos of
    /// the bundled MobileFaceNet's embeddings of each translation and its paired target; 0
    /// turns it off. Needs paired images.
    #[arg(long, default_value_t = 0.0, value_parser = visnir_gan::parse_loss_weight)]
    embedding_weight: f64,
    /// Weight of the subject-contrast loss added to --loss (not in the paper): cross-entropy of
    /// each translation's subject among the training subjects' mean embeddings (bundled
    /// MobileFaceNet); 0 turns it off. Needs paired images in subject folders, A/<subject>/ and
    /// B/<subject>/.
    #[arg(long, default_value_t = 0.0, value_parser = visnir_gan::parse_loss_weight)]
    subject_weight: f64,
    /// Weight of each direction's pixel-consistency L1 instead of --loss's (lpc and
    /// authors-code: the paper's gamma, 10); a positive weight needs paired images.
    #[arg(long, value_parser = visnir_gan::parse_loss_weight)]
    pixel_weight: Option<f64>,
    /// Weight of the generators' adversarial (LSGAN) terms (1, as CycleGAN and the paper; 0
    /// drops them, an ablation).
    #[arg(long, default_value_t = 1.0, value_parser = visnir_gan::parse_loss_weight)]
    adversarial_weight: f64,
    /// Keep an exponential moving average of the generators' weights with this decay, in
    /// [0, 1), and save it in the checkpoint, from which `visnir translate` then translates
    /// (0: none, as CycleGAN; the quick preset uses 0.99).
    #[arg(long, default_value_t = 0.0, value_parser = visnir_gan::parse_ema_decay)]
    ema_decay: f64,
    /// Epochs at the initial learning rate (0 to 100000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    epochs: u64,
    /// Epochs of linear decay to zero (0 to 100000; with --epochs at least one in all).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    epochs_decay: u64,
    /// Crop size fed to the networks, a multiple of 4 from 32 to 1024 (images are first
    /// resized to size * 286 / 256 unless --resize-and-crop false).
    #[arg(long, default_value_t = 256, value_parser = visnir_gan::parse_crop_side)]
    size: u32,
    /// Filters of the first ResNet-generator layer (1 to 512).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=512))]
    ngf: u64,
    /// ResNet blocks of the generator (0 to 64).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(0..=64))]
    n_blocks: u64,
    /// Filters of the first discriminator layer (1 to 512).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=512))]
    ndf: u64,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Residual generators: they add their output to their input and start at the identity
    /// (not CycleGAN's; recorded in the checkpoint, so `visnir translate` needs no flag).
    #[arg(long)]
    residual: bool,
    /// Domain B is grey (NIR): the A -> B generator writes the mean of its output's channels
    /// into all three, as CycleGAN's `--output_nc 1` (recorded in the checkpoint).
    #[arg(long)]
    monochrome_b: bool,
    /// With --residual: the generators scale and shift their input per channel by learned
    /// values (starting at the identity, learning at 100x the learning rate) before adding their
    /// output, so that they can change its brightness and contrast (recorded in the checkpoint).
    #[arg(long, requires = "residual")]
    skip_affine: bool,
    /// With --residual: the generators add a learned offset per pixel (a --size x --size map,
    /// starting at 0, learning at 10x the learning rate) to their input, for the shading that
    /// aligned faces of the target domain share at each position (recorded in the checkpoint;
    /// resized bilinearly when translating crops of another size).
    #[arg(long, requires = "residual")]
    shading_map: bool,
    /// CycleGAN's augmentation: each pair resized to size * 286 / 256 and randomly cropped back
    /// to --size (`true`, the paper), or only resized to --size and flipped (`false`: the pairs
    /// keep the scale of the images translated later).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    resize_and_crop: bool,
    /// Pairs per iteration, 1 to 1024 (CycleGAN: 1; instance norm stays per image).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    batch_size: u64,
    /// Iterations between checkpoints (at least 1).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: u64,
    /// Continue the run saved in --out.
    #[arg(long)]
    resume: bool,
    /// Treat A and B as unpaired (B drawn at random; pixel consistency then makes no sense).
    #[arg(long)]
    unpaired: bool,
    #[command(flatten)]
    device: DeviceArg,
}

/// A training pair read by `visnir train`, with its subject when the images sit in subject
/// folders (`A/<subject>/<image>`).
struct LabelledPair {
    a: RgbImage,
    b: RgbImage,
    subject: Option<String>,
}

impl TrainingPair for LabelledPair {
    fn a(&self) -> &RgbImage {
        &self.a
    }
    fn b(&self) -> &RgbImage {
        &self.b
    }
    fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
}

/// The images of `dir` keyed by file stem, and those of its sub-folders keyed by
/// `<folder>/<stem>` with the folder as their subject.
fn list_images(dir: &Path) -> Result<BTreeMap<String, (PathBuf, Option<String>)>, CliError> {
    let read = |dir: &Path| {
        std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))
            .input()
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())))
    };
    let stem = |p: &Path| Some(p.file_stem()?.to_string_lossy().into_owned());
    let mut images = BTreeMap::new();
    for path in read(dir)? {
        if path.is_file() {
            if let Some(key) = stem(&path) {
                images.insert(key, (path, None));
            }
        } else if path.is_dir() {
            let Some(subject) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            for file in read(&path)?.filter(|p| p.is_file()) {
                if let Some(key) = stem(&file) {
                    images.insert(format!("{subject}/{key}"), (file, Some(subject.clone())));
                }
            }
        }
    }
    Ok(images)
}

/// The image pairs of `root` (`A/` and `B/` by file stem, or by `<subject>/<stem>` in subject
/// folders), and how many were skipped because an image could not be read.
fn read_pairs(root: &Path, paired: bool) -> Result<(Vec<LabelledPair>, usize), CliError> {
    let list = |side: &str| {
        let dir = root.join(side);
        if !dir.is_dir() {
            return Err(CliError::Input(anyhow::anyhow!(
                "{} is not a directory (expected {}/A and {}/B)",
                dir.display(),
                root.display(),
                root.display()
            )));
        }
        list_images(&dir)
    };
    let (a, b) = (list("A")?, list("B")?);
    let names: Vec<(PathBuf, PathBuf, Option<String>)> = if paired {
        for key in a.keys().filter(|k| !b.contains_key(*k)) {
            eprintln!("warning: A/{key} has no twin in B/, skipped");
        }
        a.iter()
            .filter_map(|(k, (pa, subject))| {
                b.get(k)
                    .map(|(pb, _)| (pa.clone(), pb.clone(), subject.clone()))
            })
            .collect()
    } else {
        a.values()
            .map(|(pa, _)| pa.clone())
            .zip(b.values().map(|(pb, _)| pb.clone()).cycle())
            .map(|(pa, pb)| (pa, pb, None))
            .collect()
    };
    let mut pairs = Vec::new();
    let mut skipped = 0;
    for (pa, pb, subject) in names {
        match (load_rgb(&pa), load_rgb(&pb)) {
            (Ok(a), Ok(b)) => pairs.push(LabelledPair { a, b, subject }),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}; pair skipped");
                skipped += 1;
            }
        }
    }
    if pairs.is_empty() {
        return Err(CliError::Input(anyhow::anyhow!(
            "{}: no usable image pairs in A/ and B/",
            root.display()
        )));
    }
    Ok((pairs, skipped))
}

/// Runs `visnir train`.
pub fn run_train(args: TrainArgs) -> Result<(), CliError> {
    if args.epochs + args.epochs_decay == 0 {
        return Err(CliError::Input(anyhow::anyhow!(
            "--epochs and --epochs-decay are both 0: there is nothing to train"
        )));
    }
    let paired_terms = [
        ("--pixel-weight", args.pixel_weight.is_some_and(|w| w > 0.0)),
        ("--embedding-weight", args.embedding_weight > 0.0),
        ("--subject-weight", args.subject_weight > 0.0),
    ];
    if let Some((option, _)) = paired_terms.iter().find(|(_, on)| args.unpaired && *on) {
        return Err(CliError::Input(anyhow::anyhow!(
            "{option} compares each translation with its paired target: it needs paired \
             images, not --unpaired"
        )));
    }
    let device = args.device.open()?;
    let (pairs, skipped) = read_pairs(&args.data, !args.unpaired)?;
    if args.subject_weight > 0.0 {
        let subjects: std::collections::BTreeSet<_> =
            pairs.iter().filter_map(|p| p.subject.as_deref()).collect();
        let unlabelled = pairs.iter().filter(|p| p.subject.is_none()).count();
        if unlabelled > 0 || subjects.len() < 2 {
            return Err(CliError::Input(anyhow::anyhow!(
                "--subject-weight contrasts each translation's subject with the others: it \
                 needs every pair in a subject folder of {} (A/<subject>/, B/<subject>/) and at \
                 least two subjects; found {} subjects and {unlabelled} pairs outside folders",
                args.data.display(),
                subjects.len()
            )));
        }
    }
    let loss = args.loss.weights();
    let model = CycleGanConfig {
        generator: args.arch.config(args.ngf as usize, args.n_blocks as usize),
        discriminator: DiscriminatorConfig {
            ndf: args.ndf as usize,
            ..Default::default()
        },
        residual: args.residual,
        monochrome_b: args.monochrome_b,
        skip_affine: args.skip_affine,
        shading_map: args.shading_map.then_some(args.size as usize),
    };
    let config = TrainConfig {
        n_epochs: args.epochs as usize,
        n_epochs_decay: args.epochs_decay as usize,
        checkpoint_every: args.checkpoint_every,
        paired: !args.unpaired,
        batch_size: args.batch_size as usize,
        data: Some(data_fingerprint(&pairs)),
        ema_decay: args.ema_decay,
        ..TrainConfig::cyclegan(
            model,
            LossWeights {
                embedding: args.embedding_weight,
                subject: args.subject_weight,
                pixel: args.pixel_weight.unwrap_or(loss.pixel),
                adversarial: args.adversarial_weight,
                ..loss
            },
            args.size,
            args.seed,
        )
        .with_resize_and_crop(args.resize_and_crop)
    };
    let mut trainer =
        Trainer::new(config, &args.out, args.resume, &device).map_err(|e| match e {
            // A checkpoint that cannot be resumed (corrupt, another model, other settings) is the
            // user's input; building the networks failing is not.
            visnir_gan::TrainError::Checkpoint(_) => CliError::Input(e.into()),
            other => CliError::Internal(other.into()),
        })?;
    let total = trainer.total_steps(pairs.len());
    let bar = ProgressBar::new(total);
    bar.set_position(trainer.progress().global_step);
    bar.set_style(
        ProgressStyle::with_template("training [{bar:30}] {pos}/{len} steps, ETA {eta} | {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let end = trainer
        .run(&pairs, None, |progress, losses| {
            bar.set_position(progress.global_step);
            bar.set_message(format!(
                "epoch {} G {:.3} D_A {:.3} D_B {:.3}",
                progress.epoch, losses.g, losses.d_a, losses.d_b
            ));
        })
        .map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    eprintln!(
        "trained {} steps; checkpoint {}",
        end.global_step,
        visnir_gan::checkpoint_path(&args.out).display()
    );
    if skipped > 0 {
        return Err(CliError::Input(anyhow::anyhow!(
            "{skipped} image pairs could not be read and were left out of training (named above)"
        )));
    }
    Ok(())
}
