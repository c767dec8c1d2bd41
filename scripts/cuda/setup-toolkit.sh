#!/usr/bin/env bash
# Installs the CUDA 13.0 build tools (nvcc, headers, cudart, cuBLAS, cuRAND, NVRTC) from
# NVIDIA's PyPI wheels, so that `--features cuda` builds on a machine without a GPU or a system
# CUDA; writes $TK/env.sh to source before `cargo build --features cuda`.
#
# Pinned to CUDA 13.0: a driver 580 GPU (CUDA 13.0) JITs PTX up to ISA 9.0, newer nvcc emits
# newer PTX, and cudarc 0.19 rejects it. CUDA_COMPUTE_CAP=90 builds for the H200 (sm_90).
# Run `cargo fetch` in the project first: the libcuda link stub is generated from cudarc's
# driver bindings. (Adapted from the workplace's recipe for this project.)
set -euo pipefail
TK=${TK:-${TMPDIR:-/tmp}/cu13-toolkit}
WHEELS=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
  nvidia-cublas==13.0.2.14 nvidia-curand==10.4.0.35 nvidia-cuda-nvrtc==13.0.88)
# With CUDNN=1, cuDNN 9 for CUDA 13 as well (for --features cudnn; about 520 MB more).
if [ "${CUDNN:-0}" = 1 ]; then WHEELS+=(nvidia-cudnn-cu13==9.28.1.4); fi
# One pip call: a second one into the same --target would not merge the nvidia/ folder.
pip install --quiet --no-deps --target "$TK" "${WHEELS[@]}"
CUDA_HOME=$TK/nvidia/cu13
chmod +x "$CUDA_HOME"/bin/* "$CUDA_HOME"/nvvm/bin/*
# The wheels ship only libX.so.N; the linker wants libX.so.
cd "$CUDA_HOME/lib"
for n in cudart.so.13 cublas.so.13 cublasLt.so.13 curand.so.10 nvrtc.so.13; do
  ln -sf "lib$n" "lib${n%.so.*}.so"
done
# A link stub for the driver library (SONAME libcuda.so.1): the real one comes with the GPU.
mkdir -p stubs
SYS=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.*/src/driver/sys/mod.rs | head -1)
grep -oE '^pub unsafe fn cu[A-Za-z0-9_]+' "$SYS" | awk '{print "int " $4 "(void){return 100;}"}' | sort -u > stubs/cuda_stub.c
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o stubs/libcuda.so stubs/cuda_stub.c
# Also under its SONAME, so that a CUDA build can run here on the CPU (every driver call of the
# stub answers CUDA_ERROR_NO_DEVICE).
ln -sf libcuda.so stubs/libcuda.so.1
CUDNN_LIB=
if [ "${CUDNN:-0}" = 1 ]; then
  CUDNN_LIB=$TK/nvidia/cudnn/lib
  ln -sf libcudnn.so.9 "$CUDNN_LIB/libcudnn.so"
fi
cat > "$TK/env.sh" <<ENV
export CUDA_HOME=$CUDA_HOME
export PATH=$CUDA_HOME/bin:\$PATH
export LIBRARY_PATH=$CUDA_HOME/lib:$CUDA_HOME/lib/stubs${CUDNN_LIB:+:$CUDNN_LIB}\${LIBRARY_PATH:+:\$LIBRARY_PATH}
export CUDA_COMPUTE_CAP=90
export CUDAFORGE_THREADS=2
ENV
"$CUDA_HOME/bin/nvcc" --version | tail -2
