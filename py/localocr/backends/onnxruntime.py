"""CPython backend: onnxruntime on the CPU.

The only module of the pipeline that imports onnxruntime (it does not exist in
Pyodide). Metadata comes from `localocr.contract.onnxfile`, as in the browser, so both
runtimes check a model the same way.
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from ..contract.onnxfile import ModelInfo, read_model_info
from ..errors import LocalOCRError

# Runs fed more input values than this (a detector pass over a large page, ~1.3 MP and up) hand
# onnxruntime's CPU arena back to the system when they end: the arena keeps every chunk it ever
# took, and a page's first pass and its bands (localocr.detection.tile_rows) differ in shape, so
# that without shrinking a blank A4 page at 300 dpi left ~420 MiB in the arena, ~270 with it.
# Smaller runs (the recognizer's batches) keep their buffers: re-taking them each time costs time.
SHRINK_ABOVE = 4_000_000


class OrtSession:
    """A `Session` over an onnxruntime InferenceSession."""

    def __init__(self, sess, metadata: dict[str, str], shrink=None):
        self._sess = sess
        self.input_names = [i.name for i in sess.get_inputs()]
        self.output_names = [o.name for o in sess.get_outputs()]
        self.metadata = metadata
        self._shrink = shrink  # RunOptions that shrink the arena after the run

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        size = sum(np.size(v) for v in feeds.values())
        outs = self._sess.run(self.output_names, dict(feeds), self._shrink if size > SHRINK_ABOVE else None)
        return dict(zip(self.output_names, outs))

    async def run_async(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.run(feeds)


class OnnxRuntimeBackend:
    """`Backend` for CPython. `threads`: intra-op threads (default: all cores, at most 4)."""

    def __init__(self, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError as e:  # pragma: no cover - depends on the install
            raise LocalOCRError("onnxruntime is not installed: pip install onnxruntime", "no_backend") from e
        self._ort = ort
        # 4: past four threads the small models here gain little and the
        # machine's other work (another page, the UI) loses more
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.name = "onnxruntime-cpu"
        self.detail = f"onnxruntime {ort.__version__}, {self.threads} threads"

    def load(self, model: bytes, name: str, info: ModelInfo | None = None) -> OrtSession:
        info = info or read_model_info(model)  # a clear error for a non-ONNX file first
        opts = self._ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # errors only: no warnings on stderr for users
        try:
            sess = self._ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise LocalOCRError(f"The {name} model could not be loaded by onnxruntime: {e}", "bad_model") from e
        shrink = self._ort.RunOptions()
        shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return OrtSession(sess, info.metadata, shrink)
