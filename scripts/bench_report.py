#!/usr/bin/env python3
"""Summarize criterion results: medians, log-log slopes against the swept size, ratios to a baseline.

Usage: python3 scripts/bench_report.py [GROUP_PREFIX ...] [--baseline NAME]

Reads target/criterion/<group>/<function>/<size>/new/estimates.json (written by `cargo bench`).
For every group it prints one markdown table: a row per function, a column per size with the
median time, the fitted log-log slope of time against size, and the median ratio to the baseline
function of the same group and size (default: the first of spmv, gemm, exact, qr, normal present).
"""
import json
import math
import sys
from pathlib import Path

BASELINES = ["spmv", "gemm", "exact", "qr", "normal"]


def load(root):
    data = {}
    for est in root.glob("*/*/*/new/estimates.json"):
        size_dir = est.parent.parent
        func_dir = size_dir.parent
        group = func_dir.parent.name
        try:
            size = float(size_dir.name)
        except ValueError:
            continue
        median = json.loads(est.read_text())["median"]["point_estimate"]
        data.setdefault(group, {}).setdefault(func_dir.name, {})[size] = median
    return data


def slope(points):
    pts = [(math.log(s), math.log(t)) for s, t in sorted(points.items()) if t > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    args = sys.argv[1:]
    baseline = None
    if "--baseline" in args:
        i = args.index("--baseline")
        baseline = args[i + 1]
        del args[i : i + 2]
    data = load(Path("target/criterion"))
    for group in sorted(data):
        if args and not any(group.startswith(p) for p in args):
            continue
        funcs = data[group]
        sizes = sorted({s for f in funcs.values() for s in f})
        base = baseline or next((b for b in BASELINES if b in funcs), None)
        print(f"\n### {group}" + (f" (ratio to `{base}`)" if base else ""))
        head = ["function"] + [f"{s:.3g}" for s in sizes] + ["slope"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for name in sorted(funcs):
            pts = funcs[name]
            cells = [name]
            for s in sizes:
                if s not in pts:
                    cells.append("")
                    continue
                cell = fmt_time(pts[s])
                if base and name != base and s in funcs[base]:
                    cell += f" ({pts[s] / funcs[base][s]:.2f}×)"
                cells.append(cell)
            sl = slope(pts)
            cells.append(f"{sl:.2f}" if sl is not None else "")
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
