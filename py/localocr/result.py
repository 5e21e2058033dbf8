"""Result types, Page -> Block -> Line -> Word (their hOCR: hocr.py; PDF, ALTO, PAGE: document.py).

Quads are four (x, y) corners in the original image's pixels (after EXIF
orientation), clockwise from the text's reading top-left. Confidences are in
[0, 1].

`Page.to_dict()` is the page JSON, version 1 (SCHEMA_VERSION): its schema is written down once, in
web/page.schema.json (JSON Schema; `Document.to_dict()` is its "Document"), which tests/test_result.py
validates to_dict() against and web/localocr.d.ts types for the browser (tests/test_types.py checks
that the two agree).

Coordinates are rounded to 0.1 px, confidences to 4 decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .hocr import hocr_document, hocr_page

if TYPE_CHECKING:
    from .document import PageSource

SCHEMA_VERSION = 1


def _q(quad) -> list:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in np.asarray(quad).reshape(4, 2)]


@dataclass
class Word:
    text: str
    quad: np.ndarray
    confidence: float

    def to_dict(self) -> dict:
        return {"text": self.text, "quad": _q(self.quad), "confidence": round(float(self.confidence), 4)}


@dataclass
class Line:
    words: list[Word]
    quad: np.ndarray
    confidence: float
    # the detector's line segments this reading line joins (a receipt's "TOTAL"
    # and "12.50"); empty when the line is one segment. Not in to_dict().
    segments: list = field(default_factory=list, repr=False)

    @property
    def parts(self) -> list["Line"]:
        """The detector segments of this line (itself when it is one)."""
        return self.segments or [self]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "quad": _q(self.quad),
            "confidence": round(float(self.confidence), 4),
            "words": [w.to_dict() for w in self.words],
        }


@dataclass
class Block:
    lines: list[Line]
    quad: np.ndarray

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)

    @property
    def confidence(self) -> float:
        n = sum(len(ln.words) for ln in self.lines)
        return sum(w.confidence for ln in self.lines for w in ln.words) / n if n else 0.0

    def to_dict(self) -> dict:
        return {
            "quad": _q(self.quad),
            "confidence": round(float(self.confidence), 4),
            "lines": [ln.to_dict() for ln in self.lines],
        }


@dataclass
class Page:
    width: int
    height: int
    blocks: list[Block] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    backend: str = ""
    backend_detail: str = ""
    # where the page came from (page number, dpi, text layer, its picture for to_pdf): a
    # localocr.document.PageSource, or None. Not in to_dict() (Document.to_dict carries it).
    source: PageSource | None = field(default=None, repr=False, compare=False)
    # what was done to the input on the way (localocr.image.Note: a reduction to the working size, ...)
    notes: list = field(default_factory=list)
    # the quarter turn (degrees clockwise) that turned the image's text upright before it was read
    # (localocr.orientation); the quads are on the image as given all the same
    rotation: int = 0
    # ... and then the small rotation (degrees, counter-clockwise) that levelled its lines (0: none)
    deskew: float = 0.0

    @property
    def lines(self) -> list[Line]:
        return [ln for b in self.blocks for ln in b.lines]

    @property
    def words(self) -> list[Word]:
        return [w for ln in self.lines for w in ln.words]

    @property
    def text(self) -> str:
        """Lines in reading order, one per text line; a blank line between blocks."""
        return "\n\n".join(b.text for b in self.blocks if b.lines)

    def to_text(self) -> str:
        return self.text + ("\n" if self.blocks else "")

    def to_dict(self) -> dict:
        return {
            "version": SCHEMA_VERSION,
            "width": self.width,
            "height": self.height,
            "rotation": int(self.rotation),
            "deskew": round(float(self.deskew), 2),
            "backend": self.backend,
            "backend_detail": self.backend_detail,
            "timings": {k: round(float(v), 4) for k, v in self.timings.items()},
            "text": self.text,
            "notes": [n.to_dict() for n in self.notes],
            "blocks": [b.to_dict() for b in self.blocks],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Page":
        """The Page that `to_dict()` wrote (words, lines, blocks, quads, confidences; no segments)."""

        def word(w):
            return Word(w["text"], np.asarray(w["quad"], np.float64), float(w["confidence"]))

        blocks = [
            Block(
                [
                    Line([word(w) for w in ln["words"]], np.asarray(ln["quad"], np.float64), float(ln["confidence"]))
                    for ln in b["lines"]
                ],
                np.asarray(b["quad"], np.float64),
            )
            for b in d.get("blocks", [])
        ]
        return cls(
            int(d["width"]),
            int(d["height"]),
            blocks,
            dict(d.get("timings", {})),
            d.get("backend", ""),
            d.get("backend_detail", ""),
            rotation=int(d.get("rotation", 0)),
            deskew=float(d.get("deskew", 0.0)),
        )

    def fields(self, kind: str = "auto") -> dict:
        """Key fields of a receipt or of an ID document's MRZ (see localocr.fields)."""
        from .fields import extract

        return extract(self, kind)

    def to_hocr(self, image_name: str = "", language: str = "") -> str:
        """The page as an hOCR 1.2 XHTML document (ocr_page > ocr_carea > ocr_par > ocr_line > ocrx_word)."""
        return hocr_document([hocr_page(self, 1, image_name)], image_name, language)

    # -- renderers of localocr.document (one page: a Document of one)

    def to_pdf(self, **options) -> bytes:
        """A searchable PDF of this page (needs its picture: `source.image`, set by OCR.read)."""
        from .document import Document

        return Document([self]).to_pdf(**options)

    def to_alto(self, **options) -> str:
        """ALTO XML v4 of this page."""
        from .document import Document

        return Document([self]).to_alto(**options)

    def to_page_xml(self, **options) -> str:
        """PAGE XML (2019-07-15) of this page."""
        from .document import Document

        return Document([self]).to_page_xml(**options)[0]
