"""PDF pages as images, on CPython: pypdfium2 (PDFium) renders them; the text layer, when a page has one.

In the browser pdf.js does the same (web/pdfpages.js); both render at
`document.choose_dpi`, from the same `PageFacts`, to the same pixel size.
A PDF that cannot be opened raises LocalOCRError: "pdf_encrypted" (a password is
needed), "bad_pdf" (damaged or not a PDF), "no_pdf_renderer" (pypdfium2 missing).
"""

from __future__ import annotations

from .document import PageFacts, render_size
from .errors import LocalOCRError

FONT_SAMPLE = 2000  # characters whose font size is looked at (enough for a median)


def _pdfium():
    try:
        import pypdfium2 as pdfium
        import pypdfium2.raw as raw
    except ImportError:  # Pyodide, or an install without it
        raise LocalOCRError(
            "Reading PDFs here needs pypdfium2 (pip install pypdfium2); the browser app renders PDFs with pdf.js.",
            "no_pdf_renderer",
        ) from None
    return pdfium, raw


class PdfSource:
    """An open PDF: page count, facts per page, rendering, text layer."""

    def __init__(self, data: bytes, password: str | None = None):
        pdfium, self._raw = _pdfium()
        try:
            self.doc = pdfium.PdfDocument(data, password=password)
        except pdfium.PdfiumError as e:
            msg = str(e)
            if "password" in msg.lower():
                raise LocalOCRError(
                    "This PDF is encrypted with a password; it cannot be read without it.", "pdf_encrypted"
                ) from None
            raise LocalOCRError(f"This PDF is damaged or not a PDF ({msg}).", "bad_pdf") from None
        self.page_count = len(self.doc)

    def close(self) -> None:
        self.doc.close()

    def facts(self, index: int) -> PageFacts:
        """index: 0-based."""
        raw = self._raw
        page = self.doc[index]
        w, h = page.get_size()
        images = []
        for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
            try:
                images.append(tuple(int(v) for v in obj.get_px_size()))
            except Exception:  # an image PDFium cannot describe: it still renders
                continue
        tp = page.get_textpage()
        n = tp.count_chars()
        text = tp.get_text_range(0, n) if n > 0 else ""
        sizes = [
            raw.FPDFText_GetFontSize(tp.raw, i)
            for i in range(0, n, max(1, n // FONT_SAMPLE))
            if i < len(text) and not text[i].isspace()
        ]
        return PageFacts(float(w), float(h), images, has_text=bool(text.strip()), font_sizes=sizes)

    def scan_image(self, index: int):
        """A scanned page's one image, decoded as it is stored (exact pixels: no resampling, as a
        rendering at even its own resolution does), when it is drawn upright over the whole page;
        else None (then the page is rendered)."""
        page = self.doc[index]
        if page.get_rotation() % 360:
            return None
        w, h = page.get_size()
        objs = list(page.get_objects(filter=(self._raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3))
        if len(objs) != 1:
            return None
        m = objs[0].get_matrix()
        a, b, c, d, e, f = (float(v) for v in m.get())
        tol = 0.01 * max(w, h)
        if abs(b) > 1e-6 or abs(c) > 1e-6 or abs(a - w) > tol or abs(d - h) > tol or abs(e) > tol or abs(f) > tol:
            return None
        try:
            im = objs[0].get_bitmap(render=False).to_pil()
        except Exception:  # an image PDFium will only render
            return None
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        return im

    def render(self, index: int, facts: PageFacts, dpi: float):
        """The page as an RGB PIL image of exactly render_size(facts, dpi), over white."""
        page = self.doc[index]
        pw, ph = render_size(facts, dpi)
        bitmap = page.render(scale=pw / facts.width_pt, may_draw_forms=True)
        im = bitmap.to_pil().convert("RGB")
        if im.size != (pw, ph):  # PDFium rounds the size up: at most a pixel more
            from PIL import Image

            canvas = Image.new("RGB", (pw, ph), (255, 255, 255))
            canvas.paste(im.crop((0, 0, min(pw, im.size[0]), min(ph, im.size[1]))))
            im = canvas
        return im

    def text_lines(self, index: int, facts: PageFacts, dpi: float) -> list:
        """The page's text layer as line segments [(quad, [(text, quad)])] in pixels at `dpi`,
        in PDFium's order; [] when the page has none or is rotated (then it is read by OCR)."""
        page = self.doc[index]
        if page.get_rotation() % 360:
            return []
        tp = page.get_textpage()
        n = tp.count_chars()
        text = tp.get_text_range(0, n) if n > 0 else ""
        if len(text) != n:  # characters outside the BMP: take them one by one
            text = "".join(tp.get_text_range(i, 1) or " " for i in range(n))
        s = dpi / 72.0
        lines: list = []
        words: list = []
        word: list = []
        box = None

        def end_word():
            nonlocal word, box
            if word and box:
                x0, y0, x1, y1 = box
                words.append(("".join(word), _quad(x0, y0, x1, y1, facts.height_pt, s)))
            word, box = [], None

        def end_line():
            end_word()
            if words:
                qs = [q for _, q in words]
                x0 = min(q[0][0] for q in qs)
                y0 = min(q[0][1] for q in qs)
                x1 = max(q[2][0] for q in qs)
                y1 = max(q[2][1] for q in qs)
                lines.append(([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], list(words)))
            words.clear()

        last = None
        for i in range(n):
            ch = text[i]
            if ch in "\r\n":
                end_line()
                last = None
                continue
            if ch.isspace() or ch == "\x00":
                end_word()
                continue
            left, bottom, right, top = tp.get_charbox(i)
            if right <= left or top <= bottom:
                continue
            if last is not None:
                lh = last[3] - last[1]
                # a new line where PDFium gave no line break: the baseline moved by over half a line
                if abs(bottom - last[1]) > 0.5 * lh:
                    end_line()
                elif left - last[2] > 0.25 * lh:  # a gap wider than a quarter of the text height
                    end_word()
            word.append(ch)
            box = (
                (left, bottom, right, top)
                if box is None
                else (min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top))
            )
            last = (left, bottom, right, top)
        end_line()
        return lines


def _quad(x0, y0, x1, y1, page_h, s):
    """PDF box (points, y up) -> pixel quad (y down)."""
    left, right = x0 * s, x1 * s
    top, bottom = (page_h - y1) * s, (page_h - y0) * s
    return [[left, top], [right, top], [right, bottom], [left, bottom]]
