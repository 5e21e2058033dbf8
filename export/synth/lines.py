"""Synthetic text-line images (Pillow): one line of text -> grey uint8 [32, W] + its label.

`render_line(rng, text)` draws `text` with a random installed font, size, weight,
spacing, colours and background, applies slight geometry changes and crops tight or
loose around the ink, scales to the model height keeping the aspect ratio (no squeezing
into a fixed width) and degrades the result (blur, noise, JPEG, low contrast, shadows,
thermal fading and dots, fax binarisation, light on dark). The label is always exactly
the text that was drawn: a font that lacks a glyph of the text is never used for it.
"""

from __future__ import annotations

import glob
import io
import json
import math
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from export.charset import ALPHABET
from export.synth.text import sample_text

HEIGHT = 32  # the recognizer's input height (recognizer.CONFIG["height"] reads the same)
MAX_WIDTH = 1200  # ~70 characters of a narrow font at height 32; longer renders are re-drawn

# Latin text faces installed from Debian packages (symbol, math, dingbat and non-Latin faces left out).
_FONT_GLOBS = [
    "/usr/share/fonts/truetype/dejavu/DejaVu[SV]*.ttf",
    "/usr/share/fonts/truetype/liberation2/*.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow*.ttf",
    "/usr/share/fonts/truetype/crosextra/*.ttf",
    "/usr/share/fonts/truetype/freefont/*.ttf",
    "/usr/share/fonts/truetype/inconsolata/*.otf",
    "/usr/share/fonts/truetype/firacode/*.ttf",
    "/usr/share/fonts/opentype/ocr-b/*.otf",
    "/usr/share/fonts/opentype/urw-base35/[CNPUZ]*.otf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/*.ttf",
    "/usr/share/fonts/truetype/open-sans/*.ttf",
    "/usr/share/fonts/truetype/noto/NotoS[ae]*-*.ttf",
]
# Optional extra faces (npm @fontsource, fetched by hand into .cache/fonts): used when present.
_EXTRA_GLOB = os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "fonts", "**", "*.[ot]tf")
_NOTO_LATIN = ("NotoSans-", "NotoSerif-", "NotoSansMono-", "NotoSansDisplay-", "NotoSerifDisplay-")
_COVERAGE_CACHE = os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "rec", "font_coverage.json")


# A folder with fonts/, words.txt and prose/ replaces the system's (the GPU job carries one).
SYNTH_ASSETS = os.environ.get("LOCALOCR_SYNTH_ASSETS")


def font_files() -> list[str]:
    """The font files the generator draws with, sorted (a fixed list for a fixed seed)."""
    if SYNTH_ASSETS:
        return sorted(glob.glob(os.path.join(SYNTH_ASSETS, "fonts", "*.[ot]tf")))
    files = set()
    for g in _FONT_GLOBS:
        for f in glob.glob(g):
            name = os.path.basename(f)
            if "/noto/" in f and not name.startswith(_NOTO_LATIN):
                continue
            files.add(f)
    files.update(glob.glob(_EXTRA_GLOB, recursive=True))
    return sorted(files)


def _glyph_coverage(path: str) -> str:
    """The characters of ALPHABET that `path` draws with a real glyph (not its .notdef box)."""
    font = ImageFont.truetype(path, 24)

    def draw(c):
        img = Image.new("L", (64, 64), 0)
        ImageDraw.Draw(img).text((16, 16), c, font=font, fill=255)
        return img.tobytes()

    missing = draw("\U0010fffd")  # a code point no text font maps: its .notdef rendering
    blank = bytes(64 * 64)
    return "".join(c for c in ALPHABET if c == " " or draw(c) not in (missing, blank))


_COVERAGE: dict[str, str] | None = None


def coverage() -> dict[str, str]:
    """font file -> characters of ALPHABET it covers; cached on disk (takes ~10 s to compute)."""
    global _COVERAGE
    if _COVERAGE is None:
        cached = {}
        if os.path.exists(_COVERAGE_CACHE):
            with open(_COVERAGE_CACHE) as f:
                cached = json.load(f)
        files = font_files()
        if any(f not in cached for f in files) or cached.get("__alphabet__") != ALPHABET:
            cached = {f: _glyph_coverage(f) for f in files}
            cached["__alphabet__"] = ALPHABET
            os.makedirs(os.path.dirname(_COVERAGE_CACHE), exist_ok=True)
            with open(_COVERAGE_CACHE, "w") as f:
                json.dump(cached, f)
        # a face missing basic letters (a symbol face slipped in) is no use
        _COVERAGE = {f: set(cached[f]) for f in files if all(c in cached[f] for c in "aAzZ09")}
    return _COVERAGE


_FONT_OBJ: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    key = (path, size)
    if key not in _FONT_OBJ:
        if len(_FONT_OBJ) > 600:  # bounded cache: a font object holds its face in memory (~0.2-1 MB)
            _FONT_OBJ.clear()
        _FONT_OBJ[key] = ImageFont.truetype(path, size)
    return _FONT_OBJ[key]


def pick_font(rng: random.Random, text: str) -> str | None:
    """A random font that covers every character of `text` (None if no font does)."""
    cov = coverage()
    files = list(cov)
    for _ in range(8):
        f = rng.choice(files)
        if all(c in cov[f] for c in text):
            return f
    ok = [f for f in files if all(c in cov[f] for c in text)]
    return rng.choice(ok) if ok else None


def _draw_text(text: str, font, spacing: float) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Black-on-white-ish coverage mask ('L', ink = 255) and the line box (x0, top, x1, bottom).

    The vertical box is the font's ascent/descent line, not the ink, so that '...' and
    'Agy' get the same crop height as in a real text line.
    """
    ascent, descent = font.getmetrics()
    size = font.size
    pad = size  # room for italics, rotation and loose crops
    if spacing == 0:
        w = int(math.ceil(font.getlength(text)))
    else:
        w = int(math.ceil(sum(font.getlength(c) for c in text) + spacing * size * (len(text) - 1)))
    img = Image.new("L", (w + 2 * pad, ascent + descent + 2 * pad), 0)
    d = ImageDraw.Draw(img)
    if spacing == 0:
        d.text((pad, pad), text, font=font, fill=255)
    else:
        x = float(pad)
        for c in text:
            d.text((x, pad), c, font=font, fill=255)
            x += font.getlength(c) + spacing * size
    return img, (pad, pad, pad + w, pad + ascent + descent)


def _background(rng: random.Random, size: tuple[int, int], level: int) -> np.ndarray:
    """Float background around grey `level`: flat, gradient, paper noise or a shadow edge."""
    w, h = size
    bg = np.full((h, w), float(level), np.float32)
    kind = rng.random()
    if kind < 0.3:  # linear gradient
        amp = rng.uniform(-60, 60)
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = (xx * math.cos(ang) + yy * math.sin(ang)) / max(w, h)
        bg += amp * g
    elif kind < 0.45:  # shadow: a darker half-plane with a soft edge
        x0 = rng.uniform(0, w)
        xx = np.arange(w, dtype=np.float32)
        edge = 1 / (1 + np.exp(np.clip(-(xx - x0) / rng.uniform(2, 20), -50, 50)))
        bg *= 1 - rng.uniform(0.2, 0.6) * (edge if rng.random() < 0.5 else 1 - edge)[None, :]
    elif kind < 0.6:  # paper texture: low-frequency noise
        small = np.random.default_rng(rng.getrandbits(32)).normal(
            0, rng.uniform(4, 15), (max(2, h // 8), max(2, w // 8))
        )
        bg += np.asarray(Image.fromarray(small.astype(np.float32), "F").resize((w, h), Image.BILINEAR))
    return bg


def _geometry(rng: random.Random, ink: Image.Image, box) -> tuple[Image.Image, tuple]:
    """Slight rotation, shear and perspective of the ink mask about the text box centre."""
    w, h = ink.size
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = rng.random()
    if r < 0.45:
        return ink, box
    ang = math.radians(rng.gauss(0, 1.2)) if rng.random() < 0.7 else 0.0
    shear = rng.gauss(0, 0.12) if rng.random() < 0.5 else 0.0
    # inverse affine (output -> input) about the centre: rotate by ang, shear in x
    ca, sa = math.cos(ang), math.sin(ang)
    a, b = ca, -sa + shear
    d, e = sa, ca
    c = cx - a * cx - b * cy
    f = cy - d * cx - e * cy
    ink = ink.transform((w, h), Image.AFFINE, (a, b, c, d, e, f), resample=Image.BILINEAR)
    if rng.random() < 0.2:  # mild perspective: move the corners of the text box a little
        bw, bh = x1 - x0, y1 - y0
        j = lambda s: rng.uniform(-s, s)  # noqa: E731
        quad = (
            x0 + j(bh * 0.3),
            y0 + j(bh * 0.15),
            x0 + j(bh * 0.3),
            y1 + j(bh * 0.15),
            x1 + j(bh * 0.3),
            y1 + j(bh * 0.15),
            x1 + j(bh * 0.3),
            y0 + j(bh * 0.15),
        )
        quad = tuple(float(v) for v in quad)
        out = ink.transform((int(bw), int(bh)), Image.QUAD, quad, resample=Image.BILINEAR)
        canvas = Image.new("L", (w, h), 0)
        canvas.paste(out, (int(x0), int(y0)))
        ink = canvas
    return ink, box


def _crop_box(rng: random.Random, box, size, font_px: int) -> tuple[int, int, int, int]:
    """Tight or loose crop around the line box, as a detector box would be."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    mode = rng.random()
    if mode < 0.25:  # tight: the detector box hugs the ink, may clip ascenders/descenders a bit
        t, b, l, r = [rng.uniform(-0.08, 0.05) * h for _ in range(4)]
    elif mode < 0.85:  # normal
        t, b = rng.uniform(-0.02, 0.2) * h, rng.uniform(-0.02, 0.2) * h
        l, r = rng.uniform(0, 0.5) * h, rng.uniform(0, 0.5) * h
    else:  # loose
        t, b = rng.uniform(0.1, 0.5) * h, rng.uniform(0.1, 0.5) * h
        l, r = rng.uniform(0.2, 1.2) * h, rng.uniform(0.2, 1.2) * h
    W, H = size
    return (max(0, int(x0 - l)), max(0, int(y0 - t)), min(W, int(math.ceil(x1 + r))), min(H, int(math.ceil(y1 + b))))


def _degrade(rng: random.Random, img: np.ndarray) -> np.ndarray:
    """Degradations at model resolution on a float image 0..255."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    h, w = img.shape
    if rng.random() < 0.12:  # thermal printer: uneven fading along the line and dot structure
        fade = 1 - rng.uniform(0.1, 0.6) * np.abs(np.sin(np.linspace(0, rng.uniform(1, 8), w) + rng.uniform(0, 6)))
        ink = 255 - img
        ink *= fade[None, :].astype(np.float32)
        if rng.random() < 0.5:
            step = rng.choice([2, 3])
            dots = np.ones((h, w), np.float32)
            dots[::step, :] *= rng.uniform(0.4, 0.8)
            dots[:, ::step] *= rng.uniform(0.6, 0.9)
            ink *= dots
        img = 255 - ink
    if rng.random() < 0.4:
        img = np.asarray(
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).filter(
                ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3))
            ),
            np.float32,
        )
    if rng.random() < 0.08:  # fax / scan binarisation
        thr = rng.uniform(90, 170)
        img = np.where(img > thr, 255.0, 0.0).astype(np.float32)
        if rng.random() < 0.5:
            flip = nrng.random((h, w)) < rng.uniform(0.005, 0.03)
            img = np.where(flip, 255 - img, img)
    if rng.random() < 0.5:
        img = img + nrng.normal(0, rng.uniform(2, 18), img.shape).astype(np.float32)
    if rng.random() < 0.15:  # low contrast
        m = img.mean()
        img = m + (img - m) * rng.uniform(0.3, 0.7)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "JPEG", quality=rng.randint(15, 85))
        out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    return out


def render_line(rng: random.Random, text: str, font_path: str | None = None, height: int = HEIGHT) -> np.ndarray | None:
    """Draw `text` and return a grey uint8 array [height, W] (None if it would exceed MAX_WIDTH,
    scaled by height / HEIGHT).

    Fonts that lack a glyph of `text` are never used (`pick_font`).
    """
    font_path = font_path or pick_font(rng, text)
    if font_path is None:
        return None
    # rendered size in pixels: often larger than HEIGHT (downscaled, like a scan), sometimes
    # small (10-16 px text upscaled, like a low-resolution photo)
    px = rng.randint(10, 16) if rng.random() < 0.2 else rng.randint(17, 56)
    font = _font(font_path, px)
    spacing = 0.0 if rng.random() < 0.8 else rng.uniform(-0.05, 0.5)
    ink, box = _draw_text(text, font, spacing)
    ink, box = _geometry(rng, ink, box)
    crop = _crop_box(rng, box, ink.size, px)
    ink = ink.crop(crop)
    w, h = ink.size
    if w < 2 or h < 2:
        return None
    stretch = rng.uniform(0.75, 1.25)  # condensed / expanded faces and anisotropic scans
    out_w = max(4, int(round(w * height / h * stretch)))
    if out_w > MAX_WIDTH * height // HEIGHT:
        return None
    ink = np.asarray(ink.resize((out_w, height), Image.BILINEAR), np.float32) / 255.0
    # colours: dark on light mostly, light on dark (inverted) sometimes; contrast >= ~50 levels
    bg = rng.randint(150, 255)
    fg = rng.randint(0, max(0, bg - 60))
    if rng.random() < 0.15:
        bg, fg = 255 - bg, 255 - fg
    back = _background(rng, (out_w, height), bg)
    img = back * (1 - ink) + fg * ink
    return _degrade(rng, img)


def sample_line(
    rng: random.Random, max_chars: int = 70, height: int = HEIGHT, downsample: int = 4
) -> tuple[np.ndarray, str]:
    """A random text and its rendering: (uint8 [height, W], label), with at least the CTC
    frames the text needs at `downsample` input columns a frame."""
    while True:
        text = sample_text(rng, max_chars)
        img = render_line(rng, text, height=height)
        if img is not None and img.shape[1] // downsample >= ctc_min_frames(text):
            return img, text


def ctc_min_frames(text: str) -> int:
    """Frames CTC needs for `text`: one per character plus a blank between repeated ones."""
    return len(text) + sum(1 for a, b in zip(text, text[1:]) if a == b)
