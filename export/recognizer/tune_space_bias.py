"""Choose the recognizer's space bias on training pages and write it into the shipped files.

    python -m export.recognizer.tune_space_bias [--models web/models] [--pages 30] [--dry-run]
                                                [--tier fast|accurate]

A CTC recognizer trained on a mix of single words and whole lines is shy of the space
class: on a form line it often reads two words as one ("Date:06/11"), and every such merge
costs two words in the end-to-end score and in FUNSD's word boxes. Adding a constant to the
space class's log-probability before the arg-max (`localocr.space_bias`, read by
`recognition.ctc_greedy_batch`) trades those merges against spaces inside words.

The constant is chosen with the whole pipeline (detector, crops, layout, word boxes) on the
first `--pages` pages of the *training* split of FUNSD and SROIE (never validation), by the
mean end-to-end word F1; ties go to the smaller bias. It is then written into the metadata
of every recognizer file in `--models`. Run it after `make rec-export` (new weights move the
optimum) and re-measure validation with `localocr-eval` afterwards.

`--tier accurate` chooses the accurate tier's own bias (written into the `accurate*.onnx` files;
its distillation from PP-OCR, whose models are shy of spaces in Latin text, left it reading
"SANYU STATIONERY SHOP" as "SANYUSTATIONERYSHOP"), with the pipeline as shipped (the tier reads
the lines the fast one is unsure of, and the four-way orientation vote of a scene), on the training
pages of the scene and plate sets too: those are the pages it reads most of.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import onnx
from localocr.contract import keys as mm
from localocr.evaluate import evaluate_set
from localocr.pipeline import OCR

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
SETS = (("funsd_train", False), ("sroie_train", True))  # (set, compare case-insensitively)
ACCURATE_SETS = SETS + (("ic15_train", False), ("openalpr_plates", False))
GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)  # log-probability units


def scores(ocr: OCR, bias: float, pages: int, data: str = DATA, tier: str = "fast") -> dict[str, float]:
    """End-to-end word F1 per training set with this space bias (for the `tier`'s model)."""
    model = ocr.recognizer if tier == "fast" else ocr.accurate
    model.spec = dataclasses.replace(model.spec, space_bias=bias)
    sets = SETS if tier == "fast" else ACCURATE_SETS
    return {
        name: evaluate_set(ocr, os.path.join(data, name), "train", pages, casefold)["e2e_f1"] for name, casefold in sets
    }


def choose(table: dict[float, dict[str, float]]) -> float:
    """The bias with the best mean F1 (the smaller one on a tie)."""
    return max(sorted(table), key=lambda b: (round(sum(table[b].values()) / len(table[b]), 4), -b))


def write_bias(path: str, bias: float) -> None:
    """Set `localocr.space_bias` in an ONNX file's metadata, nothing else changed."""
    m = onnx.load(path)
    kept = [(p.key, p.value) for p in m.metadata_props if p.key != mm.SPACE_BIAS]
    del m.metadata_props[:]
    for k, v in kept + [(mm.SPACE_BIAS, f"{bias:g}")]:
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="web/models")
    p.add_argument("--pages", type=int, default=30, help="training pages per set")
    p.add_argument("--grid", default=",".join(f"{b:g}" for b in GRID))
    p.add_argument("--dry-run", action="store_true", help="print the table, write nothing")
    p.add_argument("--tier", choices=["fast", "accurate"], default="fast")
    a = p.parse_args(argv)
    ocr = OCR(models=a.models)
    if a.tier == "accurate" and ocr.accurate is None:
        raise SystemExit(f"tune_space_bias: no accurate tier in {a.models}")
    table = {}
    for b in (float(x) for x in a.grid.split(",")):
        table[b] = scores(ocr, b, a.pages, tier=a.tier)
        print(json.dumps({"space_bias": b, **{k: round(v, 4) for k, v in table[b].items()}}), flush=True)
    best = choose(table)
    print(f"chosen space_bias {best:g} on {a.pages} training pages per set", flush=True)
    if not a.dry_run:
        for name in sorted(os.listdir(a.models)):
            if name.startswith("recognizer" if a.tier == "fast" else "accurate") and name.endswith(".onnx"):
                write_bias(os.path.join(a.models, name), best)
                print("wrote", os.path.join(a.models, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
