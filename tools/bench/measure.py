"""The side-by-side benchmark (tools/bench/): accuracy and CPython speed."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from localocr.evaluate import evaluate_set

from tools.bench.common import CACHE
from tools.bench.data import load_avg
from tools.bench.site import image_key
from tools.bench.tesseract import TesseractCLI, peak_rss_kib

# SROIE transcribes every line in capitals while its receipts print mixed case: compare it
# case-insensitively (as localocr-eval --casefold and the recognizer issue do), for every engine.
CASEFOLD_SETS = ("sroie_train",)


def accuracy(sets: list[Path], engines: dict, limit: int | None, log) -> list[dict]:
    """localocr.evaluate.evaluate_set for every (set, engine), engines interleaved per set."""
    rows = []
    for folder in sets:
        for name, engine in engines.items():
            t0 = time.perf_counter()
            r = evaluate_set(engine, str(folder), "val", limit, casefold=folder.name in CASEFOLD_SETS)
            r["engine"] = name
            r["wall_s"] = time.perf_counter() - t0
            if hasattr(engine, "take_stats"):  # rapidocr: how many lines had their words split
                r["peer_stats"] = engine.take_stats()
            rows.append(r)
            log(
                f"  {r['set']:16s} {name:22s} n={r['images']:4d} "
                + (
                    f"acc={r['accuracy']:.3f} "
                    if r["kind"] == "crop"
                    else f"e2e={r['e2e_f1']:.3f} bow={r['bow_f1']:.3f} "
                )
                + f"cer={r['cer']:.3f} {r['sec_median']:.3f} s/img  (load {load_avg()[0]})"
            )
    return rows


def cpython_speed(images: list[Path], engines: dict, rounds: int) -> dict:
    """Seconds per image on CPython, engines interleaved per image (A B A B), median over rounds."""
    times = {name: {image_key(i): [] for i in images} for name in engines}
    for _ in range(rounds):
        for image in images:
            for name, engine in engines.items():
                t0 = time.perf_counter()
                engine.read(str(image))
                times[name][image_key(image)].append(time.perf_counter() - t0)
    out = {}
    for name, per in times.items():
        med = {k: statistics.median(v) for k, v in per.items()}
        vals = list(med.values())
        out[name] = {
            "per_image_s": med,
            "median_s": statistics.median(vals),
            "p90_s": float(np.percentile(vals, 90)),
            "mean_s": statistics.fmean(vals),
        }
    return out


RSS_CHILD = """
import sys
from localocr import OCR
from localocr.backends.onnxruntime import OnnxRuntimeBackend
ocr = OCR(backend=OnnxRuntimeBackend(threads=1))
for path in sys.argv[1:]:
    ocr.read(path)
"""


def localocr_peak_rss(images: list[Path]) -> int:
    """Peak RSS (KiB) of a fresh Python process that loads localocr and reads the images."""
    return peak_rss_kib([sys.executable, "-c", RSS_CHILD, *map(str, images)])


def tesseract_startup_s(tess: TesseractCLI, rounds: int = 5) -> float:
    """The CLI's cost with nothing to read (a blank 64x32 image): start-up + loading its data."""
    from PIL import Image

    blank = CACHE / "blank.png"
    blank.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (64, 32), 255).save(blank)  # 64x32: a tiny image with no text
    secs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        tess.run_tsv(str(blank), 3)
        secs.append(time.perf_counter() - t0)
    return statistics.median(secs)
