"""tools/pyc.py: archives served with Pyodide-compiled bytecode in place of their sources."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tools import pyc

ROOT = Path(__file__).resolve().parents[1]
CORE_DIR = ROOT / "web" / "vendor" / "pyodide"

PKG = {
    "pkg/__init__.py": b'"""The package\'s docstring."""\nVALUE = 41\n',
    "pkg/mod.py": (
        b'"""Module doc."""\n\n'
        b"def f(x):\n"
        b'    """f\'s doc."""\n'
        b"    assert x > 0, 'x must be positive'\n"
        b"    return x + 1\n\n"
        b"class C:\n"
        b'    """Only a docstring."""\n'
    ),
    "pkg/data.txt": b"not Python\n",
    "pkg-1.0.dist-info/RECORD": b"pkg/__init__.py,sha256=x,40\npkg/mod.py,sha256=y,9\npkg/data.txt,,\n"
    b"pkg-1.0.dist-info/RECORD,,\n",
}


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10)), data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def core() -> dict[str, bytes]:
    if shutil.which("node") is None or not (CORE_DIR / "pyodide.asm.wasm").exists():
        pytest.fail("Node.js and web/vendor are needed: run `make test`")
    return {name: (CORE_DIR / name).read_bytes() for name in pyc.CORE}


def _run_in_pyodide(tmp_path: Path, archive: bytes, code: str) -> dict:
    """Unpack `archive` into Pyodide's site-packages (in Node), run `code`, return its `result` as JSON."""
    (tmp_path / "pkg.zip").write_bytes(archive)
    script = tmp_path / "run.mjs"
    script.write_text(
        f"""
import {{ loadPyodide }} from {json.dumps((CORE_DIR / "pyodide.mjs").as_uri())};
import {{ readFileSync }} from "node:fs";
const py = await loadPyodide({{ indexURL: {json.dumps(str(CORE_DIR) + "/")} }});
py.FS.writeFile("/tmp/pkg.zip", readFileSync({json.dumps(str(tmp_path / "pkg.zip"))}));
try {{
  py.runPython(`import zipfile; zipfile.ZipFile("/tmp/pkg.zip").extractall("{pyc.SITE_ROOT}")`);
  py.runPython({json.dumps(code)});
  console.log("RESULT " + py.globals.get("result"));
}} catch (e) {{
  console.log("ERROR " + String(e.message).trim().split("\\n").slice(-1)[0]);
}}
"""
    )
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith(("RESULT ", "ERROR "))), "no output")
    assert line.startswith("RESULT "), line
    return json.loads(line[len("RESULT ") :])


def test_sources_become_bytecode_the_rest_stays_and_record_follows(core, tmp_path):
    src = make_zip(PKG)
    out = pyc.compile_archive(src, pyc.SITE_ROOT, core, cache=tmp_path / "cache")
    z = zipfile.ZipFile(io.BytesIO(out))
    assert z.namelist() == ["pkg/__init__.pyc", "pkg/mod.pyc", "pkg/data.txt", "pkg-1.0.dist-info/RECORD"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert z.read("pkg/data.txt") == PKG["pkg/data.txt"]
    header = z.read("pkg/mod.pyc")[:8]
    assert header[:4] == (3531).to_bytes(2, "little") + b"\r\n"  # CPython 3.12's magic number
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, unchecked (PEP 552)
    record = z.read("pkg-1.0.dist-info/RECORD").decode().splitlines()
    body = z.read("pkg/mod.pyc")
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
    assert f"pkg/mod.pyc,sha256={digest},{len(body)}" in record
    assert "pkg/data.txt,," in record and not any(line.startswith("pkg/mod.py,") for line in record)
    # the same inputs give the same bytes, cached or not
    assert pyc.compile_archive(src, pyc.SITE_ROOT, core, cache=tmp_path / "cache") == out
    assert pyc.compile_archive(src, pyc.SITE_ROOT, core) == out


def test_compiled_modules_import_in_pyodide_with_or_without_docstrings(core, tmp_path):
    code = """
import json, traceback
import pkg, pkg.mod
try:
    pkg.mod.f(-1)
    failed = None
except AssertionError as e:
    failed = [str(e), traceback.extract_tb(e.__traceback__)[-1].filename]
result = json.dumps({"value": pkg.VALUE, "f": pkg.mod.f(1), "docs": [pkg.__doc__, pkg.mod.__doc__,
    pkg.mod.f.__doc__, pkg.mod.C.__doc__], "assert": failed, "file": pkg.mod.__file__})
"""
    kept = _run_in_pyodide(tmp_path, pyc.compile_archive(make_zip(PKG), pyc.SITE_ROOT, core), code)
    assert kept["value"] == 41 and kept["f"] == 2
    assert kept["docs"] == ["The package's docstring.", "Module doc.", "f's doc.", "Only a docstring."]
    assert kept["assert"] == ["x must be positive", f"{pyc.SITE_ROOT}/pkg/mod.py"]
    assert kept["file"] == f"{pyc.SITE_ROOT}/pkg/mod.pyc"
    stripped = pyc.compile_archive(make_zip(PKG), pyc.SITE_ROOT, core, strip_docstrings=True)
    got = _run_in_pyodide(tmp_path, stripped, code)
    assert got["docs"] == [None, None, None, None]
    assert got["assert"] == kept["assert"] and got["f"] == 2  # unlike -OO, asserts stay


def test_a_source_that_does_not_compile_is_named(core):
    bad = make_zip({"pkg/__init__.py": b"", "pkg/broken.py": b"def f(:\n"})
    with pytest.raises(pyc.PycError, match="broken.py"):
        pyc.compile_archive(bad, pyc.SITE_ROOT, core)


def test_served_archives_carry_no_sources():
    """What the worker loads: the stdlib zip and the wheels hold bytecode, no `.py` left."""
    vendor = ROOT / "web" / "vendor"
    index = json.loads((vendor / "runtime.json").read_text())
    archives = [*sorted((vendor / "pyodide").glob("*.whl")), vendor / "pyodide" / "python_stdlib.zip"]
    archives.append(vendor / index["localocr_wheel"])
    for path in archives:
        names = zipfile.ZipFile(path).namelist()
        assert any(n.endswith(".pyc") for n in names), path.name
        assert not [n for n in names if n.endswith(".py")], path.name
