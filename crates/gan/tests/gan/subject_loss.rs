//! The subject-contrast loss: it is the cross-entropy of scaled cosines, its prototypes are the
//! normalised subject means of the judge's embeddings, and training refuses to run it without
//! the subject of every pair.

use candle_core::{Device, Tensor};
use image::RgbImage;
use rand::{Rng, SeedableRng};
use visnir_gan::{
    subject_contrast_loss, CycleGan, EmbeddingJudge, ImagePool, LossWeights, StepError,
    SubjectPrototypes, TrainError, Trainer, TrainingPair, SUBJECT_LOGIT_SCALE,
};
use visnir_nn::to_tensor;

use crate::noise;

fn unit_rows(rows: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..rows)
        .map(|_| {
            let row: Vec<f64> = (0..192).map(|_| rng.random::<f64>() - 0.5).collect();
            let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
            row.iter().map(|x| x / norm).collect()
        })
        .collect()
}

fn tensor(rows: &[Vec<f64>]) -> Tensor {
    let flat: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
    Tensor::from_vec(flat, (rows.len(), 192), &Device::Cpu).unwrap()
}

#[test]
fn the_loss_is_the_cross_entropy_of_scaled_cosines() {
    let (fakes, prototypes) = (unit_rows(3, 1), unit_rows(5, 2));
    let subjects = [4u32, 0, 2];
    let loss = subject_contrast_loss(
        &tensor(&fakes),
        &tensor(&prototypes),
        &Tensor::new(&subjects[..], &Device::Cpu).unwrap(),
    )
    .unwrap()
    .to_scalar::<f32>()
    .unwrap() as f64;
    let expected = fakes
        .iter()
        .zip(subjects)
        .map(|(fake, subject)| {
            let logits: Vec<f64> = prototypes
                .iter()
                .map(|p| SUBJECT_LOGIT_SCALE * p.iter().zip(fake).map(|(a, b)| a * b).sum::<f64>())
                .collect();
            let log_sum = logits.iter().map(|l| l.exp()).sum::<f64>().ln();
            log_sum - logits[subject as usize]
        })
        .sum::<f64>()
        / 3.0;
    assert!((loss - expected).abs() <= 1e-5, "{loss} vs {expected}");
}

#[test]
fn prototypes_are_normalised_subject_means_of_the_judge_embeddings() {
    let judge = EmbeddingJudge::bundled(&Device::Cpu).unwrap();
    let image = |seed| to_tensor(&noise(32, seed), &Device::Cpu).unwrap();
    let images: Vec<_> = (0..5).map(|i| (image(2 * i), image(2 * i + 1))).collect();
    let subjects = [1u32, 0, 1, 2, 1];
    let prototypes = SubjectPrototypes::new(&judge, &images, &subjects, 3).unwrap();
    for (side, got) in [(0, &prototypes.a), (1, &prototypes.b)] {
        let got: Vec<Vec<f32>> = got.to_vec2().unwrap();
        for (subject, row) in got.iter().enumerate() {
            let mut mean = vec![0f64; 192];
            for (pair, _) in images
                .iter()
                .zip(subjects)
                .filter(|(_, s)| *s as usize == subject)
            {
                let picture = if side == 0 { &pair.0 } else { &pair.1 };
                let embedding: Vec<Vec<f32>> = judge.embed(picture).unwrap().to_vec2().unwrap();
                mean.iter_mut()
                    .zip(&embedding[0])
                    .for_each(|(m, &e)| *m += e as f64);
            }
            let norm = mean.iter().map(|x| x * x).sum::<f64>().sqrt();
            let worst = row
                .iter()
                .zip(&mean)
                .map(|(&r, m)| (r as f64 - m / norm).abs())
                .fold(0.0, f64::max);
            assert!(worst <= 1e-5, "side {side} subject {subject}: {worst}");
        }
    }
    assert!(SubjectPrototypes::new(&judge, &images, &[0, 1, 3, 0, 1], 3).is_err());
    assert!(SubjectPrototypes::new(&judge, &images, &[0, 1], 3).is_err());
}

struct Labelled {
    vis: RgbImage,
    nir: RgbImage,
    subject: String,
}

impl TrainingPair for Labelled {
    fn a(&self) -> &RgbImage {
        &self.vis
    }
    fn b(&self) -> &RgbImage {
        &self.nir
    }
    fn subject(&self) -> Option<&str> {
        Some(&self.subject)
    }
}

#[test]
fn training_with_the_term_needs_every_subject_and_logs_it() {
    let mut config = crate::training_runs::config();
    config.loss = LossWeights {
        subject: 0.5,
        ..LossWeights::LPC
    };
    let dir = std::env::temp_dir().join(format!("visnir-gan-{}-subject", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut trainer = Trainer::new(config, &dir, false, &Device::Cpu).unwrap();
    let unlabelled = crate::training_runs::pairs();
    let err = trainer.run(&unlabelled, Some(1), |_, _| {}).unwrap_err();
    assert!(matches!(err, TrainError::Unlabelled { index: 0 }), "{err}");

    let labelled: Vec<Labelled> = unlabelled
        .into_iter()
        .zip(["p2", "p1", "p2"])
        .map(|((vis, nir), s)| Labelled {
            vis,
            nir,
            subject: s.to_string(),
        })
        .collect();
    let mut seen = Vec::new();
    trainer
        .run(&labelled, Some(2), |_, losses| seen.push(*losses))
        .unwrap();
    assert_eq!(seen.len(), 2);
    // Two subjects: the cross-entropy of each direction lies in (0, ln 2 + 2 * scale].
    for l in &seen {
        for sub in [l.sub_a, l.sub_b] {
            assert!(sub > 0.0 && sub as f64 <= 0.5 * (2f64.ln() + 2.0 * SUBJECT_LOGIT_SCALE));
        }
        assert_eq!((l.emb_a, l.emb_b), (0.0, 0.0));
    }
    let log = std::fs::read_to_string(dir.join("losses.jsonl")).unwrap();
    assert!(log.lines().all(|l| l.contains("\"sub_A\"")), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_step_with_the_term_needs_prototypes_and_subjects() {
    let config = crate::training_runs::config();
    let weights = LossWeights {
        subject: 1.0,
        ..LossWeights::LPC
    };
    let mut gan = CycleGan::new(config.model, config.adam, 5, &Device::Cpu).unwrap();
    let judge = EmbeddingJudge::bundled(&Device::Cpu).unwrap();
    gan.set_judge(judge.clone());
    let a = to_tensor(&noise(32, 8), &Device::Cpu).unwrap();
    let b = to_tensor(&noise(32, 9), &Device::Cpu).unwrap();
    let subjects = Tensor::new(&[0u32][..], &Device::Cpu).unwrap();
    let (mut pool_a, mut pool_b) = (ImagePool::new(0, 0), ImagePool::new(0, 0));
    let missing = gan.train_step(&a, &b, Some(&subjects), weights, (&mut pool_b, &mut pool_a));
    assert!(matches!(missing, Err(StepError::NoSubjects)), "{missing:?}");

    let prototypes = SubjectPrototypes::new(&judge, &[(a.clone(), b.clone())], &[0], 1).unwrap();
    gan.set_subject_prototypes(prototypes);
    let missing = gan.train_step(&a, &b, None, weights, (&mut pool_b, &mut pool_a));
    assert!(matches!(missing, Err(StepError::NoSubjects)), "{missing:?}");
    let losses = gan
        .train_step(&a, &b, Some(&subjects), weights, (&mut pool_b, &mut pool_a))
        .unwrap();
    // One subject: the softmax is certain, the loss zero.
    assert!(
        losses.sub_a.abs() < 1e-6 && losses.sub_b.abs() < 1e-6,
        "{losses:?}"
    );
}
