"""The side-by-side benchmark (tools/bench/): Tesseract CLI: TSV -> Page."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from localocr.errors import LocalOCRError
from localocr.result import Block, Line, Page, Word

from tools.bench.common import SEGMENT_GAP


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
    return np.array([[left, top], [left + width, top], [left + width, top + height], [left, top + height]], np.float64)


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
        word = Word(
            r["text"].strip(), _box_quad(r["left"], r["top"], r["width"], r["height"]), max(0.0, r["conf"]) / 100
        )
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
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RSS_PROBE, *cmd], capture_output=True, text=True, env=env, check=True
    )
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
        self.env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # see the module docstring: one thread

    def _cmd(self, path: str, psm: int) -> list[str]:
        cmd = ["tesseract", str(path), "stdout", "-l", self.lang, "--psm", str(psm)]
        if self.tessdata:
            cmd += ["--tessdata-dir", str(self.tessdata)]
        # TSV through the variable, not the `tsv` config file, which a custom tessdata folder lacks
        return cmd + ["-c", "tessedit_create_tsv=1"]

    def run_tsv(self, path: str, psm: int = 3) -> str:
        proc = subprocess.run(self._cmd(path, psm), capture_output=True, env=self.env)
        if proc.returncode != 0:
            raise LocalOCRError(
                f"tesseract failed on {path}: {proc.stderr.decode(errors='replace').strip()[-300:]}", "tesseract_failed"
            )
        return proc.stdout.decode("utf-8")

    def peak_rss_kib(self, path: str, psm: int = 3) -> int:
        return peak_rss_kib(self._cmd(path, psm), self.env)

    def read(self, path) -> Page:
        return tsv_to_page(self.run_tsv(path, 3), self.name)

    def recognize_line(self, path) -> tuple[str, float]:
        page = tsv_to_page(self.run_tsv(path, 7), self.name)  # 7: treat the image as a single text line
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
