//! The adversarial weight scales the generators' LSGAN terms in the objective; at 0 they are
//! gone from it (the ablation), and the rest of the objective is unchanged.

use candle_core::Device;
use visnir_gan::{CycleGan, ImagePool, LossWeights, StepLosses};
use visnir_nn::to_tensor;

use crate::noise;

/// One step of a fresh model (seed 5) on fixed images with `adversarial`.
fn first_step(adversarial: f64) -> (StepLosses, CycleGan) {
    let config = crate::training_runs::config();
    let mut gan = CycleGan::new(config.model, config.adam, 5, &Device::Cpu).unwrap();
    let a = to_tensor(&noise(32, 8), &Device::Cpu).unwrap();
    let b = to_tensor(&noise(32, 9), &Device::Cpu).unwrap();
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    let weights = LossWeights {
        adversarial,
        ..LossWeights::LPC
    };
    let losses = gan
        .train_step(&a, &b, None, weights, (&mut pool_b, &mut pool_a))
        .unwrap();
    (losses, gan)
}

fn g_a_parameters(gan: &CycleGan) -> Vec<f32> {
    let mut vars: Vec<_> = gan
        .varmap()
        .data()
        .lock()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    vars.sort_by(|x, y| x.0.cmp(&y.0));
    vars.into_iter()
        .filter(|(name, _)| name.starts_with("G_A."))
        .flat_map(|(_, v)| {
            v.as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect()
}

#[test]
fn the_adversarial_weight_scales_the_generator_terms_and_zero_drops_them() {
    let (full, trained_full) = first_step(1.0);
    let (half, _) = first_step(0.5);
    let (none, trained_none) = first_step(0.0);
    assert!(full.g_a > 0.0 && full.g_b > 0.0, "{full:?}");
    // The same fresh model and images: the same discriminator outputs, scaled.
    assert!((half.g_a - 0.5 * full.g_a).abs() <= 1e-6 * full.g_a);
    assert!((half.g_b - 0.5 * full.g_b).abs() <= 1e-6 * full.g_b);
    assert_eq!((none.g_a, none.g_b), (0.0, 0.0));
    let rest = |l: &StepLosses| l.cycle_a + l.cycle_b + l.pix_a + l.pix_b;
    assert_eq!(
        rest(&none),
        rest(&full),
        "the other terms do not depend on it"
    );
    assert!((none.g - rest(&none)).abs() <= 1e-5 * none.g, "{none:?}");
    assert!((full.g - (rest(&full) + full.g_a + full.g_b)).abs() <= 1e-5 * full.g);
    // Without the adversarial terms the generator takes another step.
    assert_ne!(g_a_parameters(&trained_full), g_a_parameters(&trained_none));
    // The discriminators still train.
    assert!(none.d_a > 0.0 && none.d_b > 0.0);
}
