"""Plots GB/s (GFLOP/s for GEMM) against size, one line per library, from bench/run.py's results.

    python bench/plot.py [results/full.json]     writes results/<name>-<suite>.png

One panel per (op, layout), ember at each thread count run (NumPy and PyTorch at the highest),
and the probes' peak bandwidth as a dashed line. Needs matplotlib (`pip install ember[bench]`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
STYLE = {"ember": "C0", "numpy": "C1", "torch": "C2"}


def rate(row: dict[str, Any], lib: str) -> float | None:
    """The library's GB/s or GFLOP/s as the runner judged it (older results: median GB/s)."""
    m = row["times"][lib]
    return m.get("rate", m.get("gbps"))


def series(rows: list[dict[str, Any]], lib: str, threads: int) -> tuple[list[int], list[float]]:
    points = sorted((r["size"], rate(r, lib)) for r in rows
                    if r["threads"] == threads and lib in r["times"] and rate(r, lib) is not None)
    return [p[0] for p in points], [p[1] for p in points]


def plot_suite(report: dict[str, Any], suite: str, out: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["results"] if r["suite"] == suite and (r["bytes"] or r["flops"])]
    # A panel needs a line: (op, layout) pairs measured at one size only (layer shapes) are left
    # to the tables.
    panels = [p for p in dict.fromkeys((r["op"], r["layout"]) for r in rows)
              if len({r["size"] for r in rows if (r["op"], r["layout"]) == p}) > 1]
    if not panels:
        return False
    threads = sorted({r["threads"] for r in rows})
    flops = rows[0]["peak_kind"] == "fma"
    if flops:  # GEMM: every library runs at each thread count, so one panel per count
        panels = [(op, layout, t) for op, layout in panels for t in threads]
    cols = 4 if not flops else 2 * len(threads)
    nrows = -(-len(panels) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3.2 * nrows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        op, layout = panel[0], panel[1]
        sub = [r for r in rows if r["op"] == op and r["layout"] == layout]
        shown = [panel[2]] if flops else threads
        for t in shown:
            x, y = series(sub, "ember", t)
            if x:
                ax.plot(x, y, "o-", color=STYLE["ember"], alpha=0.5 + 0.5 * (t == shown[-1]),
                        label=f"ember {t}t")
        for lib in ("numpy", "torch"):
            x, y = series(sub, lib, shown[-1])
            if x:
                t = 1 if lib == "numpy" and not flops else shown[-1]
                ax.plot(x, y, "s--" if lib == "numpy" else "^-", color=STYLE[lib],
                        label=f"{lib} {t}t")
        kind = sub[0]["peak_kind"]
        peak = report["probes"].get(kind, {}).get(str(shown[-1]))
        scaled = [r["peak"] for r in sub if r.get("peak") and r["threads"] == shown[-1]]
        if flops and scaled:
            peak = scaled[0]  # the probe as the runner scaled it (float64: half)
        if peak:
            ax.axhline(peak, color="gray", ls=":", label=f"{kind} peak")
        ax.set(xscale="log", yscale="linear" if flops else "log",
               title=f"{op}, {layout}" + (f", {shown[-1]} thread(s)" if flops else ""),
               xlabel="n (n x n @ n x n)" if flops else "elements",
               ylabel="GFLOP/s" if flops else "GB/s")
        if flops:  # the square sizes themselves as ticks
            sizes = sorted({r["size"] for r in sub})
            ax.set_xticks(sizes, [str(v) for v in sizes], fontsize=7)
            ax.minorticks_off()
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"{suite}: {report['machine']['cpu_model']}")
    fig.tight_layout()
    tmp = out.with_name(out.name + ".tmp")  # replaced atomically, like the other results
    fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    os.replace(tmp, out)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="?", default=str(RESULTS / "full.json"))
    args = ap.parse_args()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("plot.py needs matplotlib: pip install 'ember[bench]' (or matplotlib)")
    path = Path(args.results)
    report = json.loads(path.read_text())
    for suite in dict.fromkeys(r["suite"] for r in report["results"]):
        out = path.with_name(f"{path.stem}-{suite}.png")
        if plot_suite(report, suite, out):
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
