#!/usr/bin/python3
"""PyTorch reference trainer for Lamina's sequence presets on Fashion-MNIST.

Mirrors `lamina-train --preset lstm|gru|rnn|transformer --backend cpu`:

  * data: Fashion-MNIST read row by row (28 steps of 28 values), as the
    presets' ImageToSequence does; normalised (x/255 - 0.2860) / 0.3530;
    5000 of the 60000 training images held out, so 55000 are trained on;
    the last partial batch of an epoch dropped; test on the 10000 t10k.
  * models (resources/presets/*.json):
      lstm, gru, rnn: nn.LSTM/GRU/RNN(28, 128, batch_first), the last
        state, Linear(128, 10);
      transformer: Linear(28, 64) per row, + sinusoidal positions,
        x + MHA(LN(x)) (4 heads), x + FF(LN(x)) (64-128-ReLU-64), LN,
        mean over the rows, Linear(64, 10).
    PyTorch's default initialisation (Lamina's recurrent and attention
    layers use the same; its Dense layers use Xavier/He).
  * optimiser: the preset's (Adam, lr 0.001), mean softmax cross-entropy.

Timing covers the training epochs only (gather the batch by index from a
shuffled permutation of the in-memory tensor, forward, backward, update).

Run it with Debian's interpreter, /usr/bin/python3 (the one with torch).
Prints one JSON line: images_per_second, test_accuracy, seconds, threads, ...
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
VAL_IMAGES = 5000
MODELS = ["lstm", "gru", "rnn", "transformer"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=MODELS, default="lstm")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--blas-threads", type=int, default=0,
                   help="OPENBLAS_NUM_THREADS (0: keep the environment's, else 1)")
    p.add_argument("--limit", type=int, default=0, help="use at most N training images (0: all 55000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-test", action="store_true", help="skip the test evaluation")
    return p.parse_args()


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic == 0x803:
        n, h, w = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, h, w)
    if magic == 0x801:
        n = int.from_bytes(raw[4:8], "big")
        return np.frombuffer(raw, dtype=np.uint8, offset=8)[:n]
    raise ValueError("%s: not an IDX file (magic 0x%x)" % (path, magic))


def preset(model):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "resources", "presets", model + ".json")) as f:
        return json.load(f)


def main():
    args = parse_args()
    if args.blas_threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    elif "OPENBLAS_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    blas_threads = int(os.environ["OPENBLAS_NUM_THREADS"])

    import numpy as np
    import torch  # after OPENBLAS_NUM_THREADS is set
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    spec = preset(args.model)
    opt_spec = spec["training"]["optimizer"]
    assert opt_spec["kind"] == "adam"
    nodes = {n["name"]: n for n in spec["nodes"]}

    def load(prefix):
        x = read_idx(os.path.join(DATA_DIR, prefix + "-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(DATA_DIR, prefix + "-labels-idx1-ubyte.gz"))
        x = (x.astype(np.float32) / 255.0 - MEAN) / STD
        return torch.from_numpy(x).contiguous(), torch.from_numpy(y.astype(np.int64))   # [N, 28 rows, 28]

    x_all, y_all = load("train")
    x_test, y_test = load("t10k")
    order = torch.from_numpy(rng.permutation(x_all.shape[0]))
    train_idx = order[VAL_IMAGES:]
    if args.limit > 0:
        train_idx = train_idx[:args.limit]
    x_train = x_all[train_idx].contiguous()
    y_train = y_all[train_idx].contiguous()
    n_train = x_train.shape[0]
    B = args.batch
    steps = n_train // B
    if steps == 0:
        sys.exit("torch_seq: %d training images is less than one batch of %d" % (n_train, B))

    class Recurrent(nn.Module):
        def __init__(self, cls, units):
            super().__init__()
            self.rnn = cls(28, units, batch_first=True)
            self.fc = nn.Linear(units, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])

    class Encoder(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.embed = nn.Linear(28, d)
            t = torch.arange(28, dtype=torch.float64).unsqueeze(1)
            i = torch.arange(d, dtype=torch.float64).unsqueeze(0)
            angle = t / torch.pow(10000.0, (i - i % 2) / d)
            pe = torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle)).float()
            self.register_buffer("pe", pe)
            self.ln1 = nn.LayerNorm(d)
            self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
            self.ln2 = nn.LayerNorm(d)
            self.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))
            self.ln3 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 10)

        def forward(self, x):
            x = self.embed(x) + self.pe
            h = self.ln1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            x = x + self.ff(self.ln2(x))
            return self.fc(self.ln3(x).mean(dim=1))

    if args.model == "transformer":
        model = Encoder(nodes["embed"]["params"]["units"], nodes["attn"]["params"]["heads"],
                        nodes["ff1"]["params"]["units"])
    else:
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[args.model]
        model = Recurrent(cls, nodes[args.model]["params"]["units"])

    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=opt_spec["lr"], betas=(opt_spec["beta1"], opt_spec["beta2"]),
                           eps=opt_spec["eps"])

    model.train()
    seconds = 0.0
    last_loss = float("nan")
    for epoch in range(args.epochs):
        perm = torch.randperm(n_train)
        t0 = time.perf_counter()
        loss_sum = torch.zeros(())
        for s in range(steps):
            idx = perm[s * B:(s + 1) * B]
            xb = x_train.index_select(0, idx)
            yb = y_train.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
        seconds += time.perf_counter() - t0
        last_loss = float(loss_sum) / steps

    acc = float("nan")
    if not args.no_test:
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, x_test.shape[0], 500):
                correct += int((model(x_test[i:i + 500]).argmax(1) == y_test[i:i + 500]).sum())
        acc = correct / x_test.shape[0]

    print(json.dumps({
        "model": args.model, "batch": B, "epochs": args.epochs, "steps": steps * args.epochs,
        "images_per_second": steps * B * args.epochs / seconds, "seconds": seconds,
        "train_loss": last_loss, "test_accuracy": acc, "threads": args.threads,
        "blas_threads": blas_threads, "torch": torch.__version__,
        "parameters": sum(p.numel() for p in model.parameters()),
    }))


if __name__ == "__main__":
    main()
