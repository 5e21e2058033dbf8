"""tools/precache.py: the service worker's file list, sha256 and version."""

from __future__ import annotations

import hashlib
import json

from tools import precache


def site(tmp_path):
    for name, data in {
        "index.html": b"<!doctype html>",
        "app.js": b"1",
        "sw.js": b"sw",
        "README.md": b"no",
        "icons/icon-192.png": b"png",
        "vendor/pyodide/pyodide.asm.wasm": b"\0asm",
        "vendor/pyodide/pyodide.asm.wasm.br": b"br",
        "vendor/runtime.json": b"{}",
        "vendor/ort-webgpu/ort.webgpu.min.mjs": b"only where WebGPU runs",
        "models/detector.onnx": b"fp32",
        "models/detector.int8.onnx": b"int8",
        "models/recognizer.onnx": b"rec",
        "models/card.md": b"card",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return tmp_path


def load(path):
    text = (path / "precache.js").read_text()
    return json.loads(text[text.index("= ") + 2 : text.rindex(";")])


def test_lists_what_the_app_loads_with_sha256(tmp_path):
    web = site(tmp_path)
    data = precache.write(web)
    assert [f["url"] for f in data["files"]] == [
        "app.js",
        "icons/icon-192.png",
        "index.html",
        "models/detector.int8.onnx",
        "models/recognizer.onnx",
        "vendor/pyodide/pyodide.asm.wasm",
        "vendor/runtime.json",
    ]
    wasm = next(f for f in data["files"] if f["url"].endswith(".wasm"))
    assert wasm["sha256"] == hashlib.sha256(b"\0asm").hexdigest() and wasm["bytes"] == 4
    assert data["bytes"] == sum(f["bytes"] for f in data["files"])
    assert load(web) == data


def test_version_follows_every_listed_byte_and_sw_js(tmp_path):
    web = site(tmp_path)
    a = precache.write(web)["version"]
    mtime = (web / "precache.js").stat().st_mtime_ns
    assert precache.write(web)["version"] == a and (web / "precache.js").stat().st_mtime_ns == mtime  # unchanged
    (web / "models" / "recognizer.onnx").write_bytes(b"rec2")
    b = precache.write(web)["version"]
    (web / "sw.js").write_bytes(b"sw2")
    c = precache.write(web)["version"]
    (web / "README.md").write_bytes(b"not listed")
    assert len({a, b, c}) == 3 and precache.write(web)["version"] == c
