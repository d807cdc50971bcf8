"""Runs the benchmark suites: ember, NumPy and PyTorch side by side in one run.

    python bench/run.py                    full run (a few minutes)
    python bench/run.py --quick            CI-sized (under a minute)
    python bench/run.py --suite elementwise --op add exp

Prints a table as it goes and writes results/<name>.json and results/<name>.md (name: "full"
or "quick" unless --name): machine information, the machine-limit probes, and per case each
library's median time, ember's speedup over each (their time / ember's: above 1, ember is
faster), GB/s, and ember's fraction of the measured peak bandwidth at the same thread count.
Absolute times on a shared machine are noise; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import ember
import numpy as np
from common import LIBRARIES, Case, set_threads, to_numpy, torch, write_atomic
from ember.utils.benchmark import compare, format_time
from probes import markdown as probes_markdown
from probes import peak, run_probes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "ember": ember.config(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "torch_default_threads": torch.get_num_threads() if torch is not None else None,
    }


def check_results(case: Case) -> None:
    """Runs each callable once and notes any result that disagrees with NumPy's, so a wrong
    (or differently defined) op is never reported as merely fast."""
    ref = "numpy" if "numpy" in case.fns else "torch"
    ref_name = {"numpy": "NumPy", "torch": "PyTorch"}[ref]
    if not case.check or ref not in case.fns or len(case.fns) < 2:
        return
    want = to_numpy(case.fns[ref]()).astype(np.float64)
    for lib, fn in case.fns.items():
        if lib == ref:
            continue
        got = to_numpy(fn()).astype(np.float64)
        if got.shape != want.shape or not np.allclose(got, want, rtol=case.rtol, atol=case.rtol):
            err = np.max(np.abs(got - want)) if got.shape == want.shape else "shape"
            case.notes[lib] = f"result differs from {ref_name} (max abs error {err})"


def run_case(case: Case, probes: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    before = ember.get_num_threads()
    set_threads(case.threads)
    try:
        check_results(case)
        times = compare(case.fns, warmup=args.warmup, repeats=args.repeats,
                        min_time=args.min_time, max_time=args.max_time, bytes=case.bytes,
                        flops=case.flops, interleave=case.interleave,
                        switch_time=0.0 if case.interleave else 0.3,
                        rounds=1 if case.interleave else 3)
    finally:
        set_threads(before)
    row: dict[str, Any] = {
        "key": case.key, "suite": case.suite, "op": case.op, "size": case.size,
        "layout": case.layout, "threads": case.threads, "bytes": case.bytes,
        "flops": case.flops, "impl": case.impl, "notes": case.notes,
        "times": {lib: m.to_dict() for lib, m in times.items()},
        "speedup": {}, "peak_kind": case.peak, "peak": None, "fraction_of_peak": None,
        "statistic": case.statistic,
    }
    # The time each library is judged by (median, or the best sample for cases measured one
    # library at a time, where a slow spell would otherwise hit only one of them).
    judged = {lib: (m.min if case.statistic == "min" else m.median) for lib, m in times.items()}
    amount = case.flops if case.peak == "fma" else case.bytes
    for lib, t in judged.items():
        row["times"][lib]["judged_s"] = t
        row["times"][lib]["rate"] = amount / t / 1e9 if amount else None  # GFLOP/s or GB/s
    if "ember" in times:
        t_ember = judged["ember"]
        row["speedup"] = {lib: t / t_ember for lib, t in judged.items() if lib != "ember"}
        row["peak"] = peak(probes, case.peak, case.threads)
        if row["peak"] is not None:
            row["peak"] *= case.peak_scale
        rate = row["times"]["ember"]["rate"]
        if row["peak"] and rate is not None:
            row["fraction_of_peak"] = rate / row["peak"]
    return row


def human_size(n: int) -> str:
    for unit, scale in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


def libraries() -> list[str]:
    return [lib for lib in LIBRARIES if lib != "torch" or torch is not None]


def rate_unit(row: dict[str, Any]) -> str:
    """Compute-bound suites (compared with the FMA probe) report GFLOP/s, the others GB/s."""
    return "GFLOP/s" if row["peak_kind"] == "fma" else "GB/s"


def table_header(unit: str = "GB/s") -> list[str]:
    libs = libraries()
    return (["op", "size", "layout", "thr"] + [f"{lib} time" for lib in libs]
            + [f"{lib} {unit}" for lib in libs] + ["ember % peak"]
            + [f"x {lib}" for lib in libs if lib != "ember"])


def table_row(row: dict[str, Any]) -> list[str]:
    times = row["times"]

    def cell(lib: str, fmt: Any) -> str:
        return fmt(times[lib]) if lib in times else "-"

    def gbps(m: dict[str, Any]) -> str:
        return f"{m['rate']:.1f}" if m.get("rate") is not None else "-"

    frac = row["fraction_of_peak"]
    return ([row["op"], human_size(row["size"]), row["layout"], str(row["threads"])]
            + [cell(lib, lambda m: format_time(m.get("judged_s", m["median_s"])))
               for lib in libraries()]
            + [cell(lib, gbps) for lib in libraries()]
            + [f"{100 * frac:.0f}%" if frac is not None else "-"]
            + [f"{row['speedup'][lib]:.2f}" if lib in row["speedup"] else "-"
               for lib in libraries() if lib != "ember"])


def markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    head = table_header(rate_unit(rows[0]))
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    return out + ["| " + " | ".join(table_row(r)) + " |" for r in rows]


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# ember benchmarks", "",
        f"`{report['command']}` on {report['date']}.", "",
        f"- CPU: {m['cpu_model']}, {m['usable_cpus']} usable of {m['logical_cpus']} logical "
        f"CPUs, load average {m['load_average']}",
        f"- ember {m['ember']['version']} ({m['ember']['build_type']}, kernels "
        f"`{m['ember']['cpu_capability']}`), NumPy {m['numpy']}, PyTorch {m['torch']}, "
        f"Python {m['python']}",
        "", "## Machine limits", "", probes_markdown(report["probes"]), "",
        "Times are medians (GEMM: best of the samples, each library measured on its own after "
        "a warm-up, see bench_gemm.py); `x numpy` / `x torch` are that library's time over "
        "ember's "
        "(above 1: ember is faster). `ember % peak` is ember's GB/s over the probe bandwidth "
        "at the same thread count (triad for binary ops, copy for unary, read for "
        "reductions; above 100% the data fits in cache), or for GEMM its GFLOP/s over the "
        "float32 FMA probe's (half of it for float64; bfloat16 on AMX tiles is not bound by "
        "it and exceeds 100%). NumPy's ufuncs use one thread at every thread count; its "
        "matmul (OpenBLAS) is held to the case's thread count through threadpoolctl.",
    ]
    for suite in dict.fromkeys(r["suite"] for r in report["results"]):
        rows = [r for r in report["results"] if r["suite"] == suite]
        lines += ["", f"## {suite}", ""] + markdown_table(rows)
    notes = sorted({f"{r['op']} ({lib}): {n}" for r in report["results"]
                    for lib, n in r["notes"].items()})
    impls = sorted({f"{r['op']} ({lib}): `{i}`" for r in report["results"]
                    for lib, i in r["impl"].items()})
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    lines += ["", "## How each library was called", ""] + [f"- {i}" for i in impls]
    return "\n".join(lines) + "\n"


def print_row(cells: list[str], widths: list[int]) -> None:
    print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=False)), flush=True)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="ember / NumPy / PyTorch benchmarks")
    ap.add_argument("--quick", action="store_true", help="CI-sized run, under a minute")
    ap.add_argument("--suite", nargs="*", default=None,
                    help="suite names (bench_<name>.py); default: all")
    ap.add_argument("--op", nargs="*", default=None, help="only these ops")
    ap.add_argument("--name", default=None, help="results/<name>.json|md (default full/quick)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--min-time", type=float, default=None,
                    help="seconds of timed calls per library per case")
    ap.add_argument("--max-time", type=float, default=1.0,
                    help="cap on timed seconds per library per case (slow calls: fewer samples)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    ap.add_argument("--probe-mib", type=int, default=None, help="MiB per probe array")
    args = ap.parse_args()
    args.repeats = args.repeats or (5 if args.quick else 11)
    args.min_time = args.min_time if args.min_time is not None else (0.05 if args.quick else 0.3)
    args.probe_mib = args.probe_mib or (64 if args.quick else 256)
    args.name = args.name or ("quick" if args.quick else "full")
    return args


def main() -> None:
    args = parse_args()
    suites = args.suite or sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    threads = [1, 2] if (os.cpu_count() or 1) >= 2 else [1]  # the suites' thread counts
    print("probing machine limits ...", flush=True)
    probes = run_probes(threads, args.probe_mib, 0.1 if args.quick else 0.5,
                        3 if args.quick else 8)
    print(probes_markdown(probes), flush=True)
    widths = [max(len(h), 10) for h in table_header()]
    results = []
    for suite in suites:
        module = importlib.import_module(f"bench_{suite}")
        unit = None
        for build in module.cases(args.quick):
            case = build()
            if args.op and case.op not in args.op:
                continue
            row = run_case(case, probes, args)
            if rate_unit(row) != unit:
                unit = rate_unit(row)
                print_row(table_header(unit), widths)
            del case, build  # frees the inputs before the next case allocates its own
            print_row(table_row(row), widths)
            results.append(row)
    report = {
        "command": " ".join(["python bench/run.py", *sys.argv[1:]]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_info(), "probes": probes,
        "settings": {k: getattr(args, k) for k in ("quick", "repeats", "min_time", "warmup")},
        "results": results,
    }
    write_atomic(args.out / f"{args.name}.json", json.dumps(report, indent=1) + "\n")
    write_atomic(args.out / f"{args.name}.md", markdown(report))
    print(f"wrote {args.out / args.name}.json and .md")


if __name__ == "__main__":
    main()
