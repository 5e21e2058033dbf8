"""Recognizer speed in onnxruntime-web (WASM) inside the app's worker, headless Chromium.

    python -m export.recognizer.bench_wasm [MODEL.onnx ...]   (default: the recognizer files in web/models)

For each model: session create, then a batch of 32 crops [32,1,32,256] run 1 warm-up + 5 times
from Python through the Pyodide backend (`run_async`), median ms; with cross-origin isolation
(threaded WASM, the app's thread count) and without (one thread). The same figure as the
export's CPython column (issue 5: "measure the same in onnxruntime-web WASM").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from export.detector import bench_wasm as bench_det_wasm

# bench_det_wasm's measurement, on the recognizer with a batch of 32 crops 32x256
CODE = bench_det_wasm.CODE.replace('"detector"', '"recognizer"').replace("(1, 3, 1024, 1024)", "(32, 1, 32, 256)")
assert '"recognizer"' in CODE and "(32, 1, 32, 256)" in CODE


def measure(paths: list[Path]) -> dict:
    """{file name: {"isolated"|"not isolated": {"threads", "ms_32x256"}}} (bench_det_wasm's harness)."""
    res = bench_det_wasm.measure(paths, CODE)
    # measure() names its figure after the detector's input; here it is 32 crops of 32x256
    return {k: {m: {"threads": v["threads"], "ms_32x256": v["ms_1024"]} for m, v in r.items()} for k, r in res.items()}


def main(argv=None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or sorted(
        (bench_det_wasm.ROOT / "web" / "models").glob("recognizer*.onnx")
    )
    print(json.dumps(measure(paths), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
