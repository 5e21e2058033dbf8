"""The one interface between the pipeline and an inference engine.

A `Backend` turns model bytes into a `Session`; a `Session` runs named numpy
arrays and gives back named numpy arrays. Implementations:

- `onnxruntime.py`  CPython onnxruntime (library, CLI, tests, benchmark)
- `fake.py`         pure numpy stand-ins, to test pre/post-processing without weights
- `pyodide.py`      onnxruntime-web through Pyodide's JS bridge (browser worker)

In the browser an inference call returns a JS promise, so a session may offer
`run_async` instead of (or besides) `run`. The pipeline is written as generator
stages that *yield* `(session, feeds)` and receive the outputs, and two small
drivers (sync and async) feed them: one pipeline, both runtimes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ..contract.onnxfile import ModelInfo


@runtime_checkable
class Session(Protocol):
    input_names: list[str]
    output_names: list[str]
    metadata: dict[str, str]  # the model's metadata_props (see contract/keys.py)

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model (synchronously). Async sessions may raise here and offer run_async."""
        ...


@runtime_checkable
class Backend(Protocol):
    name: str  # what ran, for the result: e.g. "onnxruntime-cpu", "wasm", "webgpu"
    detail: str  # e.g. "2 threads"; why a faster backend was not used

    def load(self, model: bytes, name: str, info: ModelInfo | None = None) -> Session:
        """Create a session from the model's bytes. `name` is for messages; `info`: the bytes as
        localocr.contract.onnxfile read them already (models.load_model parses a model once)."""
        ...
