"""onnxruntime-web behind the Backend/Session protocol, through Pyodide's JS bridge (browser worker).

Only importable inside Pyodide, in web/worker.js, which registers the JS half as the module
`localocr_js` (createSession, tensorFromBuffer, run, info). Inference returns a JS promise, so the
session offers `run_async`; `run` raises with a pointer to it (the pipeline's async driver awaits
`session.run_async(feeds)`).

Data path per call:
- in: each numpy array is made C-contiguous (copied only if it is not) and handed to JS as a PyProxy;
  JS takes `getBuffer()` - a typed-array *view* of the array's memory in Pyodide's heap, no copy -
  and wraps it in an `ort.Tensor`. onnxruntime-web copies it into its own WASM heap when the run starts
  (two WASM modules cannot share memory), then the view is released.
- out: each output tensor's typed array is copied once, straight into a fresh numpy array
  (`JsBuffer.assign_to`), and the JS tensor is disposed.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..contract.onnxfile import ModelInfo, read_model_info
from ..errors import LocalOCRError

try:  # present only in Pyodide, inside the worker
    import localocr_js
    from pyodide.ffi import create_proxy, to_js
except ImportError:  # pragma: no cover - CPython: this backend cannot exist there
    localocr_js = None

# numpy dtype -> (onnxruntime-web tensor type, PyProxy.getBuffer type) for the types our models use.
DTYPES = {
    np.dtype(np.float32): ("float32", "f32"),
    np.dtype(np.int64): ("int64", "i64"),
    np.dtype(np.int32): ("int32", "i32"),
    np.dtype(np.uint8): ("uint8", "u8"),
    np.dtype(np.bool_): ("bool", "u8"),
}
# onnxruntime-web tensor type -> numpy dtype, for the outputs.
OUT_DTYPES = {
    "float32": np.float32,
    "int64": np.int64,
    "int32": np.int32,
    "uint8": np.uint8,
    "bool": np.bool_,
    "float16": np.float16,
    "float64": np.float64,
    "int8": np.int8,
}


def _require_bridge():
    if localocr_js is None:
        raise LocalOCRError("the Pyodide backend runs only inside the localocr web worker", "no_backend")
    return localocr_js


class PyodideSession:
    """A model loaded into onnxruntime-web. Creation starts at construction; `run_async` awaits it.

    Names and metadata come from the ONNX bytes (`localocr.contract.onnxfile`, as on CPython), so they are
    there at once, before onnxruntime-web has finished creating the session.
    """

    def __init__(self, model: bytes, name: str, info: ModelInfo | None = None):
        bridge = _require_bridge()
        info = info or read_model_info(model)  # a clear error for a non-ONNX file, before JS sees it
        self.name = name
        self.input_names = [t.name for t in info.inputs]
        self.output_names = [t.name for t in info.outputs]
        self.metadata = info.metadata
        self._pending = bridge.createSession(to_js(model), name)  # a JS promise
        self._js = None

    async def ready(self) -> "PyodideSession":
        """Wait until onnxruntime-web has created the session."""
        if self._js is None:
            try:
                self._js = await self._pending
            except Exception as err:  # JsException: ORT rejected the bytes
                raise LocalOCRError(f"model {self.name} could not be loaded: {err}", "bad_model") from err
        return self

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise LocalOCRError("onnxruntime-web runs asynchronously: use `await session.run_async(feeds)`", "async_only")

    async def run_async(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model: named numpy arrays in, named numpy arrays out (contract of base.Session)."""
        await self.ready()
        bridge = localocr_js
        held = []  # (proxy, buffer release) pairs that must outlive the run
        js_feeds = []
        try:
            for name, array in feeds.items():
                array = np.ascontiguousarray(array)  # a view needs C order; copies only if not
                if array.dtype not in DTYPES:
                    raise LocalOCRError(f"{self.name}: input {name} has unsupported dtype {array.dtype}", "bad_input")
                ort_type, buf_type = DTYPES[array.dtype]
                proxy = create_proxy(array)
                made = bridge.tensorFromBuffer(proxy, ort_type, buf_type, to_js(list(array.shape)))
                held.append((proxy, made))
                js_feeds.append(to_js([name, made.tensor]))
            try:
                results = await bridge.run(self._js, to_js(js_feeds))
            except Exception as err:  # JsException from onnxruntime-web (shape/type errors, OOM)
                raise LocalOCRError(f"model {self.name} failed: {err}", "inference_failed") from err
        finally:
            for proxy, made in held:
                made.release()
                proxy.destroy()
        outputs = results.as_object_map()
        return {name: _to_numpy(outputs[name]) for name in self.output_names}


def _to_numpy(tensor) -> np.ndarray:
    """Copy one ort.Tensor (CPU location) into a new numpy array and free the JS tensor."""
    dtype = OUT_DTYPES.get(tensor.type)
    if dtype is None:
        raise LocalOCRError(f"unsupported output type {tensor.type}", "bad_model")
    out: np.ndarray = np.empty(tuple(int(d) for d in tensor.dims), dtype=dtype)
    if out.size:
        tensor.data.assign_to(out)  # one copy: JS typed array -> numpy memory
    tensor.dispose()
    return out


class PyodideBackend:
    """Backend for the browser worker: onnxruntime-web on WebGPU (a real adapter) or WASM (threads when
    isolated). `name`, `detail` and `threads` are read from the worker at each access: a WebGPU
    failure switches the sessions to WASM mid-page, and the page read then reports "wasm" and why."""

    def __init__(self):
        _require_bridge().info()

    @property
    def name(self) -> str:
        return str(localocr_js.info().name)

    @property
    def detail(self) -> str:
        return str(localocr_js.info().detail)

    @property
    def threads(self) -> int:
        return int(localocr_js.info().threads)

    def load(self, model: bytes, name: str, info: ModelInfo | None = None) -> PyodideSession:
        """Start creating the session and return it at once; `run_async` waits for it to be ready."""
        return PyodideSession(bytes(model), name, info)

    async def load_async(self, model: bytes, name: str) -> PyodideSession:
        """Create the session and wait until onnxruntime-web has it."""
        return await PyodideSession(bytes(model), name).ready()
