"""Weights stored as int8 with one scale per output channel, rebuilt to float32 in the graph.

`int8_weights` is how the accurate tier's file stores its weights (export/pretrained/build.py) and
how the head's training features are computed from the same stored backbone (features.py
`--backbone int8`, via ppocr.backbone_int8_path).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Weights with at least this many values are stored as int8 (smaller ones: biases, norms, scales).
INT8_MIN_ELEMENTS = 256


# Clipping ratios tried per output channel: the scale max|w| * r / 127 with the least squared error
# wins (a few large weights would otherwise spend the 8 bits of every other one).
CLIP_RATIOS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def _int8_rows(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8 of a [rows, n] float array: (scales [rows], int8 values [rows, n])."""
    top = np.maximum(np.abs(flat).max(axis=1), 1e-12)
    best_err = np.full(len(flat), np.inf)
    scale = top / 127.0
    for r in CLIP_RATIOS:
        s = top * r / 127.0
        err = ((np.clip(np.round(flat / s[:, None]), -127, 127) * s[:, None] - flat) ** 2).sum(axis=1)
        better = err < best_err
        scale = np.where(better, s, scale)
        best_err = np.minimum(err, best_err)
    return scale, np.clip(np.round(flat / scale[:, None]), -127, 127).astype(np.int8)


def int8_weights(
    model: onnx.ModelProto, min_elements: int = INT8_MIN_ELEMENTS, skip: set[str] = frozenset()
) -> onnx.ModelProto:
    """float32 initializers (>= min_elements, not in `skip`) stored as int8 with one scale per output
    channel (axis 0, symmetric, max |w| / 127), each rebuilt by Cast + Mul under its original name."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    kept, nodes = [], []
    for init in g.initializer:
        w = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or w.size < min_elements or w.ndim < 2 or init.name in skip:
            kept.append(init)
            continue
        flat = w.reshape(w.shape[0], -1)
        scale, q = _int8_rows(flat)
        q = q.reshape(w.shape)
        s = scale.astype(np.float32).reshape((w.shape[0],) + (1,) * (w.ndim - 1))
        kept += [numpy_helper.from_array(q, init.name + "_q8"), numpy_helper.from_array(s, init.name + "_s8")]
        nodes += [
            helper.make_node("Cast", [init.name + "_q8"], [init.name + "_f8"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [init.name + "_f8", init.name + "_s8"], [init.name]),
        ]
    del g.initializer[:]
    g.initializer.extend(kept)
    rest = list(g.node)
    del g.node[:]
    g.node.extend(nodes + rest)
    return out
