"""End-to-end training benchmarks: ember against PyTorch, same work, same threads, one run.

    python bench/train.py                 full (about 3 minutes)
    python bench/train.py --quick         CI-sized
    python bench/train.py --threads 1 2   thread counts (default: 2, or the usable CPUs)

Three workloads, each run by each library in its own child process, so that the peak RSS
(ru_maxrss) a child reports is that library's alone:

- ``mlp``: the MNIST MLP of examples/mnist_mlp.py (784-512-256-10, ReLU, dropout 0.2), batch
  128, Adam lr 1e-3, cross-entropy, fed by each library's DataLoader over the real MNIST
  training set ($EMBER_DATA/mnist; random data of the same shape when it is absent). Reported:
  samples/s over the timed steps (after warm-up) and the child's peak RSS.
- ``mlp-tensors``: the same training steps with batches taken by indexing pre-loaded tensors
  with a shuffled permutation (no DataLoader): the model step alone. PyTorch's DataLoader
  indexes and collates sample by sample, which costs it about a third of its throughput.
- ``cnn``: the CNN of examples/mnist_cnn.py (three conv3x3-BN-ReLU-maxpool blocks, 131k
  parameters), batch 128, Adam, batches indexed from tensors (no DataLoader, no
  augmentation): samples/s of the training step.
- ``adam``: one Adam step over ~10M float32 parameters in 50 tensors of mixed sizes, with
  gradients set; PyTorch both default (foreach) and ``fused=True``.
- ``linear``: a 16->16 Linear forward + backward at batch 1 (loss = out.sum()): per-call
  overhead of the Python layer, the autograd engine and the kernels on tiny tensors.

Writes results/train.json and results/train.md (or --name). Ratios are ember's speed over
PyTorch's (above 1: ember is faster); absolute numbers on a shared VM are noise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
WORKLOADS = ["mlp", "mlp-tensors", "cnn", "adam", "linear"]


def _mnist_arrays(n: int) -> tuple[Any, Any]:
    """(n, 784) float32 in [0, 1] and (n,) int64 labels: the real MNIST when found. Read with
    gzip + NumPy, not ember's reader, so the PyTorch child never imports ember."""
    import gzip

    import numpy as np

    root = Path(os.environ.get("EMBER_DATA", HERE.parent.parent / "shared" / "data")) / "mnist"
    try:
        with gzip.open(root / "train-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16)
        with gzip.open(root / "train-labels-idx1-ubyte.gz") as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)
        x = images.reshape(-1, 784)[:n].astype(np.float32)
        x *= 1.0 / 255.0
        return x, labels[:n].astype(np.int64)
    except OSError:  # benchmarks still run without the data
        rng = np.random.default_rng(0)
        return (rng.random((n, 784), dtype=np.float32),
                rng.integers(0, 10, n).astype(np.int64))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- children: one workload, one library --------------------------------------------------
def _batches(tl: Any, loader: Any, x: Any, y: Any, batch: int) -> Any:
    """Batches from the DataLoader, or (loader None) by indexing shuffled tensors directly."""
    if loader is not None:
        yield from loader
        return
    perm = tl.randperm(x.shape[0])
    for i in range(x.shape[0] // batch):
        idx = perm[i * batch:(i + 1) * batch]
        yield x[idx], y[idx]


def _cnn(nn: Any) -> Any:
    """examples/mnist_cnn.py's model: three conv3x3-BN-ReLU-maxpool blocks, then an MLP."""
    def block(c_in: int, c_out: int) -> list[Any]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 64), nn.Flatten(),
                         nn.Linear(576, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def child_mlp(lib: str, steps: int, warmup: int, use_loader: bool = True,
              cnn: bool = False) -> dict[str, Any]:
    x, y = _mnist_arrays(60000)
    if cnn:
        x = x.reshape(-1, 1, 28, 28)
    batch = 128
    if lib == "ember":
        import ember as tl
        from ember import nn, optim
        from ember.data import DataLoader, TensorDataset
        F = nn.functional
    else:
        import torch as tl
        from torch import nn, optim
        from torch.utils.data import DataLoader, TensorDataset
        F = nn.functional
    tl.manual_seed(0)
    model = _cnn(nn) if cnn else nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 10),
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = tl.from_numpy(x), tl.from_numpy(y)
    ds = TensorDataset(xt, yt)
    loader = DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True) if use_loader \
        else None
    model.train()
    done, t0 = 0, None
    while done < warmup + steps:
        for xb, yb in _batches(tl, loader, xt, yt, batch):
            if done == warmup:
                t0 = time.perf_counter()
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == warmup + steps:
                break
    float(loss.item())
    dt = time.perf_counter() - t0
    return {"samples_per_s": steps * batch / dt, "seconds": dt, "steps": steps,
            "peak_rss_mib": _peak_rss_mib()}


def _adam_shapes() -> list[tuple[int, ...]]:
    # 50 tensors, ~10M parameters: 16 (512x512) + 16 (1024x256) blocks, 16 biases, 2 big
    shapes: list[tuple[int, ...]] = []
    for _ in range(16):
        shapes += [(512, 512), (256, 1024), (512,)]
    shapes += [(1000, 1024), (2048, 1000)]
    return shapes


def child_adam(lib: str, repeats: int, fused: bool) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in _adam_shapes()]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in _adam_shapes()]
    if lib == "ember":
        import ember as tl
        from ember import optim
    else:
        import torch as tl
        from torch import optim
    params = [tl.from_numpy(a).requires_grad_() for a in arrays]
    for p, g in zip(params, grads, strict=True):
        p.grad = tl.from_numpy(g)
    kw = {"fused": True} if (lib == "torch" and fused) else {}
    opt = optim.Adam(params, lr=1e-3, **kw)
    for _ in range(3):
        opt.step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t)
    n = sum(a.size for a in arrays)
    return {"ms": 1e3 * min(times), "median_ms": 1e3 * statistics.median(times),
            "params": n, "tensors": len(arrays), "peak_rss_mib": _peak_rss_mib(),
            # p, g, m, v read; p, m, v written: 7 floats per parameter
            "gb_per_s": 7 * 4 * n / min(times) / 1e9}


def child_linear(lib: str, repeats: int) -> dict[str, Any]:
    if lib == "ember":
        import ember as tl
        from ember import nn
    else:
        import torch as tl
        from torch import nn
    tl.manual_seed(0)
    layer = nn.Linear(16, 16)
    x = tl.randn(1, 16)

    def step() -> None:
        layer(x).sum().backward()

    for _ in range(200):
        step()
    best = float("inf")
    for _ in range(repeats):
        n = 2000
        t = time.perf_counter()
        for _ in range(n):
            step()
        best = min(best, (time.perf_counter() - t) / n)
    return {"us": best * 1e6, "peak_rss_mib": _peak_rss_mib()}


def child_main(args: argparse.Namespace) -> None:
    args.threads = args.threads[0]
    if args.lib == "ember":
        import ember

        ember.set_num_threads(args.threads)
    else:
        import torch

        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    if args.child in ("mlp", "mlp-tensors", "cnn"):
        res = child_mlp(args.lib, args.steps, args.warmup, args.child == "mlp",
                        cnn=args.child == "cnn")
    elif args.child == "adam":
        res = child_adam(args.lib, args.repeats, args.fused)
    else:
        res = child_linear(args.lib, args.repeats)
    print("RESULT " + json.dumps(res))


# ---- parent ---------------------------------------------------------------------------------
def run_child(workload: str, lib: str, threads: int, extra: list[str]) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--child", workload, "--lib", lib,
           "--threads", str(threads), *extra]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), EMBER_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  {workload}/{lib} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, nargs="*")
    ap.add_argument("--name", default=None)
    ap.add_argument("--out", default=str(RESULTS), help="directory for <name>.json and .md")
    ap.add_argument("--only", nargs="*", choices=WORKLOADS)
    ap.add_argument("--child", choices=WORKLOADS, help=argparse.SUPPRESS)
    ap.add_argument("--lib", default="ember", help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=300, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=20, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=20, help=argparse.SUPPRESS)
    ap.add_argument("--fused", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main(args)
        return

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
    threads = args.threads or [min(2, usable)]
    libs = ["ember"] + (["torch"] if have_torch() else [])
    steps = ["--steps", "40", "--warmup", "5"] if args.quick else ["--steps", "300"]
    cnn_steps = ["--steps", "5", "--warmup", "2"] if args.quick else ["--steps", "60",
                                                                      "--warmup", "5"]
    reps = ["--repeats", "5"] if args.quick else ["--repeats", "20"]
    work = args.only or WORKLOADS
    rows: list[dict[str, Any]] = []
    for t in threads:
        for w in work:
            variants = [(lib, []) for lib in libs]
            if w == "adam" and "torch" in libs:
                variants.append(("torch", ["--fused"]))
            for lib, extra in variants:
                n = cnn_steps if w == "cnn" else steps if w.startswith("mlp") else reps
                res = run_child(w, lib, t, n + extra)
                label = lib + (" fused" if extra else "")
                print(f"t{t} {w:7s} {label:12s} {res}")
                if res is not None:
                    rows.append({"workload": w, "library": label, "threads": t, **res})
    write(rows, args.name or ("train-quick" if args.quick else "train"), Path(args.out))


def _metric(r: dict[str, Any]) -> tuple[str, float, bool]:
    """(text, value, higher_is_better) for a result row."""
    if r["workload"].startswith("mlp") or r["workload"] == "cnn":
        return f"{r['samples_per_s']:,.0f} samples/s", r["samples_per_s"], True
    if r["workload"] == "adam":
        return f"{r['ms']:.2f} ms ({r['gb_per_s']:.0f} GB/s)", r["ms"], False
    return f"{r['us']:.1f} µs", r["us"], False


def write(rows: list[dict[str, Any]], name: str, out_dir: Path = RESULTS) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "load_average": os.getloadavg()}
    lines = [f"# Training benchmarks ({name})", "", f"{meta['date']}, load {meta['load_average']}",
             "", "| workload | threads | library | result | peak RSS | ember speed-up |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        text, val, higher = _metric(r)
        ember_row = next((e for e in rows if e["workload"] == r["workload"]
                          and e["threads"] == r["threads"] and e["library"] == "ember"), None)
        ratio = ""
        if ember_row is not None and r["library"] != "ember":
            ev = _metric(ember_row)[1]
            ratio = f"{(ev / val) if higher else (val / ev):.2f}x vs {r['library']}"
        lines.append(f"| {r['workload']} | {r['threads']} | {r['library']} | {text} | "
                     f"{r['peak_rss_mib']:.0f} MiB | {ratio} |")
    out = out_dir / f"{name}.md"
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    js = out_dir / f"{name}.json"
    tmp = js.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    os.replace(tmp, js)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
