"""Documents: several pages read from one source, and their renderers.

A `Document` is a list of `Page`s (localocr.result), each with a `PageSource`
(`page.source`): its number in the source (1-based), the resolution it was
read at, whether the source page had a text layer, and its picture (for the
searchable PDF). Sources:

- a PDF: every page (or `pages=`), rendered on CPython by pypdfium2
  (localocr.pdfread) and in the browser by pdf.js, at `choose_dpi`;
- a multi-page TIFF, an animated GIF or WebP: every page/frame is a page
  (`frame_count` says how many the file has);
- any other image: one page.
They are read by localocr.docread (the pipeline's read_document); this module holds what reading
and the browser's worker share (page choice, resolution) and never imports the result types it
renders, which use it in turn (Page.to_pdf, ...).

Renderers: `to_text` (pages separated by a form feed, as pdftotext does),
`to_dict` (JSON: the pages' `Page.to_dict()` plus "source"), `to_hocr` (one
ocr_page per page), `to_pdf` (image + invisible text layer: localocr.pdfwrite),
`to_alto` (ALTO XML v4.4, one Page per page, coordinates in pixels),
`to_page_xml` (PAGE XML 2019-07-15: one document per page, as PAGE holds one).
Standard library only, so they run in Pyodide as on CPython.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .errors import LocalOCRError
from .hocr import _bbox, hocr_document, hocr_page
from .pdfwrite import PdfPage, PdfWord, write_pdf
from .version import __version__

if TYPE_CHECKING:
    from PIL import Image  # imported where pages are decoded: not at start-up

    from .result import Page  # pages are read here, never made: docread.py makes them

# Page limits: a document is read page by page (memory stays flat), but a long one takes minutes
# (~0.2-0.5 s a page on CPython, more in a browser): past this, choose pages explicitly.
MAX_PAGES = 300
# Resolution of a page image with no usable resolution of its own (most photos and screenshots
# say 72 or nothing): the page size the PDF/ALTO outputs give it, 300 dpi as a scanner's default.
DEFAULT_IMAGE_DPI = 300.0
# Rendering PDF pages (choose_dpi): 200 dpi draws 10 pt text ~28 px tall, within the
# 16-60 px the detector and recognizer read best; smaller print is drawn bigger.
LEGIBLE_DPI = 200.0
LEGIBLE_FONT_PT = 10.0
MIN_DPI, MAX_DPI = 100.0, 400.0
JPEG_QUALITY = 85  # page pictures in the searchable PDF (a JPEG source is kept as it is)

TEXT_LAYER = ("none", "present", "used")
EXPORT_FORMATS = ("text", "json", "hocr", "alto", "page", "pdf")  # no text layer / has one, OCR ran / its text was kept


@dataclass
class PageImage:
    """A page's picture for the PDF: a decoded PIL image, or the source's own JPEG bytes."""

    width: int
    height: int
    mode: str  # "L" or "RGB"
    pil: Image.Image | None = None  # encoded on demand
    jpeg: bytes | None = None

    @classmethod
    def of(cls, im, jpeg: bytes | None = None) -> "PageImage":
        mode = "L" if im.mode == "L" else "RGB"
        return cls(im.size[0], im.size[1], mode, pil=None if jpeg else im, jpeg=jpeg)

    def compact(self) -> "PageImage":
        """Encode the picture now (JPEG) and drop the pixels: a long document stays small in memory."""
        if self.jpeg is None and self.pil is not None:
            buf = io.BytesIO()
            im = self.pil if self.pil.mode == self.mode else self.pil.convert(self.mode)
            im.save(buf, "JPEG", quality=JPEG_QUALITY)
            self.jpeg, self.pil = buf.getvalue(), None
        return self


@dataclass
class PageSource:
    """Where a page came from. number: 1-based page/frame number in the source; dpi: pixels per
    inch of the page as read (its size in points is pixels * 72 / dpi); text_layer: see TEXT_LAYER."""

    number: int = 1
    dpi: float = DEFAULT_IMAGE_DPI
    text_layer: str = "none"
    image: PageImage | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"page_number": self.number, "dpi": round(float(self.dpi), 2), "text_layer": self.text_layer}


def source_of(page: Page) -> PageSource:
    return page.source if isinstance(page.source, PageSource) else PageSource()


@dataclass
class Document:
    """Pages read from one source (or several images). kind: "pdf", "tiff", "gif", "webp", "image"
    or "images"; page_count: the pages (frames) the source has, read or not."""

    pages: list[Page]
    name: str = ""
    kind: str = "image"
    page_count: int = 0

    def __post_init__(self):
        self.page_count = self.page_count or len(self.pages)

    @property
    def text(self) -> str:
        return "\f".join(p.text for p in self.pages)

    def to_text(self) -> str:
        """Each page's text; a form feed between pages."""
        return "\f".join(p.to_text() for p in self.pages)

    def to_dict(self) -> dict:
        pages = []
        for p in self.pages:
            d = p.to_dict()
            d["source"] = source_of(p).to_dict()
            pages.append(d)
        return {
            "version": 1,
            "name": self.name,
            "kind": self.kind,
            "page_count": self.page_count,
            "text": self.text,
            "pages": pages,
        }

    def to_hocr(self, language: str = "") -> str:
        divs = [hocr_page(p, i, self.name) for i, p in enumerate(self.pages, 1)]
        return hocr_document(divs, self.name, language)

    def to_pdf(self) -> bytes:
        """A searchable PDF: every page's picture with its words as invisible text on their boxes."""
        out = []
        for p in self.pages:
            src = source_of(p)
            if src.image is None:
                raise LocalOCRError(
                    "A searchable PDF needs the page pictures; this page has none "
                    "(pages from OCR.read/read_document carry theirs).",
                    "no_image",
                )
            img = src.image.compact()
            words = []
            for ln in p.lines:
                for i, w in enumerate(ln.words):
                    words.append(
                        PdfWord(w.text, np.asarray(w.quad).reshape(4, 2).tolist(), space_after=i + 1 < len(ln.words))
                    )
            # the picture may be stored at another size than the page was read at (never so
            # far): scale the dpi so the PDF page keeps the page's size in points
            dpi = src.dpi * img.width / p.width if p.width else src.dpi
            scaled = (
                [
                    PdfWord(
                        w.text, [[x * img.width / p.width, y * img.height / p.height] for x, y in w.quad], w.space_after
                    )
                    for w in words
                ]
                if img.width != p.width
                else words
            )
            out.append(PdfPage(img.width, img.height, dpi, img.mode, jpeg=img.jpeg, words=scaled))
        return write_pdf(out, title=self.name, producer=f"localocr {__version__}")

    def to_alto(self) -> str:
        return alto_xml(self)

    def export(self, fmt: str):
        """The document in one of EXPORT_FORMATS: str, bytes (pdf), or a list of str (page)."""
        if fmt == "json":
            return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        renderers = {
            "text": self.to_text,
            "hocr": self.to_hocr,
            "alto": self.to_alto,
            "page": self.to_page_xml,
            "pdf": self.to_pdf,
        }
        if fmt not in renderers:
            raise LocalOCRError(f"Unknown format {fmt!r} (one of {', '.join(EXPORT_FORMATS)}).", "bad_option")
        return renderers[fmt]()

    def to_page_xml(self) -> list[str]:
        """One PAGE XML document per page (a PAGE file holds one page)."""
        return [page_xml(p, self.name, len(self.pages) > 1) for p in self.pages]


# ---------------------------------------------------------------- page selection and DPI


def parse_pages(spec, count: int) -> list[int]:
    """ "1-3,7" / "5-" / [1, 2] / None (all) -> sorted unique 1-based page numbers within 1..count."""
    if spec is None or spec == "":
        return list(range(1, count + 1))
    chosen: set[int] = set()
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    for item in items:
        try:
            if isinstance(item, str) and "-" in item:
                a, _, b = item.partition("-")
                lo, hi = int(a), (int(b) if b.strip() else count)
            else:
                lo = hi = int(item)
        except (TypeError, ValueError):
            raise LocalOCRError(f"Pages must be numbers and ranges like 1-3,7; got {spec!r}.", "bad_pages") from None
        if lo < 1 or hi < lo:
            raise LocalOCRError(f"Page range {item!r} is not valid (pages count from 1).", "bad_pages")
        if lo > count:
            raise LocalOCRError(
                f"Page {lo} does not exist: the document has {count} page{'s' * (count != 1)}.", "bad_pages"
            )
        chosen.update(range(lo, min(hi, count) + 1))
    return sorted(chosen)


def check_page_count(numbers: list[int], count: int, max_pages: int | None = None) -> None:
    max_pages = MAX_PAGES if max_pages is None else max_pages
    if len(numbers) > max_pages:
        raise LocalOCRError(
            f"This document has {count} pages; at most {max_pages} are read at once. "
            f"Choose pages (--pages 1-{max_pages}, or pages=...).",
            "too_many_pages",
        )


@dataclass
class PageFacts:
    """What choose_dpi needs to know about a PDF page (pypdfium2 and pdf.js both give it)."""

    width_pt: float
    height_pt: float
    images: list = field(default_factory=list)  # [(width px, height px)] of the images drawn on it
    has_text: bool = False  # a text layer (characters other than spaces)
    font_sizes: list = field(default_factory=list)  # points, of its text layer's characters (a sample)


def choose_dpi(facts: PageFacts, max_pixels: int) -> float:
    """The resolution a PDF page is rendered at, for legibility.

    A scan (one image, no text layer, the image filling the page's shape) is rendered at the
    image's own resolution, so its pixels are taken 1:1 (nothing invented, nothing lost),
    within MIN_DPI..MAX_DPI. Other pages at LEGIBLE_DPI, more when their text layer says the
    print is small (its median size drawn as 10 pt at 200 dpi), at most MAX_DPI. Never more
    pixels than `max_pixels`.
    """
    w, h = facts.width_pt, facts.height_pt
    if w <= 0 or h <= 0:
        raise LocalOCRError("A page of this PDF has no size.", "bad_pdf")
    dpi = LEGIBLE_DPI
    native = scan_dpi(facts)
    if native:
        dpi = native
    elif facts.font_sizes:
        size = median(facts.font_sizes)
        if size > 0:
            dpi = LEGIBLE_DPI * max(1.0, LEGIBLE_FONT_PT / size)
    dpi = min(max(dpi, MIN_DPI), MAX_DPI)
    fit = 72.0 * math.sqrt(max_pixels / (w * h))
    return min(dpi, fit)


def scan_dpi(facts: PageFacts) -> float | None:
    """The resolution of a scanned page's one image (one image, no text layer, the page's shape)."""
    if len(facts.images) != 1 or facts.has_text or facts.width_pt <= 0 or facts.height_pt <= 0:
        return None
    iw, ih = facts.images[0]
    if iw <= 0 or ih <= 0 or abs((iw / ih) / (facts.width_pt / facts.height_pt) - 1) >= 0.03:
        return None
    return iw / (facts.width_pt / 72.0)


def is_native(facts: PageFacts, dpi: float) -> bool:
    """Whether `dpi` takes a scan's pixels 1:1: then its image is taken as it is, not rendered."""
    native = scan_dpi(facts)
    return native is not None and abs(dpi - native) < 1e-6 * native


def render_size(facts: PageFacts, dpi: float) -> tuple[int, int]:
    """Pixel size of a page rendered at `dpi` (both renderers draw exactly this size)."""
    return max(1, round(facts.width_pt * dpi / 72.0)), max(1, round(facts.height_pt * dpi / 72.0))


# ---------------------------------------------------------------- multi-frame images


FRAME_KINDS = {"TIFF": "tiff", "GIF": "gif", "WEBP": "webp", "PNG": "png", "MPO": "mpo"}


def image_dpi(im, decoded_size) -> float:
    """The page resolution of an image file: its own (JFIF, pHYs, TIFF) when plausible, else
    DEFAULT_IMAGE_DPI; scaled when the decoded image is smaller (a reduced decode)."""
    dpi = im.info.get("dpi")
    try:
        d = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        d = 0.0
    d = d if 50 <= d <= 2400 and d != 72 else DEFAULT_IMAGE_DPI  # 72: "no idea", as most software writes it
    full = max(im.size)
    return d * max(decoded_size) / full if full else d


# ---------------------------------------------------------------- ALTO v4


ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"


def _box_attrs(quad) -> str:
    x0, y0, x1, y1 = _bbox(quad)
    return f'HPOS="{x0}" VPOS="{y0}" WIDTH="{max(0, x1 - x0)}" HEIGHT="{max(0, y1 - y0)}"'


def alto_xml(doc: Document) -> str:
    """ALTO v4: Page > PrintSpace > TextBlock > TextLine > String (+ SP between words), pixels."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<alto xmlns="{ALTO_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{ALTO_NS} {ALTO_SCHEMA}">',
        "<Description>",
        "<MeasurementUnit>pixel</MeasurementUnit>",
    ]
    if doc.name:
        out.append(f"<sourceImageInformation><fileName>{escape(doc.name)}</fileName></sourceImageInformation>")
    out += [
        '<Processing ID="ocr">',
        f"<processingDateTime>{_now()}</processingDateTime>",
        "<processingSoftware><softwareName>localocr</softwareName>"
        f"<softwareVersion>{escape(__version__)}</softwareVersion></processingSoftware>",
        "</Processing>",
        "</Description>",
        "<Layout>",
    ]
    for pi, p in enumerate(doc.pages, 1):
        src = source_of(p)
        out.append(
            f'<Page ID="p{pi}" PHYSICAL_IMG_NR="{src.number}" WIDTH="{p.width}" HEIGHT="{p.height}" '
            f'PROCESSINGREFS="ocr">'
        )
        out.append(f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{p.width}" HEIGHT="{p.height}">')
        nl = nw = 0
        for bi, b in enumerate(p.blocks, 1):
            if not b.lines:
                continue
            out.append(f'<TextBlock ID="p{pi}_b{bi}" {_box_attrs(b.quad)}>')
            for ln in b.lines:
                nl += 1
                out.append(f'<TextLine ID="p{pi}_l{nl}" {_box_attrs(ln.quad)}>')
                for i, w in enumerate(ln.words):
                    nw += 1
                    if i:
                        prev = _bbox(ln.words[i - 1].quad)
                        x0 = _bbox(w.quad)[0]
                        out.append(f'<SP HPOS="{prev[2]}" VPOS="{prev[1]}" WIDTH="{max(0, x0 - prev[2])}"/>')
                    out.append(
                        f'<String ID="p{pi}_w{nw}" CONTENT={quoteattr(w.text)} {_box_attrs(w.quad)} '
                        f'WC="{min(1.0, max(0.0, float(w.confidence))):.4f}"/>'
                    )
                out.append("</TextLine>")
            out.append("</TextBlock>")
        out += ["</PrintSpace>", "</Page>"]
    out += ["</Layout>", "</alto>", ""]
    return "\n".join(out)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- PAGE XML 2019


PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


def _points(quad) -> str:
    q = np.asarray(quad, np.float64).reshape(4, 2)
    return " ".join(f"{max(0, int(round(x)))},{max(0, int(round(y)))}" for x, y in q)


def _text_equiv(text: str, conf: float | None = None) -> str:
    c = "" if conf is None else f' conf="{min(1.0, max(0.0, float(conf))):.4f}"'
    return f"<TextEquiv{c}><Unicode>{escape(text)}</Unicode></TextEquiv>"


def page_xml(p: Page, name: str = "", several: bool = False) -> str:
    """PAGE XML 2019-07-15 of one page: TextRegion > TextLine > Word, each with Coords and TextEquiv.
    imageFilename: `name`, with "#page=N" for a page of a document of several."""
    now = _now()
    number = source_of(p).number
    image = (name or "page") + (f"#page={number}" if several or number > 1 else "")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<PcGts xmlns="{PAGE_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{PAGE_NS} {PAGE_NS}/pagecontent.xsd">',
        f"<Metadata><Creator>localocr {escape(__version__)}</Creator><Created>{now}</Created>"
        f"<LastChange>{now}</LastChange></Metadata>",
        f'<Page imageFilename={quoteattr(image)} imageWidth="{p.width}" imageHeight="{p.height}">',
    ]
    regions = [(bi, b) for bi, b in enumerate(p.blocks, 1) if b.lines]
    if regions:
        out.append('<ReadingOrder><OrderedGroup id="ro">')
        out += [f'<RegionRefIndexed index="{i}" regionRef="r{bi}"/>' for i, (bi, _) in enumerate(regions)]
        out.append("</OrderedGroup></ReadingOrder>")
    nl = nw = 0
    for bi, b in regions:
        out.append(f'<TextRegion id="r{bi}"><Coords points="{_points(b.quad)}"/>')
        for ln in b.lines:
            nl += 1
            out.append(f'<TextLine id="l{nl}"><Coords points="{_points(ln.quad)}"/>')
            for w in ln.words:
                nw += 1
                out.append(
                    f'<Word id="w{nw}"><Coords points="{_points(w.quad)}"/>{_text_equiv(w.text, w.confidence)}</Word>'
                )
            out.append(_text_equiv(ln.text, ln.confidence) + "</TextLine>")
        out.append(_text_equiv(b.text) + "</TextRegion>")
    out += ["</Page>", "</PcGts>", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- reading


def is_pdf(data: bytes) -> bool:
    """PDF files start with %PDF- (readers accept it within the first 1024 bytes)."""
    return b"%PDF-" in data[:1024]


def combine(documents: list[Document], name: str = "") -> Document:
    """Several documents (e.g. one per input image) as one, pages in order."""
    pages = [p for d in documents for p in d.pages]
    return Document(pages, name=name, kind="images", page_count=len(pages))
