"""Calibrate the pipeline's confidence floor for junk (pipeline.MIN_CONFIDENCE, MIN_CONFIDENCE_SHORT).

    python -m tools.calibrate_floor [--data ../shared/data] [--limit N] [--json FILE]

Reads every validation page of the page sets once (detector + recognizer, no floor), then for each
candidate floor keeps the segments the pipeline would keep (`pipeline.keep_segment`), builds the
page again and scores it (localocr-eval's e2e word F1); and reads pages of noise (uniform, Gaussian,
salt-and-pepper; grey and colour; 2000 x 2000) the same way, counting the words left and those
left at or above the app's "low confidence" mark (web/view.js LOW_CONFIDENCE, 0.6). Prints one row
per candidate: e2e F1 per set, the mean change against no floor, and the noise words left.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from localocr import detection, pipeline
from localocr.evaluate import load_set, page_scores
from localocr.image import load_image, to_grey
from localocr.layout import build_blocks
from localocr.metrics import prf
from localocr.recognition import recognize_steps
from localocr.result import Page
from PIL import Image

SETS = ["funsd_train", "sroie_train", "ic15_train", "openalpr_plates", "tapuscorpus", "poilus_hw"]
LOW_MARK = 0.6  # web/view.js LOW_CONFIDENCE
FLOORS = [0.0, 0.5, 0.6]
SHORT_FLOORS = [None, 0.9]  # None: the same as the floor
JUNK_MEDIANS = [0.0, 0.5]  # 0: no page-level rule


def read_raw(ocr, image):
    """Generator: image -> (size, reads) with no floor applied."""
    im = load_image(image, max_pixels=ocr.max_pixels, luma_jpeg=ocr.luma_jpeg)
    boxes = yield from detection.detect_steps(im, ocr.detector, {}, **ocr.detect_options)
    reads = yield from recognize_steps(
        to_grey(im), [q for q, _ in boxes], ocr.recognizer, {}, flip_check=ocr.flip_check
    )
    return im.size, reads


def page_at(size, reads, floor, short_floor, junk_median=0.0) -> Page:
    segments = pipeline.segments_of(reads, floor, short_floor, junk_median)
    return Page(width=size[0], height=size[1], blocks=build_blocks(segments))


def noise_pages(n: int = 2000):
    rng = np.random.default_rng(0)
    out = []
    for kind in ("uniform", "gauss", "salt"):
        if kind == "uniform":
            a = rng.integers(0, 256, (n, n), dtype=np.uint8)
        elif kind == "gauss":
            a = np.clip(rng.normal(128, 60, (n, n)), 0, 255).astype(np.uint8)
        else:
            a = np.where(rng.random((n, n)) < 0.1, 0, 255).astype(np.uint8)
        out.append((f"{kind}-grey", Image.fromarray(a)))
        out.append((f"{kind}-colour", Image.fromarray(np.stack([a, np.roll(a, 7, 0), np.roll(a, 13, 1)], -1))))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="calibrate_floor", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    p.add_argument("--limit", type=int)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--cache", metavar="FILE", help="keep the raw reads in this pickle (and reuse them)")
    args = p.parse_args(argv)
    if args.cache and os.path.exists(args.cache):
        import pickle

        with open(args.cache, "rb") as f:
            raw, noise = pickle.load(f)
    else:
        raw, noise = read_all(args)
        if args.cache:
            import pickle

            with open(args.cache, "wb") as f:
                pickle.dump((raw, noise), f)
    table(raw, noise, args)
    return 0


def read_all(args):
    ocr = pipeline.OCR()
    raw = {}
    for name in SETS:
        folder = os.path.join(args.data, name)
        if not os.path.isfile(os.path.join(folder, "labels.jsonl")):
            continue
        meta, recs = load_set(folder, "val", args.limit)
        if meta.get("kind") == "crop":
            continue
        raw[name] = [(rec, pipeline.run_sync(read_raw(ocr, os.path.join(folder, rec["image"])))) for rec in recs]
        print(f"{name}: {len(recs)} pages read", file=sys.stderr)
    noise = [(k, pipeline.run_sync(read_raw(ocr, im))) for k, im in noise_pages()]
    return raw, noise


def table(raw, noise, args):
    rows = []
    for floor in FLOORS:
        for short in SHORT_FLOORS:
            if short is not None and short <= floor:
                continue
            for junk in JUNK_MEDIANS:
                row = {"floor": floor, "short_floor": short, "junk_median": junk, "f1": {}}
                for name, pages in raw.items():
                    e2e = np.zeros(3, int)
                    for rec, (size, reads) in pages:
                        e2e += page_scores(page_at(size, reads, floor, short, junk), rec)["e2e"]
                    row["f1"][name] = prf(*e2e)["hmean"]
                words = [w for _, (size, reads) in noise for w in page_at(size, reads, floor, short, junk).words]
                row["noise_words"] = len(words)
                row["noise_unflagged"] = sum(w.confidence >= LOW_MARK for w in words)
                rows.append(row)
    base = rows[0]["f1"]
    print(
        "| floor | short (<= 2 chars) | junk page median | " + " | ".join(raw) + " | mean change (points) | "
        f"worst set (points) | noise words | noise words >= {LOW_MARK} |"
    )
    print("|---" * (len(raw) + 7) + "|")
    for r in rows:
        deltas = [100 * (r["f1"][k] - base[k]) for k in raw]
        r["mean_change_points"] = float(np.mean(deltas))
        r["worst_change_points"] = float(min(deltas))
        print(
            f"| {r['floor']} | {r['short_floor'] or r['floor']} | {r['junk_median'] or '-'} | "
            + " | ".join(f"{r['f1'][k]:.3f}" for k in raw)
            + f" | {np.mean(deltas):+.2f} | {min(deltas):+.2f} | {r['noise_words']} | {r['noise_unflagged']} |"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
