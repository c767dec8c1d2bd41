"""PyTorch's side of `cargo xtask bench layers`: forward and backward of each generator layer
shape and of the whole ResnetGenerator at 128, on 2 threads.

    pip install torch && python xtask/reference/bench_layers.py
"""
import time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2); torch.manual_seed(0)
def t(f, n=10):
    f(); s=time.time()
    for _ in range(n): f()
    return (time.time()-s)/n*1000
def conv_case(name, cin, cout, k, hw, stride=1, pad=1, reflect=True):
    x = torch.randn(1,cin,hw,hw, requires_grad=True)
    conv = nn.Conv2d(cin,cout,k,stride=stride,padding=0 if reflect else pad)
    def fwd():
        xi = F.pad(x,(pad,)*4,mode='reflect') if reflect else x
        return conv(xi)
    y = fwd(); g = torch.randn_like(y)
    with torch.no_grad(): tf = t(fwd)
    def bwd():
        y = fwd(); torch.autograd.grad(y, [x, conv.weight, conv.bias], g)
    def bwd_w():
        y = fwd(); torch.autograd.grad(y, [conv.weight], g)
    tb = t(bwd) - tf; tw = t(bwd_w) - tf
    print(f'{name}: fwd {tf:.2f} ms, bwd(dx+dw+db) {tb:.2f} ms, bwd(dw only) {tw:.2f} ms')
conv_case('res 256x3x3 @32 reflect', 256, 256, 3, 32)
conv_case('c7s1-64 @128 reflect', 3, 64, 7, 128, pad=3)
conv_case('down 64->128 s2 @128', 64, 128, 3, 128, stride=2, reflect=False)
conv_case('out 64->3 7x7 @128 reflect', 64, 3, 7, 128, pad=3)
x = torch.randn(1,256,32,32, requires_grad=True)
ct = nn.ConvTranspose2d(256,128,3,stride=2,padding=1,output_padding=1)
y = ct(x); g=torch.randn_like(y)
with torch.no_grad(): tf=t(lambda: ct(x))
tb=t(lambda: torch.autograd.grad(ct(x),[x,ct.weight,ct.bias],g))-tf
print(f'convT 256->128 @32: fwd {tf:.2f} bwd {tb:.2f}')
x = torch.randn(1,256,32,32, requires_grad=True); inn = nn.InstanceNorm2d(256)
y=inn(x); g=torch.randn_like(y)
with torch.no_grad(): tf=t(lambda: inn(x))
tb=t(lambda: torch.autograd.grad(inn(x),[x],g))-tf
print(f'instnorm 256@32: fwd {tf:.3f} bwd {tb:.3f}')
x = torch.randn(1,64,128,128, requires_grad=True)
y=inn(x); g=torch.randn_like(y)
with torch.no_grad(): tf=t(lambda: inn(x))
tb=t(lambda: torch.autograd.grad(inn(x),[x],g))-tf
print(f'instnorm 64@128: fwd {tf:.3f} bwd {tb:.3f}')
import sys; import os; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../tests/fixtures/pytorch'))
from cyclegan_nets import ResnetGenerator
G=ResnetGenerator(); x=torch.randn(1,3,128,128)
y=G(x); g=torch.randn_like(y)
with torch.no_grad(): tf=t(lambda: G(x),5)
tb=t(lambda: torch.autograd.grad(G(x), list(G.parameters()), g),5)-tf
print(f'G@128: fwd {tf:.1f} bwd {tb:.1f}')
