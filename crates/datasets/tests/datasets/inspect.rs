//! `inspect`: counts and problems of a tree with real (tiny) images, a corrupt JPEG and a
//! missing twin.

use std::path::Path;

use visnir_datasets::{inspect, Layout};

use crate::scratch;

fn jpeg(path: &Path, shade: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(16, 12, image::Rgb([shade, shade, shade]))
        .save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

fn readable(path: &Path) -> Result<(), String> {
    visnir_nn::load_rgb(path)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn lists_unpaired_unreadable_and_unexpected_files() {
    let root = scratch("inspect-oulu");
    for s in ["P001", "P002"] {
        for m in ["VL", "NI"] {
            jpeg(&root.join(format!("{m}/Strong/{s}/Anger/001.jpeg")), 90);
            jpeg(&root.join(format!("{m}/Strong/{s}/Fear/001.jpeg")), 120);
        }
    }
    std::fs::remove_file(root.join("NI/Strong/P002/Fear/001.jpeg")).unwrap();
    let good = std::fs::read(root.join("VL/Strong/P001/Anger/001.jpeg")).unwrap();
    std::fs::write(
        root.join("NI/Strong/P001/Anger/001.jpeg"),
        &good[..good.len() / 2],
    )
    .unwrap();
    std::fs::write(root.join("VL/Strong/P001/Anger/readme.md"), "x").unwrap();
    let report = inspect(Layout::Oulu, &root, readable).unwrap();
    assert_eq!(report.subjects, 2);
    assert_eq!(
        (report.vis_images, report.nir_images, report.pairs),
        (4, 3, 3)
    );
    let problems: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
        .collect();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("NI/Strong/P001/Anger/001.jpeg") && p.contains("truncated")),
        "{problems:#?}"
    );
    assert!(problems
        .iter()
        .any(|p| p.starts_with("VL/Strong/P002/Fear/001.jpeg") && p.contains("no NIR twin")));
    assert!(problems
        .iter()
        .any(|p| p.starts_with("VL/Strong/P001/Anger/readme.md")));
}

#[test]
fn layouts_parse_and_a_wrong_layout_says_what_was_expected() {
    assert_eq!("whu".parse::<Layout>(), Ok(Layout::Whu));
    assert!("lfw"
        .parse::<Layout>()
        .unwrap_err()
        .contains("oulu, whu or casia2"));
    let root = scratch("inspect-wrong");
    jpeg(&root.join("S001/vis/frontal_01.jpg"), 10);
    let err = inspect(Layout::Oulu, &root, readable)
        .unwrap_err()
        .to_string();
    assert!(err.contains("NI/ and VL/") && err.contains("S001"), "{err}");
    let err = inspect(Layout::Casia2, &root, readable)
        .unwrap_err()
        .to_string();
    assert!(err.contains("protocols/"), "{err}");
}

#[test]
fn links_leading_out_of_the_root_are_reported() {
    let root = scratch("inspect-links");
    let outside = scratch("inspect-links-target").join("elsewhere.jpeg");
    jpeg(&outside, 90);
    for m in ["VL", "NI"] {
        jpeg(&root.join(format!("{m}/Strong/P001/Anger/001.jpeg")), 90);
        std::fs::create_dir_all(root.join(format!("{m}/Strong/P001/Fear"))).unwrap();
    }
    std::os::unix::fs::symlink(&outside, root.join("VL/Strong/P001/Fear/001.jpeg")).unwrap();
    std::os::unix::fs::symlink(
        root.join("NI/Strong/P001/Anger/001.jpeg"),
        root.join("NI/Strong/P001/Fear/001.jpeg"),
    )
    .unwrap();
    let report = inspect(Layout::Oulu, &root, readable).unwrap();
    let problems: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
        .collect();
    assert_eq!(
        problems.len(),
        1,
        "a link inside the root is fine: {problems:#?}"
    );
    assert!(
        problems[0].starts_with("VL/Strong/P001/Fear/001.jpeg")
            && problems[0].contains("outside the dataset root"),
        "{problems:#?}"
    );
}
