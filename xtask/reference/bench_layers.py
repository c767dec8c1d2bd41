"""PyTorch's side of `cargo xtask bench layers`: forward, and forward + backward of sum(y * g),
of each generator layer shape (CycleGAN's at 128, the quick scale's at 64) and of the whole
ResnetGenerator at 128 and the quick scale's (ngf 32, two blocks) at 64, on 2 threads. Prints one
`key forward_ms backward_ms` line per case (backward = the pair's time minus the forward's),
the keys that `bench_layers.rs` looks up.

    pip install torch && python xtask/reference/bench_layers.py
"""
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def median_ms(f, n):
    f()
    times = []
    for _ in range(n):
        s = time.perf_counter()
        f()
        times.append(time.perf_counter() - s)
    return statistics.median(times) * 1000


def case(key, forward, inputs, n=REPEATS):
    """Times `forward` alone and with the gradients of sum(forward() * g) wrt `inputs`."""
    g = torch.randn_like(forward())
    with torch.no_grad():
        fwd = median_ms(forward, n)

    def both():
        torch.autograd.grad((forward() * g).sum(), inputs)

    print(f"{key} {fwd:.3f} {median_ms(both, n) - fwd:.3f}", flush=True)


def conv_case(key, cin, cout, k, hw, stride=1, pad=1, reflect=True):
    x = torch.randn(1, cin, hw, hw, requires_grad=True)
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=0 if reflect else pad)

    def forward():
        return conv(F.pad(x, (pad,) * 4, mode="reflect") if reflect else x)

    case(key, forward, [x, conv.weight, conv.bias])


conv_case("conv-256-256-3-reflect@32", 256, 256, 3, 32)
conv_case("conv-3-64-7-reflect@128", 3, 64, 7, 128, pad=3)
conv_case("conv-64-128-3-s2@128", 64, 128, 3, 128, stride=2, reflect=False)
conv_case("conv-64-3-7-reflect@128", 64, 3, 7, 128, pad=3)
# The quick scale's generator: 64 x 64, ngf 32.
conv_case("conv-3-32-7-reflect@64", 3, 32, 7, 64, pad=3)
conv_case("conv-32-64-3-s2@64", 32, 64, 3, 64, stride=2, reflect=False)
conv_case("conv-64-128-3-s2@32", 64, 128, 3, 32, stride=2, reflect=False)
conv_case("conv-128-128-3-reflect@16", 128, 128, 3, 16)
conv_case("conv-32-3-7-reflect@64", 32, 3, 7, 64, pad=3)
for cin, cout, hw in [(256, 128, 32), (128, 64, 16), (64, 32, 32)]:
    x = torch.randn(1, cin, hw, hw, requires_grad=True)
    ct = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)
    case(f"convT-{cin}-{cout}-3-s2@{hw}", lambda: ct(x), [x, ct.weight, ct.bias])
for c, hw in [(256, 32), (64, 128), (32, 64)]:
    x = torch.randn(1, c, hw, hw, requires_grad=True)
    norm = nn.InstanceNorm2d(c)
    case(f"instance-norm-{c}@{hw}", lambda: norm(x), [x])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/pytorch"))
from cyclegan_nets import ResnetGenerator  # noqa: E402

G = ResnetGenerator()
x = torch.randn(1, 3, 128, 128)
case("generator-ngf64-6blocks@128", lambda: G(x), list(G.parameters()), n=min(REPEATS, 5))
G32 = ResnetGenerator(ngf=32, n_blocks=2)
x64 = torch.randn(1, 3, 64, 64)
case("generator-ngf32-2blocks@64", lambda: G32(x64), list(G32.parameters()), n=min(REPEATS, 5))
