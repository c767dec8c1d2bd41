//! Integration tests of `visnir-datasets` on trees built in the real layouts.

mod cache;
mod casia2;
mod fuzz;
mod inspect;
mod oulu;
mod synth;
mod whu;

use std::path::{Path, PathBuf};

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("visnir-datasets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Creates a placeholder file (and its folders).
pub fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"jpeg bytes").unwrap();
}
