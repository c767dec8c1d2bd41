//! Workspace-level tests of the `visnir` binary: its JSON contract, exit statuses and messages.

mod dataset;
mod detect;
mod embed;
mod gan;
mod hostile;
mod metrics;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `visnir` binary built for this test with `args`.
pub fn visnir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_visnir"))
        .args(args)
        .output()
        .expect("run visnir")
}

/// A path under the workspace's `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(relative)
}

/// A fresh, empty directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("visnir-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Stdout parsed as JSON, after checking the command succeeded.
pub fn json_output(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "status {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Asserts a failure with `status` whose stderr mentions every one of `needles`.
pub fn assert_fails(output: &Output, status: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(status), "stderr: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks `{needle}`: {stderr}");
    }
}
