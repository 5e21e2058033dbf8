"""The worker's start-up plan, `boot.json`: every file the first image needs, so that the worker can
request them all at once, in its first moment, instead of one after another (issue 17).

Contract (`web/worker.js` reads it first, beside its own start):
- `packages`: the Pyodide packages the pipeline imports (`PACKAGES`), loaded by name from the served
  `pyodide-lock.json`;
- `preload`: [{url, integrity?}], the files fetched by `fetch()` on the way to the first result:
  Pyodide's wasm, stdlib and lock file, the packages' wheels (with the SRI string Pyodide itself
  passes, from the served lock, so the browser still checks each wheel) and the localocr wheel.
  Scripts (`*.mjs`, `pyodide.asm.js`) are not listed: `import()` does not go through `fetch()`;
- `ort`: {build: the onnxruntime-web wasm file that build fetches}: preloaded once the worker has
  chosen its backend (the WebGPU build's file only where WebGPU is used);
- `models`: {kind: URL}, the model the worker loads for each kind when the page names none, by the
  same rule as the service worker's precache list (`model_files`, by localocr.contract.models.model_file);
- `model_file_names`: the rule behind `models` (localocr.contract.models.MODEL_FILE_NAMES, `{kind}` filled in),
  which the worker tries where a host serves another file than the one listed;
- `localocr_wheel`: the packed localocr wheel (from `vendor/runtime.json`).
URLs are relative to the folder of `boot.json` (the app root, beside `worker.js`).

Written by `tools.precache.write` (set-up, `serve.py --build`, and the development server on each
request for `/boot.json` or `/precache.js`), before the precache list, which then lists it too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from localocr.contract.models import MODEL_FILE_NAMES, model_file

from tools.files import write_if_changed

NAME = "boot.json"
PACKAGES = ("numpy", "pillow")  # what py/localocr imports besides the standard library
PYODIDE = "vendor/pyodide/"
PYODIDE_FETCHED = ("pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")  # loadPyodide's fetch() calls
ORT_BUILDS = {"wasm": "vendor/ort/", "webgpu": "vendor/ort-webgpu/"}


def sri(sha256_hex: str) -> str:
    """The Subresource Integrity string for a sha256 given in hex (as pyodide-lock.json has it)."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def wheels(lock: dict, names=PACKAGES) -> list[dict]:
    """The lock's wheels for `names` and everything they depend on, each once, dependencies first."""
    packages = lock["packages"]
    out, seen = [], set()

    def visit(name: str) -> None:
        key = name.lower()
        if key in seen:
            return
        if key not in packages:
            raise SystemExit(
                f"boot: {PYODIDE}pyodide-lock.json has no package {name!r}; re-run `python -m tools.runtime install`"
            )
        seen.add(key)
        for dep in packages[key].get("depends", []):
            visit(dep)
        out.append({"url": PYODIDE + packages[key]["file_name"], "integrity": sri(packages[key]["sha256"])})

    for name in names:
        visit(name)
    return out


MODEL_KINDS = ("detector", "recognizer", "accurate")  # accurate: the optional second recognizer tier


def model_files(directory: Path) -> dict[str, Path]:
    """{kind: the model file the worker loads for it} (localocr.contract.models.model_file: int8 first; the
    worker takes these from boot.json)."""
    found = {kind: model_file(directory / "models", kind) for kind in MODEL_KINDS}
    return {kind: path for kind, path in found.items() if path is not None}


def plan(directory: Path) -> dict | None:
    """boot.json's content for the app in `directory`, or None where its runtime is not laid out."""
    vendor = directory / "vendor"
    lock_path, index_path = vendor / "pyodide" / "pyodide-lock.json", vendor / "runtime.json"
    if not (lock_path.is_file() and index_path.is_file()):
        return None
    wheel = "vendor/" + json.loads(index_path.read_text())["localocr_wheel"]
    preload = [{"url": PYODIDE + name} for name in PYODIDE_FETCHED]
    preload += wheels(json.loads(lock_path.read_text())) + [{"url": wheel}]
    ort = {}
    for build, folder in ORT_BUILDS.items():
        found = sorted((directory / folder).glob("*.wasm"))
        if found:
            ort[build] = folder + found[0].name
    models = {kind: path.relative_to(directory).as_posix() for kind, path in model_files(directory).items()}
    return {
        "packages": list(PACKAGES),
        "preload": preload,
        "ort": ort,
        "models": models,
        "model_file_names": list(MODEL_FILE_NAMES),
        "localocr_wheel": wheel,
    }


def write(directory: Path) -> dict | None:
    """Write directory/boot.json if its content changed (its mtime drives HTTP revalidation)."""
    data = plan(directory)
    if data is None:
        return None
    write_if_changed(directory / NAME, json.dumps(data, indent=1) + "\n")
    return data
