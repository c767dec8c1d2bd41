//! Oulu-CASIA NIR-VIS: scanning, pairing, protocol splits and protocol files.

use std::path::Path;

use crate::{scratch, touch};
use visnir_datasets::{DatasetError, Modality, OuluCasia, Protocol, Role, Split, EXPRESSIONS};

/// `subjects` subjects x 6 expressions x `frames` frames, VIS and NIR, Strong and Dark.
fn build_tree(root: &Path, subjects: usize, frames: usize) {
    for modality in ["VL", "NI"] {
        for light in ["Strong", "Dark"] {
            for s in 1..=subjects {
                for expression in EXPRESSIONS {
                    for f in 1..=frames {
                        touch(&root.join(format!(
                            "{modality}/{light}/P{s:03}/{expression}/{f:03}.jpeg"
                        )));
                    }
                }
            }
        }
    }
}

#[test]
fn scans_pairs_and_reports_problems() {
    let root = scratch("scan");
    build_tree(&root, 3, 2);
    std::fs::remove_file(root.join("NI/Strong/P002/Fear/002.jpeg")).unwrap();
    touch(&root.join("VL/Strong/P001/Anger/003.JPEG"));
    touch(&root.join("NI/Strong/P001/Anger/003.JPEG"));
    touch(&root.join("VL/Strong/P001/Anger/notes.txt"));
    touch(&root.join("VL/Strong/Bob/Anger/001.jpeg"));
    touch(&root.join("VL/Sunny/P001/Anger/001.jpeg"));
    let data = OuluCasia::scan(&root).unwrap();
    let vis = data
        .records
        .iter()
        .filter(|r| r.modality == Modality::Vis)
        .count();
    assert_eq!(vis, 3 * 2 * 6 * 2 + 1, "upper-case extensions count");
    let (pairs, unpaired) = data.pairs();
    assert_eq!(pairs.len(), vis - 1);
    assert_eq!(unpaired.len(), 1);
    assert_eq!(unpaired[0].path, Path::new("VL/Strong/P002/Fear/002.jpeg"));
    for (v, n) in &pairs {
        assert_eq!(
            (v.subject.as_str(), v.condition.as_str(), v.frame.as_str()),
            (n.subject.as_str(), n.condition.as_str(), n.frame.as_str())
        );
    }
    let problems: Vec<String> = data
        .problems
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.ends_with("notes.txt"))
            && problems.iter().any(|p| p.contains("Bob"))
            && problems.iter().any(|p| p.contains("Sunny"))
    );
}

#[test]
fn wrong_or_missing_roots_are_clear_errors() {
    let root = scratch("wrong");
    touch(&root.join("vis/P001/a.png"));
    let err = OuluCasia::scan(&root).unwrap_err();
    assert!(
        matches!(err, DatasetError::WrongLayout { .. }) && err.to_string().contains("NI/ and VL/"),
        "{err}"
    );
    assert!(matches!(
        OuluCasia::scan(&root.join("missing")),
        Err(DatasetError::Io { .. })
    ));
}

#[test]
fn protocol_split_follows_the_paper() {
    let root = scratch("split");
    build_tree(&root, 6, 10);
    let data = OuluCasia::scan(&root).unwrap();
    let protocol = data.protocol_split(2, 3, 8, 42).unwrap();
    let count = |split, role| protocol.select(split, role).count();
    assert_eq!(count(Split::Train, Role::Vis), 2 * 48);
    assert_eq!(count(Split::Train, Role::Nir), 2 * 48);
    assert_eq!(count(Split::Test, Role::Gallery), 3 * 48);
    assert_eq!(count(Split::Test, Role::Probe), 3 * 48);
    assert!(protocol
        .entries()
        .iter()
        .all(|e| e.path.components().nth(1).unwrap().as_os_str() == "Strong"));
    let train: std::collections::BTreeSet<String> = protocol
        .select(Split::Train, Role::Vis)
        .map(|e| e.subject)
        .collect();
    let test: std::collections::BTreeSet<String> = protocol
        .select(Split::Test, Role::Gallery)
        .map(|e| e.subject)
        .collect();
    assert!(
        train.is_disjoint(&test),
        "no subject in both train and test"
    );
    assert_eq!(
        protocol,
        data.protocol_split(2, 3, 8, 42).unwrap(),
        "seeded determinism"
    );
    assert_ne!(
        protocol,
        data.protocol_split(2, 3, 8, 43).unwrap(),
        "the seed matters"
    );
    assert!(matches!(
        data.protocol_split(4, 3, 8, 0),
        Err(DatasetError::TooFewSubjects {
            needed: 7,
            found: 6,
            ..
        })
    ));

    let file = root.join("oulu.protocol");
    std::fs::write(&file, protocol.to_text()).unwrap();
    assert_eq!(data.read_protocol(&file).unwrap(), protocol, "round trip");
}

#[test]
fn bad_protocol_lines_are_rejected_with_their_line_number() {
    let root = scratch("bad-protocol");
    build_tree(&root, 1, 1);
    let good = "train vis P001 VL/Strong/P001/Anger/001.jpeg";
    let cases = [
        ("train vis P001 ../outside.jpeg", "inside the dataset root"),
        ("train vis P001 /etc/passwd", "inside the dataset root"),
        (
            "train vis P001 VL/Strong/P001/Anger/999.jpeg",
            "does not exist",
        ),
        (
            "validate vis P001 VL/Strong/P001/Anger/001.jpeg",
            "unknown split",
        ),
        (
            "train thermal P001 VL/Strong/P001/Anger/001.jpeg",
            "unknown role",
        ),
        ("train vis", "expected `split role subject path`"),
        (good, "listed twice (first at line 2)"),
    ];
    for (line, message) in cases {
        let file = root.join("p.txt");
        std::fs::write(&file, format!("# comment\n{good}\n{line}\n")).unwrap();
        let err = Protocol::read(&file, &root).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("p.txt:3:") && text.contains(message),
            "{line}: {text}"
        );
    }
    let data = OuluCasia::scan(&root).unwrap();
    let file = root.join("p.txt");
    std::fs::write(&file, "train vis P002 VL/Strong/P001/Anger/001.jpeg\n").unwrap();
    let text = data.read_protocol(&file).unwrap_err().to_string();
    assert!(
        text.contains("p.txt:1:") && text.contains("`P002` disagrees") && text.contains("`P001`"),
        "{text}"
    );
}
