#!/usr/bin/env bash
# Runs `xtask gpu-check` on a GPU machine that has no Rust toolchain: the xtask binary built
# here by `scripts/cuda/build.sh` travels xz-compressed (`scripts/gpu-pack.sh` writes
# target/gpu-pack/xtask.xz); the CUDA 13 runtime libraries come from the machine's PyTorch.
#
#   bash scripts/gpu-check.sh [--device cuda] [--size 256] [--reproduce quick]
#
# Results go to $OUT/gpu-check (or target/gpu-check): gpu-check.json, gpu-check.log and the
# experiment's report. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=${PACK:-target/gpu-pack/xtask.xz}
BIN=${TMPDIR:-/tmp}/visnir-xtask
[ -x "$BIN" ] || { xz -dc "$PACK" > "$BIN" && chmod +x "$BIN"; }
# libcudart.so.13 / libcublas.so.13 / libcurand.so.10: PyTorch's CUDA 13 wheels carry them.
LIBS=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
dirs = set()
for root in roots:
    for name in ("libcublas.so.13*", "libcudart.so.13*", "libcurand.so.10*", "libcudnn.so.9*"):
        for path in glob.glob(os.path.join(root, "nvidia", "**", name), recursive=True):
            dirs.add(os.path.dirname(path))
print(":".join(sorted(dirs)))
PY
)
export LD_LIBRARY_PATH=${LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "CUDA libraries from: ${LIBS:-(none found; relying on the system)}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
"$BIN" gpu-check --out "${OUT:-target}/gpu-check" "$@"
