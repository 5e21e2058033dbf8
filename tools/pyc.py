"""Served archives with bytecode in place of Python sources: the browser worker imports without
compiling.

Why: Pyodide's python_stdlib.zip and its numpy/Pillow wheels ship `.py` sources only, so every start
of the worker compiled each module it imported, in WebAssembly: measured in Node with Pyodide 0.27.7,
`loadPyodide` 1.25 s -> 0.46 s with a compiled stdlib, `import numpy, PIL.Image` 0.33 s -> 0.14 s
with compiled wheels.

Contract:
- `compile_archive(data, root, runtime)` returns the zip `data` with every `.py` entry replaced by
  its `.pyc` at the same place (sourceless: CPython's zipimport and FileFinder load `mod.pyc` and
  `pkg/__init__.pyc` without a source), stored, other entries byte-identical and in the same order;
  a wheel's RECORD names the `.pyc` files with their sha256 and size. `root` is where the archive's
  entries live in the worker (`/lib/python312.zip` or site-packages): the code objects carry that
  path, so tracebacks name the real module (without source lines).
- Compiled by Pyodide's own Python (tools/pyc.mjs, in Node), so the magic number and the bytecode
  are those of the interpreter that runs them; `runtime` is {name: bytes} of its verified core files.
  Unchecked-hash pycs and a fixed hash seed: the same inputs give the same bytes, which
  tools/runtime.json pins. Results are cached by the sha256 of everything that went in.
- Node.js is needed (as it is for fetching the runtime with npm); without it, or on a source that
  does not compile, `PycError` says what to do.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).with_suffix(".mjs")
# The files tools/pyc.mjs boots Pyodide from (keys: their names in the runtime manifest, "pyodide/...").
CORE = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
STDLIB_ROOT = "/lib/python312.zip"
SITE_ROOT = "/lib/python3.12/site-packages"


class PycError(Exception):
    """Bytecode could not be made; the message says why and what to do."""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def _compile(
    sources: dict[str, bytes], filenames: dict[str, str], runtime: dict[str, bytes], strip_docstrings: bool
) -> dict[str, bytes]:
    """{name.py: source} -> {name.pyc: bytecode}, by Pyodide in Node."""
    node = shutil.which("node")
    if node is None:
        raise PycError("Node.js (`node`) is needed to compile the worker's Python to bytecode: install nodejs")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        core = tmpdir / "pyodide"
        core.mkdir()
        for name in CORE:
            (core / name).write_bytes(runtime[name])
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for name, data in sources.items():
                z.writestr(name, data)
            z.writestr("__filenames__.json", json.dumps(filenames))
            z.writestr("__options__.json", json.dumps({"strip_docstrings": strip_docstrings}))
        (tmpdir / "in.zip").write_bytes(buf.getvalue())
        proc = subprocess.run(
            [node, str(SCRIPT), str(core), str(tmpdir / "in.zip"), str(tmpdir / "out.zip")],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            # the last line (the Python error), cut short: Node may print Pyodide's minified source
            lines = (proc.stderr or proc.stdout or "no output").strip().splitlines()
            raise PycError(f"compiling Python to bytecode with Pyodide failed: {lines[-1][:300]}")
        with zipfile.ZipFile(tmpdir / "out.zip") as z:
            return {name: z.read(name) for name in z.namelist()}


def compile_archive(
    data: bytes, root: str, runtime: dict[str, bytes], cache: Path | None = None, strip_docstrings: bool = False
) -> bytes:
    """`data` (a zip: stdlib or wheel) with its `.py` entries compiled; see the module docstring."""
    key = hashlib.sha256()
    for part in (data, root.encode(), bytes([strip_docstrings]), SCRIPT.read_bytes(), *(runtime[n] for n in CORE)):
        key.update(hashlib.sha256(part).digest())
    cached = cache / "pyc" / f"{key.hexdigest()}.zip" if cache else None
    if cached is not None and cached.exists():
        return cached.read_bytes()

    src = zipfile.ZipFile(io.BytesIO(data))
    infos = src.infolist()
    sources = {i.filename: src.read(i) for i in infos if i.filename.endswith(".py")}
    filenames = {name: f"{root}/{name}" for name in sources}
    compiled = _compile(sources, filenames, runtime, strip_docstrings) if sources else {}
    out_entries: list[tuple[zipfile.ZipInfo, bytes]] = []
    record_at = None
    for info in infos:
        name = info.filename
        body = src.read(info)
        if name in sources:
            name = name[:-3] + ".pyc"
            body = compiled[name]
        elif name.endswith(".dist-info/RECORD"):
            record_at = len(out_entries)
        new = zipfile.ZipInfo(name, date_time=info.date_time)
        new.compress_type = zipfile.ZIP_STORED
        new.external_attr = info.external_attr
        new.create_system = info.create_system
        out_entries.append((new, body))
    if record_at is not None:
        info, body = out_entries[record_at]
        lines = []
        for line in body.decode("utf-8").splitlines(keepends=True):
            path = line.split(",", 1)[0]
            lines.append(_record_line(path[:-3] + ".pyc", compiled[path[:-3] + ".pyc"]) if path in sources else line)
        out_entries[record_at] = (info, "".join(lines).encode("utf-8"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for info, body in out_entries:
            z.writestr(info, body)
    result = buf.getvalue()
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(result)
    return result
