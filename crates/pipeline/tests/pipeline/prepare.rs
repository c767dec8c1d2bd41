//! The aligner's cache: crops follow the content of each file, never its path alone.

use std::path::{Path, PathBuf};

use candle_core::Device;
use visnir_pipeline::Aligner;

fn face(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/faces")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("visnir-pipeline-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn two_datasets_with_the_same_paths_never_share_crops() {
    let dir = scratch("cache-content");
    let rel = vec![PathBuf::from("P001/001.png"), PathBuf::from("P001/002.png")];
    let (first, second) = (dir.join("first"), dir.join("second"));
    for (root, photos) in [
        (&first, ["astronaut.png", "grace_hopper.png"]),
        (&second, ["grace_hopper.png", "astronaut.png"]),
    ] {
        std::fs::create_dir_all(root.join("P001")).unwrap();
        for (rel, photo) in rel.iter().zip(photos) {
            std::fs::copy(face(photo), root.join(rel)).unwrap();
        }
    }
    let aligner = Aligner::new(&dir.join("cache"), 64, &Device::Cpu).unwrap();
    let crops = |root: &Path| -> Vec<image::RgbImage> {
        aligner
            .align_all(root, &rel, &|| {})
            .unwrap()
            .into_iter()
            .map(|c| c.expect("a face"))
            .collect()
    };
    let a = crops(&first);
    let b = crops(&second);
    assert_ne!(a[0], b[0], "same path, other photo: other crop");
    assert_eq!(a[0], b[1], "same photo at another path: the same crop");
    assert_eq!(a[1], b[0]);

    std::fs::copy(face("astronaut.png"), first.join(&rel[1])).unwrap();
    assert_eq!(
        crops(&first)[1],
        a[0],
        "a file replaced in place is aligned anew"
    );

    std::fs::remove_file(first.join(&rel[0])).unwrap();
    let gone = aligner.align_all(&first, &rel[..1], &|| {}).unwrap();
    let reason = gone[0].as_ref().expect_err("a missing file has no crop");
    assert!(reason.contains("001.png"), "{reason}");
}
