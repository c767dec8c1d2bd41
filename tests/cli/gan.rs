//! `visnir train` and `visnir translate` end to end on a tiny configuration.

use std::path::Path;
use std::process::Output;

use crate::{assert_fails, fixture, scratch_dir, visnir};

fn noise_image(seed: u32, path: &Path) {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    let image = image::RgbImage::from_fn(36, 36, |_, _| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        image::Rgb([s as u8, (s >> 8) as u8, (s >> 16) as u8])
    });
    image.save(path).unwrap();
}

/// `pairs` noise images in `data/A` and their counterparts in `data/B`.
fn noise_pairs(data: &Path, pairs: u32) {
    for side in ["A", "B"] {
        std::fs::create_dir_all(data.join(side)).unwrap();
    }
    for i in 0..pairs {
        noise_image(i, &data.join(format!("A/{i}.png")));
        noise_image(i + 10, &data.join(format!("B/{i}.png")));
    }
}

/// `visnir train` of a tiny pixel-consistency model for one epoch, with `extra` options.
fn train_tiny(data: &Path, run: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--size",
        "32",
        "--ngf",
        "8",
        "--n-blocks",
        "2",
        "--ndf",
        "8",
        "--epochs",
        "1",
        "--loss",
        "lpc",
    ];
    args.extend_from_slice(extra);
    visnir(&args)
}

#[test]
fn train_then_translate() {
    let dir = scratch_dir("train");
    let data = dir.join("data");
    noise_pairs(&data, 3);
    noise_image(99, &data.join("A/lonely.png"));
    let run = dir.join("run");
    let out = train_tiny(&data, &run, &["--epochs-decay", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("lonely") && stderr.contains("trained 6 steps"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("losses.jsonl"))
            .unwrap()
            .lines()
            .count(),
        6
    );
    let checkpoint = run.join("checkpoint.safetensors");

    let translated = dir.join("translated");
    let input = data.join("A/0.png");
    let crop = dir.join("crop.png");
    image::imageops::crop_imm(&image::open(&input).unwrap().to_rgb8(), 0, 0, 32, 32)
        .to_image()
        .save(&crop)
        .unwrap();
    for direction in ["a2b", "b2a"] {
        let out = visnir(&[
            "translate",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--direction",
            direction,
            crop.to_str().unwrap(),
            "--out",
            translated.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result = image::open(translated.join("crop.png")).unwrap();
        assert_eq!((result.width(), result.height()), (32, 32));
    }
    let out = visnir(&[
        "translate",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        input.to_str().unwrap(),
        "--out",
        translated.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "36 x 36 is square and a multiple of 4"
    );
    let wide = fixture("faces/faceapi_sample1.png");
    let out = visnir(&[
        "translate",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        wide.to_str().unwrap(),
        "--out",
        translated.to_str().unwrap(),
    ]);
    assert_fails(&out, 2, &["1920 x 1280", "--align"]);
}

/// `visnir translate --checkpoint <checkpoint> <image> --out <out>`.
fn translate(checkpoint: &Path, image: &Path, out: &Path) -> Output {
    visnir(&[
        "translate",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        image.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn translate_loads_a_bare_generator_state_dict() {
    let dir = scratch_dir("bare-generator");
    let crop = dir.join("face.png");
    image::imageops::resize(
        &image::open(fixture("aligned/astronaut_f0.png"))
            .unwrap()
            .to_rgb8(),
        64,
        64,
        image::imageops::FilterType::Triangle,
    )
    .save(&crop)
    .unwrap();
    let generator = fixture("parity/cyclegan_tiny_G.safetensors");
    let out_dir = dir.join("out");
    let out = translate(&generator, &crop, &out_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(image::open(out_dir.join("face.png")).unwrap().width(), 64);
    let missing = translate(Path::new("/no/such.pth"), &crop, &dir);
    assert_fails(&missing, 2, &["/no/such.pth"]);
}

/// A generator saved by PyTorch's own `torch.save(G.state_dict())` translates a 256x256 face
/// like PyTorch does (`tests/fixtures/pytorch/make_gan_fixtures.py`): within 1 grey level on
/// average of the PNG that CycleGAN's `test.py` writes.
#[test]
fn translate_matches_pytorch_on_a_torch_saved_generator() {
    let dir = scratch_dir("torch-pth");
    let out_dir = dir.join("out");
    let pth = fixture("gan/tiny_G.pth");
    let face = fixture("gan/face256.png");
    let out = translate(&pth, &face, &out_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = image::open(out_dir.join("face256.png")).unwrap().to_rgb8();
    let torch = image::open(fixture("gan/face256_tiny_G_torch.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(ours.dimensions(), (256, 256));
    let diffs: Vec<f64> = ours
        .as_raw()
        .iter()
        .zip(torch.as_raw())
        .map(|(&a, &b)| (a as f64 - b as f64).abs())
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let max = diffs.iter().cloned().fold(0.0, f64::max);
    eprintln!("mean |ours - PyTorch| = {mean:.3} grey levels, max {max}");
    assert!(
        mean <= 1.0,
        "mean difference {mean} grey levels (max {max})"
    );
    assert!(max <= 1.0, "a pixel {max} grey levels from PyTorch's");
}

/// `--subject-weight` trains on pairs in subject folders (`A/<subject>/`, `B/<subject>/`),
/// matched by folder and stem, and logs the subject-contrast term; on a flat layout it is
/// refused with a message naming the folders it needs.
#[test]
fn train_with_subject_folders() {
    let dir = scratch_dir("train-subjects");
    let data = dir.join("data");
    for (i, subject) in ["s1", "s1", "s2", "s3"].iter().enumerate() {
        for side in ["A", "B"] {
            std::fs::create_dir_all(data.join(side).join(subject)).unwrap();
        }
        let i = i as u32;
        noise_image(i, &data.join(format!("A/{subject}/{i}.png")));
        noise_image(i + 10, &data.join(format!("B/{subject}/{i}.png")));
    }
    // Same stem, another subject: not a twin.
    noise_image(50, &data.join("B/s2/0.png"));
    let train = |data: &Path, run: &Path| {
        train_tiny(data, run, &["--epochs-decay", "0", "--subject-weight", "2"])
    };
    let run = dir.join("run");
    let out = train(&data, &run);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("trained 4 steps"), "{stderr}");
    let log = std::fs::read_to_string(run.join("losses.jsonl")).unwrap();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in ["sub_A", "sub_B"] {
            let loss = v[key].as_f64().unwrap();
            // Cross-entropy among 3 subjects, times 2: about 2 ln 3 for an untrained model.
            assert!(loss > 0.5 && loss < 10.0, "{key} = {loss} in {line}");
        }
    }

    let flat = dir.join("flat");
    for side in ["A", "B"] {
        std::fs::create_dir_all(flat.join(side)).unwrap();
    }
    for i in 0..2 {
        noise_image(i, &flat.join(format!("A/{i}.png")));
        noise_image(i + 10, &flat.join(format!("B/{i}.png")));
    }
    let refused = train(&flat, &dir.join("flat-run"));
    assert_fails(
        &refused,
        2,
        &["--subject-weight", "A/<subject>/", "0 subjects"],
    );
}

#[test]
fn train_without_resize_and_crop_records_it_and_a_resume_must_match() {
    let dir = scratch_dir("train-no-resize");
    let data = dir.join("data");
    noise_pairs(&data, 2);
    let run = dir.join("run");
    let flips_only = ["--epochs-decay", "0", "--resize-and-crop", "false"];
    let out = train_tiny(&data, &run, &flips_only);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let out = train_tiny(&data, &run, &["--epochs-decay", "0", "--resume"]);
    assert_fails(&out, 2, &["other settings", "load_size"]);
    let resumed = [&flips_only[..], &["--resume"]].concat();
    let out = train_tiny(&data, &run, &resumed);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
}
