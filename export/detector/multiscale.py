"""Multi-scale detector inference (issue 16, item 1): does a coarser second pass find big text?

    python -m export.detector.multiscale [--set ic15_train ...] [--factors 0.5,0.33] [--big 30,40,50]
        [--models DIR]

Each validation page of each set (the detector's ground truth, `export.detector.data.load_real`:
FUNSD lines grouped from words, IC15 words, SROIE lines, the plate) is detected as the pipeline
does (`localocr.detection.detect_steps`, bundled detector), and again at each factor times the
pipeline's scale (one pass, no finer retry). The merge adds a coarse box whose short side is at
least BIG image pixels and drops the first-pass boxes it covers (>= 70% of their area inside it)
unless one of them is the same box (IoU >= 0.5, short side >= 0.8 of it: that one is kept).
Prints a markdown table: precision, recall and hmean at IoU 0.5 (`localocr.metrics.match`) and the
recall by ground-truth height (short side, image pixels), and the mean detection seconds of a page.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from localocr import OCR
from localocr import detection as det
from localocr import metrics as M
from localocr.pipeline import run_sync
from PIL import Image

from export.detector.data import load_real

BUCKETS = ((0, 10), (10, 20), (20, 30), (30, 50), (50, 10**9))
COVER = 0.7


def short_side(q) -> float:
    q = np.asarray(q, float)
    return float(min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0])))


def merge(first: list, coarse: list, big: float) -> list:
    """The first pass's boxes with the coarse pass's big ones (see the module's text)."""
    bigs = [b for b in coarse if short_side(b[0]) >= big]
    if not bigs or not first:
        return list(first) + bigs
    iou, cover = M.iou_matrix([q for q, _ in first], [q for q, _ in bigs])
    out, same = [], np.zeros(len(bigs), bool)
    for i, box in enumerate(first):
        j = int(np.argmax(cover[i]))
        if cover[i, j] >= COVER:
            if iou[i, j] >= 0.5 and short_side(box[0]) >= 0.8 * short_side(bigs[j][0]):
                same[j] = True
                out.append(box)
            continue
        out.append(box)
    return out + [b for j, b in enumerate(bigs) if not same[j]]


def score(pages: list[dict], preds: list[list]) -> dict:
    tp = n_pred = n_gt = 0
    hit, count = np.zeros(len(BUCKETS)), np.zeros(len(BUCKETS))
    for p, pred in zip(pages, preds):
        m = M.match([q for q, _ in pred], list(p["quads"]), p["ignore"])
        tp, n_pred, n_gt = tp + m["tp"], n_pred + m["n_pred"], n_gt + m["n_gt"]
        matched = {j for _, j in m["pairs"]}
        for j, g in enumerate(p["quads"]):
            if p["ignore"][j]:
                continue
            b = next(k for k, (lo, hi) in enumerate(BUCKETS) if lo <= short_side(g) < hi)
            count[b] += 1
            hit[b] += j in matched
    f = M.prf(tp, n_pred, n_gt)
    return {
        "p": f["precision"],
        "r": f["recall"],
        "h": f["hmean"],
        "by_height": [(h / c if c else None, int(c)) for h, c in zip(hit, count)],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", help="set name under ../shared/data (repeatable)")
    ap.add_argument("--factors", default="0.5,0.33")
    ap.add_argument("--big", default="30,40,50")
    ap.add_argument("--models", metavar="DIR", help="model folder (default: the bundled models)")
    a = ap.parse_args(argv)
    factors = [float(f) for f in a.factors.split(",") if f]  # --factors "": the first pass alone
    bigs = [float(b) for b in a.big.split(",")]
    model = OCR(models=a.models).detector
    heads = " | ".join(f"R {lo}-{hi if hi < 10**9 else ''} px" for lo, hi in BUCKETS)
    print(f"| set | variant | P | R | hmean | {heads} | det s/page |")
    print("|---|---|---|---|---|" + "---|" * len(BUCKETS) + "---|")
    for name in a.set or ["ic15_train", "funsd_train", "sroie_train", "openalpr_plates"]:
        pages = load_real(name, True)
        runs: dict[str, list] = {"first pass": []}
        secs: dict[str, float] = {"first pass": 0.0}
        for p in pages:
            im = Image.open(p["path"]).convert("RGB")
            w, h = im.size
            s0 = det.input_scale(w, h)
            t = time.perf_counter()
            runs["first pass"].append(run_sync(det.detect_steps(im, model, None)))
            secs["first pass"] += time.perf_counter() - t
            for f in factors:
                key = f"x{f} alone"
                t = time.perf_counter()
                mp = int(w * h * (s0 * f) ** 2) + 1
                runs.setdefault(key, []).append(
                    run_sync(det.detect_steps(im, model, None, max_pixels=mp, min_long_side=0, refine=False))
                )
                secs[key] = secs.get(key, 0.0) + time.perf_counter() - t
        for f in factors:
            for big in bigs:
                key = f"merged x{f}, big >= {big:g} px"
                runs[key] = [merge(a_, b_, big) for a_, b_ in zip(runs["first pass"], runs[f"x{f} alone"])]
                secs[key] = secs["first pass"] + secs[f"x{f} alone"]
        for key, preds in runs.items():
            s = score(pages, preds)
            cells = " | ".join("-" if r is None else f"{r:.2f} ({c})" for r, c in s["by_height"])
            print(
                f"| {name} | {key} | {s['p']:.3f} | {s['r']:.3f} | {s['h']:.3f} | {cells} | {secs[key] / len(pages):.3f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
