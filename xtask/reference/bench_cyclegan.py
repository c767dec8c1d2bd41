"""PyTorch's side of `cargo xtask bench gan`, which runs it after its own measurements:
ResnetGenerator forward at 128 and 256, one CycleGAN + Lpc training step at 64 (ngf 32, no
identity loss, the quick scale's size) and one CycleGAN step at 128 (ngf 64) with and without
the identity loss; batch 1, 2 threads.

    pip install torch && python xtask/reference/bench_cyclegan.py
"""
import itertools
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/pytorch"))
from cyclegan_nets import NLayerDiscriminator, ResnetGenerator, cyclegan_step  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)


def median_ms(f, n):
    f()
    times = []
    for _ in range(n):
        start = time.time()
        f()
        times.append(time.time() - start)
    return sorted(times)[n // 2] * 1e3


G = ResnetGenerator()
for size in (128, 256):
    x = torch.rand(1, 3, size, size) * 2 - 1
    with torch.no_grad():
        print(f"ResnetGenerator forward {size}: {median_ms(lambda: G(x), 7):.1f} ms")


def step_time(size, ngf, identity, pixel, repeats):
    """Median time of one CycleGAN iteration (batch 1, cycle 10) at `size` with `ngf` / `ndf`."""
    nets = (ResnetGenerator(ngf=ngf), ResnetGenerator(ngf=ngf),
            NLayerDiscriminator(ndf=ngf), NLayerDiscriminator(ndf=ngf))
    G_A, G_B, D_A, D_B = nets
    opt_g = torch.optim.Adam(itertools.chain(G_A.parameters(), G_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    A = torch.rand(1, 3, size, size) * 2 - 1
    B = torch.rand(1, 3, size, size) * 2 - 1
    return median_ms(lambda: cyclegan_step(nets, opt_g, opt_d, A, B, identity=identity, pixel=pixel), repeats)


print(f"CycleGAN + Lpc step 64, ngf 32, no identity: {step_time(64, 32, 0.0, 10.0, 9):.0f} ms")
for identity in (False, True):
    print(f"CycleGAN step 128, identity {identity}: {step_time(128, 64, 0.5 if identity else 0.0, 0.0, 5):.0f} ms")
