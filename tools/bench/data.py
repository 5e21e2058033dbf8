"""The side-by-side benchmark (tools/bench/): data."""

from __future__ import annotations

import os
from pathlib import Path

from localocr.evaluate import load_set

from tools.bench.common import DATA, SPEED_IMAGES


def data_sets(data: Path = DATA) -> list[Path]:
    return sorted(p.parent for p in data.glob("*/labels.jsonl"))


def speed_images(data: Path = DATA, counts: dict = SPEED_IMAGES) -> list[Path]:
    """The fixed speed images: the first N validation images (by name) of each set, interleaved by set."""
    per_set = []
    for name, n in counts.items():
        _, recs = load_set(str(data / name), "val")
        per_set.append([data / name / r["image"] for r in sorted(recs, key=lambda r: r["image"])[:n]])
    out = []
    for k in range(max(len(p) for p in per_set)):
        out += [p[k] for p in per_set if k < len(p)]
    return out


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
