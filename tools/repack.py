"""Smaller derived copies of Pyodide's python_stdlib.zip and its numpy/Pillow wheels, and the
pyodide-lock.json that names them: fewer bytes on a first visit, same function.

Contract:
- Input: original bytes that tools/runtime.py has already verified (against tools/runtime.json and,
  for the wheels, against Pyodide's own lock file). Output: deterministic bytes (same input, same
  output), pinned in tools/runtime.json as `served_sha256` and re-checked by `runtime.verify`.
- `repack(data, rule)` rewrites a zip with every entry ZIP_STORED (uncompressed). The originals
  deflate each file alone, which brotli/gzip cannot improve; stored, the wire compression
  (tools/runtime.py writes .br/.gz siblings) sees the whole archive and finds what files share.
  Kept entries are byte-identical to the originals (same names, order, dates, attributes).
- Entries that cannot serve a browser worker are dropped: each rule below says why. Everything
  the pipeline imports stays (tests/test_repack.py checks that), and so does what user code run
  through the worker's `exec` plausibly needs (numpy.random/fft/linalg/ma/testing, all of PIL's
  plugins and FreeType, every codec, unittest, asyncio, xml, email, profiling). A wheel's RECORD loses
  the lines of its dropped files (the hashes of the rest stay valid).
- `served_lock(lock, wheels)` keeps Pyodide's lock file header and only the packages served, with the
  sha256 of the repacked wheels: `pyodide.loadPackage` checks each wheel against it. Asking for a
  package that is not served fails by name at once instead of with a 404 fetch.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """What to drop from one archive: {entry prefix or exact name: why}, {name suffix: why}."""

    prefixes: dict[str, str] = field(default_factory=dict)
    suffixes: dict[str, str] = field(default_factory=dict)

    def why_dropped(self, name: str) -> str | None:
        for prefix, why in self.prefixes.items():
            if name == prefix or (prefix.endswith("/") and name.startswith(prefix)):
                return why
        for suffix, why in self.suffixes.items():
            if name.endswith(suffix):
                return why
        return None


_DEAD = "PEP 594 dead battery: deprecated since 3.11, removed from Python 3.13"
_SOCKETS = "needs sockets or a server, which a browser worker has not"
_PROCESS = "needs processes or a terminal, which a browser worker has not"
_TERMINAL_DEV = "interactive developer tool for a terminal (stdin), which a browser worker has not"
_DEMO = "demo/joke module"

# Pyodide 0.27.7's python_stdlib.zip (Python 3.12 sources). Kept although useless here, because kept
# modules import them at the top: socketserver (logging.config), multiprocessing (concurrent.futures'
# process pool, and libraries that import it without using it).
STDLIB = Rule(
    prefixes={
        **{
            m: _DEAD
            for m in (
                "aifc.py",
                "cgi.py",
                "cgitb.py",
                "chunk.py",
                "crypt.py",
                "imghdr.py",
                "mailcap.py",
                "nntplib.py",
                "pipes.py",
                "sndhdr.py",
                "sunau.py",
                "telnetlib.py",
                "uu.py",
                "xdrlib.py",
            )
        },
        **{
            m: _SOCKETS
            for m in ("ftplib.py", "imaplib.py", "poplib.py", "smtplib.py", "http/server.py", "wsgiref/", "xmlrpc/")
        },
        **{m: _PROCESS for m in ("pty.py", "tty.py", "webbrowser.py")},
        **{
            m: _TERMINAL_DEV
            for m in (
                "pdb.py",
                "bdb.py",
                "doctest.py",
                "pydoc.py",
                "tabnanny.py",
                "pyclbr.py",
                "modulefinder.py",
                "compileall.py",
                "py_compile.py",
                "zipapp.py",
            )
        },
        **{m: _DEMO for m in ("antigravity.py", "this.py", "__hello__.py", "__phello__/")},
    }
)

_BUILD = "C/Cython build input (headers, static libraries, sources) for compiling extensions: no compiler in a browser"
_STUB = "typing stub, read by type checkers only"
_NUMPY_TEST_EXT = "extension module of numpy's own test suite (its tests are not shipped)"

# numpy 2.0.2 for Pyodide 0.27.7. numpy._core._multiarray_tests stays: _add_newdocs imports it.
# numpy.f2py stays too (it cannot compile anything here): `from numpy import *` imports it.
NUMPY = Rule(
    prefixes={
        "numpy/_pyinstaller/": "PyInstaller hooks",
        "numpy/_core/include/": _BUILD,
        "numpy/_core/lib/": _BUILD,
        "numpy/random/lib/": _BUILD,
        "numpy/random/_examples/": "examples of building against numpy.random (Cython, Numba, CFFI)",
        **{
            f"numpy/_core/{m}.cpython-312-wasm32-emscripten.so": _NUMPY_TEST_EXT
            for m in ("_umath_tests", "_rational_tests", "_struct_ufunc_tests", "_operand_flag_tests")
        },
    },
    suffixes={".pyi": _STUB, "/py.typed": _STUB, ".pxd": _BUILD, ".h": _BUILD, ".c": _BUILD, ".a": _BUILD},
)

# Pillow 10.2.0 for Pyodide 0.27.7.
PILLOW = Rule(
    prefixes={
        "PIL/_imagingtk.cpython-312-wasm32-emscripten.so": "Tk bindings: no Tk in a browser",
        "PIL/ImageTk.py": "Tk bindings: no Tk in a browser",
    },
    suffixes={".pyi": _STUB, "/py.typed": _STUB},
)

RULES = {"stdlib": STDLIB, "numpy": NUMPY, "pillow": PILLOW}


def _is_record(name: str) -> bool:
    return name.endswith(".dist-info/RECORD")


def _filter_record(data: bytes, dropped: set[str]) -> bytes:
    """RECORD without the lines of dropped files (the path is the text before the first comma;
    RECORD paths written by wheel builders contain no commas, which the assert makes sure of)."""
    lines = data.decode("utf-8").splitlines(keepends=True)
    kept = []
    for line in lines:
        path = line.split(",", 1)[0]
        assert '"' not in path, "a quoted RECORD path: extend _filter_record"
        if path not in dropped:
            kept.append(line)
    return "".join(kept).encode("utf-8")


def repack(data: bytes, rule: Rule) -> tuple[bytes, dict[str, str]]:
    """(the archive rewritten ZIP_STORED without the entries `rule` drops, {dropped name: why})."""
    src = zipfile.ZipFile(io.BytesIO(data))
    infos = src.infolist()
    dropped = {i.filename: why for i in infos if (why := rule.why_dropped(i.filename))}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for info in infos:
            if info.filename in dropped:
                continue
            body = src.read(info)
            if _is_record(info.filename):
                body = _filter_record(body, set(dropped))
            new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new.compress_type = zipfile.ZIP_STORED
            new.external_attr = info.external_attr
            new.create_system = info.create_system  # else the writing machine's OS: not reproducible
            out.writestr(new, body)
    return buf.getvalue(), dropped


def served_lock(lock: bytes, wheels: dict[str, bytes]) -> bytes:
    """Pyodide's lock file with only the packages whose wheel is in `wheels` ({file name: bytes}),
    each with its served sha256. Raises KeyError if a wheel has no entry in the lock."""
    data = json.loads(lock)
    by_file = {entry["file_name"]: key for key, entry in data["packages"].items()}
    packages = {}
    for name in sorted(wheels):
        key = by_file[name]
        entry = dict(data["packages"][key])
        entry["sha256"] = hashlib.sha256(wheels[name]).hexdigest()
        packages[key] = entry
    missing = {dep for entry in packages.values() for dep in entry.get("depends", [])} - set(packages)
    if missing:
        raise ValueError(f"served packages depend on packages not served: {sorted(missing)}")
    data["packages"] = packages
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()


def derive(
    files: dict[str, bytes], manifest: dict, cache: Path | None = None
) -> tuple[dict[str, bytes], dict[str, dict[str, str]]]:
    """The served bytes of every runtime file: `files` ({dest: verified original bytes}) with each
    manifest entry that has `"repack": "<rule>"` repacked, then, where it has `"pyc": "stdlib" |
    "site"`, its sources compiled to bytecode for that place (tools/pyc.py, by the Pyodide in
    `files`; cached under `cache`; without docstrings where `"pyc_strip_docstrings": true`), and
    the one with `"repack": "lock"` (pyodide-lock.json) trimmed to the wheels served (entries with a `"lock"` key), naming their served sha256. Returns (served
    files, {dest: {dropped entry: why}})."""
    from tools import pyc

    specs = manifest["files"]
    served = dict(files)
    dropped: dict[str, dict[str, str]] = {}
    roots = {"stdlib": pyc.STDLIB_ROOT, "site": pyc.SITE_ROOT}
    for dest, spec in specs.items():
        rule = spec.get("repack")
        if rule is None or rule == "lock":
            continue
        if rule not in RULES:
            raise ValueError(f"{dest}: unknown repack rule {rule!r} (known: {', '.join(RULES)}, lock)")
        served[dest], dropped[dest] = repack(files[dest], RULES[rule])
        where = spec.get("pyc")
        if where is not None:
            if where not in roots:
                raise ValueError(f"{dest}: unknown pyc place {where!r} (known: {', '.join(roots)})")
            core = {name: files[f"pyodide/{name}"] for name in pyc.CORE}
            strip = bool(spec.get("pyc_strip_docstrings", False))
            served[dest] = pyc.compile_archive(served[dest], roots[where], core, cache, strip_docstrings=strip)
    for dest, spec in specs.items():
        if spec.get("repack") == "lock":
            wheels = {dest_w.rsplit("/", 1)[-1]: served[dest_w] for dest_w, s in specs.items() if "lock" in s}
            served[dest] = served_lock(files[dest], wheels)
    return served, dropped
