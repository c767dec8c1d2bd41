//! Running a per-image job over many input files: parallel, with a progress bar, and with every
//! unreadable file named, skipped and counted instead of aborting the run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// What happened to each input, in input order.
pub struct Outcomes<T> {
    /// `(path, result)` per input.
    pub results: Vec<(PathBuf, Result<T, String>)>,
}

impl<T> Outcomes<T> {
    /// Number of inputs that failed.
    pub fn failures(&self) -> usize {
        self.results.iter().filter(|(_, r)| r.is_err()).count()
    }

    /// Prints each failure to stderr, naming the file.
    pub fn report_failures(&self) {
        for (path, result) in &self.results {
            if let Err(message) = result {
                report_failure(path, message);
            }
        }
    }
}

/// Prints `error: <path>: <message>` to stderr, naming the path once when the message already
/// starts with it.
pub fn report_failure(path: &Path, message: &str) {
    let name = path.display().to_string();
    if message.starts_with(&name) {
        eprintln!("error: {message}");
    } else {
        eprintln!("error: {name}: {message}");
    }
}

/// Runs `job` on every path in parallel with a progress bar (hidden when stderr is not a terminal).
pub fn for_each_image<T: Send>(
    paths: &[PathBuf],
    what: &str,
    job: impl Fn(&Path) -> Result<T, String> + Sync,
) -> Outcomes<T> {
    let bar = if paths.len() > 1 {
        ProgressBar::new(paths.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} images, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    let done = AtomicUsize::new(0);
    let results = paths
        .par_iter()
        .map(|path| {
            let result = job(path);
            done.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
            (path.clone(), result)
        })
        .collect();
    bar.finish_and_clear();
    Outcomes { results }
}

/// The output name stem of every input (its file stem), refusing inputs whose outputs would
/// overwrite each other in one output directory (`a/x.png` and `b/x.jpg` both give `x`).
pub fn output_stems(paths: &[PathBuf]) -> Result<Vec<String>, crate::exit::CliError> {
    let stems: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_stem()
                .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned())
        })
        .collect();
    let mut first: std::collections::HashMap<&str, &Path> = std::collections::HashMap::new();
    for (stem, path) in stems.iter().zip(paths) {
        if let Some(earlier) = first.insert(stem, path) {
            return Err(crate::exit::CliError::Input(anyhow::anyhow!(
                "{} and {} would write the same output `{stem}`: give the inputs distinct file \
                 names (or translate them into separate --out directories)",
                earlier.display(),
                path.display()
            )));
        }
    }
    Ok(stems)
}

/// Saves `image` as `target`, refusing to write through a symbolic link already there.
pub fn save_output(image: &image::RgbImage, target: &Path) -> Result<(), String> {
    if target
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(format!(
            "{} is a symbolic link: refusing to write through it",
            target.display()
        ));
    }
    image
        .save(target)
        .map_err(|e| format!("writing {}: {e}", target.display()))
}
