"""A generated corpus of hostile and odd image files, each with the outcome it must have.

`corpus()` -> [Case]: the five files of issue #18 (a JPEG cut after its header, a PNG signature
followed by text, a PNG with a 10 MB iCCP chunk, a PNG whose zTXt inflates to 50 MB, a PNG whose
header says 0 x 0), zero bytes, truncations of PNG/JPEG/WebP/GIF/TIFF at several points, pixel
bombs, odd but valid images (CMYK, 16-bit, palette + alpha, all eight EXIF orientations) and
other files renamed as images (PDF, HEIC, SVG, text). `seeds()` gives the small valid files the
fuzzer (tests/test_fuzz.py) mutates. Everything is made here, in memory: no file is committed.

`Case.expect` is "page" (read, possibly with notes) or the set of error codes allowed: a file
cut short is "truncated" where the decoder notices the missing end, "bad_image" where the data
it has is already inconsistent, and a few cuts (a GIF's trailer) still decode to a page.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageDraw

PAGE = "page"
CUT = frozenset({"truncated", "bad_image"})


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    expect: frozenset | str  # PAGE, or the error codes allowed
    browser: bool = True  # small and quick enough for the browser test
    note: str = ""  # a Page note code the page must carry

    def allows(self, outcome: str) -> bool:
        return outcome == self.expect if isinstance(self.expect, str) else outcome in self.expect


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with(width: int, height: int, extra: bytes = b"", mode_byte: int = 0, rows: bytes | None = None) -> bytes:
    """A PNG (8-bit grey when mode_byte is 0) with `extra` chunks before IDAT; rows default to white."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode_byte, 0, 0, 0)
    if rows is None:
        rows = (b"\0" + b"\xff" * width) * height if width * height < 10_000_000 else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + extra
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )


def grey_bomb_png(width: int, height: int) -> bytes:
    """A valid grey PNG of width x height white pixels, compressed to a few hundred KB."""
    row = b"\0" + b"\xff" * width
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return png_with(width, height, rows=None)[:33] + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def text_image(size=(160, 48), mode="RGB") -> Image.Image:
    im = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.text((6, 6), "HOSTILE 42", fill=(0, 0, 0))
    d.rectangle([6, 30, 150, 34], fill=(200, 30, 30))
    return im.convert(mode)


def save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def seeds() -> dict[str, bytes]:
    """Small valid files, one per format the fuzzer mutates."""
    im = text_image((96, 40))
    return {
        "png": save(im, "PNG"),
        "jpeg": save(im, "JPEG", quality=85),
        "webp": save(im, "WEBP", quality=80),
        "tiff": save(im, "TIFF", compression="tiff_lzw"),
        "gif": save(im.convert("P", palette=Image.ADAPTIVE, colors=16), "GIF"),
    }


def _exif_rotated(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(text_image((64, 32)), "JPEG", exif=exif.tobytes(), quality=90)


def _huge_header(fmt: str) -> bytes:
    """A file whose header claims far more pixels than the limit (its data is tiny)."""
    if fmt == "gif":
        g = bytearray(seeds()["gif"])
        g[6:10] = struct.pack("<HH", 65535, 65535)  # logical screen
        i = g.index(b"\x2c")  # image descriptor
        g[i + 5 : i + 9] = struct.pack("<HH", 65535, 65535)
        return bytes(g)
    if fmt == "jpeg":
        j = bytearray(seeds()["jpeg"])
        i = j.index(b"\xff\xc0")  # SOF0: precision, height, width
        j[i + 5 : i + 9] = struct.pack(">HH", 60000, 60000)
        return bytes(j)
    raise ValueError(fmt)


def corpus() -> list[Case]:
    good = text_image()
    png, jpeg = save(good, "PNG"), save(good, "JPEG", quality=90)
    webp, gif = save(good, "WEBP", quality=90), save(good.convert("P", palette=Image.ADAPTIVE), "GIF")
    tiff = save(good, "TIFF")
    cases = [
        # the five of issue #18
        Case("jpeg-cut-after-header", jpeg[:600], CUT),
        Case(
            "png-signature-then-text",
            b"\x89PNG\r\n\x1a\n" + b"this is not a PNG at all\n" * 20,
            frozenset({"bad_image"}),
        ),
        Case(
            "png-iccp-10mb",
            png_with(8, 8, _chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * 10_000_000, 9))),
            frozenset({"too_large"}),
        ),
        Case(
            "png-ztxt-50mb",
            png_with(8, 8, _chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * 50_000_000, 9))),
            frozenset({"too_large"}),
        ),
        Case("png-0x0", png_with(0, 0), frozenset({"empty"})),
        Case("zero-bytes", b"", frozenset({"empty"})),
        # other files renamed as images
        # OCR.read refuses a PDF (pdf: read_document reads them); the CLI reads it and finds it damaged
        Case(
            "pdf-renamed",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            frozenset({"pdf", "bad_pdf"}),
        ),
        Case("heic-renamed", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), frozenset({"heic"})),
        Case(
            "svg-renamed",
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<text x="0" y="9">hi</text></svg>\n',
            frozenset({"not_an_image"}),
        ),
        Case(
            "text-renamed",
            b"Dear user,\nthis is a plain text file with a .png name.\n" * 4,
            frozenset({"not_an_image"}),
        ),
        Case("random-bytes", bytes((i * 151 + 17) % 256 for i in range(4096)), frozenset({"not_an_image"})),
        # bombs: claimed sizes beyond the limit are refused from the header
        Case("png-header-156mp", png_with(13000, 12000), frozenset({"too_large"})),
        Case("png-header-400mp", png_with(20000, 20000), frozenset({"too_large"})),
        Case("gif-header-4gp", _huge_header("gif"), frozenset({"too_large"})),
        Case("jpeg-header-3.6gp", _huge_header("jpeg"), frozenset({"too_large"})),
        # ... a real 64 MP PNG (zeros compress ~1000:1) is read, reduced to the working size
        Case("png-bomb-64mp-read-reduced", grey_bomb_png(8000, 8000), PAGE, browser=False, note="reduced"),
        # odd but valid
        Case("cmyk-jpeg", save(good.convert("CMYK"), "JPEG"), PAGE),
        Case(
            "png-16bit-grey",
            save(Image.frombytes("I;16", good.size, bytes(good.convert("L").tobytes()) * 2), "PNG"),
            PAGE,
        ),
        Case("png-palette-alpha", save(_palette_alpha(good), "PNG"), PAGE),
        Case("tiff-cmyk", save(good.convert("CMYK"), "TIFF"), PAGE),
        Case("bmp", save(good, "BMP"), PAGE),
        Case("webp-lossless-rgba", save(good.convert("RGBA"), "WEBP", lossless=True), PAGE),
    ]
    cases += [Case(f"jpeg-exif-orientation-{o}", _exif_rotated(o), PAGE) for o in range(1, 9)]
    # truncations at several points of each format
    for fmt, data in (("png", png), ("jpeg", jpeg), ("webp", webp), ("gif", gif), ("tiff", tiff)):
        for frac in (0.02, 0.1, 0.5, 0.9):
            cut = max(1, int(len(data) * frac))
            cases.append(Case(f"{fmt}-cut-{int(frac * 100)}pct", data[:cut], _cut_outcome(fmt, frac)))
    return cases


def _cut_outcome(fmt: str, frac: float):
    # a GIF's data ends in a trailer byte and an end-of-block: Pillow reads what it has
    if fmt == "gif" and frac >= 0.5:
        return CUT | {PAGE}
    return CUT


def _palette_alpha(im: Image.Image) -> Image.Image:
    p = im.convert("P", palette=Image.ADAPTIVE, colors=8)
    p.info["transparency"] = 0
    return p
