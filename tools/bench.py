"""Side-by-side benchmark: localocr against Tesseract 5 (CLI), tesseract.js and PP-OCRv6 small, in one run
(issues 9 and 15).

    python -m tools.bench            # or: make bench   (the full run: 20-23 min on 2 shared cores, 25 min
                                     # from a fresh clone with make's set-up, before the PP-OCRv6 peer: it
                                     # reads a page 7-15x slower than localocr and adds ~10 min, estimated)
    python -m tools.bench --quick    # smoke test (~5 min): 5 images per set, 3 speed images, 1 cold round;
                                     # its results go to bench/out/quick/ only (README untouched)
    python -m tools.bench --render-only   # rewrite bench/results.*, chart and README from bench/out/raw.json
    python -m tools.bench --only localocr rapidocr --skip cpython   # some engines' accuracy alone (no
                                     # browser part; a partial run: bench/out/partial/ only)

Peers come from the registries only: the Debian packages `tesseract-ocr` + `tesseract-ocr-eng` (the
Makefile installs them when missing), PyPI's rapidocr (pyproject's `bench` extra, pinned) and the npm
packages pinned in tools/bench_peers/package.json,
installed with `npm ci` (npm checks every tarball against package-lock.json's integrity hashes) into
.cache/bench/npm and served by serve.py's server from our own origin, never a CDN.

What it measures (every engine on the same machine, in the same run, interleaved A B A B):
- accuracy on the validation split (localocr.splits) of every set in ../shared/data, with
  `localocr.evaluate.evaluate_set` (the `localocr-eval` code) for every engine: localocr (CPython,
  the models in web/models), the tesseract CLI with Debian's English data, and the same CLI with the
  English data tesseract.js loads (@tesseract.js-data/eng 4.0.0_best_int), and PP-OCRv6 small
  (rapidocr 3.10.0 from PyPI with its bundled models, tools/bench_rapidocr.py). Tesseract's TSV output
  becomes a `Page` (words with boxes, lines, blocks) that the same metrics read; crop sets run the CLI
  with --psm 7 (one text line); rapidocr's regions become lines of a `Page` the same way, and crop
  sets run its recognizer alone. All run on one thread (OMP_THREAD_LIMIT=1, onnxruntime intra-op 1):
  on 2 busy cores more threads only contend.
- CPython speed on the 20 browser images: seconds per image, localocr (models loaded once) vs the
  tesseract CLI (one process per image, as a user runs it; its start-up alone is reported too) vs
  rapidocr (models loaded once), and peak RSS (localocr, rapidocr: a fresh process that reads the 20
  images; tesseract: the largest CLI process).
- browser speed in headless Debian Chromium, one page per engine: localocr with WASM threads and on
  one WASM thread, tesseract.js 7; cold start (fresh context: empty cache) from navigation to the
  first result, warm start (reload: HTTP cache / tesseract.js's IndexedDB copy of its data), then 50
  reads per engine cycling the 20 images (per image: the median of its reads), the bytes our server
  sent for each cold start, and the worker's WASM heap after the 50 reads. WebGPU runs only on a real
  (non-fallback) adapter; otherwise the table says why it was not measured.

Writes bench/results.json, bench/results.md and bench/chart.svg (accuracy vs time per page), and the
README's Benchmark section between its marker comments; raw per-image figures go to bench/out/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from localocr.errors import LocalOCRError
from localocr.evaluate import evaluate_set, load_set
from localocr.result import Block, Line, Page, Word
from tools import bench_rapidocr

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
WEB = ROOT / "web"
PEERS = ROOT / "tools" / "bench_peers"
CACHE = ROOT / ".cache" / "bench"
NPM_DIR = CACHE / "npm"
SITE = CACHE / "site"
RESULTS = ROOT / "bench"
README = ROOT / "README.md"
README_START = "<!-- bench:start (written by `make bench`, tools/bench.py) -->"
README_END = "<!-- bench:end -->"

TESSDATA_JS = "4.0.0_best_int"      # the data tesseract.js loads for OEM 1 (LSTM only), its default
# A gap between two words of a Tesseract line wider than this many times the line's median word
# height splits the line into segments, the unit of line-level ground truth (SROIE's "TOTAL ....... RM"
# and "60.31" are two regions, as localocr's detector finds them). 1.5: fewest wrong cuts plus wrong
# joins against the ground-truth regions of 36 TRAINING-split pages (SROIE, plates, tapuscorpus; 1.0:
# 623, 1.2: 187, 1.5: 132, 2.0: 128 but twice the wrong joins); never tuned on validation pages.
SEGMENT_GAP = 1.5

# The 20 browser/CPython speed images: the first of each validation split, sorted by name.
SPEED_IMAGES = {"sroie_train": 7, "funsd_train": 7, "ic15_train": 6}
BROWSER_READS = 50          # reads per engine in the warm page (the 20 images cycled): heap after 50
COLD_ROUNDS = 3             # cold + warm starts per engine (medians of 3)
CPYTHON_ROUNDS = 3          # reads of each speed image per engine on CPython (median)


# ------------------------------------------------------------------------------------------------
# Tesseract CLI: TSV -> Page


def parse_tsv(tsv: str) -> list[dict]:
    """Rows of Tesseract's TSV output as dicts (ints for the numeric columns, `text` as a string)."""
    lines = tsv.splitlines()
    if not lines or not lines[0].startswith("level"):
        raise ValueError("not Tesseract TSV output (no header row)")
    head = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        cells += [""] * (len(head) - len(cells))
        row = dict(zip(head, cells))
        for k in head:
            if k != "text":
                row[k] = float(row[k]) if k == "conf" else int(row[k])
        rows.append(row)
    return rows


def _box_quad(left, top, width, height) -> np.ndarray:
    return np.array([[left, top], [left + width, top], [left + width, top + height], [left, top + height]],
                    np.float64)


def _hull_quad(words) -> np.ndarray:
    q = np.concatenate([w.quad for w in words])
    x0, y0 = q.min(axis=0)
    x1, y1 = q.max(axis=0)
    return _box_quad(x0, y0, x1 - x0, y1 - y0)


def split_segments(words, gap: float = SEGMENT_GAP) -> list[list]:
    """Words of one line (left to right) -> runs separated by gaps wider than `gap` x median height."""
    if not words:
        return []
    h = float(np.median([w.quad[:, 1].max() - w.quad[:, 1].min() for w in words]))
    runs = [[words[0]]]
    for prev, w in zip(words, words[1:]):
        if w.quad[:, 0].min() - prev.quad[:, 0].max() > gap * h:
            runs.append([w])
        else:
            runs[-1].append(w)
    return runs


def tsv_to_page(tsv: str, backend: str = "tesseract") -> Page:
    """Tesseract TSV -> localocr `Page` (block -> line -> word, boxes as quads, conf / 100), so that
    `localocr.evaluate` scores it exactly as it scores localocr. Words with no text (conf -1) are
    dropped; a line with wide gaps gets `segments` (see SEGMENT_GAP)."""
    rows = parse_tsv(tsv)
    pages = [r for r in rows if r["level"] == 1]
    width, height = (pages[0]["width"], pages[0]["height"]) if pages else (0, 0)
    lines: dict = {}
    for r in rows:
        if r["level"] != 5 or not r["text"].strip():
            continue
        key = (r["block_num"], r["par_num"], r["line_num"])
        word = Word(r["text"].strip(), _box_quad(r["left"], r["top"], r["width"], r["height"]),
                    max(0.0, r["conf"]) / 100)
        lines.setdefault(key, []).append(word)
    blocks: dict = {}
    for key, words in lines.items():
        words.sort(key=lambda w: w.quad[0, 0])
        conf = float(np.mean([w.confidence for w in words]))
        runs = split_segments(words)
        segments = [Line(run, _hull_quad(run), float(np.mean([w.confidence for w in run]))) for run in runs]
        line = Line(words, _hull_quad(words), conf, segments=segments if len(segments) > 1 else [])
        blocks.setdefault(key[0], []).append(line)
    out = [Block(ls, _hull_quad([w for ln in ls for w in ln.words])) for _, ls in sorted(blocks.items())]
    return Page(width=width, height=height, blocks=out, backend=backend)


# Peak RSS of a command, measured from a small fresh Python process: a child's ru_maxrss keeps the
# high-water mark of the process it was forked from (exec does not reset it), so forking from this
# big process (numpy, onnxruntime, models) would report this process's size, not the command's.
RSS_PROBE = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_kib(cmd: list[str], env: dict | None = None) -> int:
    """Peak RSS (KiB) of one run of `cmd` (at least the probe's own ~10 MiB; see RSS_PROBE)."""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", RSS_PROBE, *cmd], capture_output=True, text=True,
                         env=env, check=True)
    code, rss = map(int, out.stdout.split())
    if code != 0:
        raise RuntimeError(f"{cmd[0]} exited with {code}")
    return rss


class TesseractCLI:
    """The `tesseract` command as an engine for `localocr.evaluate`: `read(path) -> Page` and
    `recognize_line(path) -> (text, confidence)`. One process per image, one thread."""

    def __init__(self, tessdata: Path | None = None, lang: str = "eng", name: str = "tesseract"):
        self.tessdata = tessdata
        self.lang = lang
        self.name = name
        self.env = {**os.environ, "OMP_THREAD_LIMIT": "1"}   # see the module docstring: one thread

    def _cmd(self, path: str, psm: int) -> list[str]:
        cmd = ["tesseract", str(path), "stdout", "-l", self.lang, "--psm", str(psm)]
        if self.tessdata:
            cmd += ["--tessdata-dir", str(self.tessdata)]
        # TSV through the variable, not the `tsv` config file, which a custom tessdata folder lacks
        return cmd + ["-c", "tessedit_create_tsv=1"]

    def run_tsv(self, path: str, psm: int = 3) -> str:
        proc = subprocess.run(self._cmd(path, psm), capture_output=True, env=self.env)
        if proc.returncode != 0:
            raise LocalOCRError(f"tesseract failed on {path}: {proc.stderr.decode(errors='replace').strip()[-300:]}",
                                "tesseract_failed")
        return proc.stdout.decode("utf-8")

    def peak_rss_kib(self, path: str, psm: int = 3) -> int:
        return peak_rss_kib(self._cmd(path, psm), self.env)

    def read(self, path) -> Page:
        return tsv_to_page(self.run_tsv(path, 3), self.name)

    def recognize_line(self, path) -> tuple[str, float]:
        page = tsv_to_page(self.run_tsv(path, 7), self.name)   # 7: treat the image as a single text line
        words = page.words
        conf = float(np.mean([w.confidence for w in words])) if words else 0.0
        return " ".join(w.text for w in words), conf


def tesseract_version() -> str:
    if shutil.which("tesseract") is None:
        return ""
    out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split()[-1] if first else ""


def debian_version(package: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return out.stdout.strip()


# ------------------------------------------------------------------------------------------------
# set-up of the peers (npm) and of the served site


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
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=NPM_DIR, check=True)
    stamp.write_text(want)
    return modules


def npm_versions(modules: Path) -> dict:
    return {name: json.loads((modules / name / "package.json").read_text())["version"]
            for name in ("tesseract.js", "tesseract.js-core", "@tesseract.js-data/eng")}


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

    runtime.pack_package()                     # the worker installs py/localocr as it is now
    if site.exists():
        for entry in site.iterdir():
            if entry.name != "tesseract":      # the precompressed peer files are kept (see below)
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


# ------------------------------------------------------------------------------------------------
# data


def data_sets(data: Path = DATA) -> list[Path]:
    return sorted(p.parent for p in data.glob("*/labels.jsonl"))


def speed_images(data: Path = DATA, counts: dict = SPEED_IMAGES) -> list[Path]:
    """The fixed speed images: the first N validation images (by name) of each set, interleaved by set."""
    per_set = []
    for name, n in counts.items():
        _, recs = load_set(str(data / name), "val")
        per_set.append([data / name / r["image"] for r in sorted(recs, key=lambda r: r["image"])[:n]])
    out = []
    for k in range(max(len(p) for p in per_set)):
        out += [p[k] for p in per_set if k < len(p)]
    return out


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------------------------------------
# accuracy and CPython speed


# SROIE transcribes every line in capitals while its receipts print mixed case: compare it
# case-insensitively (as localocr-eval --casefold and the recognizer issue do), for every engine.
CASEFOLD_SETS = ("sroie_train",)


def accuracy(sets: list[Path], engines: dict, limit: int | None, log) -> list[dict]:
    """localocr.evaluate.evaluate_set for every (set, engine), engines interleaved per set."""
    rows = []
    for folder in sets:
        for name, engine in engines.items():
            t0 = time.perf_counter()
            r = evaluate_set(engine, str(folder), "val", limit, casefold=folder.name in CASEFOLD_SETS)
            r["engine"] = name
            r["wall_s"] = time.perf_counter() - t0
            if hasattr(engine, "take_stats"):       # rapidocr: how many lines had their words split
                r["peer_stats"] = engine.take_stats()
            rows.append(r)
            log(f"  {r['set']:16s} {name:22s} n={r['images']:4d} " +
                (f"acc={r['accuracy']:.3f} " if r["kind"] == "crop" else f"e2e={r['e2e_f1']:.3f} bow={r['bow_f1']:.3f} ")
                + f"cer={r['cer']:.3f} {r['sec_median']:.3f} s/img  (load {load_avg()[0]})")
    return rows


def cpython_speed(images: list[Path], engines: dict, rounds: int) -> dict:
    """Seconds per image on CPython, engines interleaved per image (A B A B), median over rounds."""
    times = {name: {image_key(i): [] for i in images} for name in engines}
    for _ in range(rounds):
        for image in images:
            for name, engine in engines.items():
                t0 = time.perf_counter()
                engine.read(str(image))
                times[name][image_key(image)].append(time.perf_counter() - t0)
    out = {}
    for name, per in times.items():
        med = {k: statistics.median(v) for k, v in per.items()}
        vals = list(med.values())
        out[name] = {"per_image_s": med, "median_s": statistics.median(vals),
                     "p90_s": float(np.percentile(vals, 90)), "mean_s": statistics.fmean(vals)}
    return out


RSS_CHILD = """
import sys
from localocr import OCR
from localocr.backends.onnxruntime import OnnxRuntimeBackend
ocr = OCR(backend=OnnxRuntimeBackend(threads=1))
for path in sys.argv[1:]:
    ocr.read(path)
"""


def localocr_peak_rss(images: list[Path]) -> int:
    """Peak RSS (KiB) of a fresh Python process that loads localocr and reads the images."""
    return peak_rss_kib([sys.executable, "-c", RSS_CHILD, *map(str, images)])


def tesseract_startup_s(tess: "TesseractCLI", rounds: int = 5) -> float:
    """The CLI's cost with nothing to read (a blank 64x32 image): start-up + loading its data."""
    from PIL import Image

    blank = CACHE / "blank.png"
    blank.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (64, 32), 255).save(blank)   # 64x32: a tiny image with no text
    secs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        tess.run_tsv(str(blank), 3)
        secs.append(time.perf_counter() - t0)
    return statistics.median(secs)


# ------------------------------------------------------------------------------------------------
# browser


WEB_ENGINES = {   # name -> bench page (tools/bench_peers)
    "localocr WASM threads": "localocr.html?backend=wasm&",
    "localocr WASM 1 thread": "localocr.html?backend=wasm&threads=1&",
    "tesseract.js": "tesseract.html?",
}
WEBGPU_ENGINE = ("localocr WebGPU", "localocr.html?backend=webgpu&")   # only on a real adapter
WORKER_SCRIPTS = ("/lo/worker.js", "/tw/worker.js")   # the engines' own workers (heap probe inside)

FIRST_JS = "window.bench && (bench.first || (bench.error && {error: bench.error}))"
WEBGPU_JS = """async () => {
    if (!navigator.gpu) return { adapter: false, why: "navigator.gpu is undefined" };
    const a = await navigator.gpu.requestAdapter();
    if (!a) return { adapter: false, why: "navigator.gpu.requestAdapter() returned null" };
    const info = a.info || {};
    return { adapter: true, fallback: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter),
             vendor: info.vendor || "", architecture: info.architecture || "", description: info.description || "" };
}"""


@contextlib.contextmanager
def counting_server(site: Path):
    """serve.py's server (cross-origin isolated, the app's CSP) on a free port, counting the body bytes
    it sends per request: yields (base URL, [(path, bytes)], server)."""
    from tools.browser import serving

    with serving(site, isolation=True) as (base, server):
        sent: list = []

        class Counting(server.handler_class):
            def copyfile(self, source, outputfile):
                size = source.getbuffer().nbytes if isinstance(source, io.BytesIO) else os.fstat(source.fileno()).st_size
                sent.append((self.path.split("?")[0], size))
                super().copyfile(source, outputfile)

        # the handler class is looked up per request: no request has been made yet
        server.RequestHandlerClass = partial(Counting, directory=str(site))
        yield base, sent, server


def _worker_heap(page) -> int | None:
    for worker in page.workers:
        if worker.url.endswith(WORKER_SCRIPTS):
            return worker.evaluate("self.__wasmHeapBytes ? self.__wasmHeapBytes() : null")
    return None


def summarize_ms(values: list[float]) -> dict:
    return {"median": statistics.median(values), "p90": float(np.percentile(values, 90))}


def web_bench(site: Path, images: list[Path], cold_rounds: int, reads: int, log, timeout: float = 900) -> dict:
    """The browser figures (see the module docstring); engines interleaved at every step."""
    from tools.browser import chromium, poll

    keys = [image_key(i) for i in images]
    engines = dict(WEB_ENGINES)
    res = {name: {"cold_ms": [], "warm_ms": [], "cold_bytes": [], "cold_files": None, "reads": {k: [] for k in keys}, "words": {},
                  "texts": {}} for name in [*WEB_ENGINES, WEBGPU_ENGINE[0]]}
    urls: list[str] = []
    with counting_server(site) as (base, sent, server), chromium() as browser:
        def page_of(name):
            ctx = browser.new_context()
            ctx.on("request", lambda r: urls.append(r.url))
            page = ctx.new_page()
            page.goto(f"{base}bench/{engines[name]}first={keys[0]}")
            got = poll(page, FIRST_JS, timeout)
            if "error" in got:
                ctx.close()
                raise RuntimeError(f"{name}: {got['error']}")
            return ctx, page, got

        # WebGPU: measured only on a real (hardware) adapter that localocr then starts on
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(f"{base}bench/localocr.html")     # any page of our origin (a secure context)
        webgpu = page.evaluate(WEBGPU_JS)
        ctx.close()
        if webgpu.get("adapter") and not webgpu.get("fallback"):
            engines[WEBGPU_ENGINE[0]] = WEBGPU_ENGINE[1]
            try:
                page_of(WEBGPU_ENGINE[0])[0].close()
            except RuntimeError as e:
                webgpu["error"] = str(e)
                del engines[WEBGPU_ENGINE[0]]
        log(f"  WebGPU: {webgpu}")

        for r in range(cold_rounds):
            for name in engines:
                mark = len(sent)
                ctx, page, got = page_of(name)       # fresh context: empty HTTP cache and IndexedDB
                res[name]["cold_ms"].append(got["doneMs"])
                files = [(p, n) for p, n in sent[mark:] if not p.startswith("/bench/")]
                res[name]["cold_bytes"].append(sum(n for _, n in files))
                res[name]["cold_files"] = res[name]["cold_files"] or files
                page.reload()                        # warm: the same context's caches
                got = poll(page, FIRST_JS, timeout)
                if "error" in got:
                    raise RuntimeError(f"{name} (warm): {got['error']}")
                res[name]["warm_ms"].append(got["doneMs"])
                ctx.close()
                log(f"  cold/warm round {r + 1}: {name:24s} cold {res[name]['cold_ms'][-1] / 1000:6.2f} s  "
                    f"warm {res[name]['warm_ms'][-1] / 1000:6.2f} s  {res[name]['cold_bytes'][-1] / 1e6:5.2f} MB "
                    f"(load {load_avg()[0]})")
        open_pages = {name: page_of(name) for name in engines}
        for name, (_, page, _) in open_pages.items():
            res[name]["info"] = page.evaluate("bench.info")
            res[name]["heap_start_bytes"] = _worker_heap(page)
        for k in range(reads):
            key = keys[k % len(keys)]
            for name, (_, page, _) in open_pages.items():
                out = page.evaluate("(name) => bench.read(name)", key)
                res[name]["reads"][key].append(out["ms"])
                res[name]["words"][key] = out["words"]
                res[name]["texts"].setdefault(key, out["text"])
            if (k + 1) % 10 == 0 or k + 1 == reads:
                log(f"  reads {k + 1}/{reads} (load {load_avg()[0]})")
        for name, (_ctx, page, _) in open_pages.items():
            res[name]["heap_after_bytes"] = _worker_heap(page)
            res[name]["heap_after_reads"] = reads
        for ctx, _, _ in open_pages.values():
            ctx.close()
        chromium_version = browser.version
        csp_reports = list(server.handler_class.csp_reports)
    foreign = sorted({u for u in urls if not u.startswith(base) and not u.startswith(("data:", "blob:"))})
    out = {"images": keys, "cold_rounds": cold_rounds, "reads": reads, "chromium": chromium_version,
           "webgpu": webgpu, "csp_reports": csp_reports,
           "requests": {"seen": len(urls), "off_origin": foreign,
                        # the traineddata is fetched by tesseract.js's worker: seeing it proves that the
                        # log covers worker requests too
                        "worker_requests_logged": any(u.endswith("/eng.traineddata") for u in urls)},
           "engines": {}}
    for name, r in res.items():
        if name not in engines:
            continue
        per_image = {k: statistics.median(v) for k, v in r["reads"].items() if v}
        out["engines"][name] = {
            "cold_ms": statistics.median(r["cold_ms"]), "cold_all_ms": r["cold_ms"],
            "warm_ms": statistics.median(r["warm_ms"]), "warm_all_ms": r["warm_ms"],
            "cold_bytes": statistics.median(r["cold_bytes"]), "cold_bytes_all": r["cold_bytes"],
            "cold_files": r["cold_files"],
            "per_image_ms": per_image, **{f"{k}_ms": v for k, v in summarize_ms(list(per_image.values())).items()},
            "words": r["words"], "texts": r["texts"], "info": r.get("info"),
            "heap_start_bytes": r.get("heap_start_bytes"), "heap_after_bytes": r.get("heap_after_bytes"),
            "heap_after_reads": r.get("heap_after_reads"),
        }
    ref = out["engines"]["tesseract.js"]["per_image_ms"]
    for e in out["engines"].values():
        ratios = {k: v / ref[k] for k, v in e["per_image_ms"].items() if ref.get(k)}
        e["ratio_vs_tesseract_js"] = ratios
        e["ratio_median"] = statistics.median(ratios.values()) if ratios else None
        e["ratio_range"] = [min(ratios.values()), max(ratios.values())] if ratios else None
    return out


def webgpu_reason(probe: dict) -> str:
    """Why no WebGPU row holds figures (probe: WEBGPU_JS's answer, plus "error" if localocr failed)."""
    if probe.get("error"):
        return f"WebGPU did not start: {probe['error']}"
    if not probe.get("adapter"):
        return f"no WebGPU adapter in this headless Chromium ({probe.get('why', '')})"
    if probe.get("fallback"):
        return (f"only a software (fallback) WebGPU adapter ({probe.get('vendor')} {probe.get('architecture')}); "
                "localocr does not use one (hundreds of times slower than WASM)")
    return "measured above"


# ------------------------------------------------------------------------------------------------
# output: Markdown, chart, README


def _f3(x) -> str:
    return "" if x is None else f"{x:.3f}"


def _mb(n) -> str:
    return "" if n is None else f"{n / 1e6:.1f} MB"


def _mib(n) -> str:
    return "" if n is None else f"{n / 2**20:.0f} MiB"


def accuracy_table(rows: list[dict]) -> str:
    head = ("| set (validation split) | n | engine | e2e word F1 | BoW F1 | det hmean | CER | crop acc | s/img (CPython) |\n"
            "|---|---|---|---|---|---|---|---|---|")
    out = [head]
    for r in rows:
        if r["kind"] == "crop":
            cells = ["", "", "", _f3(r["cer"]), _f3(r["accuracy"])]
        else:
            cells = [_f3(r["e2e_f1"]), _f3(r["bow_f1"]), _f3(r["det"]["hmean"]), _f3(r["cer"]), ""]
        n = f"{r['images']}" + (f" ({r['failures']} failed)" if r.get("failures") else "")
        out.append(f"| {r['set']} | {n} | {r['engine']} | " + " | ".join(cells) + f" | {r['sec_median']:.3f} |")
    return "\n".join(out)


def speed_table(res: dict) -> str:
    head = ("| engine | where | cold start | warm start | per image (median / p90) | vs tesseract.js per image "
            "(median, range) | downloaded on a cold start | memory |\n|---|---|---|---|---|---|---|---|")
    out = [head]
    web = res.get("browser")
    if web:
        for name, e in web["engines"].items():
            ratio = "1" if name == "tesseract.js" else (
                f"{e['ratio_median']:.2f}x ({e['ratio_range'][0]:.2f}-{e['ratio_range'][1]:.2f})")
            heap = (f"WASM heap {_mib(e['heap_after_bytes'])} after {e['heap_after_reads']} images"
                    if e.get("heap_after_bytes") else "WASM heap: not readable")
            out.append(f"| {name} | Chromium {web['chromium'].split('.')[0]} | {e['cold_ms'] / 1000:.2f} s | "
                       f"{e['warm_ms'] / 1000:.2f} s | {e['median_ms'] / 1000:.2f} / {e['p90_ms'] / 1000:.2f} s | "
                       f"{ratio} | {_mb(e['cold_bytes'])} | {heap} |")
        if WEBGPU_ENGINE[0] not in web["engines"]:
            out.append(f"| {WEBGPU_ENGINE[0]} | Chromium {web['chromium'].split('.')[0]} | not measured: "
                       f"{webgpu_reason(web['webgpu'])} | | | | | |")
    cp = res.get("cpython")
    if cp:
        for name, e in cp["engines"].items():
            rss = cp["peak_rss_kib"].get(name)
            out.append(f"| {name} | CPython, 1 thread | | | {e['median_s']:.2f} / {e['p90_s']:.2f} s | | | "
                       + (f"peak RSS {rss / 1024:.0f} MiB |" if rss else " |"))
    return "\n".join(out)


def notes(res: dict) -> list[str]:
    m, v = res["machine"], res["versions"]
    web, cp = res.get("browser"), res.get("cpython")
    lines = [
        f"{res['date']}, {m['cpu']} ({m['cores']} cores, {m['memory_gib']:.0f} GiB), {m['os']}; load average "
        f"{m['load_start'][0]} at the start, {m['load_end'][0]} at the end"
        + (" (after each part: " + ", ".join(f"{k} {v}" for k, v in m["load_phases"].items()) + ")"
           if m.get("load_phases") else "") +
        f"; other jobs shared the cores, so figures are medians of interleaved runs. "
        f"This run took {res['wall_s'] / 60:.1f} min (tools/bench.py, after make's set-up steps)"
        + (" (--quick: a smoke test, not for comparison)." if res["quick"] else "."),
        f"Versions: localocr {v['localocr']} (models: {v['models']}), onnxruntime {v['onnxruntime']}, "
        f"onnxruntime-web {v['onnxruntime_web']}, Pyodide {v['pyodide']}; Tesseract {v['tesseract']} (Debian "
        f"tesseract-ocr {v['tesseract_deb']}, tesseract-ocr-eng {v['tesseract_eng_deb']}); tesseract.js "
        f"{v['npm'].get('tesseract.js')}, tesseract.js-core {v['npm'].get('tesseract.js-core')}, "
        f"@tesseract.js-data/eng {v['npm'].get('@tesseract.js-data/eng')} ({TESSDATA_JS}).",
        "Accuracy: `localocr.evaluate` (the `localocr-eval` code) on each set's validation split"
        + (f" (at most {res['limit']} per set)" if res.get("limit") else " (all of it)") +
        "; Tesseract's TSV words (boxes) feed the same metrics, its lines split into segments at gaps "
        f"wider than {SEGMENT_GAP} word heights for line-level sets; crop sets with --psm 7. "
        "\"tesseract (js data)\" is the CLI with the English data tesseract.js loads; Tesseract reads every set "
        "with English data (tapuscorpus and poilus_hw are French). CER: per ground-truth region; BoW: bag of "
        "words per page; case-sensitive except SROIE (all-capitals labels of mixed-case receipts). s/img: wall time per image on one thread, the CLI's own start-up "
        "included.",
    ]
    rapid = v.get("rapidocr")
    if rapid:
        lines.append(rapidocr_note(rapid, [r for r in res.get("accuracy", []) if r["engine"] == bench_rapidocr.ENGINE_NAME]))
    if cp:
        lines.append(f"CPython: the {len(cp['images'])} speed images (SROIE, FUNSD, IC15 validation), "
                     f"median of {cp['rounds']} interleaved reads each; the tesseract CLI starts once per image "
                     f"(its start-up alone: {cp['tesseract_startup_s']:.2f} s); the models of "
                     + " and ".join(n for n in cp["engines"] if n != "tesseract") + " are loaded once.")
    if web:
        req = web["requests"]
        lines.append(
            f"Browser: headless Chromium {web['chromium']}, cross-origin isolated, the app's CSP, every file from "
            f"our origin ({req['seen']} requests logged, pages and workers, {len(req['off_origin'])} to another "
            f"origin; {len(web['csp_reports'])} CSP violations). Cold: a fresh context, navigation start to the "
            f"first result (median of {web['cold_rounds']}); warm: reload in that context; per image: "
            f"{web['reads']} reads per engine cycling the {len(web['images'])} images, engines interleaved. "
            "Downloaded: body bytes our server sent (br/gzip as served), bench harness and image excluded. "
            "tesseract.js runs OEM 1 (LSTM) with --psm 3 like the CLI; localocr 1 thread = createOCR({numThreads: 1}).")
    return lines


def partial_markdown(res: dict) -> str:
    """The tables of a partial run (--skip / --only), without the notes, which describe a whole run."""
    out = [accuracy_table(res["accuracy"]), ""] if res.get("accuracy") else []
    if res.get("cpython"):
        out += [speed_table(res), ""]
    return "\n".join(out)


def rapidocr_note(rapid: dict, rows: list[dict]) -> str:
    """The PP-OCRv6 small peer: what runs, and how its line boxes became words (per word-level set)."""
    split = [f"{r['set']} {r['peer_stats']['split_lines']}/{r['peer_stats']['lines']}" for r in rows
             if r["kind"] == "page" and r.get("peer_stats", {}).get("lines")]
    models = ", ".join(f"{name} ({info})" for name, info in rapid["models"].items())
    return (f"{bench_rapidocr.ENGINE_NAME}: rapidocr {rapid['rapidocr']} (PyPI, Apache-2.0) with the models its wheel "
            f"bundles: {models}; `RapidOCR()`'s defaults on onnxruntime, 1 thread (OpenCV too). Each detected region "
            "is a line (and a line segment for line-level sets); its words are rapidocr's own word boxes "
            "(`return_word_box`, from the recognizer's CTC columns) where they are the line's whitespace-separated "
            "words, else the region is cut by character count at the spaces"
            + (f" (lines cut that way: {', '.join(split)})" if split else "") +
            ". Crop sets: its recognizer alone (no detector, no direction classifier).")


def render_markdown(res: dict) -> str:
    out = ["### Accuracy", "", accuracy_table(res["accuracy"]), "",
           "### Speed, download and memory", "", speed_table(res), ""]
    out += [f"- {line}" for line in notes(res)]
    return "\n".join(out) + "\n"


ENGINE_COLOURS = {"localocr": "#1f77b4", "tesseract": "#d62728", "tesseract (js data)": "#ff7f0e",
                  bench_rapidocr.ENGINE_NAME: "#2ca02c"}


def chart_svg(rows: list[dict], width: int = 640, height: int = 400) -> str:
    """Accuracy (e2e word F1 for page sets, accuracy for crop sets) against CPython seconds per image
    (log scale), one marker per (engine, set), as a standalone SVG document."""
    used = [r for r in rows if r["sec_median"] > 0]
    pts = [(r["engine"], r["set"], r["sec_median"], r["accuracy"] if r["kind"] == "crop" else r["e2e_f1"])
           for r in used]
    kinds = [r["kind"] for r in used]
    left, right, top, bottom = 60, 170, 20, 50
    pw, ph = width - left - right, height - top - bottom
    xs = [p[2] for p in pts] or [0.1, 1]
    lo, hi = np.log10(min(xs)) - 0.1, np.log10(max(xs)) + 0.1
    x_of = lambda s: left + (np.log10(s) - lo) / (hi - lo) * pw
    y_of = lambda a: top + (1 - a) * ph
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']
    for a in np.linspace(0, 1, 6):
        y = y_of(a)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{a:.1f}</text>')
    for e in range(int(np.floor(lo)), int(np.ceil(hi)) + 1):
        for m in (1, 2, 5):
            s = m * 10.0 ** e
            if lo <= np.log10(s) <= hi:
                x = x_of(s)
                svg.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
                svg.append(f'<text x="{x:.1f}" y="{top + ph + 15}" text-anchor="middle">{s:g}</text>')
    svg.append(f'<text x="{left + pw / 2}" y="{height - 12}" text-anchor="middle">seconds per image, CPython, '
               f'1 thread (log scale)</text>')
    svg.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" text-anchor="middle">'
               f'e2e word F1 (pages) / accuracy (crops)</text>')
    by_set: dict = {}
    for _engine, name, s, a in pts:
        by_set.setdefault(name, []).append((x_of(s), y_of(a)))
    for xy in by_set.values():      # a thin line joins the engines' points of one set
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in sorted(xy))
            svg.append(f'<polyline points="{path}" fill="none" stroke="#bbb" stroke-width="1"/>')
    placed: list = []               # label boxes so far: a label that would overlap one moves up
    labelled: set = set()
    labels: list = []
    for (engine, name, s, a), kind in zip(pts, kinds):
        colour = ENGINE_COLOURS.get(engine, "#555")
        x, y = x_of(s), y_of(a)
        tip = f'<title>{esc(engine)}, {esc(name)}: {a:.3f} at {s:.3f} s</title>'
        if kind == "crop":          # squares: crop sets (accuracy), circles: page sets (e2e F1)
            svg.append(f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="{colour}" '
                       f'fill-opacity="0.8">{tip}</rect>')
        else:
            svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}" fill-opacity="0.8">{tip}</circle>')
        if name in labelled:       # one label per set, at its first engine's point; lines join the rest
            continue
        labelled.add(name)
        label = name.replace("_train", "")
        lx, ly, lw = x + 7, y + 4, 6.2 * len(label)     # ~6.2 px per character at font-size 11
        while any(abs(ly - py) < 11 and lx < px + pw_ and px < lx + lw for px, py, pw_ in placed):
            ly -= 11                # upwards: the crowded points sit at the bottom (F1 0)
        placed.append((lx, ly, lw))
        labels.append(f'<text x="{lx:.1f}" y="{ly:.1f}" fill="#333" stroke="white" stroke-width="3" '
                      f'paint-order="stroke">{esc(label)}</text>')
    svg += labels                   # over the markers
    for i, engine in enumerate(dict.fromkeys(p[0] for p in pts)):
        y = top + 10 + 18 * i
        colour = ENGINE_COLOURS.get(engine, "#555")
        svg.append(f'<circle cx="{left + pw + 16}" cy="{y}" r="5" fill="{colour}"/>')
        svg.append(f'<text x="{left + pw + 26}" y="{y + 4}">{esc(engine)}</text>')
    y = top + 10 + 18 * len(ENGINE_COLOURS) + 8
    for i, line in enumerate(["circles: page sets", "squares: crop sets", "a grey line joins", "one set's engines"]):
        svg.append(f'<text x="{left + pw + 12}" y="{y + 14 * i}" fill="#555">{line}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def update_readme(text: str, section: str) -> str:
    """README text with `section` between the benchmark markers; a "## Benchmark" section holding the
    markers is appended when the README has none. Text outside the markers is left as it is."""
    block = f"{README_START}\n{section.rstrip()}\n{README_END}"
    start, end = text.find(README_START), text.find(README_END)
    if start == -1 and end == -1:
        return text.rstrip("\n") + "\n\n## Benchmark\n\n" + block + "\n"
    if start == -1 or end == -1 or end < start:
        raise ValueError("README.md: the benchmark markers are incomplete or out of order")
    return text[:start] + block + text[end + len(README_END):]


def readme_section(res: dict) -> str:
    return ("Side by side with Tesseract, tesseract.js and PP-OCRv6 small on this machine, measured by `make bench` "
            "(`tools/bench.py`, which says what each figure is; `make bench-quick` is a smoke test of the same "
            "steps; `python -m tools.bench --only localocr rapidocr --quick` looks at some engines alone). It "
            "installs the peers from the registries (Debian's tesseract, npm's tesseract.js pinned by "
            "`tools/bench_peers/package-lock.json`, PyPI's rapidocr 3.10.0 with its bundled PP-OCRv6 small "
            "models) and serves tesseract.js from our own origin. Full results: "
            "[bench/results.md](bench/results.md), [bench/results.json](bench/results.json).\n\n"
            "![accuracy vs seconds per image](bench/chart.svg)\n\n" + render_markdown(res))


# ------------------------------------------------------------------------------------------------
# run


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    osname = platform.platform()
    with contextlib.suppress(OSError):
        osname = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text()).group(1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "os": osname, "python": platform.python_version()}


def versions(modules: Path | None, rapidocr: bool = True) -> dict:
    import onnxruntime

    import localocr
    from localocr.onnxmeta import read_metadata
    from localocr.pipeline import bundled_model

    models = []
    for kind in ("detector", "recognizer"):
        path = bundled_model(kind)
        meta = read_metadata(path.read_bytes())
        models.append(f"{path.name} {meta.get('localocr.version', '?')}, {path.stat().st_size / 1e6:.1f} MB")
    vendor = json.loads((WEB / "vendor" / "runtime.json").read_text()) if (WEB / "vendor" / "runtime.json").exists() else {}
    src = vendor.get("sources", {})
    return {"localocr": localocr.__version__, "models": "; ".join(models), "onnxruntime": onnxruntime.__version__,
            "onnxruntime_web": src.get("onnxruntime-web", "").split("@")[-1],
            "pyodide": src.get("pyodide", "").split("@")[-1],
            "tesseract": tesseract_version(), "tesseract_deb": debian_version("tesseract-ocr"),
            "tesseract_eng_deb": debian_version("tesseract-ocr-eng"),
            "npm": npm_versions(modules) if modules else {},
            "rapidocr": bench_rapidocr.versions() if rapidocr else {}}


def write_results(res: dict, target: Path, readme: bool) -> None:
    """results.json (without the read texts, which stay in bench/out/raw.json), results.md, chart.svg;
    and README's section when `readme`."""
    slim = json.loads(json.dumps(res))
    for e in (slim.get("browser") or {}).get("engines", {}).values():
        e.pop("texts", None)
    target.mkdir(parents=True, exist_ok=True)
    (target / "results.json").write_text(json.dumps(slim, indent=1, ensure_ascii=False) + "\n")
    (target / "results.md").write_text("## localocr benchmark\n\n" + render_markdown(res))
    (target / "chart.svg").write_text(chart_svg(res["accuracy"]))
    if readme:
        README.write_text(update_readme(README.read_text(), readme_section(res)))   # read right before writing


ENGINE_CHOICES = ("localocr", "tesseract", "tesseract-js", "rapidocr")     # --only's names


def make_engines(only: set, modules: Path | None) -> dict:
    """Display name -> engine (read / recognize_line) for the chosen ones of ENGINE_CHOICES."""
    engines: dict = {}
    if "localocr" in only:
        from localocr import OCR
        from localocr.backends.onnxruntime import OnnxRuntimeBackend

        engines["localocr"] = OCR(backend=OnnxRuntimeBackend(threads=1))
    if "tesseract" in only:
        engines["tesseract"] = TesseractCLI(name="tesseract")
    if "tesseract-js" in only:
        engines["tesseract (js data)"] = TesseractCLI(tesseract_js_data(modules), name="tesseract (js data)")
    if "rapidocr" in only:
        engines[bench_rapidocr.ENGINE_NAME] = bench_rapidocr.RapidOCRPeer()
    return engines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 5 images per set, 3 speed images, 1 cold round, 6 reads; writes bench/out/quick/")
    ap.add_argument("--limit", type=int, help="at most N validation images per set (default: all)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["accuracy", "cpython", "browser"],
                    help="leave parts out (a partial run writes only under bench/out/partial/)")
    ap.add_argument("--only", nargs="+", choices=ENGINE_CHOICES, metavar="ENGINE",
                    help=f"accuracy and CPython speed of these engines only ({', '.join(ENGINE_CHOICES)}); no "
                         "browser part: a partial run, written under bench/out/partial/")
    ap.add_argument("--no-readme", action="store_true", help="do not update README.md")
    ap.add_argument("--render-only", action="store_true",
                    help="measure nothing: rewrite bench/results.*, the chart and README from bench/out/raw.json")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    if args.render_only:
        res = json.loads((RESULTS / "out" / "raw.json").read_text())
        write_results(res, RESULTS, readme=not args.no_readme)
        print(render_markdown(res))
        return 0
    only = set(args.only or ENGINE_CHOICES)
    skip = set(args.skip) | ({"browser"} if args.only else set())   # --only: no browser part
    if only & {"tesseract", "tesseract-js"} and shutil.which("tesseract") is None:
        log("bench: no `tesseract` command: install the Debian packages tesseract-ocr tesseract-ocr-eng (make bench does)")
        return 2
    if not data_sets():
        log(f"bench: no data sets under {DATA}")
        return 2
    limit = 5 if args.quick else args.limit
    counts = {k: 1 for k in SPEED_IMAGES} if args.quick else SPEED_IMAGES
    images = speed_images(counts=counts)
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "quick": args.quick, "limit": limit, "machine": {**machine(), "load_start": load_avg()}}
    loads = res["machine"]["load_phases"] = {}     # 1-minute load average after each part
    modules = site = None
    if "browser" not in skip or "tesseract-js" in only:
        log("bench: set-up of tesseract.js (npm ci, verified by package-lock.json) and the served site")
        modules = npm_install()
    if "browser" not in skip:
        site = build_site(modules, images)
    res["versions"] = versions(modules, rapidocr="rapidocr" in only)
    engines = make_engines(only, modules)
    if "accuracy" not in skip:
        log(f"bench: accuracy on the validation splits ({'at most %d per set' % limit if limit else 'all'})")
        res["accuracy"] = accuracy(data_sets(), engines, limit, log)
        loads["accuracy"] = load_avg()[0]
    if "cpython" not in skip:
        timed = {n: e for n, e in engines.items() if n != "tesseract (js data)"}   # the same CLI
        log(f"bench: CPython speed, {len(images)} images, {', '.join(timed)}, interleaved")
        rounds = 1 if args.quick else CPYTHON_ROUNDS
        cp = {"images": [image_key(i) for i in images], "rounds": rounds,
              "engines": cpython_speed(images, timed, rounds)}
        rss = cp["peak_rss_kib"] = {}
        if "localocr" in timed:
            rss["localocr"] = localocr_peak_rss(images)
        if "tesseract" in timed:
            cp["tesseract_startup_s"] = tesseract_startup_s(timed["tesseract"], 1 if args.quick else 5)
            rss["tesseract"] = max(timed["tesseract"].peak_rss_kib(str(i)) for i in images)
        if bench_rapidocr.ENGINE_NAME in timed:
            # a fresh process (python -m tools.bench_rapidocr IMAGE...), as for localocr
            rss[bench_rapidocr.ENGINE_NAME] = peak_rss_kib([sys.executable, "-m", "tools.bench_rapidocr",
                                                            *map(str, images)])
        rss["probe_alone"] = peak_rss_kib(["true"])
        res["cpython"] = cp
        loads["cpython"] = load_avg()[0]
    if "browser" not in skip:
        log(f"bench: browser, {len(images)} images, {', '.join(WEB_ENGINES)}, interleaved")
        res["browser"] = web_bench(site, images, 1 if args.quick else COLD_ROUNDS,
                                   3 * len(images) if args.quick else BROWSER_READS, log)
        loads["browser"] = load_avg()[0]
    res["machine"]["load_end"] = load_avg()
    res["wall_s"] = time.perf_counter() - t_start
    complete = not skip
    out_dir = RESULTS / "out" / ("quick" if args.quick else "" if complete else "partial")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "raw.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    md = render_markdown(res) if complete else partial_markdown(res)
    target = out_dir if args.quick or not complete else RESULTS
    if complete:
        write_results(res, target, readme=not args.quick and not args.no_readme)
    print(md)
    log(f"bench: done in {res['wall_s'] / 60:.1f} min; results in {target}")
    off = (res.get("browser") or {}).get("requests", {}).get("off_origin")
    if off:
        log(f"bench: requests left our origin: {off}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
