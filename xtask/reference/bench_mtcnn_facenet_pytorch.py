"""facenet-pytorch's side of `cargo xtask bench alignment`: `MTCNN.detect` (default thresholds,
keep_all) on the benchmark photos, 2 threads, median of 15 runs after a warm-up; then images per
second over 1,000 Oulu-sized (320 x 240) frames, one after the other as its own scripts do.

    pip install facenet-pytorch torch torchvision pillow
    python xtask/reference/bench_mtcnn_facenet_pytorch.py
"""
import pathlib
import statistics
import time

import torch
from facenet_pytorch import MTCNN
from PIL import Image

FACES = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/faces"
PHOTOS = ["grace_hopper_320x240", "astronaut", "faceapi_sample1"]


def main():
    torch.set_num_threads(2)
    mtcnn = MTCNN(keep_all=True, device="cpu")
    for name in PHOTOS:
        image = Image.open(FACES / f"{name}.png").convert("RGB")
        mtcnn.detect(image)
        times = []
        for _ in range(15):
            start = time.perf_counter()
            mtcnn.detect(image)
            times.append(time.perf_counter() - start)
        w, h = image.size
        print(f"MTCNN detect {name} ({w}x{h}): {statistics.median(times) * 1e3:.2f} ms")
    frame_image = Image.open(FACES / "grace_hopper_320x240.png").convert("RGB")
    frames = 1000
    start = time.perf_counter()
    for _ in range(frames):
        mtcnn.detect(frame_image)
    rate = frames / (time.perf_counter() - start)
    print(f"MTCNN detect, {frames} frames 320x240: {rate:.1f} images/s")


if __name__ == "__main__":
    main()
