"""Reading a document: an image (one page, or the frames of a TIFF/GIF/WebP) or a PDF (pdfread.py) ->
a Document of read Pages, page by page (`read_document_steps`, the generator behind
OCR.read_document), with each page's source (number, resolution, picture for the searchable PDF).
The Document, its page planning (which pages, at what resolution) and its renderers are document.py's.
"""

from __future__ import annotations

import io
import os

import numpy as np

from .document import (
    FRAME_KINDS,
    Document,
    PageImage,
    PageSource,
    check_page_count,
    choose_dpi,
    image_dpi,
    is_native,
    is_pdf,
    parse_pages,
)
from .errors import LocalOCRError
from .result import Page


def _jpeg_as_is(data: bytes, im) -> PageImage | None:
    """The source's own JPEG for the PDF, when it is exactly the page as read (no EXIF turn,
    no reduced decode, grey or RGB): no second lossy encoding."""
    from PIL import Image

    try:
        hdr = Image.open(io.BytesIO(data))
        if (
            hdr.format == "JPEG"
            and hdr.mode in ("L", "RGB")
            and hdr.size == im.size
            and hdr.getexif().get(0x0112, 1) in (1, None)
        ):
            return PageImage(im.size[0], im.size[1], hdr.mode, jpeg=data)
    except Exception:
        return None
    return None


def page_source_of_image(src, im) -> PageSource:
    """The PageSource of a page read from one image: its resolution and picture."""
    data = None
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
    elif isinstance(src, (str, os.PathLike)) and str(src).lower().endswith((".jpg", ".jpeg", ".jfif")):
        try:
            with open(src, "rb") as f:
                data = f.read()
        except OSError:
            data = None
    picture = _jpeg_as_is(data, im) if data else None
    return PageSource(1, image_dpi(im, im.size), "none", picture or PageImage.of(im))


def _page_from_text(lines, size) -> Page:
    """A Page from a PDF text layer's lines (pdfread.PdfSource.text_lines); confidence 1."""
    from .layout import build_blocks
    from .result import Word

    segments = [
        (np.asarray(q, np.float32), [Word(t, np.asarray(wq, np.float32), 1.0) for t, wq in words], 1.0)
        for q, words in lines
    ]
    return Page(width=size[0], height=size[1], blocks=build_blocks(segments), backend="pdf text layer")


def _pdf_steps(ocr, data, pages, keep_text, name, password, on_page, fields=None):
    from .pdfread import PdfSource

    pdf = PdfSource(data, password)
    try:
        numbers = parse_pages(pages, pdf.page_count)
        check_page_count(numbers, pdf.page_count)
        out = []
        for i, n in enumerate(numbers):
            facts = pdf.facts(n - 1)
            dpi = choose_dpi(facts, ocr.max_pixels)
            im = (is_native(facts, dpi) and pdf.scan_image(n - 1)) or pdf.render(n - 1, facts, dpi)
            dpi = 72.0 * im.size[0] / facts.width_pt
            lines = pdf.text_lines(n - 1, facts, dpi) if keep_text and facts.has_text else []
            if lines:
                page, layer = _page_from_text(lines, im.size), "used"
            else:
                page = yield from ocr.page_steps(im, fields=fields)
                layer = "present" if facts.has_text else "none"
            page.source = PageSource(n, dpi, layer, PageImage.of(im).compact())
            out.append(page)
            if on_page:
                on_page(page, i, len(numbers))
        return Document(out, name=name, kind="pdf", page_count=pdf.page_count)
    finally:
        pdf.close()


def _frame(im, k: int, max_pixels: int):
    """Frame k (0-based) of a multi-frame image, decoded, as a plain single-frame PIL image."""
    from PIL import Image

    try:
        im.seek(k)
        w, h = im.size
        if w * h > max_pixels:
            raise LocalOCRError(f"Page {k + 1} of the image is too large ({w} x {h}).", "too_large")
        im.load()
        frame = im.copy()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise LocalOCRError(f"Page {k + 1} of the image is truncated or damaged.", "truncated") from None
    frame.info = dict(im.info)
    return frame


def read_document_steps(ocr, source, pages=None, *, keep_text=False, name="", password=None, on_page=None, fields=None):
    """Generator stage behind OCR.read_document: source -> Document (see the module docstring);
    fields: each page read for these key fields (`OCR.read`'s)."""
    from .image import open_image, source_bytes

    data = source_bytes(source)
    if not name and isinstance(source, str):
        name = source
    if is_pdf(data):
        return (yield from _pdf_steps(ocr, data, pages, keep_text, name, password, on_page, fields))
    im = open_image(data)
    frames = getattr(im, "n_frames", 1) if im.format in FRAME_KINDS and im.format != "MPO" else 1
    if frames == 1:
        parse_pages(pages, 1)  # "2" for a one-page image is an error, as for a PDF
        page = yield from ocr.read_steps(data, fields=fields)
        if on_page:
            on_page(page, 0, 1)
        return Document([page], name=name, kind="image", page_count=1)
    numbers = parse_pages(pages, frames)
    check_page_count(numbers, frames)
    out = []
    for i, n in enumerate(numbers):
        frame = _frame(im, n - 1, ocr.max_pixels)
        page = yield from ocr.read_steps(frame, fields=fields)
        page.source.number = n
        page.source.dpi = image_dpi(frame, page.source.image.pil.size if page.source.image.pil else frame.size)
        page.source.image.compact()
        out.append(page)
        if on_page:
            on_page(page, i, len(numbers))
    return Document(
        out, name=name, kind=FRAME_KINDS[str(im.format)], page_count=frames
    )  # frames > 1: a format of FRAME_KINDS
