//! Hostile inputs: options out of range, outputs that would collide or be written through a
//! link, damaged or non-finite checkpoints, FIFOs for files, sizes that would exhaust memory,
//! malformed score files. Each command runs under a 4 GiB address-space limit and a timeout,
//! and must end with a clear error (exit status 2), never a panic, an abort or a hang.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};

use crate::{assert_fails, fixture, scratch_dir};

/// Address space each command may use.
const MEMORY_LIMIT: u64 = 4 << 30;

/// Time each command may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the `visnir` binary with `args` under [`MEMORY_LIMIT`] and [`TIMEOUT`].
fn visnir(args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_visnir"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("run visnir");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for visnir") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("visnir {args:?} did not finish in {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

fn train_with(extra: &[&str]) -> std::process::Output {
    let dir = scratch_dir("hostile-train");
    let mut args = vec![
        "train",
        "--data",
        dir.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    visnir(&args)
}

#[test]
fn training_options_out_of_range_are_refused_with_the_allowed_range() {
    let cases: [(&[&str], &str); 7] = [
        (&["--ngf", "0"], "1..=512"),
        (&["--ndf", "0"], "1..=512"),
        (&["--size", "16"], "32..=1024"),
        (&["--size", "60000000"], "32..=1024"),
        (&["--epochs", "18446744073709551615"], "0..=100000"),
        (&["--batch-size", "0"], "1..=1024"),
        (&["--checkpoint-every", "0"], "1.."),
    ];
    for (args, range) in cases {
        let out = train_with(args);
        assert_fails(&out, 2, &[args[0], range]);
    }
    let out = train_with(&["--epochs", "0", "--epochs-decay", "0"]);
    assert_fails(&out, 2, &["nothing to train"]);
    let out = train_with(&["--size", "34"]);
    assert_fails(&out, 2, &["multiple of 4"]);
    for option in [
        "--embedding-weight",
        "--pixel-weight",
        "--adversarial-weight",
    ] {
        for weight in ["-1", "nan", "inf", "x"] {
            let out = train_with(&[&format!("{option}={weight}")]);
            assert_fails(&out, 2, &[option, "not a loss weight"]);
        }
    }
    for option in ["--embedding-weight", "--pixel-weight"] {
        let out = train_with(&[option, "5", "--unpaired"]);
        assert_fails(&out, 2, &[option, "paired"]);
    }
}

fn face_crop(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::imageops::resize(
        &image::open(fixture("aligned/astronaut_f0.png"))
            .unwrap()
            .to_rgb8(),
        32,
        32,
        image::imageops::FilterType::Triangle,
    )
    .save(&path)
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn translations_never_overwrite_each_other_or_follow_links() {
    let dir = scratch_dir("hostile-translate");
    let generator = fixture("parity/cyclegan_tiny_G.safetensors");
    let generator = generator.to_str().unwrap();
    let (a, b) = (face_crop(&dir, "a/x.png"), face_crop(&dir, "b/x.png"));
    let out_dir = dir.join("out");
    let out_str = out_dir.to_str().unwrap();
    let out = visnir(&[
        "translate",
        "--checkpoint",
        generator,
        &a,
        &b,
        "--out",
        out_str,
    ]);
    assert_fails(&out, 2, &["a/x.png", "b/x.png", "same output"]);
    assert!(!out_dir.join("x.png").exists(), "refused before writing");
    let out = visnir(&["align", &a, &b, "--out", out_str]);
    assert_fails(&out, 2, &["a/x.png", "b/x.png", "same output"]);

    std::fs::create_dir_all(&out_dir).unwrap();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("x.png")).unwrap();
    let out = visnir(&["translate", "--checkpoint", generator, &a, "--out", out_str]);
    assert_fails(&out, 2, &["symbolic link"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");

    let out = visnir(&[
        "translate",
        "--checkpoint",
        generator,
        "--direction",
        "b2a",
        &a,
        "--out",
        out_str,
    ]);
    assert_fails(&out, 2, &["single generator", "A -> B"]);
}

#[test]
fn a_checkpoint_with_non_finite_weights_is_refused() {
    let dir = scratch_dir("hostile-nan");
    let good = fixture("parity/cyclegan_tiny_G.safetensors");
    let mut tensors: HashMap<String, Tensor> = candle_core::safetensors::load(&good, &Device::Cpu)
        .unwrap()
        .into_iter()
        .collect();
    let name = "model.1.weight".to_string();
    let mut values: Vec<f32> = tensors[&name].flatten_all().unwrap().to_vec1().unwrap();
    values[3] = f32::NAN;
    let shape = tensors[&name].dims().to_vec();
    tensors.insert(name, Tensor::from_vec(values, shape, &Device::Cpu).unwrap());
    let bad = dir.join("nan.safetensors");
    candle_core::safetensors::save(&tensors, &bad).unwrap();
    let crop = face_crop(&dir, "face.png");
    let out = visnir(&[
        "translate",
        "--checkpoint",
        bad.to_str().unwrap(),
        &crop,
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_fails(&out, 2, &["nan.safetensors", "model.1.weight", "NaN"]);
}

#[test]
fn score_files_from_spreadsheets_and_extreme_far_targets_are_handled() {
    let dir = scratch_dir("hostile-metrics");
    let bom = dir.join("bom.csv");
    std::fs::write(&bom, "\u{feff}label,score\n1,0.9\n0,0.1\n1,0.8\n0,0.3\n").unwrap();
    let out = visnir(&[
        "metrics",
        "verify",
        "--pairs",
        bom.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = visnir(&[
        "metrics",
        "verify",
        "--pairs",
        bom.to_str().unwrap(),
        "--far",
        "1e-300",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["tar_at_far"]["1e-300"].is_object(), "{v}");
    let out = visnir(&[
        "metrics",
        "verify",
        "--pairs",
        bom.to_str().unwrap(),
        "--far",
        "1e-300",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("1e-300") && !table.contains("0.0000000000"),
        "{table}"
    );
}

#[test]
fn an_identity_list_of_the_wrong_length_is_blamed_not_the_scores() {
    let dir = scratch_dir("hostile-identify");
    let short = dir.join("probe_ids.csv");
    std::fs::write(&short, "probe_index,identity\n0,a\n1,b\n").unwrap();
    let out = visnir(&[
        "metrics",
        "identify",
        "--scores",
        fixture("metrics/ident_scores.csv").to_str().unwrap(),
        "--probe-ids",
        short.to_str().unwrap(),
        "--gallery-ids",
        fixture("metrics/ident_gallery_ids.csv").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_fails(
        &out,
        2,
        &[
            "probe_ids.csv: the probe list has 2 identities",
            "120 rows (probe images)",
        ],
    );
    assert!(
        !stderr.contains("ident_scores.csv: "),
        "the score file is not at fault: {stderr}"
    );
}

#[test]
fn training_exits_2_when_it_skipped_pairs_or_cannot_resume() {
    let dir = scratch_dir("hostile-train-exit");
    let data = dir.join("data");
    for side in ["A", "B"] {
        std::fs::create_dir_all(data.join(side)).unwrap();
        for i in 0..2 {
            face_crop(&data, &format!("{side}/{i}.png"));
        }
        std::fs::write(data.join(side).join("bad.png"), b"not an image").unwrap();
    }
    let run = dir.join("run");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
            "--size",
            "32",
            "--ngf",
            "4",
            "--n-blocks",
            "1",
            "--ndf",
            "4",
            "--epochs",
            "1",
            "--epochs-decay",
            "0",
        ];
        args.extend_from_slice(extra);
        visnir(&args)
    };
    let out = train(&[]);
    assert_fails(
        &out,
        2,
        &[
            "bad.png",
            "1 image pairs could not be read",
            "trained 2 steps",
        ],
    );
    let checkpoint = run.join("checkpoint.safetensors");
    let bytes = std::fs::read(&checkpoint).unwrap();
    std::fs::write(&checkpoint, &bytes[..bytes.len() / 2]).unwrap();
    let out = train(&["--resume"]);
    assert_fails(&out, 2, &["checkpoint.safetensors"]);
}

#[test]
fn sizes_derived_from_options_are_checked_before_allocating() {
    let dir = scratch_dir("hostile-derived");
    let photo = fixture("faces/astronaut.png");
    let out = visnir(&["detect", photo.to_str().unwrap(), "--min-face-size", "1"]);
    assert_fails(
        &out,
        2,
        &[
            "astronaut.png",
            "megapixel limit",
            "min_face_size 2 or more",
        ],
    );

    let big = dir.join("big.png");
    image::GrayImage::new(1200, 1200).save(&big).unwrap();
    let generator = fixture("parity/cyclegan_tiny_G.safetensors");
    let out = visnir(&[
        "translate",
        "--checkpoint",
        generator.to_str().unwrap(),
        big.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_fails(&out, 2, &["big.png", "at most 1024 x 1024"]);

    // A bootstrap count that would run for hours is refused before any work.
    let out = visnir(&[
        "evaluate",
        "--checkpoint",
        generator.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
        "--bootstrap",
        "100000000",
    ]);
    assert_fails(&out, 2, &["--bootstrap", "0..=100000"]);
}

#[test]
fn a_fifo_given_for_any_input_file_is_refused_not_waited_on() {
    let dir = scratch_dir("hostile-fifo");
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let fifo = fifo.to_str().unwrap();
    let out = visnir(&["metrics", "verify", "--pairs", fifo]);
    assert_fails(&out, 2, &["pipe", "not a regular file"]);
    let crop = face_crop(&dir, "face.png");
    let out_dir = dir.join("out");
    let out = visnir(&[
        "translate",
        "--checkpoint",
        fifo,
        &crop,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_fails(&out, 2, &["pipe", "not a regular file"]);
    let out = visnir(&["embed", "--weights", fifo, &crop]);
    assert_fails(&out, 2, &["pipe", "not a regular file"]);
}

#[test]
fn an_unreadable_input_is_named_once() {
    let dir = scratch_dir("hostile-named-once");
    let bad = dir.join("x.png");
    std::fs::write(&bad, b"not pixels").unwrap();
    let generator = fixture("parity/cyclegan_tiny_G.safetensors");
    let out = visnir(&[
        "translate",
        "--checkpoint",
        generator.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_fails(&out, 2, &["x.png"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = bad.to_str().unwrap();
    assert_eq!(stderr.matches(name).count(), 1, "{stderr}");
}

#[test]
fn an_ffe_generator_of_any_depth_translates() {
    let dir = scratch_dir("hostile-ffe-depth");
    let data = dir.join("data");
    for side in ["A", "B"] {
        for i in 0..2 {
            face_crop(&data, &format!("{side}/{i}.png"));
        }
    }
    let run = dir.join("run");
    let out = visnir(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--arch",
        "ffe",
        "--n-blocks",
        "1",
        "--ndf",
        "4",
        "--size",
        "32",
        "--epochs",
        "1",
        "--epochs-decay",
        "0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crop = face_crop(&dir, "face.png");
    let out = visnir(&[
        "translate",
        "--checkpoint",
        run.join("checkpoint.safetensors").to_str().unwrap(),
        "--arch",
        "ffe",
        &crop,
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(image::open(dir.join("out/face.png")).unwrap().width(), 32);
}
