#!/usr/bin/python3
# make_golden.py: PyTorch reference runs for tests/test-golden.c.
#
# Writes tests/golden-lenet5.bin (LeNet-5 exactly as
# resources/presets/lenet5.json, 3 SGD steps, lr 0.05, momentum 0.9) and
# tests/golden-resblock.bin (a small residual net with BatchNorm, Add,
# GELU, a Dropout of rate 0 and AdamW, 3 steps). The test reads these
# files; it does not need Python.
#
# Run from anywhere:  /usr/bin/python3 bench/golden/make_golden.py
# (Debian's python3-torch; tested with torch 1.13). The reference is
# computed in float64 from float32 initial weights and inputs, so it is
# more accurate than either float32 implementation; the float32 PyTorch
# run is printed next to it to show the float32 noise level.
#
# File format (little-endian), version 1:
#   char[8]  "LAMGOLD1"
#   u32      version (1)
#   u32      n_tensors, then per tensor, in Lamina's order (trainable
#            tensors in graph order, then BatchNorm state):
#              u32 name length, name bytes (no NUL), u32 trainable (1/0),
#              u32 ndim, u32 shape[ndim], u32 stride
#            stride: the gradients and final values below hold elements
#            0, stride, 2·stride, … of the tensor (1: all of them), which
#            keeps the file small for the large Dense weights
#   u32      batch, channels, height, width, n_steps
#   u32      optimizer (0 SGD, 1 AdamW); f32 lr, momentum, weight_decay,
#            beta1, beta2, eps
#   f32      initial values of every tensor, complete, in order
#            (trainable then state: Lamina's params block then state block)
#   f32      inputs [batch, channels, height, width]
#   i32      labels [batch]
#   f64      loss (mean over the batch) before each step [n_steps]
#   f32      gradients of the trainable tensors at step 1 (strided)
#   f32      values of every tensor after the last step (strided)
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAX_STORED = 8192   # elements stored per tensor for gradients and final values


class LeNet5(nn.Module):
    """resources/presets/lenet5.json, node for node."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, stride=1, padding=2, bias=True)
        self.conv2 = nn.Conv2d(6, 16, 5, stride=1, padding=0, bias=True)
        self.dense1 = nn.Linear(16 * 5 * 5, 120)
        self.dense2 = nn.Linear(120, 84)
        self.dense3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.dense1(x))
        x = F.relu(self.dense2(x))
        return self.dense3(x)

    def lamina_tensors(self):
        """(Lamina name, tensor, trainable) in Lamina's order."""
        out = []
        for name in ["conv1", "conv2", "dense1", "dense2", "dense3"]:
            m = getattr(self, name)
            out.append((name + ".weight", m.weight, True))
            out.append((name + ".bias", m.bias, True))
        return out


class ResBlock(nn.Module):
    """The graph test-golden.c builds in resblock_graph():

    input 3×8×8 → stem Conv2D(8, k3, p1, no bias) → bn1 → gelu1
      → c2 Conv2D(8, k3, p1, no bias) → bn2 → add(bn2, gelu1) → gelu2
      → drop Dropout(0) → pool AvgPool2D(2, 2) → gap GlobalAvgPool
      → head Dense(10) → SoftmaxCrossEntropy
    """

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-5, momentum=0.1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-5, momentum=0.1)
        self.drop = nn.Dropout(0.0)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        g1 = F.gelu(self.bn1(self.stem(x)))
        y = F.gelu(self.bn2(self.c2(g1)) + g1)
        y = self.drop(y)
        y = F.avg_pool2d(y, 2, 2)
        y = y.mean(dim=(2, 3))
        return self.head(y)

    def lamina_tensors(self):
        return [
            ("stem.weight", self.stem.weight, True),
            ("bn1.weight", self.bn1.weight, True),
            ("bn1.bias", self.bn1.bias, True),
            ("c2.weight", self.c2.weight, True),
            ("bn2.weight", self.bn2.weight, True),
            ("bn2.bias", self.bn2.bias, True),
            ("head.weight", self.head.weight, True),
            ("head.bias", self.head.bias, True),
            ("bn1.running_mean", self.bn1.running_mean, False),
            ("bn1.running_var", self.bn1.running_var, False),
            ("bn2.running_mean", self.bn2.running_mean, False),
            ("bn2.running_var", self.bn2.running_var, False),
        ]


def synthetic_images(rng, b, c, h, w):
    """Smooth blobs plus noise, normalised like Fashion-MNIST; float32."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    imgs = np.zeros((b, c, h, w))
    for i in range(b):
        for ch in range(c):
            for _ in range(3):
                cy, cx = rng.uniform(0, h), rng.uniform(0, w)
                s = rng.uniform(1.5, h / 3)
                imgs[i, ch] += rng.uniform(0.3, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    imgs += rng.uniform(0, 0.2, size=imgs.shape)
    imgs = np.clip(imgs, 0, 1)
    return ((imgs - 0.286) / 0.353).astype(np.float32)


def stride_of(n):
    return 1 if n <= MAX_STORED else -(-n // MAX_STORED)


def run(make_model, seed, x, y, steps, opt_kind, hp, dtype):
    torch.manual_seed(seed)
    model = make_model()
    # Initial weights: PyTorch's default initialisation, rounded to float32;
    # BatchNorm's γ and β jittered so they are not all 1 and 0.
    with torch.no_grad():
        for name, t, trainable in model.lamina_tensors():
            if name.startswith("bn") and trainable:
                t.add_(torch.empty_like(t).uniform_(-0.2, 0.2))
    model = model.to(dtype)
    tensors = model.lamina_tensors()
    init = [t.detach().to(torch.float32).clone() for _, t, _ in tensors]

    params = [t for _, t, trainable in tensors if trainable]
    if opt_kind == 0:
        opt = torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"], weight_decay=hp["weight_decay"])
    else:
        opt = torch.optim.AdamW(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                                weight_decay=hp["weight_decay"])
    model.train()
    xt = torch.from_numpy(x).to(dtype)
    yt = torch.from_numpy(y.astype(np.int64))
    losses, grads = [], None
    for step in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt, reduction="mean")
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            grads = [p.grad.detach().to(torch.float32).clone() for p in params]
        opt.step()
    final = [t.detach().to(torch.float32).clone() for _, t, _ in tensors]
    return tensors, init, losses, grads, final


def write_golden(path, make_model, seed, x, y, steps, opt_kind, hp):
    tensors, init, losses, grads, final = run(make_model, seed, x, y, steps, opt_kind, hp, torch.float64)
    _, _, losses32, grads32, final32 = run(make_model, seed, x, y, steps, opt_kind, hp, torch.float32)

    b, c, h, w = x.shape
    out = bytearray()
    out += b"LAMGOLD1"
    out += struct.pack("<II", 1, len(tensors))
    for (name, t, trainable) in tensors:
        nb = name.encode()
        out += struct.pack("<I", len(nb)) + nb
        out += struct.pack("<II", 1 if trainable else 0, t.dim())
        out += struct.pack("<%dI" % t.dim(), *t.shape)
        out += struct.pack("<I", stride_of(t.numel()))
    out += struct.pack("<5I", b, c, h, w, steps)
    out += struct.pack("<I6f", opt_kind, hp["lr"], hp["momentum"], hp["weight_decay"],
                       hp["beta1"], hp["beta2"], hp["eps"])
    for t in init:
        out += t.numpy().astype("<f4").tobytes()
    out += x.astype("<f4").tobytes()
    out += y.astype("<i4").tobytes()
    out += struct.pack("<%dd" % steps, *losses)
    trainable = [t for (_, t, tr) in tensors if tr]
    for g, t in zip(grads, trainable):
        out += g.reshape(-1)[::stride_of(t.numel())].numpy().astype("<f4").tobytes()
    for f, (_, t, _) in zip(final, tensors):
        out += f.reshape(-1)[::stride_of(t.numel())].numpy().astype("<f4").tobytes()
    with open(path, "wb") as fp:
        fp.write(out)

    # The float32 PyTorch run against the float64 reference: the noise
    # level a float32 implementation can be expected to reach.
    def nmse(a, r):
        r = r.double()
        return float(((a.double() - r) ** 2).sum() / max(float((r ** 2).sum()), 1e-30))

    print("%s: %d bytes, %d tensors" % (os.path.relpath(path, TOP), len(out), len(tensors)))
    print("  losses (f64): %s" % " ".join("%.9f" % l for l in losses))
    print("  f32 vs f64 loss rel diff: %s" % " ".join("%.2e" % (abs(a - r) / abs(r)) for a, r in zip(losses32, losses)))
    print("  f32 vs f64 step-1 grad NMSE max: %.2e" % max(nmse(a, r) for a, r in zip(grads32, grads)))
    print("  f32 vs f64 final NMSE max: %.2e" % max(nmse(a, r) for a, r in zip(final32, final)))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    print("torch", torch.__version__, file=sys.stderr)

    rng = np.random.default_rng(20261127)
    x = synthetic_images(rng, 8, 1, 28, 28)
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.int32)
    write_golden(os.path.join(TOP, "tests", "golden-lenet5.bin"), LeNet5, 1, x, y, 3, 0,
                 dict(lr=0.05, momentum=0.9, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8))

    rng = np.random.default_rng(20261128)
    x = synthetic_images(rng, 6, 3, 8, 8)
    y = np.array([0, 7, 2, 9, 4, 4], dtype=np.int32)
    write_golden(os.path.join(TOP, "tests", "golden-resblock.bin"), ResBlock, 2, x, y, 3, 1,
                 dict(lr=0.01, momentum=0.0, weight_decay=0.05, beta1=0.9, beta2=0.999, eps=1e-8))


if __name__ == "__main__":
    main()
