#!/usr/bin/python3
# make_seq_golden.py: PyTorch reference numbers for the sequence layers,
# read by tests/test-seq.c (which needs no Python).
#
# Writes tests/golden-seq.bin: for each case a small input, the layer's
# weights (PyTorch's state_dict names, which are Lamina's tensor names
# after the node name), the output, an upstream gradient R, and the
# gradients of sum(output * R) with respect to every weight and to the
# input. Cases:
#   nn.LSTM  bidirectional, every step;  nn.LSTM one direction, last state
#   nn.GRU   bidirectional, every step;  nn.GRU  one direction, last state
#   nn.MultiheadAttention (self-attention, batch_first): 2 heads, and 2
#            heads causal (a boolean attn_mask above the diagonal), with
#            the per-head probabilities (average_attn_weights=False)
# The reference runs in float64 from float32 weights and inputs, so it is
# more accurate than either float32 implementation.
#
# Run from anywhere:  /usr/bin/python3 bench/golden/make_seq_golden.py
# (Debian's python3-torch, tested with torch 1.13).
#
# File format (little-endian):
#   char[8] "LAMSEQG1", u32 version (1), u32 n_records, then per record:
#   u32 name length, name bytes (no NUL), u32 ndim, u32 shape[ndim],
#   f32 data (row-major).
# Record names are "<case>/<what>": "config" (the case's integers as
# floats), "x", "y", "dy" (R), "dx", "probs" (attention), a weight name,
# or "grad.<weight name>".
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "golden-seq.bin")

records = []


def add(name, t):
    t = t.detach().to(torch.float32).contiguous()
    records.append((name, list(t.shape), t.numpy().tobytes()))


def rnn_case(name, cls, B, T, F, H, bidirectional, return_sequences, seed):
    torch.manual_seed(seed)
    m = cls(F, H, batch_first=True, bidirectional=bidirectional)
    x32 = torch.randn(B, T, F)
    # float32 weights, float64 reference
    m64 = cls(F, H, batch_first=True, bidirectional=bidirectional).double()
    m64.load_state_dict({k: v.double() for k, v in m.state_dict().items()})
    x = x32.double().requires_grad_(True)
    out, h_n = m64(x)
    if isinstance(h_n, tuple):   # LSTM: (h_n, c_n)
        h_n = h_n[0]
    if return_sequences:
        y = out
    else:
        # last state of each direction, as Lamina returns it: [B, dirs·H]
        y = torch.cat([h_n[d] for d in range(h_n.shape[0])], dim=1)
    R = torch.randn(y.shape, dtype=torch.float64)
    (y * R).sum().backward()
    add(name + "/config", torch.tensor([B, T, F, H, int(bidirectional), int(return_sequences)], dtype=torch.float32))
    add(name + "/x", x32)
    for k, v in m.state_dict().items():
        add(name + "/" + k, v)
    add(name + "/y", y)
    add(name + "/dy", R)
    add(name + "/dx", x.grad)
    for k, p in m64.named_parameters():
        add(name + "/grad." + k, p.grad)


def mha_case(name, B, T, D, heads, causal, seed):
    torch.manual_seed(seed)
    m = torch.nn.MultiheadAttention(D, heads, batch_first=True)
    with torch.no_grad():   # PyTorch starts the biases at 0; make them count
        m.in_proj_bias.uniform_(-0.5, 0.5)
        m.out_proj.bias.uniform_(-0.5, 0.5)
    x32 = torch.randn(B, T, D)
    m64 = torch.nn.MultiheadAttention(D, heads, batch_first=True).double()
    m64.load_state_dict({k: v.double() for k, v in m.state_dict().items()})
    x = x32.double().requires_grad_(True)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1) if causal else None
    y, probs = m64(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
    R = torch.randn(y.shape, dtype=torch.float64)
    (y * R).sum().backward()
    add(name + "/config", torch.tensor([B, T, D, heads, int(causal)], dtype=torch.float32))
    add(name + "/x", x32)
    for k, v in m.state_dict().items():
        add(name + "/" + k, v)
    add(name + "/y", y)
    add(name + "/probs", probs)
    add(name + "/dy", R)
    add(name + "/dx", x.grad)
    for k, p in m64.named_parameters():
        add(name + "/grad." + k, p.grad)


def main():
    torch.set_num_threads(1)
    rnn_case("lstm_bi_seq", torch.nn.LSTM, 3, 5, 4, 6, True, True, 1)
    rnn_case("lstm_last", torch.nn.LSTM, 2, 7, 3, 5, False, False, 2)
    rnn_case("gru_bi_seq", torch.nn.GRU, 3, 5, 4, 6, True, True, 3)
    rnn_case("gru_last", torch.nn.GRU, 2, 7, 3, 5, False, False, 4)
    mha_case("mha", 2, 5, 8, 2, False, 5)
    mha_case("mha_causal", 2, 6, 12, 3, True, 6)

    blob = bytearray(b"LAMSEQG1")
    blob += struct.pack("<II", 1, len(records))
    for name, shape, data in records:
        nb = name.encode()
        blob += struct.pack("<I", len(nb)) + nb
        blob += struct.pack("<I", len(shape)) + struct.pack("<%dI" % len(shape), *shape)
        blob += data
    with open(OUT, "wb") as f:
        f.write(blob)
    print("%s: %d records, %d bytes" % (os.path.normpath(OUT), len(records), len(blob)), file=sys.stderr)


if __name__ == "__main__":
    main()
