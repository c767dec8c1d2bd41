//! The shading map of residual generators: it starts at zero (an untrained generator is still
//! the identity), learns at its own multiple of the learning rate, travels in the checkpoint,
//! and is resized to images of another size.

use candle_core::{DType, Device, Module, Tensor};
use visnir_gan::{
    checkpoint_path, load_generator, Direction, Generator, GeneratorConfig, ResnetGeneratorConfig,
    Trainer, SHADING_MAP_LR_SCALE,
};

use crate::training_runs::{config, pairs, scratch};

#[test]
fn a_shading_map_starts_at_zero_learns_and_its_checkpoint_says_so() {
    let device = Device::Cpu;
    let mut shaded = config();
    shaded.model.residual = true;
    shaded.model.skip_affine = true;
    shaded.model.shading_map = Some(32);
    let dir = scratch("shading-map");
    let mut trainer = Trainer::new(shaded, &dir, false, &device).unwrap();
    let x = Tensor::rand(-1f32, 1f32, (1, 3, 32, 32), &device).unwrap();
    for g in [&trainer.model().g_a, &trainer.model().g_b] {
        assert_eq!(g.shading_map_side(), Some(32));
        assert_eq!(
            crate::max_diff(&g.forward(&x).unwrap(), &x),
            0.0,
            "an untrained residual generator with a shading map is the identity"
        );
    }
    trainer.run(&pairs(), None, |_, _| {}).unwrap();
    let maps = [
        trainer.model().g_a.shading_map_vars(),
        trainer.model().g_b.shading_map_vars(),
    ]
    .concat();
    assert_eq!(maps.len(), 2, "one map per generator");
    let largest = maps
        .iter()
        .map(|m| m.abs().unwrap().flatten_all().unwrap().max(0).unwrap())
        .map(|m| m.to_scalar::<f32>().unwrap())
        .fold(0f32, f32::max);
    // Six steps: Adam moves a plain variable by at most about the learning rate per step.
    let plain_reach = 6.0 * shaded.adam.lr as f32;
    assert!(
        largest > 2.0 * plain_reach && largest < 1.5 * SHADING_MAP_LR_SCALE as f32 * plain_reach,
        "the map learns at {SHADING_MAP_LR_SCALE}x the learning rate: moved {largest}, a plain \
         variable can move {plain_reach}"
    );

    let a = load_generator(&checkpoint_path(&dir), Direction::AToB, None, &device).unwrap();
    assert_eq!(a.shading_map_side(), Some(32));
    let trained = trainer.model().g_a.forward(&x).unwrap();
    assert_eq!(crate::max_diff(&a.forward(&x).unwrap(), &trained), 0.0);

    let mut plain = config();
    plain.model.residual = true;
    plain.model.skip_affine = true;
    let err = match Trainer::new(plain, &dir, true, &device) {
        Ok(_) => panic!("a checkpoint with shading maps resumed into a model without"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("32 x 32 shading map"), "{err}");

    let mut not_residual = config();
    not_residual.model.shading_map = Some(32);
    let trainer = Trainer::new(not_residual, &scratch("shading-plain"), false, &device).unwrap();
    assert_eq!(
        trainer.model().g_a.shading_map_side(),
        None,
        "a generator that is not residual has no identity path to shade"
    );
}

#[test]
fn a_shading_map_is_added_to_every_channel_and_resized_for_other_sizes() {
    let device = Device::Cpu;
    let varmap = candle_nn::VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let config = GeneratorConfig::Resnet(ResnetGeneratorConfig {
        ngf: 4,
        n_blocks: 1,
        ..Default::default()
    });
    let g = Generator::new(config, vb.clone())
        .unwrap()
        .with_residual(true)
        .with_shading_map(Some(8), vb)
        .unwrap();
    // With the output convolution at zero (as training starts a residual generator), the output
    // is the shaded input.
    let output = g.output_weight().unwrap();
    let vars = varmap.all_vars();
    let output = vars
        .iter()
        .find(|v| v.as_tensor().id() == output.id())
        .unwrap();
    output.set(&output.zeros_like().unwrap()).unwrap();
    let map = vars.iter().find(|v| v.dims() == [1, 1, 8, 8]).unwrap();
    // A left-to-right ramp from -0.35 to 0.35: bilinear resizing keeps a linear ramp linear
    // between the outermost pixel centres and clamps beyond them.
    let ramp: Vec<f32> = (0..64).map(|i| -0.35 + 0.1 * (i % 8) as f32).collect();
    map.set(&Tensor::from_vec(ramp, (1, 1, 8, 8), &device).unwrap())
        .unwrap();
    let x = Tensor::full(0.1f32, (1, 3, 16, 16), &device).unwrap();
    let y = g.forward(&x).unwrap();
    let row: Vec<f32> = y
        .get(0)
        .unwrap()
        .get(2)
        .unwrap()
        .get(5)
        .unwrap()
        .to_vec1()
        .unwrap();
    // At 16 pixels, output pixel j's centre lies at (j + 0.5) / 2 - 0.5 in the map's pixels.
    for (j, v) in row.iter().enumerate() {
        let position = ((j as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, 7.0);
        let expected = 0.1 + (-0.35 + 0.1 * position);
        assert!((v - expected).abs() < 1e-6, "pixel {j}: {v} vs {expected}");
    }
    let channels = y.get(0).unwrap();
    for c in 1..3 {
        assert_eq!(
            crate::max_diff(&channels.get(c).unwrap(), &channels.get(0).unwrap()),
            0.0
        );
    }
}
