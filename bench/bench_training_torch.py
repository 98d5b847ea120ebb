#!/usr/bin/python3
"""PyTorch 1.13 peer of bench/bench_training.cpp (2 threads): one SGD step of a 784-256-10 ReLU MLP
(batch 64, cross-entropy: forward, backward, update) and eager overhead per op (a chain of 1,000
neg ops on a one-element tensor). Usage: bench/bench_training_torch.py [repeats]"""
import json
import os
import sys
import time

# OpenMP threads that spin while waiting lose whole scheduler slices on a shared, loaded machine
# (steps of 70-90 ms instead of ~1 ms): wait passively unless told otherwise. Set before import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

torch.set_num_threads(2)
repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def median_ms(f, n):
    f()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


g = torch.Generator().manual_seed(0)
x = torch.randn(64, 784, generator=g)
y = torch.arange(64) % 10
w1 = (torch.randn(784, 256, generator=g) * 0.05).requires_grad_()
b1 = torch.zeros(256, requires_grad=True)
w2 = (torch.randn(256, 10, generator=g) * 0.09).requires_grad_()
b2 = torch.zeros(10, requires_grad=True)
opt = torch.optim.SGD([w1, b1, w2, b2], lr=0.01)


def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, y)
    loss.backward()
    opt.step()


step_ms = median_ms(step, repeats * 5)
t = torch.ones(1)


def chain():
    v = t
    for _ in range(1000):
        v = torch.neg(v)
    return v


with torch.no_grad():
    chain_ms = median_ms(chain, repeats)
print("| PyTorch %s eager (2 threads, OMP_WAIT_POLICY=%s): SGD step | %.3f ms |" % (torch.__version__, os.environ["OMP_WAIT_POLICY"], step_ms))
print("| PyTorch eager: per op | %.3f us |" % chain_ms)
print(json.dumps({"torch_step_ms": step_ms, "torch_us_per_op": chain_ms}))
