//! Where a model's weights come from: bundled in the binary (the offline default), a local file,
//! or a file of a Hugging Face hub repository (`hf:OWNER/REPO/FILE`, honouring `HF_ENDPOINT`
//! and `HF_HOME`; a cached copy is used without network access).

use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{NnError, Result};

/// A weights location as written on the command line (`--weights`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsSource {
    /// A safetensors file on disk.
    File(PathBuf),
    /// `hf:OWNER/REPO/FILE`: `FILE` (which may contain `/`) of model repository `OWNER/REPO`.
    Hub {
        /// `OWNER/REPO`.
        repo: String,
        /// Path of the file inside the repository.
        file: String,
    },
}

impl FromStr for WeightsSource {
    type Err = NnError;

    fn from_str(text: &str) -> Result<Self> {
        let Some(rest) = text.strip_prefix("hf:") else {
            return Ok(Self::File(PathBuf::from(text)));
        };
        let mut parts = rest.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(owner), Some(repo), Some(file))
                if !owner.is_empty() && !repo.is_empty() && !file.is_empty() =>
            {
                Ok(Self::Hub {
                    repo: format!("{owner}/{repo}"),
                    file: file.to_string(),
                })
            }
            _ => Err(NnError::Format(format!(
                "`{text}`: expected hf:OWNER/REPO/FILE"
            ))),
        }
    }
}

impl WeightsSource {
    /// A local path to the weights, downloading (once, into the hub cache) when needed.
    pub fn fetch(&self) -> Result<PathBuf> {
        match self {
            Self::File(path) => Ok(path.clone()),
            Self::Hub { repo, file } => fetch_from_hub(repo, file),
        }
    }
}

#[cfg(feature = "hub")]
fn fetch_from_hub(repo: &str, file: &str) -> Result<PathBuf> {
    use std::io::IsTerminal;
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(std::io::stderr().is_terminal())
        .build()
        .map_err(|e| NnError::Format(format!("hub client: {e}")))?;
    api.model(repo.to_string())
        .get(file)
        .map_err(|e| NnError::Format(format!("hf:{repo}/{file}: {e}")))
}

#[cfg(not(feature = "hub"))]
fn fetch_from_hub(repo: &str, file: &str) -> Result<PathBuf> {
    Err(NnError::Format(format!(
        "hf:{repo}/{file}: this build has no hub support (feature `hub`)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            "w.safetensors".parse::<WeightsSource>().unwrap(),
            WeightsSource::File("w.safetensors".into())
        );
        assert_eq!(
            "hf:me/faces/sub/w.safetensors"
                .parse::<WeightsSource>()
                .unwrap(),
            WeightsSource::Hub {
                repo: "me/faces".into(),
                file: "sub/w.safetensors".into()
            }
        );
        assert!("hf:me/faces".parse::<WeightsSource>().is_err());
    }
}
