"""Choose the re-read threshold of the two recognizer tiers on validation pages (issue 15).

    python -m export.pretrained.calibrate [--accurate web/models/accurate.int8.onnx] [--pages 20]

Each validation page (SROIE, FUNSD, IC15, plates) is read once by the detector and the fast
tier (flip vote included) and every line once more by the accurate tier; then, for each
threshold c, the page keeps the accurate reading of the lines the fast tier read with a
confidence below c. Printed per set and threshold: e2e word F1 (the localocr-eval code) and the
share of lines read again, i.e. the extra recognition work. Writes runs/rec48/calibration.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys

from localocr import OCR
from localocr.evaluate import _sum, load_set, page_scores  # noqa: PLC2701 (the eval code itself)
from localocr.image import load_image, to_grey
from localocr.metrics import prf
from localocr.pipeline import blocks_from_reads, detect_steps, run_sync
from localocr.recognition import recognize_steps, reread_steps
from localocr.result import Page

from export.pretrained import ppocr
from export.rec_data import DATA

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.01)
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
        rows = {c: [] for c in THRESHOLDS}
        reread = {c: 0 for c in THRESHOLDS}
        lines = 0
        for rec in recs:
            (w, h), fast, acc = run_sync(both_readings(ocr, os.path.join(folder, rec["image"])))
            lines += len(fast)
            for c in THRESHOLDS:
                pick = [a_ if f.confidence < c else f for f, a_ in zip(fast, acc)]
                reread[c] += sum(f.confidence < c for f in fast)
                page = Page(width=w, height=h, blocks=blocks_from_reads(pick))
                rows[c].append(page_scores(page, rec, casefold))
        result[name] = {}
        for c in THRESHOLDS:
            f1 = prf(*_sum(rows[c], "e2e"))["hmean"]
            result[name][str(c)] = {"e2e_f1": f1, "reread_share": reread[c] / max(lines, 1)}
        print(name, f"({len(recs)} pages, {lines} lines)", "  ".join(
            f"{c}: F1 {v['e2e_f1']:.3f} re-read {v['reread_share']:.0%}" for c, v in
            ((c, result[name][str(c)]) for c in THRESHOLDS)), flush=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
