"""hOCR 1.2 (XHTML) of pages: `hocr_page` (one page's ocr_page div) and `hocr_document` around them,
and the integer pixel box of a quad that hOCR, ALTO and PAGE XML share. Works on any Page-shaped
object (width, height, blocks > lines > words with quad, text, confidence): no result type is
imported here, so that result.py and document.py both build on it."""

from __future__ import annotations

import html
import math

import numpy as np

from .version import __version__


def _bbox(quad) -> tuple[int, int, int, int]:
    q = np.asarray(quad, np.float64).reshape(4, 2)
    x0, y0 = np.floor(q.min(axis=0))
    x1, y1 = np.ceil(q.max(axis=0))
    return int(max(0, x0)), int(max(0, y0)), int(x1), int(y1)


def hocr_document(pages: list[str], title: str = "", language: str = "") -> str:
    """hOCR 1.2 XHTML around `pages` (the ocr_page divs of hocr_page)."""
    esc = html.escape
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{0}" lang="{0}">'.format(esc(language or "en")),
        "<head>",
        "<title>{}</title>".format(esc(title or "localocr")),
        '<meta http-equiv="Content-Type" content="text/html;charset=utf-8" />',
        '<meta name="ocr-system" content="localocr {}" />'.format(esc(__version__)),
        '<meta name="ocr-number-of-pages" content="{}" />'.format(len(pages)),
        '<meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf" />',
        "</head>",
        "<body>",
    ]
    out += pages
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def hocr_page(page, number: int, image_name: str = "") -> str:
    """One page's ocr_page div; `number` (1-based) makes its ids unique in a document."""
    esc = html.escape
    out = []
    title = "bbox 0 0 {} {}; ppageno {}".format(page.width, page.height, number - 1)
    if image_name:
        title = 'image "{}"; '.format(image_name.replace('"', "'")) + title
    out.append('<div class="ocr_page" id="page_{}" title="{}">'.format(number, esc(title)))
    nl = nw = 0
    for bi, b in enumerate(page.blocks, 1):
        bb = "bbox {} {} {} {}".format(*_bbox(b.quad))
        out.append('<div class="ocr_carea" id="block_{}_{}" title="{}">'.format(number, bi, bb))
        out.append('<p class="ocr_par" id="par_{}_{}" title="{}">'.format(number, bi, bb))
        for ln in b.lines:
            nl += 1
            props = "bbox {} {} {} {}".format(*_bbox(ln.quad))
            ang = _angle(ln.quad)
            if abs(ang) >= 0.5:
                props += "; textangle {:.1f}".format(ang)
            out.append('<span class="ocr_line" id="line_{}_{}" title="{}">'.format(number, nl, props))
            for w in ln.words:
                nw += 1
                out.append(
                    '<span class="ocrx_word" id="word_{}_{}" title="bbox {} {} {} {}; x_wconf {}">{}</span>'.format(
                        number, nw, *_bbox(w.quad), int(round(100 * float(w.confidence))), esc(w.text)
                    )
                )
            out.append("</span>")
        out.append("</p>")
        out.append("</div>")
    out.append("</div>")
    return "\n".join(out)


def _angle(quad) -> float:
    """Text angle in degrees, counter-clockwise from horizontal (the hOCR textangle convention)."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    d = (q[1] - q[0]) + (q[2] - q[3])
    return -math.degrees(math.atan2(d[1], d[0]))
