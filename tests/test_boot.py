"""tools/boot.py: the worker's start-up plan (boot.json), written with the precache list."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from test_precache import load, site

from tools import boot, precache


def with_runtime(tmp_path):
    web = site(tmp_path)
    wheels = {"numpy-2.0.2-x.whl": b"numpy", "pillow-10.2.0-x.whl": b"pillow", "dep-1-x.whl": b"dep"}
    for name, data in wheels.items():
        (web / "vendor" / "pyodide" / name).write_bytes(data)
    lock = {
        "info": {},
        "packages": {
            "numpy": {
                "name": "numpy",
                "file_name": "numpy-2.0.2-x.whl",
                "depends": [],
                "sha256": hashlib.sha256(b"numpy").hexdigest(),
            },
            "pillow": {
                "name": "Pillow",
                "file_name": "pillow-10.2.0-x.whl",
                "depends": ["dep"],
                "sha256": hashlib.sha256(b"pillow").hexdigest(),
            },
            "dep": {
                "name": "dep",
                "file_name": "dep-1-x.whl",
                "depends": [],
                "sha256": hashlib.sha256(b"dep").hexdigest(),
            },
        },
    }
    (web / "vendor" / "pyodide" / "pyodide-lock.json").write_text(json.dumps(lock))
    (web / "vendor" / "runtime.json").write_text(json.dumps({"localocr_wheel": "py/localocr-0.1.0-py3-none-any.whl"}))
    (web / "vendor" / "ort").mkdir()
    (web / "vendor" / "ort" / "ort-wasm-simd-threaded.wasm").write_bytes(b"\0asm")
    return web


def test_plan_lists_the_wheels_with_their_integrity_and_the_models_the_worker_loads(tmp_path):
    web = with_runtime(tmp_path)
    plan = boot.plan(web)
    urls = [p["url"] for p in plan["preload"]]
    assert urls == [
        "vendor/pyodide/pyodide.asm.wasm",
        "vendor/pyodide/python_stdlib.zip",
        "vendor/pyodide/pyodide-lock.json",
        "vendor/pyodide/numpy-2.0.2-x.whl",
        "vendor/pyodide/dep-1-x.whl",
        "vendor/pyodide/pillow-10.2.0-x.whl",  # a dependency first
        "vendor/py/localocr-0.1.0-py3-none-any.whl",
    ]
    pillow = next(p for p in plan["preload"] if "pillow" in p["url"])
    # the SRI string Pyodide passes to fetch() for this wheel, so the preloaded response is checked too
    assert pillow["integrity"] == "sha256-" + base64.b64encode(hashlib.sha256(b"pillow").digest()).decode()
    assert plan["packages"] == ["numpy", "pillow"]
    assert plan["ort"] == {"wasm": "vendor/ort/ort-wasm-simd-threaded.wasm"}
    # the same model per kind as the service worker precaches: int8 where it exists
    assert plan["models"] == {"detector": "models/detector.int8.onnx", "recognizer": "models/recognizer.onnx"}
    assert plan["localocr_wheel"] == "vendor/py/localocr-0.1.0-py3-none-any.whl"


def test_written_with_the_precache_list_which_lists_it(tmp_path):
    web = with_runtime(tmp_path)
    data = precache.write(web)
    assert json.loads((web / "boot.json").read_text()) == boot.plan(web)
    assert "boot.json" in [f["url"] for f in data["files"]] and load(web) == data


def test_no_plan_without_a_runtime_and_a_clear_error_for_a_missing_package(tmp_path):
    assert boot.plan(site(tmp_path)) is None  # no pyodide-lock.json: nothing to plan
    web = with_runtime(tmp_path)
    (web / "vendor" / "pyodide" / "pyodide-lock.json").write_text(json.dumps({"packages": {}}))
    with pytest.raises(SystemExit, match="no package 'numpy'"):
        boot.plan(web)


def test_the_set_up_runtime_plan_names_files_that_exist():
    web = precache.WEB
    if not (web / "vendor" / "runtime.json").exists():
        pytest.skip("web/vendor is not set up")
    plan = boot.plan(web)
    for entry in plan["preload"]:
        assert (web / entry["url"]).is_file(), entry
    for url in [*plan["ort"].values(), *plan["models"].values()]:
        assert (web / url).is_file(), url
