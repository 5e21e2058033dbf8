"""What receipt and MRZ fields share: the field object and the geometry of its boxes.

A field (F in the interface of localocr.fields) is a plain dict,
`{"value": str, "confidence": float, "quads": [[[x, y] * 4], ...]}`, with
optional extra keys ("normalized", "currency"); a missing field is None.
"""

from __future__ import annotations

import numpy as np


def quad_list(quad) -> list:
    """A quad as the JSON schema writes it: four [x, y], rounded to 0.1 px."""
    return [[round(float(x), 1), round(float(y), 1)] for x, y in np.asarray(quad, np.float64).reshape(4, 2)]


def make_field(value: str, confidence: float, quads, **extra) -> dict:
    """One field; `extra` keys whose value is None are left out."""
    out = {"value": value, "confidence": round(float(confidence), 4), "quads": [quad_list(q) for q in quads]}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def sub_quad(quad, start: float, end: float):
    """The part of a line quad between fractions `start` and `end` of its length (0..1),
    interpolated along its top and bottom edges: where a run of characters of the line sits."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    start, end = max(0.0, min(1.0, start)), max(0.0, min(1.0, end))
    top = lambda t: q[0] + (q[1] - q[0]) * t  # noqa: E731
    bottom = lambda t: q[3] + (q[2] - q[3]) * t  # noqa: E731
    return np.array([top(start), top(end), bottom(end), bottom(start)])


def mean_confidence(words) -> float:
    words = list(words)
    return sum(float(w.confidence) for w in words) / len(words) if words else 0.0
