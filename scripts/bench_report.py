#!/usr/bin/env python3
"""Summarize criterion results: medians, log-log slopes against the swept parameter, ratios to a baseline.

Usage: python3 scripts/bench_report.py [GROUP_PREFIX ...] [--baseline NAME] [--invert] [--root DIR]

Reads every target/criterion/**/new/benchmark.json (written by `cargo bench`) and the
estimates.json beside it; the group, function and parameter come from benchmark.json
(`group_id`, `function_id`, `value_str`), so all of criterion's layouts are read:
`<group>/<function>/<parameter>/` (BenchmarkId::new), `<group>/<parameter>/`
(BenchmarkId::from_parameter, shown as function `-`) and `<group>/<function>/` (bench_function,
shown in a single `median` column).

A group is printed if its id (e.g. `lstsq/nnz`) or its directory name (`lstsq_nnz`) starts with
one of the prefixes (all groups if none is given). Prefixes are group names, not bench names:
`benches/sketch.rs` writes `sparse_csr`, `sparse_csc`, `count_small`, `dense` and `families_csr`; `benches/lstsq.rs` writes
`lstsq/illmix`, `lstsq/nnz`, `lstsq/dense_<n>x<d>` (prefix `lstsq`); `benches/tensor_sketch.rs`
writes `ts_nnz`, `ts_m`, `explicit_vs_ts`, `tree_vs_fft`.

For every group it prints one markdown table: a row per function, a column per parameter with
the median time, the least-squares slope of log median time against log parameter, and in
brackets the ratio of medians function/baseline (with --invert baseline/function) against the
baseline function of the same group and parameter (default: the first of spmv, gemm, exact,
householder_qr, normal_equations present; a group without the baseline gets no ratios). Under
each heading it prints how many estimates were used and the range of their modification times:
criterion keeps the latest result per benchmark, so a table may mix runs from different
sessions.
"""
import argparse
import json
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

BASELINES = ["spmv", "gemm", "exact", "householder_qr", "normal_equations"]
UNNAMED = "-"  # row name for BenchmarkId::from_parameter (criterion's function_id is null)
NO_PARAM = "median"  # column name for bench_function (criterion's value_str is null)


def load(root):
    """{group_id: {"dir": str, "funcs": {func: {param: median_ns}}, "mtimes": [float]}}"""
    data = {}
    for bj in sorted(root.rglob("new/benchmark.json")):
        est = bj.parent / "estimates.json"
        if not est.is_file():
            continue
        try:
            meta = json.loads(bj.read_text())
            median = json.loads(est.read_text())["median"]["point_estimate"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"warning: skipping {bj.parent}: {e}", file=sys.stderr)
            continue
        group = meta.get("group_id")
        if group is None:
            continue
        func = meta.get("function_id") or UNNAMED
        param = meta.get("value_str") or NO_PARAM
        directory = (meta.get("directory_name") or group).split("/")[0]
        g = data.setdefault(group, {"dir": directory, "funcs": {}, "mtimes": []})
        g["funcs"].setdefault(func, {})[param] = median
        g["mtimes"].append(est.stat().st_mtime)
    return data


def number(param):
    try:
        x = float(param)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def slope(points):
    """Least-squares slope of log(median) against log(parameter); None without two usable points."""
    pts = []
    for p, t in points.items():
        s = number(p)
        if s is not None and s > 0 and t > 0:
            pts.append((math.log(s), math.log(t)))
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def param_key(p):
    s = number(p)
    return (0, s, p) if s is not None else (1, 0.0, p)


def param_labels(params):
    short = [f"{number(p):.3g}" if number(p) is not None else p for p in params]
    return short if len(set(short)) == len(short) else list(params)


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_mtimes(mtimes):
    lo, hi = (datetime.fromtimestamp(t, timezone.utc) for t in (min(mtimes), max(mtimes)))
    span = hi - lo
    end = hi.strftime("%H:%M:%S" if lo.date() == hi.date() else "%Y-%m-%d %H:%M:%S")
    secs = span.total_seconds()
    for unit, scale in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if secs >= scale or unit == "s":
            break
    return (
        f"{len(mtimes)} estimate(s) written {lo:%Y-%m-%d %H:%M:%S} – {end} UTC"
        f" (span {secs / scale:.3g} {unit})"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prefixes", nargs="*", metavar="GROUP_PREFIX",
                    help="print groups whose id or directory name starts with one of these")
    ap.add_argument("--baseline", metavar="NAME", help="function to divide by (default: first of "
                    + ", ".join(BASELINES) + " present in the group)")
    ap.add_argument("--invert", action="store_true",
                    help="print baseline/function instead of function/baseline")
    ap.add_argument("--root", default="target/criterion", type=Path,
                    help="criterion output directory (default: target/criterion)")
    args = ap.parse_args()

    data = load(args.root)
    if not data:
        print(f"no criterion results (new/benchmark.json) under {args.root}", file=sys.stderr)
        return 1
    matched = set()
    for group in sorted(data):
        names = (group, data[group]["dir"])
        hits = [p for p in args.prefixes if any(n.startswith(p) for n in names)]
        if args.prefixes and not hits:
            continue
        matched.update(hits)
        funcs = data[group]["funcs"]
        params = sorted({p for f in funcs.values() for p in f}, key=param_key)
        base = args.baseline or next((b for b in BASELINES if b in funcs), None)
        ratio = "baseline/f" if args.invert else "f/baseline"
        title = f"\n### {group}"
        if base in funcs:
            title += f" (in brackets: ratio of medians {ratio}, baseline `{base}`)"
        print(title)
        print(fmt_mtimes(data[group]["mtimes"]))
        if base and base not in funcs:
            print(f"no function `{base}` in this group: ratios skipped")
            base = None
        print()
        head = ["function"] + param_labels(params) + ["slope"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for name in sorted(funcs):
            pts = funcs[name]
            cells = [name]
            for p in params:
                if p not in pts:
                    cells.append("")
                    continue
                cell = fmt_time(pts[p])
                b = funcs[base].get(p) if base else None
                if b and name != base and pts[p] > 0:
                    r = b / pts[p] if args.invert else pts[p] / b
                    cell += f" ({r:.2f}×)"
                cells.append(cell)
            sl = slope(pts)
            cells.append(f"{sl:.2f}" if sl is not None else "")
            print("| " + " | ".join(cells) + " |")
    missing = [p for p in args.prefixes if p not in matched]
    if missing:
        print(f"\nno group starts with {', '.join(missing)}; groups under {args.root}: "
              + ", ".join(sorted(data)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
