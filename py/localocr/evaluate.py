"""`localocr-eval --set ../shared/data/<set> [--limit N] [--split val|train|all] [--casefold]`

Runs the pipeline over a data set (format: ../shared/data/FORMAT.md) and
prints, for page sets:

- e2e word F1: a predicted word matches an unmatched ground-truth word when
  IoU >= 0.5 and the texts are equal; for line-level ground truth the
  predicted line segments (the detector's lines) are compared the same way;
- bag-of-words F1 over each page (whitespace tokens, case-sensitive unless
  --casefold), summed over pages;
- detection precision / recall / hmean at IoU 0.5 (the same units);
- CER per ground-truth region: the predicted words whose centres fall inside
  it, in reading order, against its text (total edits / total characters);

and for crop sets exact accuracy, case-insensitive accuracy and CER. Regions
with "ignore" count neither way. Plus seconds per image (median, p90).
Several --set options print one table row each. The default split is the
fixed validation split (`localocr.splits.is_validation`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from . import metrics as M
from .errors import LocalOCRError
from .splits import is_validation


def load_set(folder: str, split: str = "val", limit: int | None = None):
    """(meta, records) of a data set, filtered by split and limited to the first `limit`."""
    with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    recs = []
    with open(os.path.join(folder, "labels.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            v = is_validation(r["image"])
            if split == "all" or (split == "val") == v:
                recs.append(r)
    return meta, recs[:limit] if limit else recs


def _gt_regions(rec: dict):
    """(granularity, regions) preferring words; regions: [(quad, text or None, ignore)]."""
    key = "words" if rec.get("words") else "lines"
    regs = [
        (np.asarray(r["quad"], np.float64).reshape(4, 2), r.get("text"), bool(r.get("ignore")) or r.get("text") is None)
        for r in rec.get(key) or []
    ]
    return key[:-1], regs


def page_scores(page, rec: dict, casefold: bool = False) -> dict:
    """Counts for one page: e2e/detection tp, n_pred, n_gt; bag of words; CER edits and chars."""
    gran, regs = _gt_regions(rec)
    if gran == "word":
        units = [(w.quad, w.text) for w in page.words]
    else:
        units = [(seg.quad, seg.text) for ln in page.lines for seg in ln.parts]
    pq = [q for q, _ in units]
    pt = [t for _, t in units]
    gq = [q for q, _, _ in regs]
    gt = [t for _, t, _ in regs]
    ign = [i for _, _, i in regs]
    det = M.match(pq, gq, ign)
    e2e = M.match(pq, gq, ign, pred_text=pt, gt_text=gt, casefold=casefold)
    bow = M.bag_of_words([w.text for w in page.words], [t for t, i in zip(gt, ign) if not i], casefold)
    # CER per region: words (reading order) whose centre lies inside the region
    words = page.words
    centres = np.array([np.asarray(w.quad, np.float64).mean(axis=0) for w in words]).reshape(-1, 2)
    edits = chars = 0
    for q, t, i in regs:
        if i:
            continue
        inside = M.points_in_polygon(centres, q)
        pred = " ".join(w.text for w, k in zip(words, inside) if k)
        a, b = (pred.casefold(), t.casefold()) if casefold else (pred, t)
        edits += M.levenshtein(a, b)
        chars += len(b)
    return {
        "det": (det["tp"], det["n_pred"], det["n_gt"]),
        "e2e": (e2e["tp"], e2e["n_pred"], e2e["n_gt"]),
        "bow": bow,
        "cer": (edits, chars),
    }


def _sum(rows, key):
    return tuple(int(sum(r[key][k] for r in rows)) for k in range(len(rows[0][key]))) if rows else (0, 0, 0)


def evaluate_pages(ocr, folder, recs, casefold=False, progress=None):
    rows, secs, failures = [], [], 0
    for n, rec in enumerate(recs):
        path = os.path.join(folder, rec["image"])
        t0 = time.perf_counter()
        try:
            page = ocr.read(path)
        except LocalOCRError as e:
            print(f"  {rec['image']}: {e}", file=sys.stderr)
            failures += 1
            continue
        secs.append(time.perf_counter() - t0)
        rows.append(page_scores(page, rec, casefold))
        if progress:
            progress(n + 1, len(recs))
    det, e2e, bow = _sum(rows, "det"), _sum(rows, "e2e"), _sum(rows, "bow")
    edits, chars = _sum(rows, "cer")[:2] if rows else (0, 0)
    return {
        "kind": "page",
        "images": len(rows),
        "failures": failures,
        "e2e_f1": M.prf(*e2e)["hmean"],
        "e2e": M.prf(*e2e),
        "bow_f1": M.prf(*bow)["hmean"],
        "det": M.prf(*det),
        "cer": edits / chars if chars else 0.0,
        **_timing(secs),
    }


def evaluate_crops(ocr, folder, recs, casefold=False, progress=None):
    exact = folded = 0
    edits = chars = 0
    secs, failures, n_ok = [], 0, 0
    for n, rec in enumerate(recs):
        t0 = time.perf_counter()
        try:
            text, _ = ocr.recognize_line(os.path.join(folder, rec["image"]))
        except LocalOCRError as e:
            print(f"  {rec['image']}: {e}", file=sys.stderr)
            failures += 1
            continue
        secs.append(time.perf_counter() - t0)
        n_ok += 1
        gt = rec["text"]
        exact += text == gt
        folded += text.casefold() == gt.casefold()
        a, b = (text.casefold(), gt.casefold()) if casefold else (text, gt)
        edits += M.levenshtein(a, b)
        chars += len(b)
        if progress:
            progress(n + 1, len(recs))
    return {
        "kind": "crop",
        "images": n_ok,
        "failures": failures,
        "accuracy": exact / n_ok if n_ok else 0.0,
        "accuracy_ci": folded / n_ok if n_ok else 0.0,
        "cer": edits / chars if chars else 0.0,
        **_timing(secs),
    }


def _timing(secs):
    if not secs:
        return {"sec_median": 0.0, "sec_p90": 0.0}
    return {"sec_median": float(np.median(secs)), "sec_p90": float(np.percentile(secs, 90))}


def evaluate_set(ocr, folder, split="val", limit=None, casefold=False, progress=None) -> dict:
    meta, recs = load_set(folder, split, limit)
    fn = evaluate_crops if meta.get("kind") == "crop" else evaluate_pages
    res = fn(ocr, folder, recs, casefold, progress)
    res["set"] = meta.get("name") or os.path.basename(os.path.normpath(folder))
    res["granularity"] = meta.get("granularity", "")
    res["casefold"] = casefold
    return res


def format_table(results) -> str:
    """Results of several sets as a markdown table."""
    head = (
        "| set | n | e2e F1 | BoW F1 | det P | det R | det hmean | CER | acc | acc (ci) | s/img med | s/img p90 |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for r in results:
        name = r["set"] + (" (ci)" if r.get("casefold") else "")
        if r["kind"] == "crop":
            rows.append(
                f"| {name} | {r['images']} | | | | | | {r['cer']:.3f} | {r['accuracy']:.3f} | "
                f"{r['accuracy_ci']:.3f} | {r['sec_median']:.3f} | {r['sec_p90']:.3f} |"
            )
        else:
            d = r["det"]
            rows.append(
                f"| {name} | {r['images']} | {r['e2e_f1']:.3f} | {r['bow_f1']:.3f} | {d['precision']:.3f} | "
                f"{d['recall']:.3f} | {d['hmean']:.3f} | {r['cer']:.3f} | | | {r['sec_median']:.3f} | "
                f"{r['sec_p90']:.3f} |"
            )
    return "\n".join(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="localocr-eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--set", action="append", required=True, metavar="DIR", help="a data set folder (repeatable)")
    p.add_argument("--limit", type=int, help="only the first N images of the split")
    p.add_argument("--split", choices=["val", "train", "all"], default="val")
    p.add_argument("--casefold", action="store_true", help="compare texts case-insensitively (e.g. SROIE)")
    p.add_argument("--models", metavar="DIR", help="model folder (default: the bundled models)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)
    from .pipeline import OCR

    try:
        ocr = OCR(models=args.models)
    except LocalOCRError as e:
        print(f"localocr-eval: {e}", file=sys.stderr)
        return 1
    results = []
    for folder in args.set:
        if not os.path.isfile(os.path.join(folder, "labels.jsonl")):
            print(f"localocr-eval: {folder} is not a data set (no labels.jsonl)", file=sys.stderr)
            return 2
        results.append(evaluate_set(ocr, folder, args.split, args.limit, args.casefold))
    print(format_table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
