"""PP-OCRv6 small as a peer of `make bench` (tools/bench/, issue 15): rapidocr 3.10.0 from PyPI
(Apache-2.0) with the models its wheel bundles (PP-OCRv6 small detector and recognizer, the mobile
v2.0 direction classifier), `RapidOCR()`'s defaults, the onnxruntime backend on one thread.

    python -m tools.bench --only rapidocr --quick      # a quick look at this peer alone

Its output becomes a localocr `Page` that `localocr.evaluate` scores as it scores localocr:
- each detected region (a line-level quad with its text and score) is a `Line`, all in one block
  in rapidocr's reading order (top to bottom, then left to right);
- its words are the word boxes rapidocr computes itself (`return_word_box`: the CTC columns of each
  character mapped back into the region) when they are the line's whitespace-separated words;
  otherwise (rapidocr also cuts a word at a wide gap between two characters, so its words and the
  text would disagree) the line's text is split at whitespace and its quad cut proportionally by
  character count (`split_line_words`). The share of lines split that way is counted per set.
Crop sets run the recognizer alone (`use_det=False, use_cls=False`), as Tesseract runs with --psm 7.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
from localocr.errors import LocalOCRError
from localocr.result import Block, Line, Page, Word

RAPIDOCR_VERSION = "3.10.0"  # the pin of pyproject's `bench` extra
ENGINE_NAME = "PP-OCRv6 small"
# one thread, as every other engine of the bench; the log at "warning" (its "info" logs every model
# path); word boxes on (see the module docstring). Everything else: RapidOCR's own defaults.
PARAMS = {
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    "Global.log_level": "warning",
    "Global.return_word_box": True,
}


def split_line_words(text: str, quad) -> list[tuple[str, np.ndarray]]:
    """A line's text and quad -> (word, quad) for each whitespace-separated word, each word's quad the
    slice of the line's quad (along its top and bottom edges, so a slanted line stays slanted) that its
    characters take when every character of the line has the same width."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    out, n, pos = [], len(text), 0
    for word in text.split():
        start = text.index(word, pos)
        pos = start + len(word)
        a, b = start / n, pos / n
        top = q[0] + np.outer([a, b], q[1] - q[0])
        bottom = q[3] + np.outer([b, a], q[2] - q[3])
        out.append((word, np.concatenate([top, bottom])))
    return out


def line_words(text: str, quad, confidence: float, word_results) -> tuple[list[Word], bool]:
    """(words, used rapidocr's own word boxes) for one line: its word boxes when their texts are the
    line's whitespace-separated words, else `split_line_words`. Word confidences: the line's score
    (rapidocr's per-word scores are per-character values that do not line up with its words)."""
    words = [(t, b) for t, _, b in word_results or () if b is not None]
    if words and [t for t, _ in words] == text.split():
        return [Word(t, np.asarray(b, np.float64).reshape(4, 2), confidence) for t, b in words], True
    return [Word(t, q, confidence) for t, q in split_line_words(text, quad)], False


def output_to_page(out, width: int, height: int, backend: str = ENGINE_NAME) -> tuple[Page, int]:
    """rapidocr's result (`RapidOCROutput`: boxes, txts, scores, word_results) -> (Page, number of lines
    whose words were split proportionally). Lines with no text are dropped."""
    txts = getattr(out, "txts", None) or ()
    boxes, scores = getattr(out, "boxes", None), getattr(out, "scores", None) or ()
    word_results = getattr(out, "word_results", None) or ()
    aligned = len(word_results) == len(txts)  # rapidocr drops the word list of a line it gave none
    lines, split = [], 0
    for i, text in enumerate(txts):
        if not text.strip():
            continue
        quad = np.asarray(boxes[i], np.float64).reshape(4, 2)
        conf = float(scores[i])
        words, own = line_words(text, quad, conf, word_results[i] if aligned else None)
        split += not own
        lines.append(Line(words, quad, conf))
    blocks = []
    if lines:
        q = np.concatenate([ln.quad for ln in lines])
        (x0, y0), (x1, y1) = q.min(axis=0), q.max(axis=0)
        blocks = [Block(lines, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64))]
    return Page(width=width, height=height, blocks=blocks, backend=backend), split


class RapidOCRPeer:
    """rapidocr as an engine for `localocr.evaluate`: `read(path) -> Page`, `recognize_line(path) ->
    (text, confidence)`. Models loaded once, here, before anything is timed."""

    def __init__(self, name: str = ENGINE_NAME):
        try:
            import cv2
            from rapidocr import RapidOCR
        except ImportError as e:
            raise LocalOCRError(
                f"the PP-OCRv6 peer needs rapidocr=={RAPIDOCR_VERSION} (pip install "
                f"'.[bench]', as make bench does): {e}",
                "rapidocr_missing",
            ) from e
        from importlib.metadata import version

        if version("rapidocr") != RAPIDOCR_VERSION:  # the peer the tables name, not another release
            raise LocalOCRError(
                f"the PP-OCRv6 peer is rapidocr=={RAPIDOCR_VERSION}, not {version('rapidocr')}: pip install '.[bench]'",
                "rapidocr_version",
            )
        cv2.setNumThreads(1)  # its image operations on one thread too
        self.name = name
        self.engine = RapidOCR(params=PARAMS)
        for load in (self.engine._load_det_model, self.engine._load_cls_model, self.engine._load_rec_model):
            load()  # RapidOCR loads each model on first use otherwise
        # RapidOCR keeps the steps a call asks for (`use_det=False` for a crop) for the calls after it:
        # every call names its steps, a page's being the configured defaults
        self.page_steps = {
            "use_det": self.engine.use_det,
            "use_cls": self.engine.use_cls,
            "use_rec": self.engine.use_rec,
        }
        self.stats = {"lines": 0, "split_lines": 0}

    def _run(self, path, **kw):
        try:
            return self.engine(str(path), **kw)
        except Exception as e:  # its errors have no common base class
            raise LocalOCRError(f"rapidocr failed on {path}: {type(e).__name__}: {e}", "rapidocr_failed") from e

    def read(self, path) -> Page:
        out = self._run(path, **self.page_steps)
        img = getattr(out, "img", None)
        if img is None:  # nothing found: rapidocr returns an empty result
            from PIL import Image, ImageOps

            with Image.open(path) as im:
                width, height = ImageOps.exif_transpose(im).size
        else:
            height, width = img.shape[:2]
        page, split = output_to_page(out, width, height, self.name)
        self.stats["lines"] += len(page.lines)
        self.stats["split_lines"] += split
        return page

    def recognize_line(self, path) -> tuple[str, float]:
        out = self._run(path, use_det=False, use_cls=False, use_rec=True)
        txts, scores = getattr(out, "txts", None) or (), getattr(out, "scores", None) or ()
        return (txts[0].strip(), float(scores[0])) if txts else ("", 0.0)

    def take_stats(self) -> dict:
        """Lines read since the last call, and how many of them had their words split proportionally."""
        stats, self.stats = self.stats, {"lines": 0, "split_lines": 0}
        return stats


def versions() -> dict:
    """rapidocr's version and the model files it loads (name, MB, sha256 prefix)."""
    from importlib.metadata import version

    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    files = {
        p.name: f"{p.stat().st_size / 1e6:.1f} MB, sha256 {hashlib.sha256(p.read_bytes()).hexdigest()[:12]}"
        for p in sorted(models.glob("*.onnx"))
    }
    return {"rapidocr": version("rapidocr"), "models": files}


def main(argv=None) -> int:
    """`python -m tools.bench_rapidocr IMAGE... [--line]`: the peer's text of each image (--line: the
    recognizer alone, as for crop sets). Also the fresh process whose peak RSS the bench measures."""
    import argparse

    ap = argparse.ArgumentParser(description="PP-OCRv6 small (rapidocr) as tools/bench/ runs it")
    ap.add_argument("images", nargs="+")
    ap.add_argument("--line", action="store_true", help="each image is one text line: recognizer only")
    args = ap.parse_args(argv)
    try:
        peer = RapidOCRPeer()
        for path in args.images:
            text = peer.recognize_line(path)[0] if args.line else peer.read(path).text
            print(f"== {path}\n{text}")
    except LocalOCRError as e:
        print(f"bench_rapidocr: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
