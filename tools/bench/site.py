"""The side-by-side benchmark (tools/bench/): set-up of the peers (npm) and of the served site."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

from tools.bench.common import CACHE, NPM_DIR, PEERS, SITE, TESSDATA_JS, WEB


def npm_install() -> Path:
    """`npm ci` of tools/bench_peers into .cache/bench/npm (skipped while the lockfile is unchanged);
    npm verifies every tarball against package-lock.json's integrity hashes. Returns node_modules."""
    from tools.files import sha256_file

    NPM_DIR.mkdir(parents=True, exist_ok=True)
    stamp = NPM_DIR / ".stamp"
    want = sha256_file(PEERS / "package-lock.json")
    modules = NPM_DIR / "node_modules"
    if stamp.exists() and stamp.read_text() == want and modules.is_dir():
        return modules
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(PEERS / name, NPM_DIR / name)
    # --ignore-scripts: tesseract.js's postinstall only asks for donations; nothing needs building
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NPM_DIR, check=True
    )
    stamp.write_text(want)
    return modules


def npm_versions(modules: Path) -> dict:
    return {
        name: json.loads((modules / name / "package.json").read_text())["version"]
        for name in ("tesseract.js", "tesseract.js-core", "@tesseract.js-data/eng")
    }


def _write_served(path: Path, data: bytes, compress: bool = True) -> None:
    """A peer file in the site, with the same .br/.gz siblings tools/runtime.py gives our runtime."""
    from tools import runtime

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    variants = runtime.compressed_variants(data, CACHE) if compress else {}
    for ext in (".br", ".gz"):
        sib = path.with_name(path.name + ext)
        if ext in variants:
            sib.write_bytes(variants[ext])
        elif sib.exists():
            sib.unlink()


def tesseract_js_data(modules: Path) -> Path:
    """The plain eng.traineddata tesseract.js loads (from the npm package's gzip), in a folder that
    also serves as a --tessdata-dir for the CLI."""
    folder = CACHE / "tessdata-js"
    out = folder / "eng.traineddata"
    src = modules / "@tesseract.js-data" / "eng" / TESSDATA_JS / "eng.traineddata.gz"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        folder.mkdir(parents=True, exist_ok=True)
        out.write_bytes(gzip.decompress(src.read_bytes()))
    return folder


def build_site(modules: Path, images: list[Path], site: Path = SITE) -> Path:
    """`site` (default .cache/bench/site): web/ (links: the app's worker, runtime and whatever models web/models holds),
    bench/ (the pages of tools/bench_peers + links to the images), lo/ and tw/ (the two workers with
    the heap probe), tesseract/ (tesseract.js files, precompressed like our runtime). Another
    worktree passes its own `site` so that two benchmarks never rebuild one folder."""
    from tools import runtime

    runtime.pack_package()  # the worker installs py/localocr as it is now
    if site.exists():
        for entry in site.iterdir():
            if entry.name != "tesseract":  # the precompressed peer files are kept (see below)
                entry.unlink() if entry.is_symlink() or entry.is_file() else shutil.rmtree(entry)
    site.mkdir(parents=True, exist_ok=True)
    for entry in WEB.iterdir():
        if not entry.name.startswith("."):
            (site / entry.name).symlink_to(entry)
    bench = site / "bench"
    (bench / "images").mkdir(parents=True)
    for name in ("localocr.html", "tesseract.html", "bench-page.js", "localocr-page.js", "tesseract-page.js"):
        shutil.copy2(PEERS / name, bench / name)
    for image in images:
        (bench / "images" / image_key(image)).symlink_to(image)
    for folder, name in (("lo", "localocr-worker.js"), ("tw", "tesseract-worker.js")):
        (site / folder).mkdir()
        shutil.copy2(PEERS / name, site / folder / "worker.js")
    peer = site / "tesseract"
    stamp = peer / ".stamp"
    want = json.dumps(npm_versions(modules))
    if not (stamp.exists() and stamp.read_text() == want):
        if peer.exists():
            shutil.rmtree(peer)
        dist, core = modules / "tesseract.js" / "dist", modules / "tesseract.js-core"
        for name in ("tesseract.min.js", "worker.min.js"):
            _write_served(peer / name, (dist / name).read_bytes())
        # the LSTM-only builds: OEM 1, tesseract.js's default, loads one of these (the others carry the
        # legacy engine too and are never requested here)
        for src in sorted(core.glob("tesseract-core*-lstm.wasm.js")):
            _write_served(peer / "core" / src.name, src.read_bytes())
        data = (tesseract_js_data(modules) / "eng.traineddata").read_bytes()
        _write_served(peer / "lang" / "eng.traineddata", data)
        stamp.write_text(want)
    return site


def image_key(image: Path) -> str:
    """A flat, unique name for a data-set image: <set>__<file>."""
    return f"{image.parent.parent.name}__{image.name}"
