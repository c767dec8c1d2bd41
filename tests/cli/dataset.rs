//! `visnir synth`, `visnir dataset inspect` and `visnir dataset split`.

use crate::{assert_fails, json_output, scratch_dir, visnir};

#[test]
fn synth_inspect_split_round_trip() {
    let dir = scratch_dir("dataset");
    let data = dir.join("oulu");
    let out = visnir(&[
        "synth",
        "--layout",
        "oulu",
        "--subjects",
        "3",
        "--per-condition",
        "2",
        "--seed",
        "4",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("72 images"));

    std::fs::remove_file(data.join("NI/Strong/P002/Fear/002.jpeg")).unwrap();
    std::fs::write(
        data.join("NI/Strong/P003/Anger/001.jpeg"),
        b"\xff\xd8\xff\xe0 not really",
    )
    .unwrap();
    let out = visnir(&[
        "dataset",
        "inspect",
        "--layout",
        "oulu",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert_fails(&out, 2, &["2 problems found"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the report");
    assert_eq!(report["subjects"], 3);
    assert_eq!(report["images"]["vis"], 36);
    assert_eq!(report["images"]["nir"], 35);
    assert_eq!(report["pairs"], 35);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems
        .iter()
        .any(|p| p["path"] == "VL/Strong/P002/Fear/002.jpeg"));
    assert!(problems
        .iter()
        .any(|p| p["path"] == "NI/Strong/P003/Anger/001.jpeg"
            && p["problem"].as_str().unwrap().contains("unreadable")));

    let protocol = dir.join("oulu.protocol");
    let split = |seed: &str| {
        visnir(&[
            "dataset",
            "split",
            "--layout",
            "oulu",
            data.to_str().unwrap(),
            "--seed",
            seed,
            "--train",
            "1",
            "--test",
            "1",
            "--per-subject",
            "1",
            "--out",
            protocol.to_str().unwrap(),
        ])
    };
    assert!(split("1").status.success());
    let text = std::fs::read_to_string(&protocol).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines.len(),
        2 * 6 * 2,
        "2 subjects x 6 expressions x VIS+NIR"
    );
    assert!(lines.iter().any(|l| l.starts_with("test gallery ")));
    assert!(lines.iter().any(|l| l.starts_with("train nir ")));
    assert!(split("1").status.success());
    assert_eq!(text, std::fs::read_to_string(&protocol).unwrap(), "seeded");
}

#[test]
fn bad_dataset_input_exits_2_with_a_reason() {
    let dir = scratch_dir("dataset-bad");
    assert_fails(
        &visnir(&[
            "dataset",
            "inspect",
            "--layout",
            "whu",
            dir.join("missing").to_str().unwrap(),
        ]),
        2,
        &["missing"],
    );
    std::fs::create_dir_all(dir.join("VL")).unwrap();
    assert_fails(
        &visnir(&[
            "dataset",
            "inspect",
            "--layout",
            "whu",
            dir.to_str().unwrap(),
        ]),
        2,
        &["WHU", "vis/"],
    );
    assert_fails(
        &visnir(&[
            "dataset",
            "split",
            "--layout",
            "oulu",
            dir.to_str().unwrap(),
            "--out",
            dir.join("p").to_str().unwrap(),
        ]),
        2,
        &["40 subjects needed"],
    );
    assert_fails(
        &visnir(&[
            "synth",
            "--subjects",
            "0",
            "--out",
            dir.join("s").to_str().unwrap(),
        ]),
        2,
        &["--subjects"],
    );
}

#[test]
fn evaluate_scores_a_generator_on_the_test_split() {
    let dir = scratch_dir("evaluate");
    let data = dir.join("oulu");
    let out = visnir(&[
        "synth",
        "--subjects",
        "3",
        "--per-condition",
        "1",
        "--seed",
        "2",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let protocol = dir.join("protocol.txt");
    let split = visnir(&[
        "dataset",
        "split",
        "--layout",
        "oulu",
        data.to_str().unwrap(),
        "--train",
        "1",
        "--test",
        "2",
        "--per-subject",
        "1",
        "--out",
        protocol.to_str().unwrap(),
    ]);
    assert!(
        split.status.success(),
        "{}",
        String::from_utf8_lossy(&split.stderr)
    );
    let generator = crate::fixture("parity/cyclegan_tiny_G.safetensors");
    let report_dir = dir.join("report");
    let evaluate = |checkpoint: &str| {
        visnir(&[
            "evaluate",
            "--report",
            report_dir.to_str().unwrap(),
            "--checkpoint",
            checkpoint,
            "--data",
            data.to_str().unwrap(),
            "--protocol",
            protocol.to_str().unwrap(),
            "--size",
            "32",
            "--cache",
            dir.join("cache").to_str().unwrap(),
            "--json",
        ])
    };
    let report = json_output(&evaluate(generator.to_str().unwrap()));
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["method"], "No translation");
    assert!(rows[1]["method"]
        .as_str()
        .unwrap()
        .starts_with("Translated"));
    for row in rows {
        let rank1 = row["rank1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rank1), "{row}");
        let interval = &row["intervals"]["rank1"];
        assert!(interval["low"].as_f64().unwrap() <= rank1, "{row}");
        assert!(row["quality"]["ssim"].as_f64().unwrap() <= 1.0);
    }
    for file in [
        "index.html",
        "table2.json",
        "det.png",
        "cmc.png",
        "scores.png",
        "translations.png",
        "scores/no-translation.txt",
        "scores/translated.txt",
    ] {
        assert!(report_dir.join(file).is_file(), "{file}");
    }
    let page = std::fs::read_to_string(report_dir.join("index.html")).unwrap();
    for link in ["scores/no-translation.txt", "scores/translated.txt"] {
        assert!(
            page.contains(&format!("href=\"{link}\"")),
            "index.html links {link}"
        );
    }
    assert_fails(
        &evaluate(dir.join("missing.pth").to_str().unwrap()),
        2,
        &["missing.pth"],
    );
}
