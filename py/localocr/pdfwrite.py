"""A small PDF writer: page images with an invisible, searchable text layer (standard library only).

Pure Python (zlib, struct-free), so it runs in Pyodide as on CPython. Each page is
its image drawn over the whole page, plus every word drawn in text rendering
mode 3 (invisible) on the word's box: viewers find, select and copy the words
where the picture shows them, and `pdftotext` extracts them.

The font: Type 3 fonts whose one glyph paints nothing. A Type 3 font has 256
codes, so the document's characters are numbered in order of first use and
each run of 256 gets its own font (F0, F1, ...); any Unicode text fits. Every
font carries a ToUnicode CMap (code -> the character, UTF-16BE), which is what
makes copy, search and text extraction give the real characters. Glyphs are
0.5 em wide, ascend 0.8 em and descend 0.2 em: a word is drawn at a font size
equal to its box height, its baseline 0.2 box heights above the box bottom,
and stretched along the box (the text matrix) so it spans the box exactly,
turned with it where the word is rotated. A space after each word but the
line's last has zero width: extraction sees the word break without the next
word's box moving.

Coordinates: a page of W x H pixels at `dpi` is W*72/dpi x H*72/dpi points;
image pixel (x, y) is PDF point (x*72/dpi, H_pt - y*72/dpi).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

GLYPH_WIDTH = 0.5  # em; the text matrix stretches each word onto its box anyway
ASCENT, DESCENT = 0.8, 0.2


@dataclass
class PdfWord:
    text: str
    quad: list  # 4 (x, y) corners in image pixels, clockwise from the reading top-left
    space_after: bool = False


@dataclass
class PdfPage:
    """One page: the encoded image (`jpeg` bytes, or raw 8-bit `pixels`) and its words."""

    width: int  # pixels
    height: int
    dpi: float
    mode: str  # "L" or "RGB"
    jpeg: bytes | None = None  # a baseline JPEG of the page image (DCTDecode)
    pixels: bytes | None = None  # or raw samples, row by row (FlateDecode)
    words: list[PdfWord] = field(default_factory=list)


class _Fonts:
    """Characters -> (font index, code), allocated in order of first use."""

    def __init__(self):
        self.codes: dict[str, tuple[int, int]] = {}
        self.chars: list[list[str]] = []

    def encode(self, text: str) -> list[tuple[int, bytes]]:
        """Text -> runs of (font index, byte codes)."""
        runs: list[tuple[int, bytearray]] = []
        for ch in text:
            if ch not in self.codes:
                if not self.chars or len(self.chars[-1]) == 256:
                    self.chars.append([])
                self.codes[ch] = (len(self.chars) - 1, len(self.chars[-1]))
                self.chars[-1].append(ch)
            f, c = self.codes[ch]
            if runs and runs[-1][0] == f:
                runs[-1][1].append(c)
            else:
                runs.append((f, bytearray([c])))
        return [(f, bytes(b)) for f, b in runs]


def _utf16_hex(ch: str) -> str:
    return ch.encode("utf-16-be").hex().upper()


def _to_unicode(chars: list[str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /localocr-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <FF>",
        "endcodespacerange",
    ]
    for start in range(0, len(chars), 100):
        chunk = chars[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{start + i:02X}> <{_utf16_hex(ch)}>" for i, ch in enumerate(chunk)]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _num(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


class _Writer:
    def __init__(self):
        self.out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: list[int] = []

    def reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets)

    def put(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[num - 1] = len(self.out)
        self.out += f"{num} 0 obj\n".encode() + body
        if stream is not None:
            self.out += b"\nstream\n" + stream + b"\nendstream"
        self.out += b"\nendobj\n"

    def finish(self, root: int, info: int) -> bytes:
        xref = len(self.out)
        n = len(self.offsets) + 1
        self.out += f"xref\n0 {n}\n0000000000 65535 f \n".encode()
        self.out += "".join(f"{o:010d} 00000 n \n" for o in self.offsets).encode()
        self.out += f"trailer\n<< /Size {n} /Root {root} 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(self.out)


def _pdf_string(text: str) -> str:
    """A PDF text string (UTF-16BE with BOM) as a hex literal."""
    return "<FEFF" + "".join(_utf16_hex(c) for c in text) + ">"


def _word_ops(word: PdfWord, scale: float, page_h: float, fonts: _Fonts) -> tuple[str, set]:
    """Content-stream operators drawing one word, invisible, on its box; and the fonts they use."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(float(x) * scale, page_h - float(y) * scale) for x, y in word.quad]
    # reading direction and height from the quad's mean edges (PDF space, y up)
    ux, uy = ((x1 - x0) + (x2 - x3)) / 2, ((y1 - y0) + (y2 - y3)) / 2
    vx, vy = ((x0 - x3) + (x1 - x2)) / 2, ((y0 - y3) + (y1 - y2)) / 2
    w, h = math.hypot(ux, uy), math.hypot(vx, vy)
    text = word.text
    if w <= 0 or h <= 0 or not text:
        return "", set()
    ux, uy = ux / w, uy / w
    px, py = -uy, ux  # "up", perpendicular to the reading direction
    stretch = w / (GLYPH_WIDTH * h * len(text))
    ox, oy = x3 + px * DESCENT * h, y3 + py * DESCENT * h
    tm = " ".join(_num(v) for v in (ux * stretch, uy * stretch, px, py, ox, oy))
    ops = [f"{tm} Tm"]
    runs = fonts.encode(text + (" " if word.space_after else ""))
    for f, codes in runs:
        ops.append(f"/F{f} {_num(h)} Tf <{codes.hex().upper()}> Tj")
    return "\n".join(ops), {f for f, _ in runs}


def write_pdf(pages: list[PdfPage], title: str = "", producer: str = "localocr") -> bytes:
    """Pages -> the bytes of a searchable PDF (see the module docstring)."""
    w = _Writer()
    catalog, tree, info = w.reserve(), w.reserve(), w.reserve()
    fonts = _Fonts()
    kids: list[int] = []
    font_refs: list[int] = []  # filled after the pages: the fonts' contents depend on all the text
    page_fonts: list[tuple[int, set, tuple]] = []
    for pg in pages:
        scale = 72.0 / pg.dpi
        pw, ph = pg.width * scale, pg.height * scale
        image = w.reserve()
        colour = "/DeviceGray" if pg.mode == "L" else "/DeviceRGB"
        head = (
            f"<< /Type /XObject /Subtype /Image /Width {pg.width} /Height {pg.height} "
            f"/ColorSpace {colour} /BitsPerComponent 8 "
        )
        if pg.jpeg is not None:
            data, filt = pg.jpeg, "/DCTDecode"
        else:
            data, filt = zlib.compress(pg.pixels or b"", 6), "/FlateDecode"
        w.put(image, (head + f"/Filter {filt} /Length {len(data)} >>").encode(), data)
        ops = [f"q {_num(pw)} 0 0 {_num(ph)} 0 0 cm /Im0 Do Q", "BT 3 Tr"]
        used: set[int] = set()
        for wd in pg.words:
            op, fs = _word_ops(wd, scale, ph, fonts)
            if op:
                ops.append(op)
                used |= fs
        ops.append("ET")
        content = zlib.compress("\n".join(ops).encode("ascii"), 6)
        cref = w.reserve()
        w.put(cref, f"<< /Filter /FlateDecode /Length {len(content)} >>".encode(), content)
        page = w.reserve()  # written below, once the fonts have object numbers
        kids.append(page)
        page_fonts.append((page, used, (pw, ph, image, cref)))
    # fonts
    proc = w.reserve()
    glyph = f"{int(GLYPH_WIDTH * 1000)} 0 0 {-int(DESCENT * 1000)} {int(GLYPH_WIDTH * 1000)} {int(ASCENT * 1000)} d1".encode()
    w.put(proc, f"<< /Length {len(glyph)} >>".encode(), glyph)
    bbox = f"[0 {-int(DESCENT * 1000)} {int(GLYPH_WIDTH * 1000)} {int(ASCENT * 1000)}]"
    for chars in fonts.chars:
        ref, cmap, desc = w.reserve(), w.reserve(), w.reserve()
        w.put(
            desc,
            (
                f"<< /Type /FontDescriptor /FontName /localocr{len(font_refs)} /Flags 4 /FontBBox {bbox} "
                f"/ItalicAngle 0 /Ascent {int(ASCENT * 1000)} /Descent {-int(DESCENT * 1000)} "
                f"/CapHeight {int(ASCENT * 1000)} /StemV 0 >>"
            ).encode(),
        )
        cmap_data = zlib.compress(_to_unicode(chars), 6)
        w.put(cmap, f"<< /Filter /FlateDecode /Length {len(cmap_data)} >>".encode(), cmap_data)
        widths = " ".join("0" if ch == " " else str(int(GLYPH_WIDTH * 1000)) for ch in chars)
        diffs = " ".join("/g" for _ in chars)
        w.put(
            ref,
            (
                f"<< /Type /Font /Subtype /Type3 /FontBBox {bbox} "
                f"/FontDescriptor {desc} 0 R /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs << /g {proc} 0 R >> "
                f"/Encoding << /Type /Encoding /Differences [0 {diffs}] >> /FirstChar 0 "
                f"/LastChar {len(chars) - 1} /Widths [{widths}] /Resources << >> "
                f"/ToUnicode {cmap} 0 R >>"
            ).encode(),
        )
        font_refs.append(ref)
    # the pages, now that the fonts have object numbers
    for page, used, (pw, ph, image, cref) in page_fonts:
        fdict = " ".join(f"/F{f} {font_refs[f]} 0 R" for f in sorted(used))
        body = (
            f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {_num(pw)} {_num(ph)}] "
            f"/Resources << /XObject << /Im0 {image} 0 R >> /Font << {fdict} >> >> "
            f"/Contents {cref} 0 R >>"
        ).encode()
        w.put(page, body)
    w.put(tree, f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode())
    w.put(catalog, f"<< /Type /Catalog /Pages {tree} 0 R >>".encode())
    meta = f"/Producer {_pdf_string(producer)}"
    if title:
        meta += f" /Title {_pdf_string(title)}"
    w.put(info, f"<< {meta} >>".encode())
    return w.finish(catalog, info)
