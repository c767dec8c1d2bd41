//! A tiny experiment end to end on generated data in the Oulu layout given as `--data`
//! (exactly the path real data takes), its report files, and the resumption of a re-run.

use visnir_datasets::synth::{generate, SynthConfig};
use visnir_pipeline::{
    methods, paper_rows, report_dir, ExperimentConfig, Method, PairedLayout, PaperTable, Scale,
    Select,
};

#[test]
fn paper_tables_hold_both_tables() {
    let two = paper_rows(PaperTable::Two).unwrap();
    assert_eq!(two.len(), 10);
    let ffe = two.iter().find(|r| r["method"] == "FFE + Lpc").unwrap();
    assert_eq!(ffe["rank1"], 96.5);
    assert_eq!(paper_rows(PaperTable::One).unwrap().len(), 3);
}

/// Ten synthetic subjects in the Oulu layout under `dir/oulu`, one frame per condition.
fn synthetic_oulu(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join("oulu");
    generate(
        &SynthConfig {
            per_condition: 1,
            ..SynthConfig::oulu(10, 3)
        },
        &data,
        &|| {},
    )
    .unwrap();
    data
}

#[test]
fn tiny_experiment_on_a_real_layout_tree_writes_the_report() {
    let dir = std::env::temp_dir().join(format!("visnir-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = synthetic_oulu(&dir);
    let config = ExperimentConfig {
        layout: PairedLayout::Oulu,
        data: Some(data.clone()),
        protocol: None,
        scale: Scale::Tiny,
        settings: Scale::Tiny.settings(),
        methods: methods(false),
        device: candle_core::Device::Cpu,
        out: dir.join("run"),
        seed: 1,
        select: Select::Last,
        training_seed: None,
        bootstrap: 50,
        adjust: None,
    };
    let outcome = visnir_pipeline::run(&config).unwrap();
    for row in &outcome.rows {
        let intervals = row.intervals.as_ref().expect("bootstrap intervals");
        assert!(intervals.rank1.contains(row.rank1), "{}", row.method);
        assert!(intervals.tar_at_far[0].1.contains(row.tar_far_1e2));
        let file = config.out.join("report/scores").join(format!(
            "{}.txt",
            Method::from_label(&row.method).unwrap().slug()
        ));
        let comparisons = visnir_metrics::score_file::read_bob(&file, None).unwrap();
        let (genuine, impostor) = visnir_metrics::score_file::split_comparisons(&comparisons);
        let report = visnir_metrics::verify(&genuine, &impostor, &[1e-2]).unwrap();
        assert_eq!(
            report.tar_at_far[0].step.tar, row.tar_far_1e2,
            "{}",
            row.method
        );
        assert_eq!(report.eer.rate, row.eer);
    }
    assert!(
        !outcome.synthetic,
        "given with --data, it is treated as real data"
    );
    let methods: Vec<&str> = outcome.rows.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            Method::NoTranslation,
            Method::Basic,
            Method::BasicLpc,
            Method::FfeLpc
        ]
        .map(|m| m.label())
    );
    for row in &outcome.rows {
        assert!((0.0..=1.0).contains(&row.rank1) && (0.0..=1.0).contains(&row.tar_far_1e2));
        assert!(!row.roc.is_empty());
    }
    assert_eq!(outcome.sizes["test subjects"], 6);
    assert_eq!(outcome.examples.translated.len(), 3);

    let files =
        visnir_pipeline::write_report(&report_dir(&config.out), PaperTable::Two, &outcome, "tiny")
            .unwrap();
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() > 100, "{}", f.display());
        if f.extension().is_some_and(|e| e == "png") {
            let img = image::open(f).unwrap();
            assert!(img.width() > 100 && img.height() > 100);
        }
    }
    let md = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        md.contains("| FFE + Lpc |") && md.contains("96.5") && md.contains("ADFL"),
        "{md}"
    );
    assert!(!md.contains("SYNTHETIC"));
    check_html_report(&report_dir(&config.out), &files);

    check_bounds(&config, &data, &outcome.rows);

    let protocol = std::fs::read_to_string(config.out.join("protocol.txt")).unwrap();
    let again = ExperimentConfig {
        protocol: Some(config.out.join("protocol.txt")),
        ..config.clone()
    };
    let second = visnir_pipeline::run(&again).unwrap();
    assert_eq!(
        second.rows, outcome.rows,
        "re-run from the protocol file, cache and checkpoints"
    );
    assert_eq!(
        protocol,
        std::fs::read_to_string(config.out.join("protocol.txt")).unwrap()
    );
}

#[test]
fn the_subject_contrast_loss_gets_each_training_pair_subject_from_the_protocol() {
    let dir = std::env::temp_dir().join(format!("visnir-subject-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = synthetic_oulu(&dir);
    let settings = visnir_pipeline::Settings {
        subject: 2.0,
        n_epochs: 1,
        n_epochs_decay: 0,
        ..Scale::Tiny.settings()
    };
    let config = ExperimentConfig {
        layout: PairedLayout::Oulu,
        data: Some(data),
        protocol: None,
        scale: Scale::Tiny,
        settings,
        methods: vec![Method::NoTranslation, Method::BasicLpc],
        device: candle_core::Device::Cpu,
        out: dir.join("run"),
        seed: 1,
        select: Select::Last,
        training_seed: None,
        bootstrap: 0,
        adjust: None,
    };
    let outcome = visnir_pipeline::run(&config).unwrap();
    assert_eq!(outcome.rows.len(), 2);
    let log = std::fs::read_to_string(dir.join("run/models/basic-lpc/losses.jsonl")).unwrap();
    let steps: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(steps.len(), outcome.sizes["training pairs"]);
    // Four training subjects: each direction's cross-entropy is positive and, weighted by 2,
    // starts near 2 ln 4 (the untrained translations are about equally far from every subject).
    for step in &steps {
        let (a, b) = (
            step["sub_A"].as_f64().unwrap(),
            step["sub_B"].as_f64().unwrap(),
        );
        assert!(a > 0.0 && b > 0.0, "{step}");
    }
    let first = steps[0]["sub_A"].as_f64().unwrap();
    assert!((first - 2.0 * 4f64.ln()).abs() < 1.5, "{first}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `measure_bounds` on the finished run: in the table's setting it scores the untranslated
/// gallery and each model's translations exactly as the table does, and the true NIR twins
/// match their probes pixel for pixel.
fn check_bounds(
    config: &ExperimentConfig,
    data: &std::path::Path,
    rows: &[visnir_pipeline::RowMetrics],
) {
    let bounds = visnir_pipeline::measure_bounds(&visnir_pipeline::BoundsConfig {
        out: config.out.clone(),
        data: Some(data.to_path_buf()),
        layout: PairedLayout::Oulu,
        size: config.settings.size,
        seed: config.seed,
        device: candle_core::Device::Cpu,
    })
    .unwrap();
    let table: Vec<&str> = bounds
        .table_rows
        .iter()
        .map(|r| r.mapping.as_str())
        .collect();
    assert_eq!(
        table,
        [
            "none (the VIS gallery)",
            "true NIR twins",
            "Basic CycleGAN (its translations)",
            "Basic + Lpc (its translations)",
            "FFE + Lpc (its translations)"
        ]
    );
    let twins = &bounds.table_rows[1];
    assert_eq!(twins.pixel_l1, 0.0);
    assert!(twins.rank1 >= rows[0].rank1, "{twins:?}");
    let scored_like_the_table = [0, 2, 3, 4].map(|i| &bounds.table_rows[i]);
    for (bound, row) in scored_like_the_table.iter().zip(rows) {
        assert_eq!(
            (bound.rank1, bound.tar_far_1e2, bound.tar_far_1e3),
            (row.rank1, row.tar_far_1e2, row.tar_far_1e3),
            "{}",
            row.method
        );
        assert_eq!(Some(bound.pixel_l1), row.pixel_l1, "{}", row.method);
    }
    let markdown = visnir_pipeline::bounds_markdown(&bounds);
    assert!(markdown.contains("In the table's setting"), "{markdown}");
}

/// `index.html` embeds every figure the report wrote (as a PNG that decodes to the file's
/// bytes), links every score file, and its table holds the numbers of `table2.json`.
fn check_html_report(dir: &std::path::Path, files: &[std::path::PathBuf]) {
    use base64::Engine as _;
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let pngs: Vec<&std::path::PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(pngs.len() >= 6);
    for png in pngs {
        let name = png.file_name().unwrap().to_str().unwrap();
        let tag = format!("data-file=\"{name}\" src=\"data:image/png;base64,");
        let start = page
            .find(&tag)
            .unwrap_or_else(|| panic!("{name} not embedded"))
            + tag.len();
        let end = start + page[start..].find('"').unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&page[start..end])
            .unwrap();
        assert_eq!(bytes, std::fs::read(png).unwrap(), "{name}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("table2.json")).unwrap()).unwrap();
    for row in json["rows"].as_array().unwrap() {
        let method = row["method"].as_str().unwrap();
        let start = page
            .find(&format!("<tr data-method=\"{method}\""))
            .unwrap_or_else(|| panic!("{method} not in the table"));
        let tr = &page[start..start + page[start..].find("</tr>").unwrap()];
        for (attribute, key) in [
            ("data-rank1", "rank1"),
            ("data-tar-far-1e2", "tar_far_1e2"),
            ("data-tar-far-1e3", "tar_far_1e3"),
            ("data-eer", "eer"),
        ] {
            let at = tr.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
            let value: f64 = tr[at..at + tr[at..].find('"').unwrap()].parse().unwrap();
            assert_eq!(value, row[key].as_f64().unwrap(), "{method} {key}");
        }
        let slug = Method::from_label(method).unwrap().slug();
        assert!(tr.contains(&format!("href=\"scores/{slug}.txt\"")));
        assert!(dir.join("scores").join(format!("{slug}.txt")).is_file());
    }
}

#[test]
fn the_scale_loss_weights_reach_only_the_pixel_consistency_methods() {
    let settings = visnir_pipeline::Settings {
        pixel: 30.0,
        adversarial: 0.0,
        cycle: Some(3.0),
        embedding: 7.0,
        subject: 2.0,
        ..Scale::Quick.settings()
    };
    for method in [Method::BasicLpc, Method::FfeLpc, Method::FfeOfficial] {
        let loss = visnir_pipeline::train_config(method, &settings, None, 0)
            .unwrap()
            .loss;
        assert_eq!(
            (
                loss.pixel,
                loss.adversarial,
                loss.cycle,
                loss.embedding,
                loss.subject
            ),
            (30.0, 0.0, 3.0, 7.0, 2.0),
            "{method:?}"
        );
    }
    let basic = visnir_pipeline::train_config(Method::Basic, &settings, None, 0)
        .unwrap()
        .loss;
    assert_eq!(
        (basic.pixel, basic.cycle, basic.embedding, basic.subject),
        (0.0, 10.0, 0.0, 0.0)
    );
    let preset = Scale::Quick.settings();
    let official = visnir_pipeline::train_config(Method::FfeOfficial, &preset, None, 0)
        .unwrap()
        .loss;
    assert_eq!(
        official.cycle, 10.0,
        "the authors' code keeps its own cycle weight"
    );
    assert_eq!(Scale::Paper.settings().pixel, 10.0, "the paper's gamma");
    for (scale, quick) in [(Scale::Quick, true), (Scale::Paper, false)] {
        let config =
            visnir_pipeline::train_config(Method::Basic, &scale.settings(), None, 0).unwrap();
        let model = config.model;
        assert_eq!(model.monochrome_b, quick, "{scale:?}'s VIS -> NIR output");
        assert_eq!(model.skip_affine, quick, "{scale:?}'s skip affine");
        let size = scale.settings().size;
        assert_eq!(
            model.shading_map,
            quick.then_some(size as usize),
            "{scale:?}'s shading map, of the crop size"
        );
        let load_size = if quick { size } else { size * 286 / 256 };
        assert_eq!(
            (config.crop_size, config.load_size),
            (size, load_size),
            "{scale:?}'s augmentation: the paper resizes by 286 / 256 and crops, quick only flips"
        );
    }
    assert!(visnir_pipeline::train_config(Method::NoTranslation, &settings, None, 0).is_err());
}
