"""The side-by-side benchmark (tools/bench/): run."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path

from tools import bench_rapidocr
from tools.bench.browser import WEB_ENGINES, web_bench
from tools.bench.common import BROWSER_READS, COLD_ROUNDS, CPYTHON_ROUNDS, DATA, README, RESULTS, SPEED_IMAGES, WEB
from tools.bench.data import data_sets, load_avg, speed_images
from tools.bench.measure import accuracy, cpython_speed, localocr_peak_rss, tesseract_startup_s
from tools.bench.report import chart_svg, partial_markdown, readme_section, render_markdown, update_readme
from tools.bench.site import build_site, image_key, npm_install, npm_versions, tesseract_js_data
from tools.bench.tesseract import TesseractCLI, debian_version, peak_rss_kib, tesseract_version


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    osname = platform.platform()
    with contextlib.suppress(OSError):
        osname = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text()).group(1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "os": osname, "python": platform.python_version()}


def versions(modules: Path | None, rapidocr: bool = True) -> dict:
    import localocr
    import onnxruntime
    from localocr.contract.onnxfile import read_metadata
    from localocr.pipeline import bundled_model

    models = []
    for kind in ("detector", "recognizer"):
        path = bundled_model(kind)
        meta = read_metadata(path.read_bytes())
        models.append(f"{path.name} {meta.get('localocr.version', '?')}, {path.stat().st_size / 1e6:.1f} MB")
    vendor = (
        json.loads((WEB / "vendor" / "runtime.json").read_text()) if (WEB / "vendor" / "runtime.json").exists() else {}
    )
    src = vendor.get("sources", {})
    return {
        "localocr": localocr.__version__,
        "models": "; ".join(models),
        "onnxruntime": onnxruntime.__version__,
        "onnxruntime_web": src.get("onnxruntime-web", "").split("@")[-1],
        "pyodide": src.get("pyodide", "").split("@")[-1],
        "tesseract": tesseract_version(),
        "tesseract_deb": debian_version("tesseract-ocr"),
        "tesseract_eng_deb": debian_version("tesseract-ocr-eng"),
        "npm": npm_versions(modules) if modules else {},
        "rapidocr": bench_rapidocr.versions() if rapidocr else {},
    }


def write_results(res: dict, target: Path, readme: bool) -> None:
    """results.json (without the read texts, which stay in bench/out/raw.json), results.md, chart.svg;
    and README's section when `readme`."""
    slim = json.loads(json.dumps(res))
    for e in (slim.get("browser") or {}).get("engines", {}).values():
        e.pop("texts", None)
    target.mkdir(parents=True, exist_ok=True)
    (target / "results.json").write_text(json.dumps(slim, indent=1, ensure_ascii=False) + "\n")
    (target / "results.md").write_text("## localocr benchmark\n\n" + render_markdown(res))
    (target / "chart.svg").write_text(chart_svg(res["accuracy"]))
    if readme:
        README.write_text(update_readme(README.read_text(), readme_section(res)))  # read right before writing


ENGINE_CHOICES = ("localocr", "tesseract", "tesseract-js", "rapidocr")  # --only's names


def make_engines(only: set, modules: Path | None) -> dict:
    """Display name -> engine (read / recognize_line) for the chosen ones of ENGINE_CHOICES."""
    engines: dict = {}
    if "localocr" in only:
        from localocr import OCR
        from localocr.backends.onnxruntime import OnnxRuntimeBackend

        engines["localocr"] = OCR(backend=OnnxRuntimeBackend(threads=1))
    if "tesseract" in only:
        engines["tesseract"] = TesseractCLI(name="tesseract")
    if "tesseract-js" in only:
        engines["tesseract (js data)"] = TesseractCLI(tesseract_js_data(modules), name="tesseract (js data)")
    if "rapidocr" in only:
        engines[bench_rapidocr.ENGINE_NAME] = bench_rapidocr.RapidOCRPeer()
    return engines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 5 images per set, 3 speed images, 1 cold round, 6 reads; writes bench/out/quick/",
    )
    ap.add_argument("--limit", type=int, help="at most N validation images per set (default: all)")
    ap.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["accuracy", "cpython", "browser"],
        help="leave parts out (a partial run writes only under bench/out/partial/)",
    )
    ap.add_argument(
        "--only",
        nargs="+",
        choices=ENGINE_CHOICES,
        metavar="ENGINE",
        help=f"accuracy and CPython speed of these engines only ({', '.join(ENGINE_CHOICES)}); no "
        "browser part: a partial run, written under bench/out/partial/",
    )
    ap.add_argument("--no-readme", action="store_true", help="do not update README.md")
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite bench/results.*, the chart and README from bench/out/raw.json",
    )
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    if args.render_only:
        res = json.loads((RESULTS / "out" / "raw.json").read_text())
        write_results(res, RESULTS, readme=not args.no_readme)
        print(render_markdown(res))
        return 0
    only = set(args.only or ENGINE_CHOICES)
    skip = set(args.skip) | ({"browser"} if args.only else set())  # --only: no browser part
    if only & {"tesseract", "tesseract-js"} and shutil.which("tesseract") is None:
        log(
            "bench: no `tesseract` command: install the Debian packages tesseract-ocr tesseract-ocr-eng (make bench does)"
        )
        return 2
    if not data_sets():
        log(f"bench: no data sets under {DATA}")
        return 2
    limit = 5 if args.quick else args.limit
    counts = {k: 1 for k in SPEED_IMAGES} if args.quick else SPEED_IMAGES
    images = speed_images(counts=counts)
    res = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "limit": limit,
        "machine": {**machine(), "load_start": load_avg()},
    }
    loads = res["machine"]["load_phases"] = {}  # 1-minute load average after each part
    modules = site = None
    if "browser" not in skip or "tesseract-js" in only:
        log("bench: set-up of tesseract.js (npm ci, verified by package-lock.json) and the served site")
        modules = npm_install()
    if "browser" not in skip:
        site = build_site(modules, images)
    res["versions"] = versions(modules, rapidocr="rapidocr" in only)
    engines = make_engines(only, modules)
    if "accuracy" not in skip:
        log(f"bench: accuracy on the validation splits ({'at most %d per set' % limit if limit else 'all'})")
        res["accuracy"] = accuracy(data_sets(), engines, limit, log)
        loads["accuracy"] = load_avg()[0]
    if "cpython" not in skip:
        timed = {n: e for n, e in engines.items() if n != "tesseract (js data)"}  # the same CLI
        log(f"bench: CPython speed, {len(images)} images, {', '.join(timed)}, interleaved")
        rounds = 1 if args.quick else CPYTHON_ROUNDS
        cp = {
            "images": [image_key(i) for i in images],
            "rounds": rounds,
            "engines": cpython_speed(images, timed, rounds),
        }
        rss = cp["peak_rss_kib"] = {}
        if "localocr" in timed:
            rss["localocr"] = localocr_peak_rss(images)
        if "tesseract" in timed:
            cp["tesseract_startup_s"] = tesseract_startup_s(timed["tesseract"], 1 if args.quick else 5)
            rss["tesseract"] = max(timed["tesseract"].peak_rss_kib(str(i)) for i in images)
        if bench_rapidocr.ENGINE_NAME in timed:
            # a fresh process (python -m tools.bench_rapidocr IMAGE...), as for localocr
            rss[bench_rapidocr.ENGINE_NAME] = peak_rss_kib(
                [sys.executable, "-m", "tools.bench_rapidocr", *map(str, images)]
            )
        rss["probe_alone"] = peak_rss_kib(["true"])
        res["cpython"] = cp
        loads["cpython"] = load_avg()[0]
    if "browser" not in skip:
        log(f"bench: browser, {len(images)} images, {', '.join(WEB_ENGINES)}, interleaved")
        res["browser"] = web_bench(
            site, images, 1 if args.quick else COLD_ROUNDS, 3 * len(images) if args.quick else BROWSER_READS, log
        )
        loads["browser"] = load_avg()[0]
    res["machine"]["load_end"] = load_avg()
    res["wall_s"] = time.perf_counter() - t_start
    complete = not skip
    out_dir = RESULTS / "out" / ("quick" if args.quick else "" if complete else "partial")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "raw.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    md = render_markdown(res) if complete else partial_markdown(res)
    target = out_dir if args.quick or not complete else RESULTS
    if complete:
        write_results(res, target, readme=not args.quick and not args.no_readme)
    print(md)
    log(f"bench: done in {res['wall_s'] / 60:.1f} min; results in {target}")
    off = (res.get("browser") or {}).get("requests", {}).get("off_origin")
    if off:
        log(f"bench: requests left our origin: {off}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
