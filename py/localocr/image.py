"""Decode any image input to an upright Pillow image in mode "L" or "RGB".

Accepted: a path, bytes, a binary file object, a PIL image or a numpy array
(H x W grey, H x W x 1/3/4 RGB(A); uint8, uint16, bool or float in [0, 1]).
EXIF orientation is applied; every Pillow mode is brought to "L" or "RGB"
(transparency over white, palette, CMYK, 16-bit, 1-bit); an animation gives
its first frame. Anything that is not a usable image raises `LocalOCRError`
with a message a person understands, never a bare Pillow traceback.

Colour JPEGs are decoded as their luma (Y) channel only, mode "L" (`luma_jpeg`,
on by default). Reason: the browser (Pyodide's Pillow, libjpeg 9) and CPython
(Pillow's wheels, libjpeg-turbo) upsample chroma differently, so their RGB
pixels differ (12% of the values of a SROIE receipt, by up to 42) and so could
the text read. Y is stored at full resolution and both libraries run the same
integer IDCT on it: on 20 real JPEGs of ../shared/data (receipts, scene photos,
plates, letters, typescripts) the two runtimes gave bit-identical "L" pixels.
It also skips the chroma work (a faster decode), and the recognizer reads grey
anyway; what it costs in accuracy is in the README ("Grey JPEG decoding"). A DCT-scaled decode (the size guard below) is not
bit-exact across the two.

Size guard, the same for every format: an image whose header claims more
than `MAX_INPUT_PIXELS` is refused before any pixel is decoded; any other is
read, and one over `max_pixels` (the working size) is reduced to fit it, and
the result says so (`Decoded.notes`, carried into `Page.notes`). A JPEG is
reduced while it is decoded (Pillow's draft mode: a DCT scale 1/2, 1/4 or
1/8, no full-size array); other formats after decoding, by the smallest
integer factor that fits. PIL images and arrays, already in memory, are
reduced the same way.

Decoding boundary: `decode_image` is the one place where decoders run. Any
exception raised while opening, verifying or decoding becomes a
`LocalOCRError` with a stable code (`errors` lists them) and a one-line
message; only the formats in `FORMATS` are opened at all (Pillow's other
plugins, e.g. EPS through Ghostscript, never see a file).
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import LocalOCRError, internal_error

# ~50 MP: a 60 MP phone photo is bigger than any text needs, and decoding it as
# RGB costs 180 MB (too much for a browser tab): bigger images are reduced.
MAX_PIXELS = 50_000_000
# 150 MP: above the largest phone and camera photos (108-200 MP sensors write
# JPEGs reduced on decode; a 150 MP PNG is 450 MB as RGB, about what a tab can
# hold); below Pillow's own decompression-bomb refusal (179 MP), so every
# format meets the same limit with the same message.
MAX_INPUT_PIXELS = 150_000_000

# The formats opened: what a camera, scanner, screenshot or browser writes.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO")
_FORMAT_NAMES = "PNG, JPEG, GIF, BMP, TIFF, WebP, PNM or ICO"
_JPEG = ("JPEG", "MPO")  # MPO: a camera's JPEG with an extra (multi-picture) index

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"BM", "BMP"),
)


@dataclass
class Note:
    """Something done to the input that the result should mention (a reduction, an ignored tag)."""

    code: str  # stable: "reduced", "exif_ignored"
    message: str  # one line, for a person

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass
class Decoded:
    """An upright "L"/"RGB" image and what was done to get it."""

    image: Image.Image
    notes: list[Note] = field(default_factory=list)
    original_size: tuple[int, int] = (0, 0)  # (width, height) before any reduction


def magic_format(head: bytes) -> str | None:
    """The image format named by a file's first bytes (a header may still be damaged), or None."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _header_size(data: bytes, fmt: str | None) -> tuple[int, int] | None:
    """(width, height) read straight from a PNG or GIF header, for a header Pillow refuses."""
    if fmt == "PNG" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if fmt == "GIF" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def _sniff(head: bytes) -> None:
    """Raise a clear error for common non-image inputs recognised by their first bytes."""
    if not head:
        raise LocalOCRError("The file is empty.", "empty")
    if head.startswith(b"%PDF"):
        raise LocalOCRError(
            "This is a PDF document, not an image. Convert its pages to images (PNG or JPEG) first.", "pdf"
        )
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise LocalOCRError(
            "This is a HEIC/HEIF (or AVIF) image, which this decoder cannot read. Export it as JPEG or PNG first.",
            "heic",
        )
    if magic_format(head):
        return
    try:
        txt = head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return
    if txt.lstrip().startswith("<svg") or "<svg" in txt[:256]:
        raise LocalOCRError("This is an SVG drawing; only raster images (PNG, JPEG, ...) can be read.", "not_an_image")
    printable = sum(c.isprintable() or c in "\r\n\t" for c in txt)
    if printable >= 0.95 * len(txt):
        raise LocalOCRError("This is a text file, not an image.", "not_an_image")


# ---------------------------------------------------------------- the decoding boundary

# Words in decoder messages that mean the data ends too soon.
_TRUNCATED = re.compile(
    r"truncat|broken data stream|end of file|not enough data|premature|"
    r"buffer is not large enough|unexpected end|short read|eof",
    re.I,
)
# ... and that a metadata block (text, ICC profile) inflates too far: a bomb in a chunk.
_CHUNK_BOMB = re.compile(r"decompressed data too large|too much memory", re.I)


# What Pillow's decoders raise on damaged or hostile data (found by tests/test_fuzz.py): any of
# these while decoding is the file's fault; anything else is a bug ("internal").
_DECODER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,
    Image.DecompressionBombError,
)


def _one_line(e: BaseException, limit: int = 160) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def too_large(w: int, h: int, limit: int = MAX_INPUT_PIXELS) -> LocalOCRError:
    return LocalOCRError(
        f"The image is too large to read ({w} x {h} = {w * h / 1e6:.0f} MP; the limit is "
        f"{limit / 1e6:.0f} MP). Downscale it first.",
        "too_large",
    )


def decode_failure(e: BaseException, fmt: str | None) -> LocalOCRError:
    """What a decoder raised (anything) -> the LocalOCRError a person reads."""
    if isinstance(e, LocalOCRError):
        return e
    fmt = {"WEBP": "WebP", "MPO": "JPEG"}.get(fmt or "", fmt)
    what = f"{fmt} image" if fmt else "image"
    if isinstance(e, Image.DecompressionBombError):
        m = re.search(r"\((\d+) pixels\)", str(e))
        claimed = f" (its header claims {int(m.group(1)) / 1e6:.0f} MP)" if m else ""
        return LocalOCRError(
            f"The {what} is too large to read{claimed}; the limit is "
            f"{MAX_INPUT_PIXELS / 1e6:.0f} MP. Downscale it first.",
            "too_large",
        )
    if isinstance(e, MemoryError):
        return LocalOCRError(f"There is not enough memory to decode this {what}. Downscale it first.", "too_large")
    if isinstance(e, UnidentifiedImageError):
        if fmt:
            return LocalOCRError(
                f"The file starts like a {fmt} image, but its header is damaged or of a "
                "variant this decoder does not support.",
                "bad_image",
            )
        return LocalOCRError(
            f"The file is not an image in a format this decoder knows ({_FORMAT_NAMES}).", "not_an_image"
        )
    msg = _one_line(e)
    if _CHUNK_BOMB.search(msg):
        return LocalOCRError(
            f"The {what} carries a metadata block (text or colour profile) that inflates "
            "far beyond any real one (a decompression bomb?).",
            "too_large",
        )
    if isinstance(e, EOFError) or _TRUNCATED.search(msg):
        return LocalOCRError(f"The {what} file is truncated or damaged ({msg}).", "truncated")
    return LocalOCRError(
        f"The {what} could not be decoded: the file is damaged or uses a feature this "
        f"decoder does not support ({msg}).",
        "bad_image",
    )


def _open(data: bytes) -> Image.Image:
    _sniff(data[:512])
    fmt = magic_format(data[:16])
    size = _header_size(data, fmt)
    if size is not None and 0 in size:
        raise LocalOCRError(
            f"The {fmt} file's header says the image is {size[0]} x {size[1]} pixels: there is nothing to read.",
            "empty",
        )
    return Image.open(io.BytesIO(data), formats=FORMATS)


def _guard_and_load(
    im: Image.Image,
    max_pixels: int,
    luma_jpeg: bool = True,
    max_input_pixels: int = MAX_INPUT_PIXELS,
    notes: list | None = None,
) -> Image.Image:
    """Apply the size guards on the header size (and `luma_jpeg`), then decode the first frame."""
    w, h = im.size
    if w <= 0 or h <= 0:
        raise LocalOCRError(f"The image has no pixels ({w} x {h}).", "empty")
    if w * h > max_input_pixels:
        raise too_large(w, h, max_input_pixels)
    if im.format in _JPEG:
        # Pillow reports a YCbCr-coded JPEG as "RGB"; draft("L") makes libjpeg
        # output Y alone (no chroma decode, no upsampling). draft() may be
        # called once only, so the size reduction goes into the same call.
        mode = "L" if luma_jpeg and im.mode == "RGB" else im.mode
        size = None
        if w * h > max_pixels:
            # draft() decodes at a DCT scale 1/k (k = 2, 4, 8), the largest
            # reduction whose result is at least the requested size: request
            # exactly the size at the smallest k that fits the limit
            for k in (2, 4, 8):
                if -(-w // k) * -(-h // k) <= max_pixels:
                    break
            size = (-(-w // k), -(-h // k))
        if mode != im.mode or size is not None:
            im.draft(mode, size)
    if getattr(im, "n_frames", 1) > 1:
        im.seek(0)
    im.load()
    if im.size != (w, h) and notes is not None:
        notes.append(_reduced_note((w, h), im.size, max_pixels, "while decoding"))
    return im


def _reduced_note(before, after, max_pixels: int, how: str = "") -> Note:
    return Note(
        "reduced",
        f"The image was reduced from {before[0]} x {before[1]} to {after[0]} x {after[1]} "
        f"pixels{' ' + how if how else ''} (the working limit is {max_pixels / 1e6:.0f} MP); "
        "coordinates are in the reduced image.",
    )


def _over_white(im: Image.Image) -> Image.Image:
    """RGBA/LA -> RGB/L composited over white (transparent areas are paper)."""
    if im.mode == "LA":
        bg = Image.new("L", im.size, 255)
        bg.paste(im.getchannel("L"), mask=im.getchannel("A"))
        return bg
    im = im.convert("RGBA") if im.mode != "RGBA" else im
    bg = Image.new("RGB", im.size, (255, 255, 255))
    bg.paste(im.convert("RGB"), mask=im.getchannel("A"))
    return bg


def _wide_to_8bit(im: Image.Image) -> Image.Image:
    """I;16 / I / F greyscale -> L. 16-bit data is scaled from 0..65535, floats from 0..1."""
    a = np.asarray(im)
    if a.dtype.kind == "f":
        a = np.nan_to_num(a.astype(np.float32))
        scale = 255.0 if a.max() <= 1.0 else 1.0
        a = np.clip(a * scale, 0, 255)
    else:
        a = a.astype(np.float32)
        # an "I" image from a 16-bit PNG holds 0..65535; 8-bit data stays as it is
        a = a / 257.0 if a.max() > 255 else a
        a = np.clip(a, 0, 255)
    return Image.fromarray(np.round(a).astype(np.uint8), "L")


def normalize_mode(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> "L" or "RGB"."""
    mode = im.mode
    if mode in ("L", "RGB"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode == "P":
        return _over_white(im.convert("RGBA")) if "transparency" in im.info else im.convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        if mode == "PA":
            im = im.convert("RGBA")
        elif mode in ("RGBa", "La"):
            im = im.convert("RGBA" if mode == "RGBa" else "LA")
        return _over_white(im)
    if mode.startswith("I") or mode == "F":
        return _wide_to_8bit(im)
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX


def _from_array(a: np.ndarray) -> Image.Image:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape:
        raise LocalOCRError(
            f"An image array must be H x W, H x W x 3 or H x W x 4 (got shape {a.shape}).", "not_an_image"
        )
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        a = np.nan_to_num(a.astype(np.float32))
        a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).round().astype(np.uint8)
    elif a.dtype == np.uint16 or (a.dtype.kind in "iu" and a.max() > 255):
        a = np.clip(a.astype(np.float32) / 257.0, 0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    a = np.ascontiguousarray(a)
    if a.ndim == 2:
        return Image.fromarray(a, "L")
    return normalize_mode(Image.fromarray(a, "RGB" if a.shape[2] == 3 else "RGBA"))


def _fit(im: Image.Image, max_pixels: int, notes: list | None = None) -> Image.Image:
    """An "L"/"RGB" image over the limit (given in memory): reduce it by the smallest integer factor that fits."""
    w, h = im.size
    if w * h <= max_pixels:
        return im
    k = 2
    while -(-w // k) * -(-h // k) > max_pixels:
        k += 1
    out = im.reduce(k)
    if notes is not None:
        notes.append(_reduced_note((w, h), out.size, max_pixels))
    return out


def source_bytes(src) -> bytes:
    """The bytes of a path, bytes-like or binary file object, with clear errors (images, documents
    and batch inputs are all read through it)."""
    if isinstance(src, (str, os.PathLike)):
        try:
            with open(src, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise LocalOCRError(f"No such file: {src}", "not_found") from None
        except IsADirectoryError:
            raise LocalOCRError(f"{src} is a folder, not an image file.", "not_an_image") from None
        except OSError as e:
            raise LocalOCRError(f"{src} could not be read ({e.strerror or e}).", "not_found") from None
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    if hasattr(src, "read"):
        data = src.read()
        if isinstance(data, str):
            raise LocalOCRError("The file was opened in text mode; open images with 'rb'.", "not_an_image")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise LocalOCRError(f"The file object's read() gave a {type(data).__name__}, not bytes.", "not_an_image")
        return bytes(data)
    raise LocalOCRError(f"Cannot read an image from a {type(src).__name__}.", "not_an_image")


def _upright(im: Image.Image, notes: list) -> Image.Image:
    """EXIF orientation applied; a broken EXIF block keeps the pixels as stored (and says so)."""
    try:
        # only transpose when needed: exif_transpose copies the image otherwise
        if im.getexif().get(0x0112, 1) not in (1, None):  # 0x0112: the Orientation tag
            im = ImageOps.exif_transpose(im)
    except Exception:
        notes.append(Note("exif_ignored", "The image's EXIF block is damaged; its orientation tag was ignored."))
    return im


def decode_image(
    src, max_pixels: int = MAX_PIXELS, luma_jpeg: bool = True, max_input_pixels: int = MAX_INPUT_PIXELS
) -> Decoded:
    """Decode `src` to an upright "L" or "RGB" PIL image, with notes (see the module docstring).

    The decoding boundary: whatever goes wrong raises `LocalOCRError` (code
    "internal" for what no decoder should raise, with the cause chained).
    Numpy arrays are taken as RGB(A) (convert OpenCV's BGR first) and get no
    EXIF handling; PIL images keep their own EXIF orientation tag.
    luma_jpeg: decode a colour JPEG file (path, bytes, file) as its luma
    channel, "L" (the same pixels in the browser and on CPython); False: "RGB".
    """
    with warnings.catch_warnings():
        # Pillow warns about what it tolerates (corrupt EXIF, bomb sizes): the boundary speaks instead
        warnings.simplefilter("ignore")
        return _decode(src, max_pixels, luma_jpeg, max_input_pixels)


def _decode(src, max_pixels: int, luma_jpeg: bool, max_input_pixels: int) -> Decoded:
    notes: list[Note] = []
    fmt = None
    try:
        if isinstance(src, np.ndarray):
            try:
                im = _from_array(src)  # _from_array gives "L"/"RGB"
            except (TypeError, ValueError) as e:
                raise LocalOCRError(
                    f"The array could not be read as an image ({_one_line(e)}).", "not_an_image"
                ) from None
            size = im.size
            return Decoded(_fit(im, max_pixels, notes), notes, size)
        if isinstance(src, Image.Image):
            im = src
            fmt = im.format
            if getattr(im, "tile", None) and im.size[0] * im.size[1] > max_input_pixels:
                raise too_large(*im.size, max_input_pixels)  # lazily opened: not decoded yet
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            im.load()  # a lazily opened file: decode it now, with our error messages
            size = im.size
        else:
            data = source_bytes(src)
            fmt = magic_format(data[:16])
            im = _open(data)
            fmt = im.format or fmt
            size = im.size  # the header's, before any reduction
            im = _guard_and_load(im, max_pixels, luma_jpeg, max_input_pixels, notes)
        im = _upright(im, notes)
        return Decoded(_fit(normalize_mode(im), max_pixels, notes), notes, size)
    except LocalOCRError:
        raise
    except _DECODER_ERRORS as e:
        raise decode_failure(e, fmt) from None
    except Exception as e:
        raise internal_error(e) from e


def load_image(src, max_pixels: int = MAX_PIXELS, luma_jpeg: bool = True) -> Image.Image:
    """`decode_image(...).image`: the upright "L" or "RGB" PIL image alone."""
    return decode_image(src, max_pixels, luma_jpeg).image


def to_grey(im: Image.Image) -> Image.Image:
    """ "L" version of an "L"/"RGB" image (ITU-R 601 luma, Pillow's conversion)."""
    return im if im.mode == "L" else im.convert("L")


def open_image(data: bytes) -> Image.Image:
    """`Image.open` of `data` behind the decoding boundary (a document's pages are decoded from it):
    the same formats and the same LocalOCRError codes as `decode_image`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _open(data)
        except LocalOCRError:
            raise
        except _DECODER_ERRORS as e:
            raise decode_failure(e, magic_format(data[:16])) from None
