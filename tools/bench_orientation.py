"""Rotated and tilted pages: e2e F1 against the upright pages, and the rotation the pipeline chose.

    python -m tools.bench_orientation [--data ../shared/data] [--set funsd_train ...] [--limit N]
        [--turns 0,90,180,270] [--tilts -30,-15,15,30] [--off] [--json FILE]

Each validation page (`localocr.splits`) is decoded as the pipeline decodes it, then turned
clockwise by each quarter turn (exact, `orientation.turn_image`) or tilted by each angle (degrees,
counter-clockwise positive, bilinear, the canvas grown to hold it, filled with the page's median
grey), its ground-truth quads moved the same way, read and scored with localocr-eval's e2e word F1.
A page turned by k is read right when the pipeline reports rotation (360 - k) % 360. Prints a
markdown table: per set and variant, e2e F1, pages whose rotation was right, median seconds a page.
--off: the pipeline with orientation=False (today's behaviour before orientation was added).
--time-upright: instead, the time orientation adds to upright pages: each page read with it on and
off, alternately, REPEAT times each, the fastest of each kept; prints the median and total per set.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
from localocr.evaluate import load_set, page_scores
from localocr.image import decode_image
from localocr.metrics import prf
from localocr.orientation import turn_image, turn_points
from PIL import Image

SETS = ["funsd_train", "sroie_train", "ic15_train"]


def tilt(image: Image.Image, degrees: float):
    """(image tilted counter-clockwise by `degrees` on a canvas that holds it, the point map)."""
    w, h = image.size
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    # forward: p' = R (p - centre) + centre'; counter-clockwise on screen (y down): x' = c x + s y, y' = -s x + c y
    nw, nh = int(math.ceil(abs(c) * w + abs(s) * h)), int(math.ceil(abs(s) * w + abs(c) * h))
    cx, cy, ncx, ncy = w / 2, h / 2, nw / 2, nh / 2

    def fwd(p):
        p = np.asarray(p, np.float64)
        x, y = p[..., 0] - cx, p[..., 1] - cy
        return np.stack([c * x + s * y + ncx, -s * x + c * y + ncy], axis=-1)

    # Pillow's AFFINE maps output pixels to input ones: the inverse
    ia, ib = c, -s
    id_, ie = s, c
    coeffs = (ia, ib, cx - ia * ncx - ib * ncy, id_, ie, cy - id_ * ncx - ie * ncy)
    fill = int(np.median(np.asarray(image.convert("L"))))
    fill = fill if image.mode == "L" else (fill,) * 3
    out = image.transform((nw, nh), Image.AFFINE, coeffs, resample=Image.BILINEAR, fillcolor=fill)
    return out, fwd


def moved_record(rec: dict, fn) -> dict:
    r = dict(rec)
    for key in ("words", "lines"):
        if rec.get(key):
            r[key] = [
                dict(g, quad=fn(np.asarray(g["quad"], np.float64).reshape(4, 2)).ravel().tolist()) for g in rec[key]
            ]
    return r


def variants(image: Image.Image, turns, tilts):
    w, h = image.size
    for k in turns:
        yield f"turn {k}", turn_image(image, k), (lambda q, k=k: turn_points(q, k, w, h)), (360 - k) % 360
    for a in tilts:
        im, fwd = tilt(image, a)
        yield f"tilt {a:+g}", im, fwd, 0


def time_upright(args) -> int:
    from localocr import OCR

    on, off = OCR(), OCR(orientation=False)
    print("| set | pages | s/page off (median) | added (median) | added (total) | turned |")
    print("|---|---|---|---|---|---|")
    for name in args.sets or SETS:
        folder = os.path.join(args.data, name)
        _, recs = load_set(folder, "val", args.limit)
        base, added, turned = [], [], 0
        for rec in recs:
            im = decode_image(os.path.join(folder, rec["image"])).image
            t = {"on": [], "off": []}
            for _ in range(args.repeat):
                for key, ocr in (("off", off), ("on", on)):
                    t0 = time.perf_counter()
                    page = ocr.read(im)
                    t[key].append(time.perf_counter() - t0)
                    if key == "on" and _ == 0:
                        turned += page.rotation != 0
            base.append(min(t["off"]))
            added.append(min(t["on"]) - min(t["off"]))
        print(
            f"| {name} | {len(recs)} | {np.median(base):.3f} | {np.median(added) * 1000:+.0f} ms | "
            f"{100 * sum(added) / sum(base):+.1f}% | {turned} |",
            flush=True,
        )
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    p.add_argument("--set", action="append", dest="sets")
    p.add_argument("--limit", type=int)
    p.add_argument("--turns", default="0,90,180,270")
    p.add_argument("--tilts", default="")
    p.add_argument("--off", action="store_true", help="orientation=False")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--time-upright", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    from localocr import OCR

    if args.time_upright:
        return time_upright(args)
    ocr = OCR(**({"orientation": False} if args.off else {}))
    turns = [int(v) for v in args.turns.split(",") if v.strip()]
    tilts = [float(v) for v in args.tilts.split(",") if v.strip()]
    results = []
    for name in args.sets or SETS:
        folder = os.path.join(args.data, name)
        if not os.path.isfile(os.path.join(folder, "labels.jsonl")):
            print(f"{folder}: no data set here", file=sys.stderr)
            continue
        _, recs = load_set(folder, "val", args.limit)
        rows: dict[str, dict] = {}
        for n, rec in enumerate(recs):
            up = decode_image(
                os.path.join(folder, rec["image"]), max_pixels=ocr.max_pixels, luma_jpeg=ocr.luma_jpeg
            ).image
            for label, im, fn, want in variants(up, turns, tilts):
                t0 = time.perf_counter()
                page = ocr.read(im)
                sec = time.perf_counter() - t0
                sc = page_scores(page, moved_record(rec, fn))
                row = rows.setdefault(
                    label, {"e2e": [0, 0, 0], "right": 0, "pages": 0, "secs": [], "orient": [], "wrong": []}
                )
                row["e2e"] = [a + b for a, b in zip(row["e2e"], sc["e2e"])]
                got = getattr(page, "rotation", 0)
                row["right"] += got == want
                if got != want:
                    row["wrong"].append(f"{rec['image']}:{got}")
                row["pages"] += 1
                row["secs"].append(sec)
                row["orient"].append(page.timings.get("orient", 0.0))
            print(f"  {name} {n + 1}/{len(recs)}", file=sys.stderr, flush=True)
        for label, row in rows.items():
            results.append(
                {
                    "set": name,
                    "variant": label,
                    "pages": row["pages"],
                    "e2e_f1": prf(*row["e2e"])["hmean"],
                    "rotation_right": row["right"],
                    "sec_median": float(np.median(row["secs"])),
                    "orient_sec_mean": float(np.mean(row["orient"])),
                    "wrong": row["wrong"],
                }
            )
    print("| set | variant | pages | e2e F1 | rotation right | s/page median | orient s/page mean |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['set']} | {r['variant']} | {r['pages']} | {r['e2e_f1']:.3f} | {r['rotation_right']}/{r['pages']} | "
            f"{r['sec_median']:.3f} | {r['orient_sec_mean'] * 1000:.2f} ms |"
        )
    for r in results:
        if r["wrong"]:
            print(f"{r['set']} {r['variant']} wrong: {' '.join(r['wrong'])}", file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
