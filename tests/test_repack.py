"""tools/repack.py: the served python_stdlib.zip, numpy/Pillow wheels and lock file are smaller,
reproducible copies of the verified originals that keep everything the pipeline imports."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools import repack, runtime
from tools.files import sha256_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


WHEEL = {
    "pkg/__init__.py": b"x = 1\n" * 50,
    "pkg/__init__.pyi": b"x: int\n",
    "pkg/include/a.h": b"int a;\n",
    "pkg/sub/mod.py": b"y = 2\n",
    "pkg-1.0.dist-info/RECORD": b"pkg/__init__.py,sha256=abc,300\npkg/__init__.pyi,sha256=def,7\n"
    b"pkg/include/a.h,,\npkg/sub/mod.py,sha256=ghi,6\npkg-1.0.dist-info/RECORD,,\n",
}
RULE = repack.Rule(prefixes={"pkg/include/": "headers"}, suffixes={".pyi": "stub"})


def test_repack_stores_kept_entries_unchanged_and_drops_by_rule():
    out, dropped = repack.repack(make_zip(WHEEL), RULE)
    assert dropped == {"pkg/__init__.pyi": "stub", "pkg/include/a.h": "headers"}
    z = zipfile.ZipFile(io.BytesIO(out))
    assert z.namelist() == ["pkg/__init__.py", "pkg/sub/mod.py", "pkg-1.0.dist-info/RECORD"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert z.testzip() is None
    assert z.read("pkg/__init__.py") == WHEEL["pkg/__init__.py"]
    assert z.getinfo("pkg/sub/mod.py").date_time == (2024, 5, 6, 7, 8, 10)
    # RECORD loses exactly the dropped files' lines
    assert z.read("pkg-1.0.dist-info/RECORD") == (
        b"pkg/__init__.py,sha256=abc,300\npkg/sub/mod.py,sha256=ghi,6\npkg-1.0.dist-info/RECORD,,\n"
    )
    assert repack.repack(make_zip(WHEEL), RULE)[0] == out  # deterministic


def test_served_lock_names_only_served_wheels_with_their_sha256():
    lock = json.dumps(
        {
            "info": {"version": "0.27.7"},
            "packages": {
                "numpy": {"file_name": "numpy-1.whl", "sha256": "old", "depends": []},
                "scipy": {"file_name": "scipy-1.whl", "sha256": "x", "depends": ["numpy"]},
            },
        }
    ).encode()
    served = json.loads(repack.served_lock(lock, {"numpy-1.whl": b"new bytes"}))
    assert served["info"] == {"version": "0.27.7"}
    assert served["packages"] == {
        "numpy": {"file_name": "numpy-1.whl", "depends": [], "sha256": hashlib.sha256(b"new bytes").hexdigest()}
    }
    with pytest.raises(ValueError, match="not served"):
        repack.served_lock(lock, {"scipy-1.whl": b""})


def test_served_pins_catch_a_changed_repack(tmp_path, monkeypatch):
    """runtime.served refuses derived bytes that differ from served_sha256 (a changed rule, or a
    repack that is not reproducible on this machine)."""
    wheel = make_zip(WHEEL)
    lock = json.dumps(
        {
            "info": {},
            "packages": {"pkg": {"file_name": "pkg-1.whl", "sha256": hashlib.sha256(wheel).hexdigest(), "depends": []}},
        }
    ).encode()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "src.zip").write_bytes(make_zip({"pyodide-lock.json": lock, "pkg-1.whl": wheel}))
    manifest = {
        "sources": {"s": {"fetch": "pip", "spec": "s", "archive": "src.zip", "sha256": sha256_file(cache / "src.zip")}},
        "files": {
            "pyodide/pyodide-lock.json": {
                "source": "s",
                "member": "pyodide-lock.json",
                "sha256": hashlib.sha256(lock).hexdigest(),
                "repack": "lock",
            },
            "pyodide/pkg-1.whl": {
                "source": "s",
                "member": "pkg-1.whl",
                "lock": "pkg",
                "repack": "test",
                "sha256": hashlib.sha256(wheel).hexdigest(),
            },
        },
    }
    monkeypatch.setitem(repack.RULES, "test", RULE)
    files, _ = repack.derive(runtime.collect(manifest, cache), manifest)
    for dest in manifest["files"]:
        manifest["files"][dest]["served_sha256"] = hashlib.sha256(files[dest]).hexdigest()
    assert runtime.served(manifest, cache) == files
    served_lock = json.loads(files["pyodide/pyodide-lock.json"])
    assert served_lock["packages"]["pkg"]["sha256"] == hashlib.sha256(files["pyodide/pkg-1.whl"]).hexdigest()
    monkeypatch.setitem(repack.RULES, "test", repack.Rule(suffixes={".h": "headers"}))  # a changed rule
    with pytest.raises(runtime.SetupError, match="served_sha256"):
        runtime.served(manifest, cache)


PROBE = """
import json, sys, sysconfig
from pathlib import Path
import numpy
from localocr import OCR

OCR().read(sys.argv[1]).to_hocr()
stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
site = Path(numpy.__file__).resolve().parents[1]
out = set()
for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None)
    if not f:
        continue
    p = Path(f).resolve()
    if p.is_relative_to(site) and p.relative_to(site).parts[0] in ("numpy", "PIL"):
        out.add(p.relative_to(site).as_posix())
    elif p.is_relative_to(stdlib) and p.relative_to(stdlib).parts[0] not in ("site-packages", "dist-packages", "lib-dynload"):
        out.add(p.relative_to(stdlib).as_posix())
print(json.dumps(sorted(out)))
"""


def _pipeline_imports() -> list[str]:
    """Files of the stdlib, numpy and PIL that CPython imports to run the pipeline on a real page
    (decode, detect, recognise, render), relative to their archive's root. In a fresh interpreter,
    so that pytest's own imports do not count."""
    page = DATA / "sroie_train" / "images" / "001.jpg"
    if not page.exists():
        pytest.skip(f"{page} is not here")
    done = subprocess.run([sys.executable, "-c", PROBE, str(page)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_rules_keep_every_module_the_pipeline_imports():
    imported = _pipeline_imports()
    assert any(n.startswith("numpy/") for n in imported) and any(n.startswith("PIL/") for n in imported)
    for name in sorted(imported):
        for rule in repack.RULES.values():
            assert rule.why_dropped(name) is None, f"{name} is imported by the pipeline but dropped"


def test_laid_out_runtime_is_the_pinned_repack():
    """web/vendor holds the repacked files (verified by sha256), stored, smaller on the wire."""
    vendor = ROOT / "web" / "vendor" / "pyodide"
    if not (ROOT / "web" / "vendor" / "runtime.json").exists():
        pytest.fail("web/vendor is not set up: run `make test`")
    manifest = runtime.load_manifest()
    runtime.verify()
    lock = json.loads((vendor / "pyodide-lock.json").read_text())
    for dest, spec in manifest["files"].items():
        if spec.get("repack") in repack.RULES:
            data = (ROOT / "web" / "vendor" / dest).read_bytes()
            assert all(i.compress_type == zipfile.ZIP_STORED for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
            assert (ROOT / "web" / "vendor" / (dest + ".br")).exists(), dest
        if "lock" in spec:
            assert lock["packages"][spec["lock"]]["sha256"] == spec["served_sha256"], dest


def _module(name: str) -> str:
    """Archive entry -> module name ('a/b/__init__.py' -> 'a.b', 'a/c.cpython-312-...so' -> 'a.c')."""
    mod = name[:-3] if name.endswith(".py") else name.split(".cpython-")[0]
    mod = mod.replace("/", ".")
    return mod[: -len(".__init__")] if mod.endswith(".__init__") else mod


# Module-level import lines, for the few Python 3.12 sources this interpreter's ast cannot parse.
_IMPORT_LINE = re.compile(
    r"^(?:import\s+(?P<names>[\w., ]+)|from\s+(?P<base>\.*[\w.]*)\s+import\s+\(?(?P<members>[\w, ]+))", re.M
)


def _top_level_imports(source: bytes, module: str, is_package: bool) -> set[str]:
    """Modules a file imports when it is imported (statements at module level, relative ones resolved;
    imports inside functions, classes, try or if blocks are not counted)."""
    package = module if is_package else module.rpartition(".")[0]

    def resolve(level: int, name: str | None) -> str:
        if not level:
            return name or ""
        parts = package.split(".")[: len(package.split(".")) - level + 1]
        return ".".join(parts + ([name] if name else []))

    out = set()
    try:
        body = ast.parse(source).body
    except SyntaxError:  # newer syntax than this interpreter's: read the import lines at column 0
        for m in _IMPORT_LINE.finditer(source.decode("utf-8")):
            if m["names"]:
                out |= {n.split(" as ")[0].strip() for n in m["names"].split(",")}
            else:
                dots = len(m["base"]) - len(m["base"].lstrip("."))
                base = resolve(dots, m["base"].lstrip(".") or None)
                out |= {base} | {f"{base}.{n.split(' as ')[0].strip()}" for n in m["members"].split(",") if n.strip()}
        return out
    for node in body:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = resolve(node.level, node.module)
            out |= {base} | {f"{base}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("rule_name", sorted(repack.RULES))
def test_no_kept_module_imports_a_dropped_one(rule_name):
    """Static check over the original archive: a kept module never imports a dropped one at the top,
    so importing anything that is served cannot fail for what the rules took out."""
    manifest = runtime.load_manifest()
    dest = next((d for d, s in manifest["files"].items() if s.get("repack") == rule_name), None)
    if dest is None:
        pytest.skip(f"no runtime file uses the rule {rule_name}")
    try:
        data = runtime.collect(manifest)[dest]
    except runtime.SetupError as err:
        pytest.fail(f"the runtime archives are not in the cache: run `make test` ({err})")
    rule = repack.RULES[rule_name]
    z = zipfile.ZipFile(io.BytesIO(data))
    dropped = {_module(n) for n in z.namelist() if rule.why_dropped(n) and n.endswith((".py", ".so"))}
    bad = []
    for name in z.namelist():
        if name.endswith(".py") and rule.why_dropped(name) is None:
            imports = _top_level_imports(z.read(name), _module(name), name.endswith("__init__.py"))
            bad += [f"{name} imports {m}" for m in sorted(imports & dropped)]
    assert not bad, bad
