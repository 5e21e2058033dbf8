"""Numpy stand-ins for the two models, to test all pre/post-processing without weights.

`fake_model_bytes(kind)` writes a minimal, valid ONNX ModelProto (metadata and
input/output declarations, no nodes) so the real loading path, `contract.onnxfile` and
the contract checks, runs in tests too; `FakeBackend.load` then returns the
numpy model for its `localocr.kind`:

- detector: text probability = darkness (1 - grey) smeared horizontally over
  `join` pixels so the letters of a line merge, average-pooled by the
  downsample factor. Dark marks on a light page become line boxes.
- recognizer: per CTC step (4 columns), the step is "ink" when a column holds
  dark pixels. Each run of ink steps emits one `mark` character at its first
  step; a gap of more than `space_steps` blank steps emits a space at its
  middle step (>= 24 px at height 32). So bars "| | |   | |" read "xxx xx".
"""

from __future__ import annotations

import json

import numpy as np

from ..contract import keys as mm
from ..contract.onnxfile import ModelInfo, onnx_bytes, read_model_info

# Fake model settings. Mean/std deliberately not (0.5, 0.5): tests then catch
# a pipeline that ignores the metadata's normalisation.
FAKE_ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F))
FAKE_DETECTOR_META = {
    mm.KIND: "detector",
    mm.VERSION: "fake",
    mm.MEAN: json.dumps([0.4, 0.5, 0.6]),
    mm.STD: json.dumps([0.2, 0.25, 0.3]),
    mm.DOWNSAMPLE: "2",
    mm.GRANULARITY: "line",
    mm.THRESHOLD: "0.3",
    mm.BOX_THRESHOLD: "0.5",
    mm.UNCLIP_RATIO: "0.5",
}
FAKE_RECOGNIZER_META = {
    mm.KIND: "recognizer",
    mm.VERSION: "fake",
    mm.ALPHABET: FAKE_ALPHABET,
    mm.HEIGHT: "32",
    mm.DOWNSAMPLE: "4",
    mm.MEAN: json.dumps([0.3]),
    mm.STD: json.dumps([0.4]),
    mm.BLANK: "0",
}


def fake_model_bytes(kind: str, **overrides) -> bytes:
    """ONNX bytes of a fake detector/recognizer; `overrides` replace metadata values (None drops a key)."""
    if kind == "detector":
        meta = dict(FAKE_DETECTOR_META)
        io = ({mm.DETECTOR_INPUT: [1, 3, "H", "W"]}, {mm.DETECTOR_OUTPUT: [1, 1, "h", "w"]})
    else:
        meta = dict(FAKE_RECOGNIZER_META)
        classes = len(overrides.get(mm.ALPHABET) or meta[mm.ALPHABET]) + 1
        io = ({mm.RECOGNIZER_INPUT: ["N", 1, int(meta[mm.HEIGHT]), "W"]}, {mm.RECOGNIZER_OUTPUT: ["N", "T", classes]})
    for k, v in overrides.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    return onnx_bytes(meta, *io)


# ---------------------------------------------------------------- sessions


def _grey01(x: np.ndarray, meta: dict) -> np.ndarray:
    """Undo the metadata normalisation of an [N, C, H, W] input -> grey in [0, 1], [N, H, W]."""
    mean = np.asarray(json.loads(meta[mm.MEAN]), np.float32)[None, :, None, None]
    std = np.asarray(json.loads(meta[mm.STD]), np.float32)[None, :, None, None]
    return (x * std + mean).mean(axis=1)


class FakeDetector:
    """prob = horizontally smeared darkness, pooled by the downsample factor."""

    def __init__(self, metadata: dict, join: int = 9):
        self.metadata = metadata
        self.input_names, self.output_names = [mm.DETECTOR_INPUT], [mm.DETECTOR_OUTPUT]
        self.join = join  # px: letters closer than this merge into one line
        self.calls: list = []

    def run(self, feeds):
        x = np.asarray(feeds[mm.DETECTOR_INPUT], np.float32)
        n, c, h, w = x.shape
        assert c == 3 and h % 32 == 0 and w % 32 == 0, x.shape
        self.calls.append(x.shape)
        ink = (_grey01(x, self.metadata)[0] < 0.5).astype(np.float32)
        k = self.join
        cs = np.pad(np.cumsum(ink, axis=1), ((0, 0), (k + 1, k)), mode="edge")
        cs[:, : k + 1] = 0
        smear = np.minimum(cs[:, 2 * k + 1 :] - cs[:, : -2 * k - 1], 1.0)
        ds = int(self.metadata[mm.DOWNSAMPLE])
        prob = smear.reshape(h // ds, ds, w // ds, ds).mean(axis=(1, 3))
        return {mm.DETECTOR_OUTPUT: prob[None, None].astype(np.float32)}

    async def run_async(self, feeds):
        return self.run(feeds)


class FakeRecognizer:
    """Ink runs -> `mark` characters, wide gaps -> spaces (see the module docstring)."""

    def __init__(self, metadata: dict, mark: str = "x", space_steps: int = 5):
        self.metadata = metadata
        self.input_names, self.output_names = [mm.RECOGNIZER_INPUT], [mm.RECOGNIZER_OUTPUT]
        self.alphabet = metadata[mm.ALPHABET]
        self.mark, self.space_steps = mark, space_steps
        self.calls: list = []

    def run(self, feeds):
        x = np.asarray(feeds[mm.RECOGNIZER_INPUT], np.float32)
        n, c, h, w = x.shape
        ds = int(self.metadata[mm.DOWNSAMPLE])
        assert c == 1 and h == int(self.metadata[mm.HEIGHT]) and w % ds == 0, x.shape
        self.calls.append(x.shape)
        grey = _grey01(x, self.metadata)
        ink = np.asarray((grey < 0.5).any(axis=1).reshape(n, w // ds, ds).any(axis=2))  # [N, T]
        t = w // ds
        classes = len(self.alphabet) + 1
        # 0.9 for the chosen class, the rest spread: log-probabilities like a softmax output
        logits = np.full((n, t, classes), np.log(0.1 / (classes - 1)), np.float32)
        best = np.zeros((n, t), np.int64)
        mark, space = self.alphabet.index(self.mark) + 1, self.alphabet.index(" ") + 1
        for i in range(n):
            steps = np.flatnonzero(ink[i])
            if len(steps) == 0:
                continue
            first = steps[np.r_[True, np.diff(steps) > 1]]
            best[i, first] = mark
            gaps_start = steps[:-1][np.diff(steps) > self.space_steps]
            gaps_end = steps[1:][np.diff(steps) > self.space_steps]
            best[i, (gaps_start + gaps_end) // 2] = space
        np.put_along_axis(logits, best[..., None], np.log(0.9), axis=2)
        return {mm.RECOGNIZER_OUTPUT: logits}

    async def run_async(self, feeds):
        return self.run(feeds)


class FakeBackend:
    """`Backend` returning the fake numpy model named by the bytes' `localocr.kind`."""

    name = "fake"
    detail = "numpy stand-ins for tests"

    def __init__(self, **options):
        self.options = options  # passed to the fake session (join, mark, space_steps)

    def load(self, model: bytes, name: str, info: ModelInfo | None = None):
        meta = (info or read_model_info(model)).metadata
        if meta.get(mm.KIND) == "detector":
            return FakeDetector(meta, **{k: v for k, v in self.options.items() if k == "join"})
        return FakeRecognizer(meta, **{k: v for k, v in self.options.items() if k != "join"})
