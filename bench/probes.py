"""Measures this machine's limits with ember's C++ probes (csrc/cpu/probe.cpp): peak float32
FMA throughput and STREAM-style copy / triad / read bandwidth, for each thread count. The
benchmarks report each op's rate as a fraction of these.

    python bench/probes.py [--quick] [--mib 256]     prints a table, writes results/probes.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import ember
from common import thread_counts, write_atomic
from ember import _C

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("copy", "triad", "read")


def run_probes(threads: list[int], mib: int, seconds: float, repeats: int) -> dict[str, Any]:
    """{'capability', 'array_mib', 'fma': {threads: GFLOP/s}, '<kind>': {threads: GB/s}}.
    Each figure is the best of `repeats` runs (STREAM's convention: the machine can do at least
    this; on a shared machine a single run often lands in a slow spell); the array per operand
    is `mib` MiB, meant to be larger than the last-level cache."""
    out: dict[str, Any] = {"capability": _C.cpu_capability(), "array_mib": mib}
    out["fma"] = {t: max(_C.probe_fma_gflops(t, seconds / repeats)["gflops"]
                         for _ in range(repeats)) for t in threads}
    for kind in KINDS:
        out[kind] = {t: _C.probe_bandwidth(kind, mib << 20, t, repeats)["best_gbps"]
                     for t in threads}
    return out


def peak(probes: dict[str, Any], kind: str, threads: int) -> float | None:
    """The probe value for `kind` (fma/copy/triad/read) at `threads`, None if not measured.
    JSON turns the thread keys into strings, so both spellings are looked up."""
    table = probes.get(kind) or {}
    value = table.get(threads, table.get(str(threads)))
    return float(value) if value is not None else None


def markdown(probes: dict[str, Any]) -> str:
    lines = [
        f"Probes with the `{probes['capability']}` kernels, {probes['array_mib']} MiB per array "
        "(best pass; bytes counted as STREAM does: each array once).",
        "",
        "| threads | FMA GFLOP/s | copy GB/s | triad GB/s | read GB/s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for t in probes["fma"]:
        vals = [peak(probes, k, int(t)) for k in ("fma", *KINDS)]
        lines.append(f"| {t} | " + " | ".join(f"{v:.1f}" for v in vals if v is not None) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 MiB arrays, short FMA runs")
    ap.add_argument("--mib", type=int, default=None, help="MiB per array (default 256)")
    ap.add_argument("--threads", type=int, nargs="*", default=None)
    args = ap.parse_args()
    mib = args.mib or (64 if args.quick else 256)
    probes = run_probes(args.threads or thread_counts(), mib, 0.1 if args.quick else 0.5,
                        3 if args.quick else 8)
    print(ember.show_config())
    print(markdown(probes))
    write_atomic(RESULTS / "probes.json", json.dumps(probes, indent=2) + "\n")
    print(f"wrote {RESULTS / 'probes.json'}")


if __name__ == "__main__":
    main()
