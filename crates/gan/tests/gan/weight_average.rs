//! The generators' weight average: its update is the stated formula, it survives a kill and a
//! resume bit for bit, and a checkpoint that holds it translates with it.

use candle_core::{Device, Module, Tensor};
use visnir_gan::{checkpoint_path, load_generator, parse_ema_decay, Direction, Trainer};

use crate::training_runs::{config, pairs, scratch, values};

fn averaged(trainer: &Trainer) -> Vec<(String, Vec<f32>)> {
    values(trainer.model().weight_average().unwrap().varmap())
}

#[test]
fn each_step_moves_the_average_by_one_minus_decay_towards_the_weights() {
    let device = Device::Cpu;
    let data = pairs();
    let mut with_average = config();
    with_average.ema_decay = 0.75;
    let dir = scratch("average-formula");
    let mut trainer = Trainer::new(with_average, &dir, false, &device).unwrap();
    let start = averaged(&trainer);
    let generators = |t: &Trainer| -> Vec<(String, Vec<f32>)> {
        values(t.model().varmap())
            .into_iter()
            .filter(|(k, _)| k.starts_with("G_"))
            .collect()
    };
    assert_eq!(
        start,
        generators(&trainer),
        "the average starts at the weights"
    );
    let mut expected = start;
    for step in 1..=3 {
        trainer.run(&data, Some(1), |_, _| {}).unwrap();
        let now = generators(&trainer);
        for ((name, avg), (other, w)) in expected.iter_mut().zip(&now) {
            assert_eq!(name, other);
            for (a, w) in avg.iter_mut().zip(w) {
                *a = (*a as f64 * 0.75 + *w as f64 * 0.25) as f32;
            }
        }
        let got = averaged(&trainer);
        for ((name, want), (_, got)) in expected.iter().zip(&got) {
            for (w, g) in want.iter().zip(got) {
                assert!(
                    (w - g).abs() <= 1e-6 * (1.0 + w.abs()),
                    "{name} at step {step}"
                );
            }
        }
        assert_ne!(got, now, "the average lags the weights");
    }
}

#[test]
fn a_resumed_run_restores_the_average_and_its_checkpoint_translates_with_it() {
    let device = Device::Cpu;
    let data = pairs();
    let mut with_average = config();
    with_average.ema_decay = 0.5;
    let whole = scratch("average-whole");
    let mut uninterrupted = Trainer::new(with_average, &whole, false, &device).unwrap();
    uninterrupted.run(&data, None, |_, _| {}).unwrap();

    let split = scratch("average-split");
    let mut first = Trainer::new(with_average, &split, false, &device).unwrap();
    first.run(&data, Some(3), |_, _| {}).unwrap();
    drop(first);
    let mut resumed = Trainer::new(with_average, &split, true, &device).unwrap();
    resumed.run(&data, None, |_, _| {}).unwrap();
    assert_eq!(averaged(&uninterrupted), averaged(&resumed));

    let x = Tensor::rand(-1f32, 1f32, (1, 3, 32, 32), &device).unwrap();
    let model = resumed.model();
    let from_average = model.translator().forward(&x).unwrap();
    let from_weights = model.g_a.forward(&x).unwrap();
    assert!(crate::max_diff(&from_average, &from_weights) > 1e-4);
    let loaded = load_generator(&checkpoint_path(&split), Direction::AToB, None, &device).unwrap();
    assert_eq!(
        crate::max_diff(&loaded.forward(&x).unwrap(), &from_average),
        0.0
    );

    let err = match Trainer::new(config(), &split, true, &device) {
        Ok(_) => panic!("a run with a weight average resumed without one"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("ema_decay"), "{err}");
}

#[test]
fn the_decay_must_lie_in_zero_to_one() {
    assert_eq!(parse_ema_decay("0.99"), Ok(0.99));
    assert_eq!(parse_ema_decay("0"), Ok(0.0));
    for bad in ["1", "1.5", "-0.1", "NaN", "inf", "x", ""] {
        assert!(parse_ema_decay(bad).is_err(), "{bad}");
    }
}
