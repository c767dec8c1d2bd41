#!/usr/bin/env bash
# Builds the `visnir` binary and `xtask` with `--features cuda` (FEATURES=cudnn for cuDNN too;
# into target/cuda) on a machine
# without a GPU, using the CUDA 13.0 tool wheels of setup-toolkit.sh; prints the binaries'
# sizes and the CUDA libraries they need. On the GPU machine, put a directory with
# libcudart.so.13, libcublas.so.13 and libcurand.so.10 (PyTorch's nvidia/cu13/lib has them) on
# LD_LIBRARY_PATH and run with `--device cuda`.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fetch --locked
export TK=${TK:-${TMPDIR:-/tmp}/cu13-toolkit}
FEATURES=${FEATURES:-cuda}
if [ "$FEATURES" = cudnn ]; then export CUDNN=1; fi
[ -f "$TK/env.sh" ] && { [ "$FEATURES" != cudnn ] || grep -q cudnn "$TK/env.sh"; } ||
  bash scripts/cuda/setup-toolkit.sh
# shellcheck disable=SC1091
source "$TK/env.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/cuda}
cargo build --release --locked --features "$FEATURES" -p visnir -p xtask
for b in visnir xtask; do
  f=$CARGO_TARGET_DIR/release/$b
  echo "$f: $(du -h "$f" | cut -f1); needs $(readelf -d "$f" | grep -oE 'lib(cuda|cudart|cublas|curand|cudnn)[^]]*' | tr '\n' ' ')"
done
# Smoke test without a GPU: the CUDA build runs on the CPU (the driver stub stands in for
# libcuda) and refuses --device cuda with a clear error.
lib=$CUDA_HOME/lib
run() { LD_LIBRARY_PATH=$lib:$lib/stubs:$TK/nvidia/cudnn/lib "$CARGO_TARGET_DIR/release/visnir" "$@"; }
values=$(run embed tests/fixtures/aligned/astronaut_f0.png --json | grep -o ',' | wc -l)
[ "$values" -ge 191 ] || { echo "the CUDA build's CPU embedding failed"; exit 1; }
if run embed --device cuda tests/fixtures/aligned/astronaut_f0.png --json 2>/tmp/visnir-cuda-smoke.txt; then
  echo "--device cuda without a GPU should fail"; exit 1
fi
grep -q CUDA_ERROR_NO_DEVICE /tmp/visnir-cuda-smoke.txt
echo "CUDA build: runs on the CPU, refuses --device cuda without a GPU (CUDA_ERROR_NO_DEVICE)"
