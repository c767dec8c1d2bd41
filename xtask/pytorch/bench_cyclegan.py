"""PyTorch's side of `cargo xtask bench gan`, which runs it after its own measurements:
ResnetGenerator forward at 128 and 256, one CycleGAN + Lpc training step at 64 (ngf 32, no
identity loss, the quick scale's size) and one CycleGAN step at 128 (ngf 64) with and without
the identity loss; batch 1, 2 threads.

    pip install torch && python xtask/pytorch/bench_cyclegan.py
"""
import itertools
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/pytorch"))
from cyclegan_nets import NLayerDiscriminator, ResnetGenerator  # noqa: E402

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

def gan(pred, target):
    return mse(pred, torch.full_like(pred, target))


mse, l1 = nn.MSELoss(), nn.L1Loss()


def step_time(size, ngf, identity, pixel, repeats):
    """Median time of one CycleGAN iteration (batch 1, cycle 10) at `size` with `ngf` / `ndf`."""
    G_A, G_B = ResnetGenerator(ngf=ngf), ResnetGenerator(ngf=ngf)
    D_A, D_B = NLayerDiscriminator(ndf=ngf), NLayerDiscriminator(ndf=ngf)
    opt_g = torch.optim.Adam(itertools.chain(G_A.parameters(), G_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    A = torch.rand(1, 3, size, size) * 2 - 1
    B = torch.rand(1, 3, size, size) * 2 - 1

    def step():
        fake_B = G_A(A)
        rec_A = G_B(fake_B)
        fake_A = G_B(B)
        rec_B = G_A(fake_A)
        for p in itertools.chain(D_A.parameters(), D_B.parameters()):
            p.requires_grad_(False)
        opt_g.zero_grad()
        loss = gan(D_A(fake_B), 1) + gan(D_B(fake_A), 1) + 10 * l1(rec_A, A) + 10 * l1(rec_B, B)
        if identity:
            loss = loss + 5 * l1(G_A(B), B) + 5 * l1(G_B(A), A)
        if pixel:
            loss = loss + 10 * l1(fake_B, B) + 10 * l1(fake_A, A)
        loss.backward()
        opt_g.step()
        for p in itertools.chain(D_A.parameters(), D_B.parameters()):
            p.requires_grad_(True)
        opt_d.zero_grad()
        loss_d = 0.5 * (gan(D_A(B), 1) + gan(D_A(fake_B.detach()), 0)) + 0.5 * (gan(D_B(A), 1) + gan(D_B(fake_A.detach()), 0))
        loss_d.backward()
        opt_d.step()

    return median_ms(step, repeats)


print(f"CycleGAN + Lpc step 64, ngf 32, no identity: {step_time(64, 32, False, True, 9):.0f} ms")
for identity in (False, True):
    print(f"CycleGAN step 128, identity {identity}: {step_time(128, 64, identity, False, 5):.0f} ms")
