//! The bob score files an experiment writes.

/// Subject names and paths with spaces, `#` or nothing at all still make a score file that
/// reads back with the same genuine / impostor split.
#[test]
fn score_files_survive_awkward_names() {
    use visnir_pipeline::{write_score_file, LabelledCrop};
    let crop = |subject: &str, path: &str| LabelledCrop {
        subject: subject.into(),
        path: path.into(),
        crop: image::RgbImage::new(1, 1),
    };
    let gallery = [
        crop("Jane Doe", "VL/a b.png"),
        crop("#7", "VL/x.png"),
        crop("", "VL/e.png"),
    ];
    let probes = [
        crop("Jane Doe", "NI/a b.png"),
        crop("#7", "NI/#x.png"),
        crop("", "NI/e.png"),
    ];
    let scores =
        visnir_metrics::ScoreMatrix::new(3, 3, vec![0.9, 0.1, 0.2, 0.3, 0.8, 0.1, 0.2, 0.3, 0.7])
            .unwrap();
    let dir = std::env::temp_dir().join(format!("visnir-awkward-{}", std::process::id()));
    let file = dir.join("scores.txt");
    write_score_file(&file, &scores, &gallery, &probes).unwrap();
    let comparisons = visnir_metrics::score_file::read_bob(&file, None).unwrap();
    let (genuine, impostor) = visnir_metrics::score_file::split_comparisons(&comparisons);
    assert_eq!(genuine, [0.9, 0.8, 0.7]);
    assert_eq!(impostor.len(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}
