"""Shared helpers for bench/compare-pytorch and bench/convergence."""

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LAMINA = os.environ.get("LAMINA_TRAIN", os.path.join(ROOT, "build", "app", "lamina-train"))
# Debian's interpreter has torch; the python3 on PATH may not.
TORCH_PYTHON = os.environ.get("TORCH_PYTHON", "/usr/bin/python3")
TORCH_TRAIN = os.path.join(BENCH, "torch_train.py")
RUN_TIMEOUT = int(os.environ.get("RUN_TIMEOUT", "900"))
RETRIES, RETRY_WAIT = 12, 10

# Best PyTorch thread settings on a 2-core machine (shared/TOOLCHAIN.md s.7):
# (torch threads, OPENBLAS_NUM_THREADS)
TORCH_BEST = {"mlp": (1, 2), "lenet5": (2, 1)}

# Forward FLOPs per sample (multiply-add = 2); training ~ 3x forward.
FWD_FLOPS = {
    "mlp": 2 * (784 * 256 + 256 * 128 + 128 * 10),
    "lenet5": 2 * 6 * 28 * 28 * 25 + 2 * 16 * 10 * 10 * 150 + 2 * (400 * 120 + 120 * 84 + 84 * 10),
}


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v) if v else default
    except ValueError:
        sys.exit("%s=%r: not an integer" % (name, v))


def check_lamina():
    for _ in range(RETRIES):
        if os.access(LAMINA, os.X_OK):
            return
        time.sleep(RETRY_WAIT)  # perhaps being relinked by a rebuild
    if not os.access(LAMINA, os.X_OK):
        sys.exit("%s not found: build it first (ninja -C %s/build) or set LAMINA_TRAIN" % (LAMINA, ROOT))


def run_json(cmd, env=None):
    """Run cmd; return (dict from its last stdout line, None) or (None, error text)."""
    # The trainer may be mid-relink when someone rebuilds (EACCES, ENOENT,
    # ETXTBSY): wait and try again a few times before calling it a failure.
    for attempt in range(RETRIES + 1):
        try:
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            return None, "timed out after %d s" % RUN_TIMEOUT
        except OSError as e:
            if attempt == RETRIES:
                return None, "cannot run %s: %s" % (cmd[0], e)
            print("  (%s: %s; retrying in %d s)" % (os.path.basename(cmd[0]), e.strerror, RETRY_WAIT),
                  file=sys.stderr, flush=True)
            time.sleep(RETRY_WAIT)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return None, "exit %d: %s" % (p.returncode, err)
    try:
        return json.loads(lines[-1]), None
    except json.JSONDecodeError as e:
        return None, "bad JSON (%s): %s" % (e, lines[-1][:200])


def lamina_cmd(model, batch, epochs, seed=None, extra=()):
    cmd = [LAMINA, "--preset", model, "--epochs", str(epochs), "--batch", str(batch),
           "--backend", "cpu", "-q"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    return cmd + list(extra)


def blas_env(base=None):
    """The environment for a benchmark run: OPENBLAS_CORETYPE as BENCH_OPENBLAS_CORETYPE
    says ('inherit': as given; a core type: that one), by default removed, so that
    OpenBLAS picks its kernels for this CPU (on an AVX-512 CPU its AVX-512 ones,
    PyTorch's fastest setting; a Haswell override halves its dense layers' speed)."""
    env = dict(os.environ if base is None else base)
    want = os.environ.get("BENCH_OPENBLAS_CORETYPE", "")
    if want == "inherit":
        return env
    env.pop("OPENBLAS_CORETYPE", None)
    if want:
        env["OPENBLAS_CORETYPE"] = want
    return env


def blas_env_text():
    env = blas_env()
    return env.get("OPENBLAS_CORETYPE", "(unset: OpenBLAS picks for this CPU)")


def torch_cmd_env(model, batch, epochs, seed=None):
    # torch_train.py picks torch's threads: TORCH_BEST's for a build on
    # the system's OpenBLAS (Debian's), all cores for one on MKL (PyPI's)
    bt = TORCH_BEST[model][1]
    env = dict(blas_env(), OPENBLAS_NUM_THREADS=str(bt))
    cmd = [TORCH_PYTHON, TORCH_TRAIN, "--model", model, "--batch", str(batch),
           "--epochs", str(epochs)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    return cmd, env


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def cpu_model():
    """Model name plus the family (AMD 25: Zen 3/4, 26: Zen 5), as VMs often hide the rest."""
    name, family, model = None, None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key = line.split(":", 1)[0].strip()
                if key == "model name" and name is None:
                    name = line.split(":", 1)[1].strip()
                elif key == "cpu family" and family is None:
                    family = line.split(":", 1)[1].strip()
                elif key == "model" and model is None:
                    model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    name = name or platform.processor() or "unknown"
    if family:
        name += ", family %s model %s" % (family, model)
        if "AMD" in name and family == "26":
            name += " (Zen 5)"
    return name


def cpu_flags_summary():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    fl = set(line.split(":", 1)[1].split())
                    return ", ".join(x for x in ("avx2", "fma", "avx512f", "avx512_bf16") if x in fl)
    except OSError:
        pass
    return ""


def torch_version():
    try:
        return subprocess.run([TORCH_PYTHON, "-c", "import torch; print(torch.__version__)"],
                              capture_output=True, text=True, timeout=120).stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def lamina_version():
    try:
        return subprocess.run([LAMINA, "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def git_rev():
    if not shutil.which("git"):
        return "unknown"
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return rev + ("+local changes" if dirty else "") if rev else "unknown"
    except Exception:
        return "unknown"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"
