"""Score a finished `cargo xtask reproduce-table2` run with a second, independent face embedder.

The embedding-consistency and subject-contrast losses of the quick preset are computed by the
same MobileFaceNet that scores the table, so part of their gain could be patterns that only
this network reads as identity. This script re-scores the run's test gallery (untranslated and
translated by each trained model) against the NIR probes with dlib's ResNet face recognition
model (128-d, trained on other data with another architecture), and with MobileFaceNet under
the same preparation as a control.

Preparation, outside the pipeline: the test images of `protocol.txt` are aligned by
`visnir align --size 256`, resized to the run's crop side with PIL's bilinear filter, the
gallery translated by `visnir translate` with each model's checkpoint; dlib gets each crop
resized to 150 x 150 with its 5-point landmarks found inside the whole crop; MobileFaceNet
(`visnir embed`) gets it resized to 112 x 112. Rank-1: the nearest gallery image's subject;
TAR@FAR=1%: the step convention over every probe x gallery pair.

Needs `pip install dlib-bin face_recognition_models pillow numpy` and a release build
(`cargo build --release -p visnir`). Usage:

    python3 xtask/reference/second_embedder.py [RUN_DIR] [--size 64]

RUN_DIR defaults to target/reproduce/table2-quick (the default run).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

MODELS = [("basic", "resnet"), ("basic-lpc", "resnet"), ("ffe-lpc", "ffe")]
VISNIR = os.path.join("target", "release", "visnir")


def run(*args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed:\n{result.stderr}")
    return result.stdout


def subject(path):
    return os.path.basename(path).split("-")[1]


def prepare(run_dir, size, work):
    """Aligned test crops at `size` (gallery, probes) and each model's translated gallery."""
    src = os.path.join(work, "src")
    os.makedirs(src)
    with open(os.path.join(run_dir, "protocol.txt")) as f:
        for line in f:
            if not line.startswith("test "):
                continue
            _, role, subj, path = line.split(maxsplit=3)
            path = path.strip()
            parts = path.split("/")
            stem, ext = os.path.splitext(parts[-1])
            # The file itself, so that visnir decodes it as the pipeline did.
            shutil.copy(
                os.path.join(run_dir, "synthetic-data", path),
                os.path.join(src, f"{role}-{subj}-{parts[-2]}-{stem}{ext}"),
            )
    aligned = os.path.join(work, "aligned")
    run(VISNIR, "align", "--size", "256", "--out", aligned, *sorted(glob.glob(src + "/*")))
    crops = {"gallery": [], "probe": []}
    for d in crops:
        os.makedirs(os.path.join(work, d))
    for p in sorted(glob.glob(aligned + "/*_f0.png")):
        name = os.path.basename(p).replace("_f0", "")
        role = name.split("-")[0]
        out = os.path.join(work, role, name)
        Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR).save(out)
        crops[role].append(out)
    galleries = {"No translation": crops["gallery"]}
    for method, arch in MODELS:
        checkpoint = os.path.join(run_dir, "models", method, "checkpoint.safetensors")
        if not os.path.isfile(checkpoint):
            continue
        out = os.path.join(work, "t-" + method)
        run(VISNIR, "translate", "--checkpoint", checkpoint, "--arch", arch, "--out", out,
            *crops["gallery"])
        galleries[method] = sorted(glob.glob(out + "/*.png"))
    return galleries, crops["probe"]


def dlib_embedder():
    import dlib

    models = _models_dir()
    shape = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
    net = dlib.face_recognition_model_v1(
        os.path.join(models, "dlib_face_recognition_resnet_model_v1.dat")
    )

    def embed(paths):
        rows = []
        for p in paths:
            image = np.asarray(Image.open(p).convert("RGB").resize((150, 150), Image.BILINEAR))
            landmarks = shape(image, dlib.rectangle(0, 0, 149, 149))
            rows.append(np.array(net.compute_face_descriptor(image, landmarks)))
        return np.stack(rows)

    return embed


def _models_dir():
    # face_recognition_models imports pkg_resources, which new setuptools lack: find its
    # data directory without importing it.
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        sys.exit("face_recognition_models is not installed (pip install face_recognition_models)")
    return os.path.join(os.path.dirname(spec.origin), "models")


def mobilefacenet_embedder(work):
    def embed(paths):
        resized = []
        for i, p in enumerate(paths):
            q = os.path.join(work, "m112", f"{i:04d}-{os.path.basename(p)}")
            os.makedirs(os.path.dirname(q), exist_ok=True)
            Image.open(p).convert("RGB").resize((112, 112), Image.BILINEAR).save(q)
            resized.append(q)
        rows = {r["image"]: r["embedding"] for r in json.loads(run(VISNIR, "embed", "--json", *resized))}
        shutil.rmtree(os.path.join(work, "m112"))
        return np.stack([np.array(rows[q]) for q in resized])

    return embed


def scores(gallery, probes, metric):
    if metric == "euclidean":
        return -np.sqrt(((probes[:, None, :] - gallery[None, :, :]) ** 2).sum(-1))
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    p = probes / np.linalg.norm(probes, axis=1, keepdims=True)
    return p @ g.T


def metrics(s, gallery_ids, probe_ids):
    gallery_ids, probe_ids = np.array(gallery_ids), np.array(probe_ids)
    rank1 = np.mean(gallery_ids[np.argmax(s, axis=1)] == probe_ids)
    same = probe_ids[:, None] == gallery_ids[None, :]
    genuine, impostor = s[same], np.sort(s[~same])[::-1]
    k = int(np.floor(0.01 * len(impostor)))
    threshold = impostor[k] if k < len(impostor) else -np.inf
    tar = np.mean(genuine > threshold)
    d = (genuine.mean() - impostor.mean()) / np.sqrt((genuine.var() + impostor.var()) / 2)
    return 100 * rank1, 100 * tar, d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", default="target/reproduce/table2-quick")
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    if not os.path.isfile(VISNIR):
        sys.exit(f"{VISNIR} not found: run `cargo build --release -p visnir` first")
    work = tempfile.mkdtemp(prefix="visnir-second-embedder-")
    try:
        galleries, probes = prepare(args.run_dir, args.size, work)
        probe_ids = [subject(p) for p in probes]
        print(f"{len(probes)} probes, {len(galleries['No translation'])} gallery images\n")
        print("| embedder | gallery | Rank-1 | TAR@FAR=1% | d' |\n|---|---|---|---|---|")
        for name, embed, metric in [
            ("dlib ResNet", dlib_embedder(), "euclidean"),
            ("MobileFaceNet", mobilefacenet_embedder(work), "cosine"),
        ]:
            p = embed(probes)
            for method, paths in galleries.items():
                r, t, d = metrics(scores(embed(paths), p, metric), [subject(x) for x in paths],
                                  probe_ids)
                print(f"| {name} | {method} | {r:.1f} | {t:.1f} | {d:.2f} |")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
