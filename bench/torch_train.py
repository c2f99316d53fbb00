#!/usr/bin/python3
"""PyTorch reference trainer for Lamina's MLP and LeNet-5 presets.

Replicates what `lamina-train --preset mlp|lenet5 --backend cpu` does, so
that its throughput and accuracy can be compared with Lamina's:

  * data: Fashion-MNIST from $LAMINA_FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist (gzipped IDX),
    normalised (x/255 - 0.2860) / 0.3530; 5000 of the 60000 training images
    held out (as Lamina's val_fraction 0.0833333 does), so 55000 are trained
    on; the last partial batch of each epoch is dropped (859 steps at 64);
    test accuracy on the 10000 t10k images.
  * init: weights uniform in +-sqrt(6/fan_in) (He) when the layer's output
    goes into a ReLU, else +-sqrt(6/(fan_in+fan_out)) (Xavier); biases zero.
  * optimiser: SGD with the preset's lr and momentum (PyTorch's momentum form, the same
    as Lamina's), no weight decay, constant rate; mean softmax cross-entropy.

Timing covers the training epochs only: for each step, gather the batch by
index from a shuffled permutation of the in-memory float tensor, forward,
backward and update. Data loading and evaluation are excluded.

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

# as Lamina: $LAMINA_FASHION_MNIST_DIR, else Debian's dataset-fashion-mnist
DATA_DIR = os.environ.get("LAMINA_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
VAL_IMAGES = 5000

# Best thread settings on the 2-core build machine (shared/TOOLCHAIN.md s.7):
# MLPs: torch 1 thread, OpenBLAS 2; CNNs: torch 2 threads, OpenBLAS 1.
BEST = {"mlp": (1, 2), "lenet5": (2, 1)}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["mlp", "lenet5"], default="mlp")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads (0: the best setting for the model)")
    p.add_argument("--blas-threads", type=int, default=0,
                   help="OPENBLAS_NUM_THREADS (0: keep the environment's, else the best for the model)")
    p.add_argument("--limit", type=int, default=0,
                   help="use at most N training images (0: all 55000)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: the Lamina preset's)")
    p.add_argument("--momentum", type=float, default=None,
                   help="SGD momentum (default: the Lamina preset's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or cuda (bench/gpu-check)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (GPU check)")
    p.add_argument("--warmup", type=int, default=0,
                   help="untimed warm-up steps on a throw-away copy of the model (default 0)")
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
    raise ValueError("%s: not an IDX images/labels file (magic 0x%x)" % (path, magic))


def preset_optimizer(model):
    """The learning rate and momentum of resources/presets/MODEL.json, so both
    sides always train with the same hyperparameters."""
    import json
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "resources", "presets", model + ".json")) as f:
        opt = json.load(f)["training"]["optimizer"]
    assert opt["kind"] == "sgd", "torch_train.py mirrors SGD presets only"
    assert opt.get("schedule", "constant") in ("constant", "cosine")
    return opt["lr"], opt.get("momentum", 0.0), opt.get("schedule", "constant")


def main():
    args = parse_args()
    lr, momentum, schedule = preset_optimizer(args.model)
    if args.lr is None:
        args.lr = lr
    if args.momentum is None:
        args.momentum = momentum
    tt, bt = BEST[args.model]
    threads = args.threads or tt
    if args.blas_threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    elif "OPENBLAS_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = str(bt)
    blas_threads = int(os.environ["OPENBLAS_NUM_THREADS"])

    import numpy as np
    import torch  # after OPENBLAS_NUM_THREADS is set
    from torch import nn

    if not args.threads and "BLAS_INFO=mkl" in torch.__config__.show():
        # PyPI's build: MKL runs on torch's own threads, and OpenBLAS's
        # setting means nothing to it; all cores measured best (MLP, 2 cores:
        # 101k img/s at batch 64 and 156k at 256, against 71k and 90k on one)
        threads = os.cpu_count() or 1
        blas_threads = 0
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    def load(prefix):
        x = read_idx(os.path.join(DATA_DIR, prefix + "-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(DATA_DIR, prefix + "-labels-idx1-ubyte.gz"))
        x = (x.astype(np.float32) / 255.0 - MEAN) / STD
        return torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y.astype(np.int64))

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
    steps = n_train // B  # drop the last partial batch, as Lamina does
    if steps == 0:
        sys.exit("torch_train: %d training images is less than one batch of %d" % (n_train, B))

    if args.model == "mlp":
        model = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    # Lamina's init: He-uniform before a ReLU, else Xavier-uniform; zero biases.
    layers = list(model)
    with torch.no_grad():
        for i, m in enumerate(layers):
            if not isinstance(m, (nn.Linear, nn.Conv2d)):
                continue
            w = m.weight
            fan_in = w[0].numel()
            fan_out = w.numel() // w.shape[1]
            relu_next = i + 1 < len(layers) and isinstance(layers[i + 1], nn.ReLU)
            bound = math.sqrt(6.0 / fan_in) if relu_next else math.sqrt(6.0 / (fan_in + fan_out))
            w.uniform_(-bound, bound)
            m.bias.zero_()

    device = torch.device(args.device)
    model.to(device)
    x_train, y_train = x_train.to(device), y_train.to(device)
    x_test, y_test = x_test.to(device), y_test.to(device)
    if args.compile:
        model = torch.compile(model)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    loss_fn = nn.CrossEntropyLoss()

    def make_opt(m):
        return torch.optim.SGD(m.parameters(), lr=args.lr, momentum=args.momentum)

    opt = make_opt(model)

    def step(m, o, idx):
        xb = x_train.index_select(0, idx)
        yb = y_train.index_select(0, idx)
        o.zero_grad(set_to_none=True)
        out = m(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        o.step()
        return loss

    if args.warmup > 0:
        import copy
        wm = copy.deepcopy(model)
        wo = make_opt(wm)
        for _ in range(args.warmup):
            step(wm, wo, torch.randint(0, n_train, (B,), device=device))
        del wm, wo

    model.train()
    seconds = 0.0
    last_loss = float("nan")
    for epoch in range(args.epochs):
        perm = torch.randperm(n_train).to(device)  # outside the timed region, like the eval
        sync()
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        for s in range(steps):
            if schedule == "cosine":
                # Lamina's cosine: base · ½(1 + cos(π · epochs done / epochs)), set per step
                done = epoch + s / steps
                for g in opt.param_groups:
                    g["lr"] = args.lr * 0.5 * (1.0 + math.cos(math.pi * min(done / args.epochs, 1.0)))
            loss = step(model, opt, perm[s * B:(s + 1) * B])
            loss_sum += loss.detach()
        sync()
        seconds += time.perf_counter() - t0
        last_loss = float(loss_sum) / steps
        if not math.isfinite(last_loss):
            sys.exit("torch_train: training diverged (loss %s)" % last_loss)

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x_test.shape[0], 1000):
            out = model(x_test[i:i + 1000])
            correct += int((out.argmax(1) == y_test[i:i + 1000]).sum())
    test_acc = correct / x_test.shape[0]

    print(json.dumps({
        "model": args.model,
        "framework": "pytorch",
        "device": args.device + (" compiled" if args.compile else ""),
        "torch": torch.__version__,
        "threads": threads,
        "blas_threads": blas_threads,
        "epochs": args.epochs,
        "steps": steps * args.epochs,
        "batch": B,
        "train_images": n_train,
        "train_loss": last_loss,
        "test_accuracy": test_acc,
        "images_per_second": steps * B * args.epochs / seconds,
        "seconds": seconds,
    }))


if __name__ == "__main__":
    main()
