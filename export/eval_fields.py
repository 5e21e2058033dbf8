"""Field extraction, measured end to end with our own OCR (localocr.pipeline.OCR).

    python -m export.eval_fields receipts [--split validation|train|all] [--cache DIR] [--show N] [--reread-all]
                                          [--threads N] [--read-for receipt|auto|none] [--models DIR]
    python -m export.eval_fields mrz [--n 60] [--seed 0] [--formats TD1,TD2,TD3] [--save DIR]

receipts: ../shared/data/sroie_train, the SROIE task-3 way: a field is right when its value equals the
label after whitespace normalisation, case-insensitively (SROIE's labels are upper case). The split
is localocr.splits.is_validation; rules are tuned on the train images only. --cache keeps each
page's OCR (Page JSON) so that re-running the rules costs no OCR. A second table gives the ceiling:
how often the label is on the page verbatim as our OCR read it, and how many wrong fields are the
rules' fault (label on the page) rather than the recognizer's.

mrz: synthetic photographed ID documents (export.synth.id_docs, OCR-B from fonts-ocr-b); a document
counts when every field equals the truth and all check digits hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from localocr.result import Page
from localocr.splits import is_validation

ROOT = Path(__file__).resolve().parent.parent
SROIE = ROOT.parent / "shared" / "data" / "sroie_train"
RECEIPT_FIELDS = ("company", "date", "address", "total")


def normalise(s) -> str:
    """SROIE task 3: whitespace collapsed, case ignored."""
    return re.sub(r"\s+", " ", str(s or "")).strip().upper()


# A label counts as on the page when it is one OCR'd line's text or part of it, or of up to this many
# consecutive lines joined with spaces (an address takes up to 5 lines, a name 3).
ORACLE_JOIN = 6


def on_page(label, lines: list[str], join: int = ORACLE_JOIN) -> bool:
    """Whether `label` appears verbatim (after `normalise`) in the page's lines as read: what rules can
    reach without a better recognizer (the ceiling, short of correcting characters)."""
    want = normalise(label)
    if not want:
        return True
    rows = [normalise(x) for x in lines]
    for i in range(len(rows)):
        text = ""
        for row in rows[i : i + join]:
            text = f"{text} {row}".strip()
            if want in text:
                return True
    return False


def _read(ocr, image_path: Path, cache: Path | None, read_for: str | None = None) -> Page:
    if cache:
        f = cache / (image_path.name + ".json")
        if f.is_file():
            return Page.from_dict(json.loads(f.read_text()))
    page = ocr().read(str(image_path), fields=read_for)
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / (image_path.name + ".json.tmp")
        tmp.write_text(json.dumps(page.to_dict()))
        os.replace(tmp, cache / (image_path.name + ".json"))
    return page


def _lazy_ocr(reread_all: bool = False, threads: int | None = None, models: str | None = None):
    box = {}

    def get():
        if "ocr" not in box:
            import dataclasses

            from localocr.backends.onnxruntime import OnnxRuntimeBackend
            from localocr.pipeline import OCR

            backend = OnnxRuntimeBackend(threads)
            if reread_all:
                # every line read again by the accurate tier: no confidence bound, no per-page limit
                ocr = OCR(backend=backend, reread_below=2.0, models=models)
                if ocr.accurate is None:
                    raise SystemExit("eval_fields: --reread-all needs the accurate tier (web/models/accurate*.onnx)")
                ocr.accurate.spec = dataclasses.replace(ocr.accurate.spec, reread_max=0)
                box["ocr"] = ocr
            else:
                box["ocr"] = OCR(backend=backend, models=models)
        return box["ocr"]

    return get


def eval_receipts(
    split: str,
    cache: Path | None,
    show: int,
    data: Path = SROIE,
    reread_all: bool = False,
    threads: int | None = None,
    read_for: str | None = "receipt",
    models: str | None = None,
) -> dict:
    ocr = _lazy_ocr(reread_all, threads, models)
    right = {k: 0 for k in RECEIPT_FIELDS}
    ceiling = {k: 0 for k in RECEIPT_FIELDS}  # the label is on the page as read
    extraction = {k: 0 for k in RECEIPT_FIELDS}  # wrong although the label is on the page
    amount_right = 0  # the total's amount, whether or not the label writes its currency
    n = 0
    misses = []
    for raw in (data / "labels.jsonl").read_text().splitlines():
        rec = json.loads(raw)
        val = is_validation(rec["image"])
        if (split == "validation" and not val) or (split == "train" and val):
            continue
        page = _read(ocr, data / rec["image"], cache, read_for)
        got = page.fields("receipt")
        n += 1
        want = re.sub(r"[^\d.,-]", "", rec["fields"].get("total") or "").replace(",", ".")
        if got["total"] and want:
            try:
                amount_right += abs(float(got["total"]["normalized"]) - float(want)) < 1e-9
            except ValueError:
                pass
        lines = [ln.text for ln in page.lines]
        for k in RECEIPT_FIELDS:
            value = got[k]["value"] if got[k] else ""
            present = on_page(rec["fields"].get(k), lines)
            ceiling[k] += present
            if normalise(value) == normalise(rec["fields"].get(k)):
                right[k] += 1
            else:
                extraction[k] += present
                misses.append((rec["image"], k, value, rec["fields"].get(k)))
    for image, k, value, truth in misses[:show]:
        print(f"  {image} {k}: got {value!r}, want {truth!r}")
    print(
        f"\nSROIE task 3 ({split} split, {n} receipts, our OCR end to end; exact after whitespace "
        f"normalisation, case-insensitive)\n"
    )
    print("| field | exact | share |\n| --- | --- | --- |")
    for k in RECEIPT_FIELDS:
        print(f"| {k} | {right[k]}/{n} | {right[k] / max(n, 1):.3f} |")
    print(f"| (total's amount, currency in the label ignored) | {amount_right}/{n} | {amount_right / max(n, 1):.3f} |")
    print(
        f"\nThe label on the page as read (one OCR'd line, or up to {ORACLE_JOIN} consecutive ones joined): the "
        "ceiling without a better recognizer. Wrong fields split into extraction errors (the label is on the "
        "page) and OCR errors (it is not).\n"
    )
    print("| field | label on the page | wrong: extraction | wrong: OCR |\n| --- | --- | --- | --- |")
    for k in RECEIPT_FIELDS:
        wrong = n - right[k]
        print(f"| {k} | {ceiling[k] / max(n, 1):.3f} | {extraction[k]} | {wrong - extraction[k]} |")
    return {k: right[k] / max(n, 1) for k in RECEIPT_FIELDS}


def eval_mrz(n: int, seed: int, formats: list[str], save: Path | None, show: int, models: str | None = None) -> float:
    import numpy as np
    from localocr.fields.mrz import FIELD_NAMES
    from localocr.pipeline import OCR

    from export.synth.id_docs import render_document

    ocr = OCR(models=models)
    rng = np.random.default_rng(seed)
    stats = {f: [0, 0, 0, 0] for f in formats}  # docs, every field exact, all checks valid, MRZ found
    field_right = {k: 0 for k in FIELD_NAMES}
    shown = 0
    t0 = time.time()
    for i in range(n):
        fmt = formats[i % len(formats)]
        doc = render_document(rng, fmt)
        if save:
            save.mkdir(parents=True, exist_ok=True)
            doc.image.save(save / f"{i:03d}_{fmt}.jpg", quality=95)
        got = ocr.read(np.asarray(doc.image)).fields("mrz")
        s = stats[fmt]
        s[0] += 1
        s[3] += got["format"] == fmt
        ok = got["format"] == fmt
        for k in FIELD_NAMES:
            value = got[k]["value"] if got[k] else ""
            hit = value == doc.values.get(k, "")
            field_right[k] += hit
            ok = ok and hit
        s[1] += ok
        s[2] += bool(got["valid"])
        if not ok and shown < show:
            shown += 1
            print(f"  doc {i} {fmt}: truth {doc.lines}\n           read  {got['lines']} checks {got['checks']}")
    total = sum(s[0] for s in stats.values())
    print(f"\nSynthetic photographed ID documents (seed {seed}, {total} documents, {time.time() - t0:.0f} s)\n")
    print(
        "| format | documents | MRZ found | all check digits hold | every field exact |\n"
        "| --- | --- | --- | --- | --- |"
    )
    for f, (d, exact, valid, found) in stats.items():
        print(f"| {f} | {d} | {found / max(d, 1):.3f} | {valid / max(d, 1):.3f} | {exact / max(d, 1):.3f} |")
    all_exact = sum(s[1] for s in stats.values()) / max(total, 1)
    print(
        f"| all | {total} | {sum(s[3] for s in stats.values()) / max(total, 1):.3f} | "
        f"{sum(s[2] for s in stats.values()) / max(total, 1):.3f} | {all_exact:.3f} |"
    )
    print("\nper field exact: " + ", ".join(f"{k} {v / max(total, 1):.3f}" for k, v in field_right.items()))
    return all_exact


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m export.eval_fields", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("receipts")
    r.add_argument("--split", choices=["validation", "train", "all"], default="validation")
    r.add_argument("--cache", type=Path, help="folder for the pages' OCR results (Page JSON)")
    r.add_argument("--show", type=int, default=0, help="print this many wrong fields")
    r.add_argument("--data", type=Path, default=SROIE)
    r.add_argument(
        "--reread-all",
        action="store_true",
        help="read every line again with the accurate tier (use a --cache of its own)",
    )
    r.add_argument(
        "--threads", type=int, help="onnxruntime intra-op threads (default: the backend's, all cores up to 4)"
    )
    r.add_argument(
        "--read-for",
        choices=["receipt", "auto", "none"],
        default="receipt",
        help="the pages read as `OCR.read(image, fields=KIND)` does (default receipt, what `localocr --fields "
        "receipt` does: the company, address and total lines read by the accurate tier too); none: a plain read "
        "(use a --cache of its own for each)",
    )
    r.add_argument("--models", help="the models' folder (default: web/models)")
    m = sub.add_parser("mrz")
    m.add_argument("--n", type=int, default=60)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--formats", default="TD1,TD2,TD3")
    m.add_argument("--save", type=Path, help="also write the rendered documents here")
    m.add_argument("--show", type=int, default=0, help="print this many wrong documents")
    m.add_argument("--models", help="the models' folder (default: web/models)")
    args = p.parse_args(argv)
    if args.what == "receipts":
        if not (args.data / "labels.jsonl").is_file():
            print(f"eval_fields: no {args.data}/labels.jsonl", file=sys.stderr)
            return 1
        read_for = None if args.read_for == "none" else args.read_for
        eval_receipts(
            args.split, args.cache, args.show, args.data, args.reread_all, args.threads, read_for, args.models
        )
    else:
        eval_mrz(args.n, args.seed, args.formats.split(","), args.save, args.show, args.models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
