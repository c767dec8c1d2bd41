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

#[test]
fn tiny_experiment_on_a_real_layout_tree_writes_the_report() {
    let dir = std::env::temp_dir().join(format!("visnir-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
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
        adjust: None,
    };
    let outcome = visnir_pipeline::run(&config).unwrap();
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
