"""Measure the browser runtime in headless Chromium, with and without cross-origin isolation.

    python -m tools.bench_runtime [--runs 5] [--json out.json]      (or: make bench-runtime)

Per run, a fresh browser context (empty HTTP cache) loads the app from serve.py and the worker reports:
- bytes: body bytes of every runtime file the page and its worker fetched (resource timing), as sent
  (compressed, `encodedBodySize`) and unpacked (`decodedBodySize`), after the first ORT session;
- pyodide_boot_ms: loadPyodide(); packages_ms: loadPackage(numpy, pillow) + `import numpy, PIL.Image`;
- ort_session_first_ms: the first InferenceSession.create (fetches and compiles ORT's wasm) of a small
  conv model; ort_session_ms: a second create of the same model (wasm ready);
- bridge_overhead_ms: per call, a 1x1x640x640 float32 Relu model run from Python (`run_async`: numpy
  in as a buffer view, numpy out) minus the same run from JS alone (median of 21 calls each, interleaved,
  after 3 warm-up calls).
Prints the median of the runs for each figure.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
from pathlib import Path

from onnx import TensorProto, helper, numpy_helper

from tools.browser import chromium, open_app, serving, wait_ready, worker_exec

ROOT = Path(__file__).resolve().parent.parent

CALLS = 21  # calls per bridge timing: odd, so the median is one measured call


def relu_model() -> bytes:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 640, 640])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 640, 640])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def conv_model() -> bytes:
    import numpy as np

    w = np.random.default_rng(0).standard_normal((16, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, "H", "W"])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


WORKER_CODE = """
import base64
import numpy as np
import localocr_bench
from pyodide.ffi import to_js
from localocr.backends.pyodide import PyodideBackend

backend = PyodideBackend()
now = localocr_bench.now
conv = base64.b64decode(CONV)
t = now(); await backend.load_async(conv, "conv"); first = now() - t
t = now(); await backend.load_async(conv, "conv"); second = now() - t
s = await backend.load_async(base64.b64decode(RELU), "relu")
x = np.random.default_rng(0).standard_normal((1, 1, 640, 640)).astype(np.float32)
for _ in range(3):
    await s.run_async({"x": x})
from js import Float32Array
data = Float32Array.new(x.size)
data.assign(x)   # a JS-owned copy of x, made once
tensor = localocr_bench.tensorFromArray("float32", data, to_js([1, 1, 640, 640]))
times, js_times = [], []
for _ in range(CALLS):   # interleaved, so that load from other processes hits both alike
    t = now(); await s.run_async({"x": x}); times.append(now() - t)
    js_times.append(await localocr_bench.timeRuns(s._js, "x", tensor, 1))
js_ms = sorted(js_times)[CALLS // 2]
py_ms = sorted(times)[CALLS // 2]
{"ort_session_first_ms": first, "ort_session_ms": second, "run_python_ms": py_ms, "run_js_ms": js_ms,
 "bridge_overhead_ms": py_ms - js_ms}
"""


def one_run(browser, base: str) -> dict:
    context, page = open_app(browser, base)
    try:
        info = wait_ready(page)
        code = (
            f"CONV = {base64.b64encode(conv_model()).decode()!r}\nRELU = {base64.b64encode(relu_model()).decode()!r}\n"
            f"CALLS = {CALLS}\n" + WORKER_CODE
        )
        figures = worker_exec(page, code)
        worker = page.evaluate("localocr.resources()")
        own = page.evaluate("""performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
            .map(e => ({url: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))""")
    finally:
        context.close()
    files = worker + own
    t = info["timings"]
    return {
        "threads": info["threads"],
        "crossOriginIsolated": info["crossOriginIsolated"],
        "bytes_compressed": sum(f["encoded"] for f in files),
        "bytes_raw": sum(f["decoded"] for f in files),
        "files": len(files),
        "pyodide_boot_ms": t["pyodide_boot_ms"],
        "packages_ms": t["packages_load_ms"] + t["packages_import_ms"],
        "packages_load_ms": t["packages_load_ms"],
        "packages_import_ms": t["packages_import_ms"],
        **figures,
    }


def bench(runs: int) -> dict:
    results = {}
    with chromium() as browser:
        for mode, isolation in (("isolated", True), ("not isolated", False)):
            with serving(ROOT / "web", isolation=isolation) as (base, _server):
                rows = [one_run(browser, base) for _ in range(runs)]
            results[mode] = {
                "runs": rows,
                "median": {
                    k: statistics.median(r[k] for r in rows) for k in rows[0] if isinstance(rows[0][k], (int, float))
                },
            }
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write every run here")
    args = ap.parse_args(argv)
    from tools import runtime

    runtime.pack_package()
    results = bench(args.runs)
    keys = [
        "threads",
        "bytes_compressed",
        "bytes_raw",
        "pyodide_boot_ms",
        "packages_load_ms",
        "packages_import_ms",
        "packages_ms",
        "ort_session_first_ms",
        "ort_session_ms",
        "run_js_ms",
        "run_python_ms",
        "bridge_overhead_ms",
    ]
    print(f"median of {args.runs} runs, headless Chromium ({'/'.join(results)})")
    for k in keys:
        cells = []
        for mode in results:
            v = results[mode]["median"][k]
            cells.append(
                f"{v:>14,.0f}" if k.startswith("bytes") else f"{v:>14.2f}" if isinstance(v, float) else f"{v:>14}"
            )
        print(f"{k:22s}" + "".join(cells))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
