"""PyTorch's side of `cargo xtask bench gan`, which runs it after its own measurements:
ResnetGenerator forward at 128 and 256, one CycleGAN + Lpc training step at 64 (ngf 32, no
identity loss, the quick scale's size), one FFE-CycleGAN + Lpc step at 64 (ndf 32) and one
CycleGAN step at 128 (ngf 64) with and without the identity loss; batch 1, 2 threads. With
`--steps-64` only the two 64 x 64 steps, as `name ms` lines (the side-by-side rounds).

    pip install torch && python xtask/reference/bench_cyclegan.py [--steps-64]
"""
import itertools
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/pytorch"))
from cyclegan_nets import NLayerDiscriminator, ResnetGenerator, cyclegan_step  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)


# Untimed calls before each measurement (3 for the side-by-side rounds, as visnir's side).
WARMUP = 3 if sys.argv[1:] == ["--steps-64"] else 1


def median_ms(f, n):
    for _ in range(WARMUP):
        f()
    times = []
    for _ in range(n):
        start = time.time()
        f()
        times.append(time.time() - start)
    return sorted(times)[n // 2] * 1e3


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


class TfSameConv(nn.Module):
    """A convolution with TensorFlow's SAME padding (extra row and column at the bottom and right
    when the padding is odd), as MobileFaceNet's layers; depthwise when `groups` = channels."""

    def __init__(self, cin, cout, k, stride=1, groups=1, prelu=True):
        super().__init__()
        self.k, self.stride = k, stride
        self.conv = nn.Conv2d(cin, cout, k, stride, 0, groups=groups, bias=True)
        self.act = nn.PReLU(cout, 0.25) if prelu else nn.Identity()

    def forward(self, x):
        h = x.shape[-1]
        pad = max((-(-h // self.stride) - 1) * self.stride + self.k - h, 0)
        x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
        return self.act(self.conv(x))


class InvertedResidual(nn.Module):
    def __init__(self, cin, hidden, cout, stride, residual):
        super().__init__()
        self.block = nn.Sequential(TfSameConv(cin, hidden, 1), TfSameConv(hidden, hidden, 3, stride, hidden),
                                   TfSameConv(hidden, cout, 1, prelu=False))
        self.residual = residual

    def forward(self, x):
        y = self.block(x)
        return x + y if self.residual else y


def ffe_generator():
    """visnir's FFE generator (the authors' trunk variant, `crates/ffe/src/trunk.rs` and
    `crates/gan/src/generator.rs`): MobileFaceNet's trunk to 256 channels at stride 4, then six
    ResNet blocks of 256 and CycleGAN's decoder (ngf 64)."""
    trunk = [TfSameConv(3, 64, 3, 2), TfSameConv(64, 64, 3, 1, 64), TfSameConv(64, 64, 1, prelu=False),
             InvertedResidual(64, 128, 64, 2, False)]
    trunk += [InvertedResidual(64, 128, 64, 1, True) for _ in range(4)]
    trunk += [InvertedResidual(64, 256, 128, 1, False)]
    trunk += [InvertedResidual(128, 256, 128, 1, True) for _ in range(6)]
    trunk += [InvertedResidual(128, 256, 256, 1, False)]
    trunk += [InvertedResidual(256, 256, 256, 1, True) for _ in range(2)]
    resnet = ResnetGenerator(ngf=64, n_blocks=6)
    head = list(resnet.model.children())[10:]  # the six blocks and the decoder
    return nn.Sequential(*trunk, *head)


def ffe_step_time(size, ndf, repeats):
    """Median time of one FFE-CycleGAN + Lpc iteration (lambda 1, gamma 10, no identity)."""
    nets = (ffe_generator(), ffe_generator(), NLayerDiscriminator(ndf=ndf), NLayerDiscriminator(ndf=ndf))
    G_A, G_B, D_A, D_B = nets
    opt_g = torch.optim.Adam(itertools.chain(G_A.parameters(), G_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    A = torch.rand(1, 3, size, size) * 2 - 1
    B = torch.rand(1, 3, size, size) * 2 - 1
    return median_ms(lambda: cyclegan_step(nets, opt_g, opt_d, A, B, cycle=1.0, pixel=10.0), repeats)


def main():
    if sys.argv[1:] == ["--steps-64"]:
        # One round of `cargo xtask bench gan`'s side-by-side rounds: the two 64 x 64 steps.
        print(f"resnet64 {step_time(64, 32, 0.0, 10.0, 9):.1f}")
        print(f"ffe64 {ffe_step_time(64, 32, 7):.1f}")
        return
    G = ResnetGenerator()
    for size in (128, 256):
        x = torch.rand(1, 3, size, size) * 2 - 1
        with torch.no_grad():
            print(f"ResnetGenerator forward {size}: {median_ms(lambda: G(x), 7):.1f} ms")
    print(f"CycleGAN + Lpc step 64, ngf 32, no identity: {step_time(64, 32, 0.0, 10.0, 9):.0f} ms")
    print(f"FFE-CycleGAN + Lpc step 64, ndf 32: {ffe_step_time(64, 32, 7):.0f} ms")
    for identity in (False, True):
        print(f"CycleGAN step 128, identity {identity}: {step_time(128, 64, 0.5 if identity else 0.0, 0.0, 5):.0f} ms")


if __name__ == "__main__":
    main()
