//! `visnir metrics verify|identify`.

use crate::{assert_fails, fixture, json_output, scratch_dir, visnir};

fn path(relative: &str) -> String {
    fixture(relative).to_string_lossy().into_owned()
}

#[test]
fn verify_json_follows_the_contract() {
    let out = visnir(&[
        "metrics",
        "verify",
        "--pairs",
        &path("metrics/s1_normal.csv"),
        "--json",
    ]);
    let v = json_output(&out);
    assert_eq!(v["n_genuine"], 2000);
    assert_eq!(v["n_impostor"], 200000);
    assert!((v["auc"].as_f64().unwrap() - 0.997429765).abs() < 1e-9);
    assert!((v["eer"].as_f64().unwrap() - 0.02298).abs() < 1e-9);
    assert!((v["eer_threshold"].as_f64().unwrap() - 0.24927124).abs() < 1e-9);
    let keys: Vec<&String> = v["tar_at_far"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["0.01", "0.001"]);
    let t = &v["tar_at_far"]["0.01"];
    assert_eq!(t["tar"], 0.96);
    assert_eq!(t["far"], 0.01);
    assert_eq!(t["threshold"], 0.282001);
    assert_eq!(t["interpolated"], 0.96);
    assert_eq!(t["nearest"]["tar"], 0.96);
}

#[test]
fn verify_far_keys_are_printed_as_given_values() {
    let out = visnir(&[
        "metrics",
        "verify",
        "--pairs",
        &path("metrics/s3_tiny.csv"),
        "--far",
        "1e-1,0.01",
        "--json",
    ]);
    let v = json_output(&out);
    let t = &v["tar_at_far"]["0.1"];
    assert_eq!(t["tar"], 0.25);
    assert_eq!(t["threshold"], 0.9);
    assert_eq!(t["nearest"]["threshold"], 0.8);
    assert!(
        v["tar_at_far"]["0.01"]["nearest"]["threshold"].is_null(),
        "+inf threshold is null"
    );
}

#[test]
fn identify_json_follows_the_contract() {
    let out = visnir(&[
        "metrics",
        "identify",
        "--scores",
        &path("metrics/ident_scores.csv"),
        "--probe-ids",
        &path("metrics/ident_probe_ids.csv"),
        "--gallery-ids",
        &path("metrics/ident_gallery_ids.csv"),
        "--json",
    ]);
    let v = json_output(&out);
    assert_eq!(v["n_probe"], 120);
    assert_eq!(v["n_gallery"], 120);
    assert_eq!(v["rank1"], 112.0 / 120.0);
    assert_eq!(v["cmc"]["1"], 112.0 / 120.0);
    assert_eq!(v["cmc"]["5"], 1.0);
    assert_eq!(v["cmc"]["10"], 1.0);
    assert_eq!(v["verification"]["n_genuine"], 1440);
    assert_eq!(
        v["verification"]["tar_at_far"]["0.001"]["threshold"],
        0.365638
    );
}

#[test]
fn table_output_is_readable() {
    let out = visnir(&["metrics", "verify", "--pairs", &path("metrics/s3_tiny.csv")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        text.contains("AUC") && text.contains("EER") && text.contains("0.708333"),
        "{text}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file.to_string_lossy().into_owned()
}

#[test]
fn malformed_pairs_exit_2_naming_file_and_line() {
    let dir = scratch_dir("malformed-pairs");
    let cases = [
        ("header.csv", "lbl,score\n1,0.5\n", ":1:"),
        ("cell.csv", "label,score\n1,0.5\n0,abc\n", ":3:"),
        ("columns.csv", "label,score\n1,0.5,7\n", ":2:"),
        ("nan.csv", "label,score\n1,0.5\n0,NaN\n", ":3:"),
        ("label.csv", "label,score\n1,0.5\n2,0.1\n", ":3:"),
    ];
    for (name, text, line) in cases {
        let file = write(&dir, name, text);
        let out = visnir(&["metrics", "verify", "--pairs", &file, "--json"]);
        assert_fails(&out, 2, &[name, line]);
    }
}

#[test]
fn inconsistent_inputs_exit_2() {
    let dir = scratch_dir("inconsistent");
    let only_genuine = write(&dir, "genuine.csv", "label,score\n1,0.5\n1,0.4\n");
    assert_fails(
        &visnir(&["metrics", "verify", "--pairs", &only_genuine]),
        2,
        &["impostor"],
    );
    let tiny = path("metrics/s3_tiny.csv");
    assert_fails(
        &visnir(&["metrics", "verify", "--pairs", &tiny, "--far", "1.5"]),
        2,
        &["1.5"],
    );
    let missing = dir.join("missing.csv").to_string_lossy().into_owned();
    assert_fails(
        &visnir(&["metrics", "verify", "--pairs", &missing]),
        2,
        &["missing.csv"],
    );

    let ragged = write(&dir, "ragged.csv", "# comment\n0.1,0.2\n0.3\n");
    let ids = write(&dir, "ids.csv", "probe_index,identity\n0,a\n1,b\n");
    let out = visnir(&[
        "metrics",
        "identify",
        "--scores",
        &ragged,
        "--probe-ids",
        &ids,
        "--gallery-ids",
        &ids,
    ]);
    assert_fails(&out, 2, &["ragged.csv", ":3:"]);
    let square = write(&dir, "square.csv", "0.1,0.2\n0.3,0.4\n");
    let three = write(&dir, "three.csv", "gallery_index,identity\n0,a\n1,b\n2,c\n");
    let out = visnir(&[
        "metrics",
        "identify",
        "--scores",
        &square,
        "--probe-ids",
        &ids,
        "--gallery-ids",
        &three,
    ]);
    assert_fails(&out, 2, &["gallery list", "3"]);
}

#[test]
fn help_explains_the_subcommands() {
    let out = visnir(&["metrics", "verify", "--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--pairs") && text.contains("--far") && text.contains("label,score"));
}

#[test]
fn convert_writes_the_bob_and_pyeer_files_the_tools_read() {
    let dir = scratch_dir("metrics-convert");
    let matrix = [
        "--scores",
        &path("metrics/ident_scores.csv"),
        "--probe-ids",
        &path("metrics/ident_probe_ids.csv"),
        "--gallery-ids",
        &path("metrics/ident_gallery_ids.csv"),
    ];
    for (to, name) in [("bob4", "ident.bob4.txt"), ("bob5", "ident.bob5.txt")] {
        let out = dir.join(name);
        let mut args = vec!["metrics", "convert"];
        args.extend(matrix);
        args.extend(["--to", to, "--out", out.to_str().unwrap()]);
        let run = visnir(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let want = std::fs::read(fixture(&format!("metrics/score_files/{name}"))).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), want, "{name}");
    }
    let bob5 = dir.join("ident.bob5.txt");
    let pyeer = dir.join("pyeer");
    let run = visnir(&[
        "metrics",
        "convert",
        "--scores",
        bob5.to_str().unwrap(),
        "--to",
        "pyeer",
        "--out",
        pyeer.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for list in ["genuine", "impostor"] {
        let want = std::fs::read(fixture(&format!(
            "metrics/score_files/ident.pyeer/{list}.txt"
        )));
        assert_eq!(
            std::fs::read(pyeer.join(format!("{list}.txt"))).unwrap(),
            want.unwrap()
        );
    }
    // An input is never overwritten.
    let out = visnir(&[
        "metrics",
        "convert",
        "--scores",
        bob5.to_str().unwrap(),
        "--to",
        "bob4",
        "--out",
        bob5.to_str().unwrap(),
    ]);
    assert_fails(&out, 2, &["is an input"]);
}

#[test]
fn verify_reads_bob_and_pyeer_files_and_reports_their_conventions() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("metrics/score_files/expected.json")).unwrap(),
    )
    .unwrap();
    let bob4 = path("metrics/score_files/ident.bob4.txt");
    let genuine = path("metrics/score_files/ties.pyeer/genuine.txt");
    let impostor = path("metrics/score_files/ties.pyeer/impostor.txt");
    for (args, name) in [
        (vec!["--scores", bob4.as_str()], "ident.bob4.txt"),
        (
            vec![
                "--genuine",
                genuine.as_str(),
                "--impostor",
                impostor.as_str(),
            ],
            "ties.pyeer",
        ),
    ] {
        let mut all = vec!["metrics", "verify", "--json"];
        all.extend(args);
        let v = json_output(&visnir(&all));
        let want = &expected[name];
        assert_eq!(v["n_genuine"], want["n_genuine"]);
        let c = &v["conventions"];
        let close = |got: &serde_json::Value, want: &serde_json::Value| {
            (got.as_f64().unwrap() - want.as_f64().unwrap()).abs() <= 1e-9
        };
        assert!(close(&c["bob"]["eer"], &want["bob"]["eer"]), "{name}");
        assert!(close(
            &c["bob"]["tar_at_far"]["0.01"]["tar"],
            &want["bob"]["tar_at_far_0.01"]
        ));
        for key in ["eer", "fmr100", "fmr1000", "auc"] {
            assert!(close(&c["pyeer"][key], &want["pyeer"][key]), "{name} {key}");
        }
    }
    let out = visnir(&["metrics", "identify", "--scores", &bob4, "--json"]);
    let v = json_output(&out);
    assert_eq!(
        v["rank1"],
        expected["ident.bob4.txt"]["recognition_rate"]["1"]
    );
}

#[test]
fn convert_refuses_what_the_input_cannot_give() {
    let dir = scratch_dir("metrics-convert-refusals");
    let bob4 = path("metrics/score_files/ident.bob4.txt");
    let out = dir.join("x.txt");
    let to_bob5 = visnir(&[
        "metrics",
        "convert",
        "--scores",
        &bob4,
        "--to",
        "bob5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_fails(&to_bob5, 2, &["ident.bob4.txt", "no model labels"]);
    let labels = path("metrics/s3_tiny.csv");
    let to_bob4 = visnir(&[
        "metrics",
        "convert",
        "--scores",
        &labels,
        "--to",
        "bob4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_fails(&to_bob4, 2, &["s3_tiny.csv", "no identities"]);
    assert!(!out.exists(), "nothing written on refusal");
}
