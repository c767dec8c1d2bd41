//! Training runs: a killed-and-resumed run ends bit-identical to an uninterrupted one; a
//! non-finite loss stops training and leaves the last checkpoint as it was.

use candle_core::Device;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use visnir_gan::{
    checkpoint_path, AdamConfig, CycleGanConfig, DiscriminatorConfig, GeneratorConfig, LossWeights,
    ResnetGeneratorConfig, TrainConfig, TrainError, Trainer,
};

pub(crate) fn config() -> TrainConfig {
    TrainConfig {
        model: CycleGanConfig {
            generator: GeneratorConfig::Resnet(ResnetGeneratorConfig {
                ngf: 8,
                n_blocks: 2,
                ..Default::default()
            }),
            discriminator: DiscriminatorConfig {
                ndf: 8,
                ..Default::default()
            },
            residual: false,
            monochrome_b: false,
            skip_affine: false,
            shading_map: None,
        },
        loss: LossWeights::AUTHORS_CODE,
        adam: AdamConfig::default(),
        discriminator_lr_factor: 1.0,
        n_epochs: 1,
        n_epochs_decay: 1,
        load_size: 36,
        crop_size: 32,
        pool_size: 2,
        seed: 7,
        checkpoint_every: 2,
        paired: true,
        batch_size: 1,
        data: None,
        ema_decay: 0.0,
    }
}

pub(crate) fn pairs() -> Vec<(RgbImage, RgbImage)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut image = || {
        RgbImage::from_fn(40, 40, |_, _| {
            image::Rgb([rng.random(), rng.random(), rng.random()])
        })
    };
    (0..3).map(|_| (image(), image())).collect()
}

/// An empty scratch directory of this test process (`name` unique across the harness).
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("visnir-gan-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn parameters(trainer: &Trainer) -> Vec<(String, Vec<f32>)> {
    values(trainer.model().varmap())
}

/// Every variable of `varmap` as a flat vector, in name order.
pub(crate) fn values(varmap: &candle_nn::VarMap) -> Vec<(String, Vec<f32>)> {
    let data = varmap.data().lock().unwrap();
    let mut out: Vec<(String, Vec<f32>)> = data
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_tensor().flatten_all().unwrap().to_vec1().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn killed_and_resumed_run_equals_uninterrupted_run() {
    let device = Device::Cpu;
    let data = pairs();
    let whole = scratch("whole");
    let mut uninterrupted = Trainer::new(config(), &whole, false, &device).unwrap();
    let end = uninterrupted.run(&data, None, |_, _| {}).unwrap();
    assert_eq!(end.global_step, 6);

    let split = scratch("split");
    let mut first = Trainer::new(config(), &split, false, &device).unwrap();
    assert_eq!(first.run(&data, Some(3), |_, _| {}).unwrap().global_step, 3);
    drop(first); // "killed" after step 3; the last checkpoint is from step 2
    let mut resumed = Trainer::new(config(), &split, true, &device).unwrap();
    assert_eq!(resumed.progress().global_step, 2);
    assert_eq!(resumed.run(&data, None, |_, _| {}).unwrap().global_step, 6);

    let (a, b) = (parameters(&uninterrupted), parameters(&resumed));
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs after resume"
        );
    }
    let log = std::fs::read_to_string(split.join("losses.jsonl")).unwrap();
    assert_eq!(
        log.lines().count(),
        6,
        "one log line per step, none duplicated"
    );
    assert_eq!(
        log,
        std::fs::read_to_string(whole.join("losses.jsonl")).unwrap()
    );
}

#[test]
fn a_non_finite_loss_stops_training_and_keeps_the_checkpoint() {
    let device = Device::Cpu;
    let data = pairs();
    let dir = scratch("nan");
    Trainer::new(config(), &dir, false, &device)
        .unwrap()
        .run(&data, Some(2), |_, _| {})
        .unwrap();
    let saved = std::fs::read(checkpoint_path(&dir)).unwrap();
    let mut broken = config();
    broken.loss.cycle = f64::NAN;
    // Resuming with other loss weights is refused; a fresh run in the same directory stops at
    // its first, non-finite step and leaves the earlier checkpoint as it was.
    let mut trainer = Trainer::new(broken, &dir, false, &device).unwrap();
    let err = trainer.run(&data, None, |_, _| {}).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFinite { step: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("checkpoint is intact"));
    assert_eq!(std::fs::read(checkpoint_path(&dir)).unwrap(), saved);
}

#[test]
fn resuming_with_other_settings_is_refused_naming_them() {
    let device = Device::Cpu;
    let data = pairs();
    let dir = scratch("resume-settings");
    Trainer::new(config(), &dir, false, &device)
        .unwrap()
        .run(&data, Some(2), |_, _| {})
        .unwrap();
    let mut other = config();
    other.seed += 1;
    other.loss.pixel = 5.0;
    let err = match Trainer::new(other, &dir, true, &device) {
        Ok(_) => panic!("resumed with another seed and loss"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("other settings") && err.contains("seed"),
        "{err}"
    );
    assert!(
        err.contains("loss") && err.contains("\"pixel\":5.0"),
        "{err}"
    );
    assert!(
        Trainer::new(config(), &dir, true, &device).is_ok(),
        "same settings resume"
    );

    let on = |data: &[(RgbImage, RgbImage)]| TrainConfig {
        data: Some(visnir_gan::data_fingerprint(data)),
        ..config()
    };
    let dir = scratch("resume-data");
    Trainer::new(on(&data), &dir, false, &device)
        .unwrap()
        .run(&data, Some(2), |_, _| {})
        .unwrap();
    let err = match Trainer::new(on(&data[..2]), &dir, true, &device) {
        Ok(_) => panic!("resumed on other training pairs"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("other settings") && err.contains("data"),
        "{err}"
    );
    assert!(
        Trainer::new(on(&data), &dir, true, &device).is_ok(),
        "same data resume"
    );
}

#[test]
fn batches_cover_each_epoch_once_and_resume_exactly() {
    let device = Device::Cpu;
    let data = pairs();
    let batched = TrainConfig {
        batch_size: 2,
        ..config()
    };
    let whole = scratch("batched-whole");
    let mut uninterrupted = Trainer::new(batched, &whole, false, &device).unwrap();
    assert_eq!(uninterrupted.steps_per_epoch(data.len()), 2);
    assert_eq!(uninterrupted.total_steps(data.len()), 4);
    let end = uninterrupted.run(&data, None, |_, _| {}).unwrap();
    assert_eq!((end.global_step, end.epoch, end.iteration), (4, 2, 0));

    let split = scratch("batched-split");
    let mut first = Trainer::new(batched, &split, false, &device).unwrap();
    assert_eq!(first.run(&data, Some(3), |_, _| {}).unwrap().global_step, 3);
    drop(first);
    let mut resumed = Trainer::new(batched, &split, true, &device).unwrap();
    assert_eq!(resumed.progress().global_step, 2);
    assert_eq!(resumed.run(&data, None, |_, _| {}).unwrap().global_step, 4);
    let (a, b) = (parameters(&uninterrupted), parameters(&resumed));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs after resume"
        );
    }

    let single = scratch("single");
    let mut one_by_one = Trainer::new(config(), &single, false, &device).unwrap();
    one_by_one.run(&data, None, |_, _| {}).unwrap();
    assert_ne!(
        parameters(&one_by_one),
        a,
        "batches of two train differently from batches of one"
    );
}

#[test]
fn an_untrained_residual_generator_is_the_identity_and_its_checkpoint_says_so() {
    use candle_core::Module;
    let device = Device::Cpu;
    let data = pairs();
    let mut residual = config();
    residual.model.residual = true;
    let dir = scratch("residual");
    let mut trainer = Trainer::new(residual, &dir, false, &device).unwrap();
    let x = candle_core::Tensor::rand(-1f32, 1f32, (1, 3, 32, 32), &device).unwrap();
    for g in [&trainer.model().g_a, &trainer.model().g_b] {
        assert!(g.is_residual());
        assert_eq!(
            crate::max_diff(&g.forward(&x).unwrap(), &x),
            0.0,
            "identity at the start"
        );
    }
    trainer.run(&data, None, |_, _| {}).unwrap();
    let trained = trainer.model().g_a.forward(&x).unwrap();
    assert!(crate::max_diff(&trained, &x) > 1e-3, "training moved it");

    let loaded = visnir_gan::load_generator(
        &checkpoint_path(&dir),
        visnir_gan::Direction::AToB,
        None,
        &device,
    )
    .unwrap();
    assert!(loaded.is_residual());
    assert_eq!(crate::max_diff(&loaded.forward(&x).unwrap(), &trained), 0.0);

    let err = match Trainer::new(config(), &dir, true, &device) {
        Ok(_) => panic!("a residual checkpoint resumed into a plain model"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("residual"), "{err}");
}

#[test]
fn a_monochrome_generator_outputs_grey_and_its_checkpoint_says_so() {
    use candle_core::{Module, Tensor};
    let device = Device::Cpu;
    let data = pairs();
    let mut grey = config();
    grey.model.residual = true;
    grey.model.monochrome_b = true;
    grey.ema_decay = 0.5;
    let dir = scratch("monochrome");
    let mut trainer = Trainer::new(grey, &dir, false, &device).unwrap();
    let x = Tensor::rand(-1f32, 1f32, (1, 3, 32, 32), &device).unwrap();
    let channel_spread = |y: &Tensor| {
        let first = y.narrow(1, 0, 1).unwrap();
        (1..3)
            .map(|c| crate::max_diff(&y.narrow(1, c, 1).unwrap(), &first))
            .fold(0f32, f32::max)
    };
    let start = trainer.model().g_a.forward(&x).unwrap();
    assert_eq!(channel_spread(&start), 0.0, "G_A's output is grey");
    let mean = x.mean_keepdim(1).unwrap().broadcast_as(x.shape()).unwrap();
    assert!(
        crate::max_diff(&start, &mean) < 1e-6,
        "an untrained residual G_A gives its input's grey"
    );
    trainer.run(&data, None, |_, _| {}).unwrap();
    let trained = trainer.model().g_a.forward(&x).unwrap();
    assert_eq!(channel_spread(&trained), 0.0, "still grey after training");
    assert!(
        channel_spread(&trainer.model().g_b.forward(&x).unwrap()) > 1e-3,
        "G_B's output keeps its colours"
    );

    let load = |direction| {
        visnir_gan::load_generator(&checkpoint_path(&dir), direction, None, &device).unwrap()
    };
    let a = load(visnir_gan::Direction::AToB);
    assert!(a.is_monochrome());
    assert_eq!(channel_spread(&a.forward(&x).unwrap()), 0.0);
    assert!(!load(visnir_gan::Direction::BToA).is_monochrome());

    let mut colour = config();
    colour.model.residual = true;
    colour.ema_decay = 0.5;
    let err = match Trainer::new(colour, &dir, true, &device) {
        Ok(_) => panic!("a grey checkpoint resumed into a colour model"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("grey"), "{err}");
}

#[test]
fn a_skip_affine_starts_at_the_identity_learns_fast_and_its_checkpoint_says_so() {
    use candle_core::{Module, Tensor};
    let device = Device::Cpu;
    let data = pairs();
    let mut affine = config();
    affine.model.residual = true;
    affine.model.skip_affine = true;
    let dir = scratch("skip-affine");
    let mut trainer = Trainer::new(affine, &dir, false, &device).unwrap();
    let x = Tensor::rand(-1f32, 1f32, (1, 3, 32, 32), &device).unwrap();
    for g in [&trainer.model().g_a, &trainer.model().g_b] {
        assert!(g.has_skip_affine());
        assert_eq!(
            crate::max_diff(&g.forward(&x).unwrap(), &x),
            0.0,
            "an untrained residual generator with a skip affine is the identity"
        );
    }
    trainer.run(&data, None, |_, _| {}).unwrap();
    let skips = [
        trainer.model().g_a.skip_affine_vars(),
        trainer.model().g_b.skip_affine_vars(),
    ]
    .concat();
    let gain_moves: Vec<f32> = skips
        .iter()
        .step_by(2)
        .flat_map(|gain| {
            (gain - 1.0)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect();
    assert_eq!(
        gain_moves.len(),
        6,
        "one gain per input channel and generator"
    );
    // Adam moves a variable by at most about the learning rate per step: six steps at 2e-4.
    let plain_reach = 6.0 * affine.adam.lr as f32;
    let largest = gain_moves.iter().copied().fold(0f32, f32::max);
    assert!(
        largest > 3.0 * plain_reach,
        "the gains learn at a multiple of the learning rate: moved {largest}, a plain \
         variable can move {plain_reach}"
    );

    let a = visnir_gan::load_generator(
        &checkpoint_path(&dir),
        visnir_gan::Direction::AToB,
        None,
        &device,
    )
    .unwrap();
    assert!(a.has_skip_affine());
    let trained = trainer.model().g_a.forward(&x).unwrap();
    assert_eq!(crate::max_diff(&a.forward(&x).unwrap(), &trained), 0.0);

    let mut plain = config();
    plain.model.residual = true;
    let err = match Trainer::new(plain, &dir, true, &device) {
        Ok(_) => panic!("a checkpoint with skip affines resumed into a model without"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("learned affines"), "{err}");

    let mut not_residual = config();
    not_residual.model.skip_affine = true;
    let trainer =
        Trainer::new(not_residual, &scratch("skip-affine-plain"), false, &device).unwrap();
    assert!(
        !trainer.model().g_a.has_skip_affine() && !trainer.model().g_b.has_skip_affine(),
        "a generator that is not residual has no skip to scale"
    );
}
