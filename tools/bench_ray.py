"""Batch OCR throughput: `localocr batch` on a local Ray cluster with 1 and 2 actors against the plain
CLI (`localocr IMAGE... --out DIR`, one process, models loaded once), over the same images.

    python -m tools.bench_ray [--n 200] [--batch-size 8] [--actors 1 2] [--json out.json]
    (or: make bench-ray)

Images: `--n` of ../shared/data, taken in turn from SROIE receipts, FUNSD forms, IC15 scenes and
licence plates (sorted names, so every run reads the same ones). Each engine runs as its own
command, as a user runs it, into a fresh output folder; `wall` is the whole command (Python start,
Ray's cluster start, actors' model loading); `after start` is the batch's own clock (from the first
dataset execution to the last row written: actors' start-up included, the cluster's not). Where
the time goes comes from the rows' own timings (`localocr.batch.TIMING_KEYS`), summed over images,
as a share of the actors' busy time (actors x seconds after start).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SETS = ["sroie_train", "funsd_train", "ic15_train", "openalpr_plates"]
STAGES = {
    "decode": ("read", "decode"),
    "detect": ("detect_pre", "detect_run", "detect_post"),
    "recognize": ("recognize_pre", "recognize_run", "recognize_post"),
    "layout": ("layout",),
}


def pick_images(n: int) -> list[Path]:
    lists = [sorted((DATA / s / "images").iterdir()) for s in SETS if (DATA / s / "images").is_dir()]
    if not lists:
        sys.exit(f"bench_ray: no images under {DATA}")
    out, i = [], 0
    while len(out) < n and any(i < len(x) for x in lists):
        out += [x[i] for x in lists if i < len(x)]
        i += 1
    return out[:n]


def run(cmd, env) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode:
        sys.exit(f"bench_ray: {' '.join(cmd[:4])}... failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return wall, p.stderr


def stage_shares(out_dir: Path, busy_s: float) -> dict:
    sums = dict.fromkeys(STAGES, 0.0)
    rows = [json.loads(line) for f in out_dir.glob("*.jsonl") for line in open(f, encoding="utf-8")]
    for r in rows:
        for name, keys in STAGES.items():
            sums[name] += sum(r["timings"][k] for k in keys)
    shares = {k: v / busy_s for k, v in sums.items()}
    shares["other"] = max(0.0, 1 - sum(shares.values()))
    return shares


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-cli", action="store_true", help="only the Ray runs")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    images = pick_images(args.n)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "py") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    src = work / "images"
    src.mkdir()
    for i, p in enumerate(images):  # one folder, unique names
        shutil.copy(p, src / f"{i:04d}-{p.name}")
    py = sys.executable
    load0 = os.getloadavg()[0]
    results = []
    try:
        if not args.no_cli:
            wall, _ = run(
                [py, "-m", "localocr.cli", *sorted(map(str, src.iterdir())), "--out", str(work / "cli"), "-f", "json"],
                env,
            )
            results.append(
                {
                    "engine": f"plain CLI (onnxruntime, {min(4, os.cpu_count() or 1)} threads)",
                    "wall_s": wall,
                    "after_start_s": None,
                }
            )
            print(f"bench_ray: {results[-1]}", file=sys.stderr, flush=True)
        for k in args.actors:
            out = work / f"ray{k}"
            wall, err = run(
                [
                    py,
                    "-m",
                    "localocr.cli",
                    "batch",
                    str(src),
                    "--out",
                    str(out),
                    "--ray",
                    "local",
                    "--actors",
                    str(k),
                    "--batch-size",
                    str(args.batch_size),
                    "--progress-every",
                    "0",
                ],
                env,
            )
            m = re.search(r"done: (\d+)/\d+ inputs, (\d+) rows \((\d+) errors\) in ([\d.]+) s", err)
            after = float(m.group(4))
            results.append(
                {
                    "engine": f"localocr batch, {k} actor{'s' if k > 1 else ''} x 1 thread",
                    "wall_s": wall,
                    "after_start_s": after,
                    "errors": int(m.group(3)),
                    "shares": stage_shares(out, k * after),
                }
            )
            print(f"bench_ray: {results[-1]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load1 = os.getloadavg()[0]
    n = len(images)
    print(
        f"| engine ({n} images) | wall | images/s (wall) | after cluster start | images/s (after start) "
        "| decode | detect | recognize | layout | other |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        sh = r.get("shares")
        cells = [f"{100 * sh[k]:.0f}%" for k in (*STAGES, "other")] if sh else [""] * 5
        after = r["after_start_s"]
        print(
            f"| {r['engine']} | {r['wall_s']:.1f} s | {n / r['wall_s']:.2f} | "
            f"{'' if after is None else f'{after:.1f} s'} | {'' if after is None else f'{n / after:.2f}'} | "
            + " | ".join(cells)
            + " |"
        )
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; load average {load0:.2f} at the start, {load1:.2f} at the end; "
        f"batch size {args.batch_size}"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"images": n, "load": [load0, load1], "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
