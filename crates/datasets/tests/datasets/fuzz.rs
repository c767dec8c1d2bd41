//! Malformed protocol files: lines built from the words such files are made of (splits, roles,
//! subjects, paths that exist, escape the root or are absolute, stray separators and bytes).
//! Reading them, generically or for a scanned Oulu tree, must give a protocol or a typed error
//! naming a line, never a panic; a protocol read back lists only existing files in the root.

use proptest::prelude::*;
use visnir_datasets::{Casia2, OuluCasia, Protocol};

use crate::{scratch, touch};

/// Inputs per target: 300, or `VISNIR_FUZZ_CASES` for a longer round.
fn cases() -> u32 {
    std::env::var("VISNIR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

const PATHS: [&str; 6] = [
    "VL/Strong/P001/Anger/001.jpeg",
    "NI/Strong/P001/Anger/001.jpeg",
    "VL/Strong/P002/Anger/001.jpeg",
    "../escape.jpeg",
    "/etc/passwd",
    "VL/Strong/P001/Anger/999.jpeg",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["train", "test", "val", "validate"]).prop_map(String::from),
        prop::sample::select(vec!["vis", "nir", "gallery", "probe", "thermal"])
            .prop_map(String::from),
        prop::sample::select(vec!["P001", "P002", "P9"]).prop_map(String::from),
        prop::sample::select(PATHS.to_vec()).prop_map(String::from),
        prop::sample::select(vec![" ", "  ", "\t", "#", "\n", "\u{feff}", "é"])
            .prop_map(String::from),
        "[ -~]{0,6}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 0..6).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn protocol_files_parse_or_name_the_bad_line(lines in proptest::collection::vec(line(), 0..12)) {
        let root = scratch("fuzz-protocol");
        for path in &PATHS[..3] {
            touch(&root.join(path));
        }
        let file = root.join("protocol.txt");
        std::fs::write(&file, lines.join("\n")).unwrap();
        match Protocol::read(&file, &root) {
            Ok(protocol) => {
                for entry in protocol.entries() {
                    prop_assert!(root.join(&entry.path).is_file());
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("protocol.txt"), "{}", e),
        }
        if let Ok(data) = OuluCasia::scan(&root) {
            let _ = data.read_protocol(&file);
        }
    }

    #[test]
    fn casia_lists_parse_or_fail_cleanly(lists in proptest::collection::vec(casia_line(), 0..24)) {
        let root = scratch("fuzz-casia");
        touch(&root.join("s1/VIS/10001/001.jpg"));
        touch(&root.join("s2/NIR/10001/001.bmp"));
        let protocols = root.join("protocols");
        std::fs::create_dir_all(&protocols).unwrap();
        for (k, name) in ["vis_gallery_1", "nir_probe_1", "vis_train_1", "nir_train_1"].iter().enumerate() {
            let lines: Vec<&String> = lists.iter().skip(k).step_by(4).collect();
            let text: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
            std::fs::write(protocols.join(format!("{name}.txt")), text).unwrap();
        }
        if let Ok(data) = Casia2::open(&root) {
            if let Ok(folds) = data.folds() {
                for fold in folds {
                    let _ = data.fold(&fold);
                }
            }
        }
    }
}

fn casia_line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "s1\\VIS\\10001\\001.jpg",
            "s2\\NIR\\10001\\001.bmp",
            "s2\\NIR\\10001\\001.jpg",
            "..\\..\\etc\\passwd",
            "C:\\data\\s1\\VIS\\1\\1.jpg",
            "s1\\VIS",
            "",
            " ",
        ])
        .prop_map(String::from),
        "[ -~]{0,20}",
    ]
}
