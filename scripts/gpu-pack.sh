#!/usr/bin/env bash
# Builds xtask with --features cuda (scripts/cuda/build.sh) and compresses it into
# target/gpu-pack/xtask.xz, the one file scripts/gpu-check.sh needs on the GPU machine
# (carry `target/gpu-pack` to it; about 15 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/cuda/build.sh
mkdir -p target/gpu-pack
xz -T2 -9 -c "${CARGO_TARGET_DIR:-target/cuda}/release/xtask" > target/gpu-pack/xtask.xz
ls -la target/gpu-pack/xtask.xz
