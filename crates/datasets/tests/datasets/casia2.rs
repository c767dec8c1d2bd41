//! CASIA NIR-VIS 2.0 from its official protocol files.

use std::path::{Path, PathBuf};

use visnir_datasets::{Casia2, DatasetError, Role, Split};

use crate::{scratch, touch};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn build(root: &Path) {
    for (session, modality, id, file) in [
        ("s1", "VIS", "10001", "001.jpg"),
        ("s1", "VIS", "10002", "001.jpg"),
        ("s2", "NIR", "10001", "001.bmp"),
        ("s2", "NIR", "10002", "002.bmp"),
        ("s1", "VIS", "10003", "001.jpg"),
        ("s2", "NIR", "10003", "001.bmp"),
    ] {
        touch(&root.join(session).join(modality).join(id).join(file));
    }
    write(
        &root.join("protocols/vis_gallery_1.txt"),
        "s1\\VIS\\10001\\001.jpg\r\ns1\\VIS\\10002\\001.jpg\r\n",
    );
    write(
        &root.join("protocols/nir_probe_1.txt"),
        "s2\\NIR\\10001\\001.jpg\ns2\\NIR\\10002\\002.bmp\ns2\\NIR\\10002\\003.bmp\n",
    );
    write(
        &root.join("protocols/vis_train_1.txt"),
        "s1\\VIS\\10003\\001.jpg\n",
    );
    write(
        &root.join("protocols/nir_train_1.txt"),
        "s2\\NIR\\10003\\001.bmp\n",
    );
    write(
        &root.join("protocols/vis_gallery_10.txt"),
        "s1\\VIS\\10001\\001.jpg\n",
    );
    write(
        &root.join("protocols/nir_probe_10.txt"),
        "s2\\NIR\\10001\\001.bmp\n",
    );
    write(
        &root.join("protocols/vis_gallery_dev.txt"),
        "s1\\VIS\\10002\\001.jpg\n",
    );
    write(
        &root.join("protocols/nir_probe_dev.txt"),
        "s2\\NIR\\10002\\002.bmp\n",
    );
}

#[test]
fn reads_folds_with_windows_paths() {
    let root = scratch("casia2");
    build(&root);
    let data = Casia2::open(&root).unwrap();
    assert_eq!(data.folds().unwrap(), ["1", "10", "dev"]);
    let fold = data.fold("1").unwrap();
    let gallery: Vec<_> = fold.protocol.select(Split::Test, Role::Gallery).collect();
    assert_eq!(gallery.len(), 2);
    assert_eq!(
        gallery[0].subject, "10001",
        "identity is the third component"
    );
    assert_eq!(gallery[0].path, PathBuf::from("s1/VIS/10001/001.jpg"));
    let probes: Vec<_> = fold.protocol.select(Split::Test, Role::Probe).collect();
    assert_eq!(probes.len(), 2);
    assert_eq!(
        probes[0].path,
        PathBuf::from("s2/NIR/10001/001.bmp"),
        "a listed .jpg found as .bmp"
    );
    assert_eq!(fold.missing.len(), 1);
    assert_eq!(fold.missing[0].1, 3, "line number of the missing image");
    assert_eq!(fold.protocol.select(Split::Train, Role::Vis).count(), 1);
    assert_eq!(fold.protocol.select(Split::Train, Role::Nir).count(), 1);
}

#[test]
fn bad_protocol_lines_name_file_and_line() {
    let root = scratch("casia2-bad");
    build(&root);
    write(
        &root.join("protocols/nir_probe_1.txt"),
        "s2\\NIR\\10001\\001.bmp\n..\\..\\etc\\passwd.jpg\n",
    );
    let err = Casia2::open(&root).unwrap().fold("1").unwrap_err();
    match &err {
        DatasetError::Protocol {
            path,
            line,
            message,
        } => {
            assert!(path.ends_with("nir_probe_1.txt"));
            assert_eq!(*line, 2);
            assert!(message.contains("inside the dataset root"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
    write(&root.join("protocols/nir_probe_1.txt"), "just-a-name.bmp\n");
    let err = Casia2::open(&root)
        .unwrap()
        .fold("1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("nir_probe_1.txt:1"), "{err}");
    let err = Casia2::open(&root.join("s1")).unwrap_err().to_string();
    assert!(err.contains("protocols/"), "{err}");
}
