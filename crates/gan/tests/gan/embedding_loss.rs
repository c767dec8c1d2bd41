//! The embedding-consistency loss: its resize equals the evaluation's (`image`'s Triangle
//! filter), its embeddings equal the embedder's, its gradient equals finite differences, and a
//! training step uses it only with an embedder.

use candle_core::Device;
use image::{imageops, RgbImage};
use visnir_gan::{
    embedding_consistency_loss, triangle_resize, CycleGan, EmbeddingJudge, ImagePool, LossWeights,
    StepError,
};
use visnir_nn::to_tensor;

use crate::{fixture, noise};

fn aligned(name: &str) -> RgbImage {
    image::open(fixture(&format!("aligned/{name}.png")))
        .unwrap()
        .to_rgb8()
}

#[test]
fn the_resize_equals_image_triangle_resize_up_and_down() {
    // image resizes in f32 and rounds to u8: within half a grey level, plus float noise.
    for (from, to, seed) in [(64, 112, 1), (256, 112, 2), (96, 112, 3), (112, 112, 4)] {
        let picture = noise(from, seed);
        let expected = imageops::resize(&picture, to, to, imageops::FilterType::Triangle);
        let ours =
            triangle_resize(&to_tensor(&picture, &Device::Cpu).unwrap(), to as usize).unwrap();
        let ours: Vec<f32> = ours.flatten_all().unwrap().to_vec1().unwrap();
        let expected = to_tensor(&expected, &Device::Cpu).unwrap();
        let expected: Vec<f32> = expected.flatten_all().unwrap().to_vec1().unwrap();
        let worst = ours
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs() * 127.5)
            .fold(0f32, f32::max);
        assert!(worst <= 0.5 + 1e-3, "{from} -> {to}: {worst} grey levels");
    }
}

#[test]
fn the_judge_embeds_as_the_evaluation_does() {
    let embedder = visnir_ffe::Embedder::bundled(&Device::Cpu).unwrap();
    let judge = EmbeddingJudge::bundled(&Device::Cpu).unwrap();
    for name in ["astronaut_f0", "grace_hopper_f0", "faceapi_sample4_f2"] {
        let face = imageops::resize(&aligned(name), 64, 64, imageops::FilterType::Triangle);
        let resized = imageops::resize(&face, 112, 112, imageops::FilterType::Triangle);
        let expected = &embedder.embed(&[resized]).unwrap()[0];
        let ours = judge
            .embed(&to_tensor(&face, &Device::Cpu).unwrap())
            .unwrap();
        let ours: Vec<f32> = ours.flatten_all().unwrap().to_vec1().unwrap();
        let cosine: f32 = ours.iter().zip(expected).map(|(a, b)| a * b).sum();
        // The evaluation's crop is rounded to u8 after the resize; the judge's is not.
        assert!(cosine >= 0.999, "{name}: cosine {cosine}");
    }
}

#[test]
fn the_loss_is_zero_on_the_target_and_its_gradient_matches_finite_differences() {
    let judge = EmbeddingJudge::bundled(&Device::Cpu).unwrap();
    let small = |name| imageops::resize(&aligned(name), 64, 64, imageops::FilterType::Triangle);
    let target = to_tensor(&small("astronaut_f0"), &Device::Cpu).unwrap();
    let same = embedding_consistency_loss(&judge, &target, &target).unwrap();
    assert!(same.to_scalar::<f32>().unwrap().abs() < 1e-5);

    let start = to_tensor(&small("grace_hopper_f0"), &Device::Cpu).unwrap();
    let var = candle_core::Var::from_tensor(&start).unwrap();
    let loss = embedding_consistency_loss(&judge, var.as_tensor(), &target).unwrap();
    let value = loss.to_scalar::<f32>().unwrap();
    assert!(value > 0.05, "two people should differ: {value}");
    let grad = loss
        .backward()
        .unwrap()
        .get(var.as_tensor())
        .unwrap()
        .clone();
    let norm = grad.sqr().unwrap().sum_all().unwrap().sqrt().unwrap();
    let direction = (&grad / norm.to_scalar::<f32>().unwrap() as f64).unwrap();
    let along = |t: f64| {
        let moved = (&start + (&direction * t).unwrap()).unwrap();
        embedding_consistency_loss(&judge, &moved, &target)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64
    };
    // Along the normalised gradient the slope is |grad|; central differences in f32.
    let eps = 0.05;
    let slope = (along(eps) - along(-eps)) / (2.0 * eps);
    let analytic = norm.to_scalar::<f32>().unwrap() as f64;
    assert!(
        (slope - analytic).abs() <= 0.05 * analytic,
        "finite difference {slope} vs backward {analytic}"
    );
    assert!(
        along(-eps) < value as f64,
        "a step against the gradient lowers the loss"
    );
}

#[test]
fn a_step_with_the_term_needs_a_judge_and_logs_it() {
    let config = crate::training_runs::config();
    let weights = LossWeights {
        embedding: 2.0,
        subject: 0.0,
        ..LossWeights::LPC
    };
    let mut gan = CycleGan::new(config.model, config.adam, 5, &Device::Cpu).unwrap();
    let a = to_tensor(&noise(32, 8), &Device::Cpu).unwrap();
    let b = to_tensor(&noise(32, 9), &Device::Cpu).unwrap();
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    let missing = gan.train_step(&a, &b, None, weights, (&mut pool_b, &mut pool_a));
    assert!(matches!(missing, Err(StepError::NoJudge)), "{missing:?}");

    let judge = EmbeddingJudge::bundled(&Device::Cpu).unwrap();
    gan.set_judge(judge.clone());
    // The step embeds both directions in one batch; each must be its own direction's loss.
    let before = |generator: &visnir_gan::Generator, input, target| {
        let fake = candle_core::Module::forward(generator, input).unwrap();
        let loss = embedding_consistency_loss(&judge, &fake, target).unwrap();
        2.0 * loss.to_scalar::<f32>().unwrap()
    };
    let (expected_a, expected_b) = (before(&gan.g_a, &a, &b), before(&gan.g_b, &b, &a));
    let losses = gan
        .train_step(&a, &b, None, weights, (&mut pool_b, &mut pool_a))
        .unwrap();
    assert!(losses.emb_a > 0.0 && losses.emb_b > 0.0, "{losses:?}");
    assert!((losses.emb_a - expected_a).abs() <= 1e-5 * expected_a.max(1.0));
    assert!((losses.emb_b - expected_b).abs() <= 1e-5 * expected_b.max(1.0));
    assert!(
        (expected_a - expected_b).abs() > 1e-3,
        "the two directions differ"
    );
    assert!(losses.emb_a <= 2.0 * 2.0 && losses.emb_b <= 2.0 * 2.0);
    let without = gan
        .train_step(&a, &b, None, LossWeights::LPC, (&mut pool_b, &mut pool_a))
        .unwrap();
    assert_eq!((without.emb_a, without.emb_b), (0.0, 0.0));
}
