"""Batch OCR without a distributed engine's types: inputs -> pages -> rows, and resuming.

This module is plain Python (numpy + Pillow through the pipeline), so it is
tested without Ray; `localocr.ray` runs it on a Ray cluster and `localocr
batch` (see `localocr.ray.main`) is its command line.

A *row* is one page of one input, a dict with the keys of `ROW_KEYS`:

    path      the input's identity: its file path, or a Parquet row's id
    page      1-based page number (a multi-frame TIFF: one row per frame);
              None when the input failed before any page was found
    width, height   the page's size in pixels (None on an error)
    rotation, deskew  what orientation did (`Page.rotation`: the clockwise quarter turn that made
              the text upright; `Page.deskew`: degrees that levelled tilted lines); None on an error
    text      `Page.text` (what `localocr IMAGE` prints, less the final newline)
    lines     [{text, quad, confidence, block, words: [{text, quad, confidence}]}]:
              the Page JSON's lines (`Line.to_dict`), with the index of their block
    fields    `page.fields(kind)` when a kind is asked for (what `localocr --fields KIND`
              puts in its JSON), else None
    error     None, or {"code": LocalOCRError.code, "message": str(err)}
    timings   seconds per stage (`TIMING_KEYS`; `read`: reading the file's bytes)

An input that cannot be read, decoded or OCRed gives an error row, never an
exception: a corrupt scan among millions must not stop the job.
"""

from __future__ import annotations

import glob
import io
import json
import os
import time
from dataclasses import dataclass, field

from PIL import Image

from .errors import LocalOCRError

ROW_KEYS = ("path", "page", "width", "height", "rotation", "deskew", "text", "lines", "fields", "error", "timings")
# The pipeline's stages (`OCR` timings), plus reading the input's bytes.
TIMING_KEYS = (
    "read",
    "decode",
    "detect_pre",
    "detect_run",
    "detect_post",
    "recognize_pre",
    "recognize_run",
    "recognize_post",
    "orient",
    "layout",
    "total",
)
# Files taken from a folder (globs and files named on the command line are taken as they are).
IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".bmp",
    ".gif",
    ".webp",
    ".jp2",
    ".pbm",
    ".pgm",
    ".ppm",
    ".pnm",
)
PARQUET_EXTENSIONS = (".parquet", ".pq")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


# ---------------------------------------------------------------- inputs


@dataclass
class Inputs:
    """What the command line's INPUT arguments name: image files, and Parquet files of image bytes."""

    files: list = field(default_factory=list)
    parquet: list = field(default_factory=list)


def expand_inputs(args) -> Inputs:
    """Folders (recursively, files with `IMAGE_EXTENSIONS`), globs and files -> `Inputs`.

    Paths are kept as given (relative stays relative; `./a/../b.png` is
    `b.png`, so a re-run spelt differently still finds its rows), each once, in
    sorted order within a folder or glob. An argument that names nothing is an error.
    """
    out, seen = Inputs(), set()

    def add(path):
        path = os.path.normpath(path)
        if path in seen:
            return
        seen.add(path)
        (out.parquet if path.lower().endswith(PARQUET_EXTENSIONS) else out.files).append(path)

    for arg in args:
        if os.path.isdir(arg):
            found = sorted(
                os.path.join(d, f)
                for d, _, fs in os.walk(arg)
                for f in fs
                if f.lower().endswith(IMAGE_EXTENSIONS + PARQUET_EXTENSIONS)
            )
        elif os.path.exists(arg):
            found = [arg]
        else:
            found = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
        if not found:
            what = (
                "folder has no image or Parquet files" if os.path.isdir(arg) else "no such file, folder or glob match"
            )
            raise LocalOCRError(f"{arg}: {what}.", "no_input")
        for p in found:
            add(p)
    return out


def read_bytes(path: str) -> bytes:
    """A file's bytes, or a LocalOCRError (it becomes the input's error row)."""
    from .image import source_bytes

    return source_bytes(path)


# ---------------------------------------------------------------- pages and rows


def pages_of(ocr, data: bytes):
    """The one place that says how an input becomes pages: yields (page number, Page or LocalOCRError).

    A multi-frame TIFF gives one page per frame (a frame that fails is that
    page's error); anything else is one image, read exactly as `localocr
    IMAGE` reads it. A file that is not a usable image raises LocalOCRError.
    A PDF gives one page per PDF page (`OCR.read_document`, as `localocr FILE.pdf`).
    """
    if data[:5] == b"%PDF-":
        from .document import source_of

        for page in ocr.read_document(data).pages:
            yield source_of(page).number, page
        return
    if data[:4] in _TIFF_MAGIC:
        frames = _tiff_frames(data)
        if frames > 1:
            yield from _tiff_pages(ocr, data, frames)
            return
    yield 1, ocr.read(data)


def _tiff_frames(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return getattr(im, "n_frames", 1)
    except Exception:  # not readable as a TIFF: the pipeline's own decoder says why
        return 1


def _tiff_pages(ocr, data: bytes, frames: int):
    with Image.open(io.BytesIO(data)) as im:
        for i in range(frames):
            try:
                im.seek(i)
                if im.size[0] * im.size[1] > ocr.max_pixels:
                    raise LocalOCRError(
                        f"Page {i + 1} is {im.size[0]} x {im.size[1]} pixels, more than "
                        f"the {ocr.max_pixels:,} allowed.",
                        "too_large",
                    )
                frame = im.copy()  # decodes this frame only
            except LocalOCRError as e:
                yield i + 1, e
                continue
            except Exception as e:
                yield i + 1, LocalOCRError(f"Page {i + 1} could not be decoded ({e}).", "bad_image")
                continue
            try:
                yield i + 1, ocr.read(frame)
            except LocalOCRError as e:
                yield i + 1, e


def page_row(path: str, number, page, fields: str | None = None, read_s: float = 0.0) -> dict:
    """One row (see the module docstring) for a Page."""
    lines = [dict(ln.to_dict(), block=bi) for bi, b in enumerate(page.blocks) for ln in b.lines]
    timings = {k: round(float(page.timings.get(k, 0.0)), 4) for k in TIMING_KEYS}
    timings["read"] = round(read_s, 4)
    return {
        "path": path,
        "page": number,
        "width": page.width,
        "height": page.height,
        "rotation": int(page.rotation),
        "deskew": round(float(page.deskew), 2),
        "text": page.text,
        "lines": lines,
        "fields": page.fields(fields) if fields else None,
        "error": None,
        "timings": timings,
    }


def error_row(path: str, number, err: Exception, read_s: float = 0.0) -> dict:
    """One row for an input (number None) or a page that failed."""
    if isinstance(err, LocalOCRError):
        error = {"code": err.code, "message": str(err)}
    else:  # a bug on one input must not stop the other million
        error = {"code": "internal_error", "message": f"{type(err).__name__}: {err}"}
    timings = dict.fromkeys(TIMING_KEYS, 0.0)
    timings["read"] = round(read_s, 4)
    return {
        "path": path,
        "page": number,
        "width": None,
        "height": None,
        "rotation": None,
        "deskew": None,
        "text": None,
        "lines": None,
        "fields": None,
        "error": error,
        "timings": timings,
    }


def rows_for(ocr, path: str, data: bytes | None = None, fields: str | None = None) -> list[dict]:
    """Every row of one input: `data` are its bytes, or None to read the file at `path`."""
    t0 = time.perf_counter()
    try:
        if data is None:
            data = read_bytes(path)
    except LocalOCRError as e:
        return [error_row(path, None, e, time.perf_counter() - t0)]
    read_s = time.perf_counter() - t0
    rows = []
    try:
        for number, page in pages_of(ocr, bytes(data)):
            if isinstance(page, Exception):
                rows.append(error_row(path, number, page))
            else:
                rows.append(page_row(path, number, page, fields, read_s))
            read_s = 0.0  # the file was read once, for its first page
    except Exception as e:  # noqa: BLE001 - see error_row
        rows.append(error_row(path, None if not rows else rows[-1]["page"] + 1, e, read_s))
    return rows


# ---------------------------------------------------------------- output folder


def _jsonl_paths(path: str):
    """The `path` of every complete line of a JSON-lines file (a line cut short by a crash is skipped)."""
    with open(path, "rb") as f:
        for line in f:
            try:
                yield json.loads(line)["path"]
            except (ValueError, KeyError, TypeError):
                continue


def done_inputs(out_dir: str) -> set:
    """The inputs (row `path`s) that already have rows in `out_dir`'s .jsonl and .parquet files."""
    done: set = set()
    if not os.path.isdir(out_dir):
        return done
    for name in sorted(os.listdir(out_dir)):
        p = os.path.join(out_dir, name)
        if name.startswith(".") or not os.path.isfile(p):
            continue
        if name.endswith(".jsonl"):
            done.update(_jsonl_paths(p))
        elif name.endswith(".parquet"):
            import pyarrow.parquet as pq  # only with the [ray] extra

            try:
                done.update(pq.read_table(p, columns=["path"]).column("path").to_pylist())
            except Exception as e:  # not ours, or broken: say so, keep going
                raise LocalOCRError(
                    f"{p} is not a readable Parquet file of rows ({e}); move it out of the output folder.", "bad_output"
                ) from None
    return done
