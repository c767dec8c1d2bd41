//! `cargo xtask import-weights`: converts upstream weight packages into the safetensors files
//! bundled under `data/weights/`, and records their provenance.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use candle_core::Tensor;
use clap::Args;
use sha2::{Digest, Sha256};

/// Arguments of `cargo xtask import-weights`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// facenet-pytorch 2.6.0 wheel (`pip download --no-deps facenet-pytorch==2.6.0`).
    #[arg(
        long,
        default_value = "../shared/upstream/facenet_pytorch-2.6.0-py3-none-any.whl"
    )]
    facenet_wheel: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "data/weights")]
    out: PathBuf,
}

/// Runs every conversion whose source is present.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mtcnn = import_mtcnn(&args.facenet_wheel, &args.out.join("mtcnn.safetensors"))?;
    let provenance = args.out.join("PROVENANCE.md");
    write_section(&provenance, "mtcnn.safetensors", &mtcnn)?;
    println!(
        "wrote {} and {}",
        args.out.join("mtcnn.safetensors").display(),
        provenance.display()
    );
    Ok(())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_zip_member(archive: &Path, member: &str) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a zip/wheel", archive.display()))?;
    let mut entry = zip
        .by_name(member)
        .with_context(|| format!("{} has no member {member}", archive.display()))?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Converts `facenet_pytorch/data/{pnet,rnet,onet}.pt` into one safetensors file with
/// `pnet.`, `rnet.` and `onet.` prefixes; returns the provenance section.
fn import_mtcnn(wheel: &Path, out: &Path) -> anyhow::Result<String> {
    let wheel_bytes = std::fs::read(wheel).with_context(|| {
        format!(
            "reading {} (fetch it with `pip download --no-deps facenet-pytorch==2.6.0`)",
            wheel.display()
        )
    })?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut inputs = String::new();
    for net in ["pnet", "rnet", "onet"] {
        let member = format!("facenet_pytorch/data/{net}.pt");
        let bytes = read_zip_member(wheel, &member)?;
        let state = visnir_nn::torch_legacy::read_legacy_state_dict(&bytes)
            .with_context(|| format!("{}:{member}", wheel.display()))?;
        if state.is_empty() {
            bail!("{member} holds no tensors");
        }
        inputs.push_str(&format!(
            "| `{member}` | {} | `{}` |\n",
            state.len(),
            sha256_hex(&bytes)
        ));
        for (name, tensor) in state {
            tensors.insert(format!("{net}.{name}"), tensor);
        }
    }
    candle_core::safetensors::save(&tensors, out)
        .with_context(|| format!("writing {}", out.display()))?;
    let licence = String::from_utf8(read_zip_member(
        wheel,
        "facenet_pytorch-2.6.0.dist-info/LICENSE.md",
    )?)?;
    let output_sha = sha256_hex(&std::fs::read(out)?);
    Ok(format!(
        "Source: PyPI package `facenet-pytorch` 2.6.0, wheel `facenet_pytorch-2.6.0-py3-none-any.whl` \
(sha256 `{}`), fetched with `pip download --no-deps facenet-pytorch==2.6.0`.\n\n\
| member | tensors | sha256 |\n|---|---|---|\n{inputs}\n\
Conversion: `cargo xtask import-weights` reads the legacy (non-zip) torch pickles with \
`visnir_nn::torch_legacy` and writes {} float32 tensors, keys prefixed `pnet.`, `rnet.`, `onet.` \
(the rest are facenet-pytorch's state-dict names).\n\nOutput sha256: `{output_sha}`\n\n\
Licence (MIT, from the wheel's `LICENSE.md`):\n\n```\n{}\n```\n",
        sha256_hex(&wheel_bytes),
        tensors.len(),
        licence.trim()
    ))
}

/// Replaces (or appends) the `## name` section of the provenance file.
pub(crate) fn write_section(path: &Path, name: &str, body: &str) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Bundled weights\n\nEach file below was produced by `cargo xtask import-weights` from the \
upstream package named in its section.\n"
            .to_string()
    });
    let heading = format!("## {name}\n");
    let mut sections: Vec<String> = Vec::new();
    let mut head = String::new();
    for (i, part) in existing.split("\n## ").enumerate() {
        if i == 0 {
            head = part.trim_end().to_string();
        } else if !part.starts_with(&format!("{name}\n")) {
            sections.push(format!("## {}", part.trim_end()));
        }
    }
    sections.push(format!("{heading}\n{}", body.trim_end()));
    sections.sort();
    std::fs::write(path, format!("{head}\n\n{}\n", sections.join("\n\n")))
        .with_context(|| format!("writing {}", path.display()))
}
