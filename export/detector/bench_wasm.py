"""Detector speed in onnxruntime-web (WASM) inside the app's worker, headless Chromium.

    python -m export.detector.bench_wasm [MODEL.onnx ...]   (default: the detector files in web/models)

For each model: session create, then a [1,3,1024,1024] input run 1 warm-up + 5 times from
Python through the Pyodide backend (`run_async`), median ms; with cross-origin isolation
(threaded WASM, the app's thread count) and without (one thread).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from tools.browser import chromium, open_app, serving, wait_ready, worker_exec

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import base64
import numpy as np
import localocr_bench
from localocr.backends.pyodide import PyodideBackend
now = localocr_bench.now
s = await PyodideBackend().load_async(base64.b64decode(MODEL), "detector")
x = np.random.default_rng(0).standard_normal((1, 3, 1024, 1024)).astype(np.float32)
await s.run_async({"image": x})
ts = []
for _ in range(5):
    t = now(); await s.run_async({"image": x}); ts.append(now() - t)
sorted(ts)[2]
"""


def measure(paths: list[Path], code: str = CODE) -> dict:
    """{file name: {"isolated"|"not isolated": {"threads", "ms_1024"}}}; `code`: the Python run in the
    worker for each model (MODEL holds its base64 bytes; it returns the median ms)."""
    res: dict = {}
    with chromium() as browser:
        for mode, iso in (("isolated", True), ("not isolated", False)):
            with serving(ROOT / "web", isolation=iso) as (base, _):
                for p in paths:
                    context, page = open_app(browser, base)
                    try:
                        info = wait_ready(page)
                        run = f"MODEL = {base64.b64encode(p.read_bytes()).decode()!r}\n" + code
                        ms = worker_exec(page, run)
                    finally:
                        context.close()
                    res.setdefault(p.name, {})[mode] = {"threads": info["threads"], "ms_1024": round(float(ms), 1)}
                    print(p.name, mode, res[p.name][mode], flush=True)
    return res


def main(argv=None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or sorted(
        (ROOT / "web" / "models").glob("detector*.onnx")
    )
    print(json.dumps(measure(paths), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
