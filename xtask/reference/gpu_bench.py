"""PyTorch's side of `cargo xtask gpu-check`: the same timings on the same device, as JSON.

    python xtask/reference/gpu_bench.py --device cuda --size 256 --repeats 5

ResnetGenerator (ngf 64, 9 blocks) forward, and one CycleGAN iteration (cycle 10, identity 0.5,
LSGAN, no image pool) at batch 1 and 8; medians in ms, and the peak memory PyTorch allocated on
a CUDA device. There is no PyTorch FFE generator or MobileFaceNet to time beside visnir's.
"""
import argparse
import itertools
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/pytorch"))
from cyclegan_nets import NLayerDiscriminator, ResnetGenerator, cyclegan_step  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if not cuda:
        torch.set_num_threads(int(os.environ.get("VISNIR_TORCH_THREADS", "2")))
    torch.manual_seed(0)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def median_ms(f):
        f()
        sync()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            f()
            sync()
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2] * 1e3

    s = args.size
    out = {"torch": torch.__version__, "device": str(device)}
    g = ResnetGenerator().to(device)
    x = torch.rand(1, 3, s, s, device=device) * 2 - 1
    with torch.no_grad():
        out[f"ResnetGenerator forward, 1 x 3 x {s}^2"] = median_ms(lambda: g(x))
    for batch in (1, 8):
        nets = tuple(n.to(device) for n in (ResnetGenerator(), ResnetGenerator(), NLayerDiscriminator(), NLayerDiscriminator()))
        opt_g = torch.optim.Adam(itertools.chain(nets[0].parameters(), nets[1].parameters()), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(itertools.chain(nets[2].parameters(), nets[3].parameters()), lr=2e-4, betas=(0.5, 0.999))
        a = torch.rand(batch, 3, s, s, device=device) * 2 - 1
        b = torch.rand(batch, 3, s, s, device=device) * 2 - 1
        out[f"CycleGAN step, batch {batch}, {s}^2"] = median_ms(
            lambda: cyclegan_step(nets, opt_g, opt_d, a, b, identity=0.5))
    if cuda:
        out["peak memory (MiB)"] = torch.cuda.max_memory_allocated(device) / 2**20
    print(json.dumps(out))


main()
