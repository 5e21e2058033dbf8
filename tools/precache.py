"""The service worker's precache manifest: every file the app needs offline, with its sha256.

Contract:
- `write(directory)` writes `directory/precache.js`, a classic script that sets
  `self.LOCALOCR_PRECACHE = {version, bytes, files: [{url, sha256, bytes}]}`; `web/sw.js` loads it
  with `importScripts`, so the browser's update check (which compares the worker script and its
  imports byte for byte) sees a new version whenever any listed file, or sw.js itself, changes.
- URLs are relative to the app root (where sw.js sits): the same manifest works at `/` and under a
  sub-path such as `/tools/ocr/`.
- Listed: the app shell (the files at the root of web/ and web/icons/), the runtime under vendor/
  (without the .br/.gz siblings: the browser stores decoded bodies, and without the WebGPU build,
  `NOT_PRECACHED`), and one model per kind, the one
  the worker would load (`<kind>.int8.onnx` if present, else `<kind>.onnx`).
- `version` is `<localocr version>-<12 hex of the sha256 over the listed files and sw.js>`: it names
  the cache, so two builds that differ in any byte never share one.
- The file is rewritten only when its content changes (its mtime drives HTTP revalidation).

Called by tools/runtime.py (set-up), serve.py (`--build`, and on each request for /precache.js from
the development tree, so edits show up), and the tests. `python -m tools.precache [DIR]`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
NAME = "precache.js"
SW = "sw.js"
# Top-level app shell files by type; sw.js and precache.js are the service worker's own scripts,
# which the browser fetches itself (never from a cache).
SHELL_TYPES = {".html", ".js", ".mjs", ".css", ".webmanifest", ".png", ".svg", ".ico", ".json"}
SKIP_SUFFIXES = {".br", ".gz", ".tmp"}
# For developers, not for the app: the page JSON's schema and the built folder's npm package.json
# (localocr.d.ts and the other .d.ts are not of a shell type).
NOT_APP = ("page.schema.json", "package.json")
MODEL_KINDS = ("detector", "recognizer", "accurate")   # accurate: the optional second recognizer tier
# onnxruntime-web's WebGPU build (27 MB) is fetched only where a real WebGPU adapter exists
# (web/worker.js): precaching it would make every WASM-only visitor download it. Offline, such a
# device runs WASM and says why. pdf.js (vendor/pdfjs/, 2.9 MB) is loaded only when a PDF is
# opened (web/pdfpages.js), so first visits do not pay for it.
NOT_PRECACHED = ("vendor/ort-webgpu/", "vendor/pdfjs/")

_hash_cache: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """sha256 of a file, memoised by (path, mtime, size): the dev server asks on every request."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    hit = _hash_cache.get(key)
    if hit is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        hit = _hash_cache[key] = h.hexdigest()
    return hit


def listed_files(directory: Path) -> list[Path]:
    """The files the app needs offline (see the module docstring), sorted."""
    out = [p for p in directory.iterdir()
           if p.is_file() and p.suffix in SHELL_TYPES and p.name not in (NAME, SW, *NOT_APP) and not p.name.startswith(".")]
    for sub in ("icons", "vendor"):
        if (directory / sub).is_dir():
            out += [p for p in (directory / sub).rglob("*")
                    if p.is_file() and p.suffix not in SKIP_SUFFIXES and not p.name.startswith(".")
                    and not p.relative_to(directory).as_posix().startswith(NOT_PRECACHED)]
    out += model_files(directory).values()
    return sorted(out)


def model_files(directory: Path) -> dict[str, Path]:
    """{kind: the model file the worker loads for it}: `<kind>.int8.onnx` if present, else
    `<kind>.onnx` (the worker takes these from boot.json; the same order as its fallback list)."""
    models = directory / "models"
    found = {}
    for kind in MODEL_KINDS:
        for name in (f"{kind}.int8.onnx", f"{kind}.onnx"):
            if (models / name).is_file():
                found[kind] = models / name
                break
    return found


def manifest(directory: Path = WEB) -> dict:
    from tools.runtime import package_version

    files = [{"url": p.relative_to(directory).as_posix(), "sha256": sha256_of(p), "bytes": p.stat().st_size}
             for p in listed_files(directory)]
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f['url']}\0{f['sha256']}\n".encode())
    if (directory / SW).is_file():
        h.update(f"{SW}\0{sha256_of(directory / SW)}\n".encode())
    # 12 hex digits (48 bits): enough to tell builds apart, short enough for a readable cache name.
    version = f"{package_version()}-{h.hexdigest()[:12]}"
    return {"version": version, "bytes": sum(f["bytes"] for f in files), "files": files}


def write(directory: Path = WEB) -> dict:
    """Write directory/boot.json (tools/boot.py: listed here too) and directory/precache.js, each if
    its content changed; return the manifest."""
    from tools import boot

    boot.write(directory)
    data = manifest(directory)
    text = ("// Generated by tools/precache.py: the files web/sw.js precaches, with their sha256. Do not edit.\n"
            f"self.LOCALOCR_PRECACHE = {json.dumps(data, indent=1)};\n")
    write_if_changed(directory / NAME, text)
    return data


def write_if_changed(path: Path, text: str) -> None:
    """Replace `path` atomically, only when its text changes (its mtime drives HTTP revalidation)."""
    if not path.exists() or path.read_text() != text:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    directory = Path(argv[0]) if argv else WEB
    data = write(directory)
    print(f"{directory / NAME}: version {data['version']}, {len(data['files'])} files, {data['bytes']:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
