//! WHU VIS-NIR: scanning, pairing by stem, pose-covering protocol splits.

use std::collections::BTreeSet;
use std::path::Path;

use visnir_datasets::{DatasetError, Role, Split, Whu, POSE_TAGS};

use crate::{scratch, touch};

/// `subjects` subjects x 5 pose tags x `per_tag` images, VIS and NIR.
fn build_tree(root: &Path, subjects: usize, per_tag: usize) {
    for s in 1..=subjects {
        for modality in ["vis", "nir"] {
            for tag in POSE_TAGS {
                for k in 1..=per_tag {
                    touch(&root.join(format!("S{s:03}/{modality}/{tag}_{k:02}.jpg")));
                }
            }
        }
    }
}

#[test]
fn scans_pairs_by_stem_and_reports_problems() {
    let root = scratch("whu-scan");
    build_tree(&root, 3, 2);
    std::fs::remove_file(root.join("S002/nir/left_01.jpg")).unwrap();
    touch(&root.join("S001/vis/frontal_09.JPG"));
    touch(&root.join("S001/nir/frontal_09.png"));
    touch(&root.join("S001/vis/photo.jpg"));
    touch(&root.join("S001/nir/notes.txt"));
    touch(&root.join("S003/depth/frontal_01.jpg"));
    touch(&root.join(".DS_Store"));
    touch(&root.join("S001/vis/.hidden.jpg"));
    let data = Whu::scan(&root).unwrap();
    let (pairs, unpaired) = data.pairs();
    assert_eq!(
        pairs.len(),
        3 * 5 * 2 - 1 + 1,
        "stems pair across extensions"
    );
    let unpaired: Vec<_> = unpaired.iter().map(|r| r.path.clone()).collect();
    assert!(unpaired.contains(&Path::new("S002/vis/left_01.jpg").to_path_buf()));
    assert!(unpaired.contains(&Path::new("S001/vis/photo.jpg").to_path_buf()));
    let problems: Vec<String> = data
        .problems
        .iter()
        .map(|(p, why)| format!("{} {why}", p.display()))
        .collect();
    assert!(problems.iter().any(|p| p.starts_with("S001/nir/notes.txt")));
    assert!(problems
        .iter()
        .any(|p| p.starts_with("S001/vis/photo.jpg") && p.contains("pose tag")));
    assert!(problems.iter().any(|p| p.starts_with("S003/depth")));
    assert!(
        !problems
            .iter()
            .any(|p| p.contains(".DS_Store") || p.contains(".hidden")),
        "hidden files are ignored: {problems:?}"
    );
    for (v, n) in &pairs {
        assert_eq!(v.subject, n.subject);
        assert_eq!(v.condition, n.condition);
        assert!(POSE_TAGS.contains(&v.condition.as_str()), "{}", v.condition);
    }
}

#[test]
fn split_covers_every_pose_and_keeps_subjects_apart() {
    let root = scratch("whu-split");
    build_tree(&root, 12, 5);
    let data = Whu::scan(&root).unwrap();
    let protocol = data.protocol_split(8, 3, 10, 7).unwrap();
    assert_eq!(protocol.entries().len(), (8 + 3) * 10 * 2);
    let subjects = |split: Split| -> BTreeSet<String> {
        protocol
            .entries()
            .iter()
            .filter(|e| e.split == split)
            .map(|e| e.subject.clone())
            .collect()
    };
    let (train, test) = (subjects(Split::Train), subjects(Split::Test));
    assert_eq!((train.len(), test.len()), (8, 3));
    assert!(train.is_disjoint(&test));
    for subject in &test {
        let tags: BTreeSet<String> = protocol
            .select(Split::Test, Role::Gallery)
            .filter(|e| &e.subject == subject)
            .map(|e| {
                let stem = e.path.file_stem().unwrap().to_string_lossy().into_owned();
                stem.rsplit_once('_').unwrap().0.to_string()
            })
            .collect();
        assert_eq!(tags.len(), POSE_TAGS.len(), "{subject}: {tags:?}");
    }
    assert_eq!(protocol, data.protocol_split(8, 3, 10, 7).unwrap());
    assert_ne!(protocol, data.protocol_split(8, 3, 10, 8).unwrap());
    assert!(matches!(
        data.protocol_split(10, 3, 10, 0),
        Err(DatasetError::TooFewSubjects {
            needed: 13,
            found: 12,
            ..
        })
    ));
}

#[test]
fn wrong_layout_and_missing_root_are_clear_errors() {
    let root = scratch("whu-wrong");
    touch(&root.join("VL/Strong/P001/Anger/001.jpeg"));
    let err = Whu::scan(&root.join("VL/Strong/P001/Anger"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("WHU") && err.contains("vis/"), "{err}");
    let err = Whu::scan(&root.join("nope")).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
}

#[test]
fn protocol_files_come_back_paired_as_the_scan_pairs() {
    let root = scratch("whu-protocol-pairs");
    build_tree(&root, 2, 1);
    touch(&root.join("S001/nir/frontal_02.png"));
    touch(&root.join("S001/vis/frontal_02.jpg"));
    let data = Whu::scan(&root).unwrap();
    let protocol = data.protocol_split(1, 1, 5, 3).unwrap();
    let file = root.join("whu.protocol");
    std::fs::write(&file, protocol.to_text()).unwrap();
    assert_eq!(data.read_protocol(&file).unwrap(), protocol, "round trip");

    let lines = [
        "train vis S001 S001/vis/frontal_02.jpg",
        "train nir S001 S001/nir/frontal_02.png",
        "train vis S001 S001/vis/left_01.jpg",
        "train nir S001 S001/nir/right_01.jpg",
        "test gallery S002 S002/vis/left_01.jpg",
        "train nir S002 S002/nir/left_01.jpg",
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let read = data.read_protocol(&file).unwrap();
    let pairs: Vec<(&Path, &Path)> = read
        .pairs
        .iter()
        .map(|p| (p.vis.as_path(), p.nir.as_path()))
        .collect();
    assert_eq!(
        pairs,
        [(
            Path::new("S001/vis/frontal_02.jpg"),
            Path::new("S001/nir/frontal_02.png")
        )],
        "twins across extensions pair; other stems and other splits do not"
    );
    assert_eq!(read.unpaired.len(), 4);
    assert_eq!(read.select(Split::Train, Role::Vis).count(), 2);
}
