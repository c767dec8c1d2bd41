//! The synthetic generator writes the real layouts, which the loaders read unchanged, and is
//! deterministic for a seed.

use std::path::Path;

use visnir_datasets::synth::{generate, SynthConfig};
use visnir_datasets::{OuluCasia, Whu, EXPRESSIONS, POSE_TAGS};

use crate::scratch;

fn read_all(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn oulu_layout_is_read_by_the_loader_and_deterministic() {
    let config = SynthConfig {
        per_condition: 2,
        ..SynthConfig::oulu(2, 5)
    };
    let (a, b) = (scratch("synth-a"), scratch("synth-b"));
    assert_eq!(generate(&config, &a, &|| {}).unwrap(), config.image_count());
    generate(&config, &b, &|| {}).unwrap();
    let files = read_all(&a);
    assert_eq!(files.len(), 2 * 2 * 6 * 2);
    assert_eq!(files, read_all(&b), "same seed, same bytes");

    let data = OuluCasia::scan(&a).unwrap();
    assert!(data.problems.is_empty(), "{:?}", data.problems);
    let (pairs, unpaired) = data.pairs();
    assert_eq!((pairs.len(), unpaired.len()), (24, 0));
    let conditions: std::collections::BTreeSet<&str> =
        pairs.iter().map(|(v, _)| v.condition.as_str()).collect();
    assert_eq!(conditions.len(), EXPRESSIONS.len());

    let vis = image::open(a.join("VL/Strong/P001/Anger/001.jpeg")).unwrap();
    let nir = image::open(a.join("NI/Strong/P001/Anger/001.jpeg")).unwrap();
    assert_eq!((vis.width(), vis.height()), (320, 240));
    assert_eq!(vis.color(), image::ColorType::Rgb8);
    assert_eq!(nir.color(), image::ColorType::L8, "NIR is grey");

    let c = scratch("synth-c");
    generate(
        &SynthConfig {
            seed: 6,
            ..config.clone()
        },
        &c,
        &|| {},
    )
    .unwrap();
    assert_ne!(files, read_all(&c), "another seed, other faces");
}

#[test]
fn whu_layout_covers_every_pose_tag() {
    let config = SynthConfig {
        per_condition: 1,
        ..SynthConfig::whu(2, 1)
    };
    let root = scratch("synth-whu");
    generate(&config, &root, &|| {}).unwrap();
    let data = Whu::scan(&root).unwrap();
    assert!(data.problems.is_empty(), "{:?}", data.problems);
    let (pairs, unpaired) = data.pairs();
    assert_eq!((pairs.len(), unpaired.len()), (2 * POSE_TAGS.len(), 0));
    let tags: std::collections::BTreeSet<&str> =
        pairs.iter().map(|(v, _)| v.condition.as_str()).collect();
    assert_eq!(tags.len(), POSE_TAGS.len());
}

#[test]
fn subjects_differ_and_twins_share_geometry() {
    let config = SynthConfig::oulu(2, 0);
    let (a, b) = (config.identity(0), config.identity(1));
    assert_ne!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(format!("{a:?}"), format!("{:?}", config.identity(0)));
    let scene = config.scene(0, 3, 1);
    let (vis, nir) = visnir_datasets::synth::render_pair(&a, &scene, 160, 120);
    assert_eq!((vis.width(), nir.width()), (160, 160));
    let mean = |v: &[u8]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    // The face sits at the image centre (row 0.45 h); the corners are backdrop.
    let row = 54 * 160;
    let centre_nir = mean(&nir.as_raw()[row + 60..row + 100]);
    let corner_nir = mean(&nir.as_raw()[..20]);
    assert!(
        centre_nir > 80.0 && centre_nir > corner_nir + 40.0,
        "the frontal illuminator lights the face ({centre_nir}) more than the backdrop ({corner_nir})"
    );
    let (vis, nir) = visnir_datasets::synth::render_pair(&a, &scene, 0, 0);
    assert_eq!(
        (vis.width(), nir.height()),
        (0, 0),
        "an empty image, not a panic"
    );
}

#[test]
fn nir_retakes_change_only_what_the_vis_photo_does_not_show() {
    let config = SynthConfig {
        per_condition: 1,
        ..SynthConfig::oulu(2, 0)
    };
    let root = scratch("synth-retakes");
    generate(&config, &root, &|| {}).unwrap();
    let grey = |rel: std::path::PathBuf| image::open(root.join(rel)).unwrap().to_luma8();
    let twin = grey(config.paths(0, 3, 0).1);
    let other_scene = grey(config.paths(1, 2, 0).1);
    let retake = config.nir_retake(0, 3, 0, 0).unwrap();
    assert_eq!(
        retake,
        config.nir_retake(0, 3, 0, 0).unwrap(),
        "deterministic"
    );
    assert_ne!(
        retake,
        config.nir_retake(0, 3, 0, 1).unwrap(),
        "another draw"
    );
    let l1 = |a: &image::GrayImage, b: &image::GrayImage| {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| (x as f64 - y as f64).abs())
            .sum::<f64>()
            / a.as_raw().len() as f64
    };
    let (same, other) = (l1(&retake, &twin), l1(&twin, &other_scene));
    assert!(
        same > 0.5 && same < 0.5 * other,
        "a retake differs from its twin ({same}) by much less than another scene ({other})"
    );
    let scene = config.scene(0, 3, 0);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(5);
    let moved = scene.clone().with_nir_camera(&mut rng, 320, 240);
    assert_eq!(
        format!(
            "{:?}",
            (scene.pose, scene.light, scene.background, scene.gaze)
        ),
        format!(
            "{:?}",
            (moved.pose, moved.light, moved.background, moved.gaze)
        )
    );
    assert_ne!(scene.nir_offset, moved.nir_offset);
    let (vis, nir) = config.paths(1, 2, 0);
    assert_eq!(config.locate(&vis), Some((1, 2, 0)));
    assert_eq!(config.locate(&nir), Some((1, 2, 0)));
    assert_eq!(
        config.locate(Path::new("VL/Strong/P009/Anger/001.jpeg")),
        None
    );
}
