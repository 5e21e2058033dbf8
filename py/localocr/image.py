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
anyway. Cost, measured with localocr-eval on the validation splits (session-1
models, RGB -> luma): det hmean SROIE 0.905 -> 0.906, IC15 0.474 -> 0.464,
plates 0.559 -> 0.565; e2e F1 SROIE 0.443 -> 0.442, IC15 0.178 -> 0.173,
plates 0.172 -> 0.196. A DCT-scaled decode (the size guard below) is not
bit-exact across the two.

Size guard: the image's size is known from its header before any pixel is
decoded. A JPEG over `max_pixels` is decoded at a reduced DCT scale (Pillow's
draft mode: no full-size array); any other file format over it is refused.
PIL images and arrays over it, already in memory, are reduced by an integer
factor.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import LocalOCRError

# ~50 MP: a 60 MP phone photo is bigger than any text needs, and decoding it as
# RGB costs 180 MB (too much for a browser tab); JPEGs are reduced on decode.
MAX_PIXELS = 50_000_000

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def _sniff(head: bytes) -> None:
    """Raise a clear error for common non-image inputs recognised by their first bytes."""
    if not head:
        raise LocalOCRError("The file is empty.", "empty")
    if head.startswith(b"%PDF"):
        raise LocalOCRError("This is a PDF document, not an image. Convert its pages to images "
                            "(PNG or JPEG) first.", "pdf")
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise LocalOCRError("This is a HEIC/HEIF (or AVIF) image, which this decoder cannot read. "
                            "Export it as JPEG or PNG first.", "heic")
    try:
        txt = head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return
    if txt.lstrip().startswith("<svg") or "<svg" in txt[:256]:
        raise LocalOCRError("This is an SVG drawing; only raster images (PNG, JPEG, ...) can be read.",
                            "not_an_image")
    printable = sum(c.isprintable() or c in "\r\n\t" for c in txt)
    if printable >= 0.95 * len(txt):
        raise LocalOCRError("This is a text file, not an image.", "not_an_image")


def _open(data: bytes) -> Image.Image:
    _sniff(data[:512])
    try:
        with warnings.catch_warnings():
            # our own guard below handles the size; Pillow's warning would only be noise
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise LocalOCRError("The image is far too large to read (a decompression bomb?).",
                            "too_large") from None
    except UnidentifiedImageError:
        raise LocalOCRError("The file is not an image in a format this decoder knows "
                            "(PNG, JPEG, GIF, BMP, TIFF, WebP, ...).", "not_an_image") from None


def _guard_and_load(im: Image.Image, max_pixels: int, luma_jpeg: bool = True) -> Image.Image:
    """Apply the size guard on the header size (and `luma_jpeg`), then decode the first frame."""
    w, h = im.size
    if w <= 0 or h <= 0:
        raise LocalOCRError("The image has no pixels.", "empty")
    if im.format == "JPEG":
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
    if im.size[0] * im.size[1] > max_pixels:
        raise LocalOCRError(
            f"The image is too large ({w} x {h} = {w * h / 1e6:.0f} MP; the limit is "
            f"{max_pixels / 1e6:.0f} MP). Downscale it first.", "too_large")
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        msg = str(e)
        if "truncated" in msg or "broken data" in msg or isinstance(e, EOFError):
            raise LocalOCRError("The image file is truncated or damaged.", "truncated") from None
        raise LocalOCRError(f"The image could not be decoded ({msg}).", "bad_image") from None
    return im


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
    return im.convert("RGB")   # CMYK, YCbCr, LAB, HSV, RGBX


def _from_array(a: np.ndarray) -> Image.Image:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape:
        raise LocalOCRError(f"An image array must be H x W, H x W x 3 or H x W x 4 (got shape {a.shape}).",
                            "not_an_image")
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


def _fit(im: Image.Image, max_pixels: int) -> Image.Image:
    """An "L"/"RGB" image over the limit (given in memory): reduce it by the smallest integer factor that fits."""
    w, h = im.size
    if w * h <= max_pixels:
        return im
    k = 2
    while -(-w // k) * -(-h // k) > max_pixels:
        k += 1
    return im.reduce(k)


def source_bytes(src) -> bytes:
    """The bytes of a path, bytes-like or binary file object, with clear errors."""
    if isinstance(src, (str, os.PathLike)):
        try:
            with open(src, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise LocalOCRError(f"No such file: {src}", "not_found") from None
        except IsADirectoryError:
            raise LocalOCRError(f"{src} is a folder, not an image file.", "not_an_image") from None
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    if hasattr(src, "read"):
        data = src.read()
        if isinstance(data, str):
            raise LocalOCRError("The file was opened in text mode; open images with 'rb'.", "not_an_image")
        return data
    raise LocalOCRError(f"Cannot read an image from a {type(src).__name__}.", "not_an_image")


def load_image(src, max_pixels: int = MAX_PIXELS, luma_jpeg: bool = True) -> Image.Image:
    """Decode `src` to an upright "L" or "RGB" PIL image (see the module docstring).

    Numpy arrays are taken as RGB(A) (convert OpenCV's BGR first) and get no
    EXIF handling; PIL images keep their own EXIF orientation tag.
    luma_jpeg: decode a colour JPEG file (path, bytes, file) as its luma
    channel, "L" (the same pixels in the browser and on CPython); False: "RGB".
    """
    if isinstance(src, np.ndarray):
        return _fit(_from_array(src), max_pixels)      # _from_array gives "L"/"RGB"
    if isinstance(src, Image.Image):
        im = src
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        try:
            im.load()          # a lazily opened file: decode it now, with our error messages
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise LocalOCRError(f"The image could not be decoded ({e}).", "bad_image") from None
    else:
        data = source_bytes(src)
        im = _guard_and_load(_open(data), max_pixels, luma_jpeg)
    try:
        # only transpose when needed: exif_transpose copies the image otherwise
        if im.getexif().get(0x0112, 1) not in (1, None):      # 0x0112: the Orientation tag
            im = ImageOps.exif_transpose(im)
    except Exception:      # a broken EXIF block: keep the pixels as stored
        pass
    return _fit(normalize_mode(im), max_pixels)


def to_grey(im: Image.Image) -> Image.Image:
    """"L" version of an "L"/"RGB" image (ITU-R 601 luma, Pillow's conversion)."""
    return im if im.mode == "L" else im.convert("L")
