"""Choose the re-read threshold of the two recognizer tiers on validation pages (issue 15).

    python -m export.pretrained.calibrate [--accurate web/models/accurate.int8.onnx] [--pages 20]

Each validation page (SROIE, FUNSD, IC15, plates) is read once by the detector and the fast
tier (flip vote included) and every line once more by the accurate tier; then, for each
threshold c, the page keeps the accurate reading of the lines the fast tier read with a
confidence below c, at most k of them (the least confident). Printed per set, threshold and k:
e2e word F1 (the localocr-eval code) and the share of lines read again, i.e. the extra
recognition work. Writes runs/rec48/calibration.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys

from localocr import OCR
from localocr.detection import detect_steps
from localocr.evaluate import _sum, load_set, page_scores  # noqa: PLC2701 (the eval code itself)
from localocr.image import load_image, to_grey
from localocr.metrics import prf
from localocr.pipeline import blocks_from_reads, run_sync
from localocr.recognition import recognize_steps, reread_steps
from localocr.result import Page

from export.pretrained import ppocr
from export.recognizer.data import DATA

THRESHOLDS = (0.0, 0.8, 0.9, 0.95, 0.97, 1.01)
MAXES = (0, 1, 2, 4, 8)  # localocr.reread_max: at most this many lines a page (0: all)
SETS = {"sroie_train": True, "funsd_train": False, "ic15_train": False, "openalpr_plates": False}


def both_readings(ocr: OCR, image):
    """Generator stage: (size, the fast tier's lines, the same lines as the accurate tier reads them)."""
    im = load_image(image, max_pixels=ocr.max_pixels, luma_jpeg=ocr.luma_jpeg)
    boxes = yield from detect_steps(im, ocr.detector, {}, **ocr.detect_options)
    grey = to_grey(im)
    fast = yield from recognize_steps(grey, [q for q, _ in boxes], ocr.recognizer, {}, flip_check=ocr.flip_check)
    acc = copy.copy(fast)
    yield from reread_steps(grey, acc, ocr.accurate, {}, below=2.0)
    return im.size, fast, acc


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accurate", default=os.path.join(ppocr.ROOT, "web", "models", "accurate.int8.onnx"))
    p.add_argument("--pages", type=int, default=20, help="validation pages per set")
    p.add_argument("--out", default=os.path.join(ppocr.ROOT, "runs", "rec48", "calibration.json"))
    a = p.parse_args(argv)
    from localocr.backends.onnxruntime import OnnxRuntimeBackend

    ocr = OCR(backend=OnnxRuntimeBackend(threads=1), accurate=a.accurate)
    result = {}
    for name, casefold in SETS.items():
        folder = os.path.join(DATA, name)
        if not os.path.isdir(folder):
            continue
        _, recs = load_set(folder, "val", a.pages)
        combos = [(c, k) for c in THRESHOLDS for k in MAXES]
        rows = {ck: [] for ck in combos}
        reread = {ck: 0 for ck in combos}
        lines = 0
        for rec in recs:
            (w, h), fast, acc = run_sync(both_readings(ocr, os.path.join(folder, rec["image"])))
            lines += len(fast)
            for c, k in combos:
                low = sorted((i for i, f in enumerate(fast) if f.confidence < c), key=lambda i: fast[i].confidence)
                low = set(low[:k] if k else low)
                pick = [acc[i] if i in low else f for i, f in enumerate(fast)]
                reread[c, k] += len(low)
                page = Page(width=w, height=h, blocks=blocks_from_reads(pick))
                rows[c, k].append(page_scores(page, rec, casefold))
        result[name] = {
            f"{c}/{k}": {
                "e2e_f1": prf(*_sum(rows[c, k], "e2e"))["hmean"],
                "reread_share": reread[c, k] / max(lines, 1),
                "reread_per_page": reread[c, k] / max(len(recs), 1),
            }
            for c, k in combos
        }
        print(f"{name} ({len(recs)} pages, {lines} lines)", flush=True)
        for c in THRESHOLDS:
            print(
                f"  below {c}: "
                + "  ".join(
                    f"max {k or 'all'}: F1 {result[name][f'{c}/{k}']['e2e_f1']:.3f} "
                    f"({result[name][f'{c}/{k}']['reread_per_page']:.1f}/page)"
                    for k in MAXES
                ),
                flush=True,
            )
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
