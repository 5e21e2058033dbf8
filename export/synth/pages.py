"""Synthetic pages for the text detector, with exact line boxes from the renderer.

`render_page(rng)` returns `(image, quads)`: an RGB uint8 array [H, W, 3] and a float32
array [N, 4, 2] of line quads (clockwise from the text's top-left), one per *line*: a
horizontal run of text drawn in one call, so runs that a page separates by a big gap
(columns, table cells, label/value pairs far apart, receipt prices) are separate boxes.

A line box spans the ink of the run horizontally and, vertically, the union of its ink
and the font's "Hg" extent (cap height to descender), the way real data sets draw line
boxes; so every box contains ink and no drawn text ink lies outside a box. Decorations
(rules, table grids, boxes, textures) are not text and carry no box.

Page kinds: document (paragraphs, columns, headings, tables, forms, stamps), receipt,
screenshot (UI, light-on-dark), label (text on textured/photographic-like background).
Page-level geometry (rotation by any angle or 90/180/270, perspective) is applied to the
image and the quads together; photometric effects (shadow, blur, noise, JPEG-like
softening) only to the image.
"""

from __future__ import annotations

import glob
import io
import os
import string

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

_FONT_GLOBS = [
    "/usr/share/fonts/truetype/dejavu/DejaVu*.ttf",
    "/usr/share/fonts/truetype/liberation*/*.ttf",
    "/usr/share/fonts/truetype/freefont/*.ttf",
    "/usr/share/fonts/truetype/crosextra/*.ttf",
    "/usr/share/fonts/truetype/roboto/*/*.ttf",
    "/usr/share/fonts/truetype/open-sans/*.ttf",
    "/usr/share/fonts/truetype/firacode/*.ttf",
    "/usr/share/fonts/truetype/inconsolata/*.otf",
    "/usr/share/fonts/truetype/noto/Noto{Sans,Serif,Mono,SansMono}-*.ttf",
    "/usr/share/fonts/opentype/urw-base35/*.otf",
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
]
_MONO_HINTS = ("Mono", "Courier", "Inconsolata", "FiraCode", "OCRB", "NimbusMono")


def _list_fonts() -> tuple[list[str], list[str]]:
    files: list[str] = []
    # LOCALOCR_FONTS: a folder of .ttf/.otf files replacing the system fonts (the GPU job
    # carries its own, since that machine has none of the Debian font packages)
    env = os.environ.get("LOCALOCR_FONTS")
    globs = [os.path.join(env, "*.ttf"), os.path.join(env, "*.otf")] if env else _FONT_GLOBS
    for pat in globs:
        if "{" in pat:  # tiny brace expansion for the Noto pattern
            head, rest = pat.split("{", 1)
            alts, tail = rest.split("}", 1)
            for a in alts.split(","):
                files += glob.glob(head + a + tail)
        else:
            files += glob.glob(pat)
    files = sorted(
        f
        for f in set(files)
        if "Math" not in f and "Symbol" not in f and "ExtraLight" not in f and "D050000L" not in f and "Z003" not in f
    )
    # Z003 (a script face) stays out of the body fonts; annotations use it as "handwriting"
    mono = [f for f in files if any(h in f for h in _MONO_HINTS)]
    return files, mono


FONTS, MONO_FONTS = _list_fonts()
SCRIPT_FONTS = sorted(glob.glob("/usr/share/fonts/opentype/urw-base35/Z003*.otf")) or FONTS


def _words() -> list[str]:
    path = os.environ.get("LOCALOCR_WORDS", "/usr/share/dict/words")
    words: list[str] = []
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="ignore") as f:
            words = [w.strip() for w in f if w.strip().isascii() and "'" not in w and 1 < len(w.strip()) < 14]
    if not words:  # a machine without a word list still renders pseudo-words
        rng = np.random.default_rng(0)
        words = ["".join(rng.choice(list(string.ascii_lowercase), rng.integers(2, 10))) for _ in range(5000)]
    return words


WORDS = _words()

_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    key = (path, size)
    if key not in _font_cache:
        if len(_font_cache) > 400:  # bound memory: fonts x sizes would otherwise grow without limit
            _font_cache.clear()
        _font_cache[key] = ImageFont.truetype(path, size)
    return _font_cache[key]


# ---------------------------------------------------------------- text content


def _token(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.62:
        w = WORDS[rng.integers(len(WORDS))]
        c = rng.random()
        return w.upper() if c < 0.15 else (w.capitalize() if c < 0.4 else w)
    if r < 0.74:
        return str(rng.integers(0, 10 ** rng.integers(1, 7)))
    if r < 0.82:
        return f"{rng.integers(0, 9999)}.{rng.integers(0, 100):02d}"
    if r < 0.88:
        return f"{rng.integers(1, 29):02d}/{rng.integers(1, 13):02d}/{rng.integers(1990, 2030)}"
    if r < 0.94:
        return (
            rng.choice(["-", "&", "#", "%", "(", ")", ":", "@", "$", "*", "/", "+"])
            + WORDS[rng.integers(len(WORDS))][:6]
        )
    return "".join(rng.choice(list(string.ascii_uppercase + string.digits), rng.integers(3, 10)))


def text_run(rng: np.random.Generator, n_min: int = 1, n_max: int = 8) -> str:
    """A run of words (one line's content)."""
    n = int(rng.integers(n_min, n_max + 1))
    s = " ".join(_token(rng) for _ in range(n))
    if rng.random() < 0.2:
        s += rng.choice([".", ",", ":", ";", "?", "!"])
    return s


# ---------------------------------------------------------------- drawing with boxes


class Canvas:
    """An RGB page plus the line quads drawn on it."""

    def __init__(self, w: int, h: int, bg, track_ink: bool = False):
        self.img = Image.new("RGB", (w, h), tuple(int(c) for c in bg))
        self.draw = ImageDraw.Draw(self.img)
        self.quads: list[np.ndarray] = []
        # text-only ink layer (tests check boxes against it); decorations never draw here
        self.ink = Image.new("L", (w, h), 0) if track_ink else None

    def text(self, xy, s: str, f: ImageFont.FreeTypeFont, fill, angle: float = 0.0) -> tuple[int, int, int, int] | None:
        """Draw `s` with its top-left at xy; record its line box. Returns the axis box or None if empty/outside."""
        s = s.strip()
        if not s:
            return None
        x, y = int(xy[0]), int(xy[1])
        ink = f.getbbox(s)  # (l, t, r, b) relative to the drawing origin
        ref = f.getbbox("Hg")
        if ink[2] <= ink[0] or ink[3] <= ink[1]:
            return None
        l, r = ink[0], ink[2]
        t, b = min(ink[1], ref[1]), max(ink[3], ref[3])
        if angle == 0.0:
            x0, y0, x1, y1 = x + l, y + t, x + r, y + b
            W, H = self.img.size
            if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
                return None
            self.draw.text((x, y), s, font=f, fill=tuple(int(c) for c in fill))
            if self.ink is not None:
                ImageDraw.Draw(self.ink).text((x, y), s, font=f, fill=255)
            self.quads.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
            return x0, y0, x1, y1
        # rotated run (stamps, annotations): render on its own layer, rotate, paste with mask
        pad = 4
        tw, th = r - l + 2 * pad, b - t + 2 * pad
        layer = Image.new("L", (tw, th), 0)
        ImageDraw.Draw(layer).text((pad - l, pad - t), s, font=f, fill=255)
        rot = layer.rotate(angle, resample=Image.BILINEAR, expand=True)
        W, H = self.img.size
        if x + rot.size[0] > W or y + rot.size[1] > H or x < 0 or y < 0:
            return None
        colour = Image.new("RGB", rot.size, tuple(int(c) for c in fill))
        self.img.paste(colour, (x, y), rot)
        if self.ink is not None:
            self.ink.paste(255, (x, y), rot)
        corners = np.array([[pad, pad], [tw - pad, pad], [tw - pad, th - pad], [pad, th - pad]], np.float32)
        a = np.deg2rad(angle)
        c, sn = np.cos(a), np.sin(a)
        ctr = np.array([tw / 2, th / 2])
        d = corners - ctr
        # PIL rotates counter-clockwise for positive angles (y axis down)
        rotd = np.stack([d[:, 0] * c + d[:, 1] * sn, -d[:, 0] * sn + d[:, 1] * c], 1)
        q = rotd + np.array([rot.size[0] / 2, rot.size[1] / 2]) + np.array([x, y])
        self.quads.append(q.astype(np.float32))
        return int(q[:, 0].min()), int(q[:, 1].min()), int(q[:, 0].max()), int(q[:, 1].max())


def _ink(rng, bg_dark: bool):
    if bg_dark:
        v = rng.integers(190, 256)
        return (v, v, v) if rng.random() < 0.7 else tuple(rng.integers(120, 256, 3))
    if rng.random() < 0.75:
        v = rng.integers(0, 70)
        return (v, v, v)
    return tuple(rng.integers(0, 150, 3))


def _paper(rng):
    if rng.random() < 0.5:
        return (255, 255, 255)
    base = rng.integers(215, 256)
    return tuple(int(np.clip(base - rng.integers(0, 25), 0, 255)) for _ in range(3))


def _pick_font(rng, mono=False):
    pool = MONO_FONTS if mono and MONO_FONTS else FONTS
    return pool[rng.integers(len(pool))]


# ---------------------------------------------------------------- page kinds


def _document(rng, track_ink=False) -> Canvas:
    W = int(rng.integers(600, 1100))
    H = int(W * rng.uniform(1.1, 1.5))
    dark = rng.random() < 0.1  # light-on-dark documents (slides, dark-mode exports)
    cv = Canvas(W, H, tuple(int(c) for c in rng.integers(15, 70, 3)) if dark else _paper(rng), track_ink)
    ink = _ink(rng, dark)
    body_font = _pick_font(rng)
    size = int(rng.integers(11, 26))
    margin = int(rng.integers(20, 80))
    ncol = 1 if rng.random() < 0.6 else 2
    gutter = int(rng.integers(25, 60))
    colw = (W - 2 * margin - (ncol - 1) * gutter) // ncol
    y = margin
    # heading
    if rng.random() < 0.8:
        hf = font(_pick_font(rng), int(size * rng.uniform(1.3, 2.4)))
        box = cv.text((margin + rng.integers(0, max(1, W // 4)), y), text_run(rng, 1, 5), hf, ink)
        y = (box[3] if box else y) + int(size * rng.uniform(0.8, 2.0))
    top = y
    for col in range(ncol):
        x0 = margin + col * (colw + gutter)
        y = top
        while y < H - margin - size * 2:
            block = rng.random()
            f = font(body_font, size)
            lh = int(size * rng.uniform(1.15, 1.7))
            if block < 0.5:  # paragraph: justified-ish lines filling the column
                for _ in range(int(rng.integers(2, 9))):
                    s = text_run(rng, 3, 14)
                    while f.getlength(s) > colw and " " in s:
                        s = s.rsplit(" ", 1)[0]
                    if f.getlength(s) > colw:
                        break
                    cv.text((x0, y), s, f, ink)
                    y += lh
                    if y > H - margin - size:
                        break
                y += int(lh * rng.uniform(0.3, 1.2))
            elif block < 0.68:  # table with optional grid
                ncell = int(rng.integers(2, 5))
                cw = colw // ncell
                grid = rng.random() < 0.6
                rows = int(rng.integers(2, 8))
                rh = int(size * rng.uniform(1.5, 2.2))
                for _row in range(rows):
                    if y + rh > H - margin:
                        break
                    for c in range(ncell):
                        s = text_run(rng, 1, 3)
                        while f.getlength(s) > cw - 8 and " " in s:
                            s = s.rsplit(" ", 1)[0]
                        if f.getlength(s) <= cw - 8 and rng.random() < 0.9:
                            cv.text((x0 + c * cw + 4, y + (rh - size) // 2), s, f, ink)
                    if grid:
                        cv.draw.line([(x0, y), (x0 + ncell * cw, y)], fill=ink, width=1)
                    y += rh
                if grid:
                    cv.draw.line([(x0, y), (x0 + ncell * cw, y)], fill=ink, width=1)
                    for c in range(ncell + 1):
                        cv.draw.line([(x0 + c * cw, y - rows * rh), (x0 + c * cw, y)], fill=ink, width=1)
                y += lh
            elif block < 0.85:  # form fields: label, gap, value/underline or box
                for _ in range(int(rng.integers(1, 5))):
                    lab = text_run(rng, 1, 3) + ":"
                    b = cv.text((x0, y), lab, f, ink)
                    if b is None:
                        break
                    vx = b[2] + int(rng.integers(size, size * 5))
                    style = rng.random()
                    if style < 0.4 and vx + 40 < x0 + colw:
                        cv.draw.line([(vx, b[3] + 2), (x0 + colw, b[3] + 2)], fill=ink, width=1)
                    elif style < 0.6 and vx + 40 < x0 + colw:
                        cv.draw.rectangle([vx - 3, b[1] - 4, x0 + colw, b[3] + 4], outline=ink)
                    if rng.random() < 0.7:
                        vf = font(_pick_font(rng), int(size * rng.uniform(0.8, 1.2)))
                        v = text_run(rng, 1, 4)
                        if vx + vf.getlength(v) < x0 + colw:
                            cv.text((vx, y + rng.integers(-2, 3)), v, vf, _ink(rng, False))
                    if rng.random() < 0.2:  # checkbox
                        cx = x0 + colw - size
                        cv.draw.rectangle([cx, y, cx + size * 0.8, y + size * 0.8], outline=ink)
                    y += int(size * rng.uniform(1.8, 2.6))
            else:  # rule + small print
                cv.draw.line([(x0, y), (x0 + colw, y)], fill=ink, width=int(rng.integers(1, 3)))
                y += size // 2
                sf = font(body_font, max(8, int(size * 0.7)))
                s = text_run(rng, 2, 8)
                if sf.getlength(s) < colw:
                    cv.text((x0, y), s, sf, ink)
                y += int(size * 1.5)
            size = int(np.clip(size + rng.integers(-1, 2), 10, 28))
    # stamp or handwriting-like annotation, rotated
    for _ in range(int(rng.integers(0, 3))):
        col = (int(rng.integers(120, 220)), int(rng.integers(0, 80)), int(rng.integers(0, 120)))
        if rng.random() < 0.4:  # blue/black pen
            col = (int(rng.integers(0, 60)), int(rng.integers(0, 60)), int(rng.integers(90, 200)))
        fp = SCRIPT_FONTS[rng.integers(len(SCRIPT_FONTS))] if rng.random() < 0.5 else _pick_font(rng)
        sf = font(fp, int(rng.integers(16, 40)))
        s = text_run(rng, 1, 3).upper()
        ang = float(rng.uniform(-35, 35))
        x, y = int(rng.integers(0, W // 2)), int(rng.integers(0, H - 100))
        b = cv.text((x, y), s, sf, col, angle=ang)
        if b is not None and rng.random() < 0.5:
            cv.draw.rectangle([b[0] - 6, b[1] - 6, b[2] + 6, b[3] + 6], outline=col, width=2)
    return cv


def _receipt(rng, track_ink=False) -> Canvas:
    W = int(rng.integers(300, 560))
    H = int(rng.integers(700, 1500))
    bg = _paper(rng)
    cv = Canvas(W, H, bg, track_ink)
    faded = rng.random() < 0.4
    base = int(rng.integers(80, 150)) if faded else int(rng.integers(0, 60))
    ink = (base, base, base)
    fpath = _pick_font(rng, mono=rng.random() < 0.8)
    size = int(rng.integers(12, 22))
    f = font(fpath, size)
    m = int(rng.integers(10, 30))
    lh = int(size * rng.uniform(1.2, 1.6))
    y = m
    while y < H - m - lh:
        r = rng.random()
        if r < 0.15:  # centred header
            s = text_run(rng, 1, 4).upper()
            L = f.getlength(s)
            if L < W - 2 * m:
                cv.text(((W - L) / 2, y), s, f, ink)
        elif r < 0.6:  # item ... price (price is its own line: big gap)
            s = text_run(rng, 1, 4)
            p = f"{rng.integers(0, 500)}.{rng.integers(0, 100):02d}"
            pl = f.getlength(p)
            while f.getlength(s) > W - 2 * m - pl - size * 2 and " " in s:
                s = s.rsplit(" ", 1)[0]
            if rng.random() < 0.25:  # dot leaders join item and price into one run
                dots = "." * max(0, int((W - 2 * m - f.getlength(s) - pl) / max(1, f.getlength("."))) - 2)
                cv.text((m, y), f"{s} {dots} {p}".replace("  ", " "), f, ink) if f.getlength(
                    f"{s} {dots} {p}"
                ) < W - 2 * m else None
            else:
                if f.getlength(s) < W - 2 * m - pl - size * 2:
                    cv.text((m, y), s, f, ink)
                cv.text((W - m - pl, y), p, f, ink)
        elif r < 0.7:  # separator
            if rng.random() < 0.5:
                cv.draw.line([(m, y + lh // 2), (W - m, y + lh // 2)], fill=ink)
            else:  # dashed rule drawn as text is not text: draw it as short lines
                for xx in range(m, W - m, 8):
                    cv.draw.line([(xx, y + lh // 2), (xx + 4, y + lh // 2)], fill=ink)
        elif r < 0.85:
            s = text_run(rng, 1, 6)
            if f.getlength(s) < W - 2 * m:
                cv.text((m, y), s, f, ink)
        else:
            s = text_run(rng, 1, 2).upper() + ":"
            v = _token(rng)
            cv.text((m, y), s, f, ink)
            vl = f.getlength(v)
            if vl + f.getlength(s) + size * 2 < W - 2 * m:
                cv.text((W - m - vl, y), v, f, ink)
        y += lh
    return cv


def _screenshot(rng, track_ink=False) -> Canvas:
    W = int(rng.integers(640, 1280))
    H = int(rng.integers(400, 900))
    dark = rng.random() < 0.45
    bg = tuple(rng.integers(10, 60, 3)) if dark else tuple(rng.integers(225, 256, 3))
    cv = Canvas(W, H, bg, track_ink)
    f0 = _pick_font(rng)
    # panels of flat colour
    for _ in range(int(rng.integers(1, 5))):
        x0, y0 = int(rng.integers(0, W - 100)), int(rng.integers(0, H - 60))
        x1, y1 = x0 + int(rng.integers(80, W)), y0 + int(rng.integers(40, H))
        pc = tuple(int(np.clip(c + rng.integers(-30, 31), 0, 255)) for c in bg)
        cv.draw.rectangle([x0, y0, x1, y1], fill=pc)
    y = int(rng.integers(5, 30))
    while y < H - 30:
        size = int(rng.integers(9, 20))
        f = font(f0 if rng.random() < 0.8 else _pick_font(rng), size)
        x = int(rng.integers(5, 60))
        while x < W - 40:
            s = text_run(rng, 1, 5)
            L = f.getlength(s)
            if x + L > W - 5:
                break
            if rng.random() < 0.25:  # button
                btn = tuple(rng.integers(0, 256, 3))
                lum = 0.3 * btn[0] + 0.6 * btn[1] + 0.1 * btn[2]
                pad = int(size * 0.6)
                cv.draw.rounded_rectangle(
                    [x - pad, y - pad // 2, x + L + pad, y + size * 1.3 + pad // 2],
                    radius=int(rng.integers(0, 8)),
                    fill=btn,
                )
                cv.text((x, y), s, f, (255, 255, 255) if lum < 128 else (20, 20, 20))
            else:
                cv.text((x, y), s, f, _ink(rng, dark))
            x += int(L + rng.integers(size * 2, size * 8))
        y += int(size * rng.uniform(1.6, 3.5))
    return cv


def _texture(rng, w, h) -> Image.Image:
    """A noisy, blurred colour field (wood/metal/fabric-like) as background."""
    small = rng.integers(
        0, 256, (max(2, h // int(rng.integers(8, 64))), max(2, w // int(rng.integers(8, 64))), 3)
    ).astype(np.uint8)
    base = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    arr = np.asarray(base, np.float32)
    if rng.random() < 0.7:  # mostly low-saturation surfaces (wood, metal, concrete, fabric)
        arr = arr.mean(2, keepdims=True).repeat(3, 2)
    tint = rng.integers(0, 256, 3).astype(np.float32)
    mix = rng.uniform(0.3, 0.8)
    arr = arr * (1 - mix) + tint * mix
    arr += rng.normal(0, rng.uniform(2, 18), arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _label(rng, track_ink=False) -> Canvas:
    W = int(rng.integers(500, 1100))
    H = int(rng.integers(400, 900))
    cv = Canvas(W, H, (0, 0, 0), track_ink)
    cv.img.paste(_texture(rng, W, H))
    cv.draw = ImageDraw.Draw(cv.img)
    taken: list[tuple[int, int, int, int]] = []
    want = int(rng.integers(3, 12))
    for _ in range(40):  # placement attempts; overlapping ones are skipped
        if len(taken) >= want:
            break
        x0, y0 = int(rng.integers(0, W - 150)), int(rng.integers(0, H - 80))
        size = int(rng.integers(12, 64))
        f = font(_pick_font(rng), size)
        lines = int(rng.integers(1, 4))
        s = [text_run(rng, 1, 3 if size < 30 else 2) for _ in range(lines)]
        wmax = max(f.getlength(t) for t in s)
        box = (x0 - 12, y0 - 10, int(x0 + wmax + 12), int(y0 + lines * size * 1.4 + 6))
        if (
            box[2] > W
            or box[3] > H
            or any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken)
        ):
            continue  # overlapping labels would hide each other's text under a box
        taken.append(box)
        plate = rng.random() < 0.6
        bgc = tuple(int(c) for c in rng.integers(0, 256, 3))
        lum = 0.3 * bgc[0] + 0.6 * bgc[1] + 0.1 * bgc[2]
        ink = (
            tuple(int(c) for c in rng.integers(0, 90, 3))
            if lum > 128
            else tuple(int(c) for c in rng.integers(170, 256, 3))
        )
        if plate:
            cv.draw.rounded_rectangle(
                [x0 - 10, y0 - 8, x0 + wmax + 10, y0 + lines * size * 1.4 + 4],
                radius=int(rng.integers(0, 12)),
                fill=bgc,
                outline=ink if rng.random() < 0.5 else None,
                width=2,
            )
        else:
            ink = _ink(rng, rng.random() < 0.5)
        for i, t in enumerate(s):
            cv.text((x0, y0 + i * size * 1.4), t, f, ink)
    return cv


def _sign(rng, track_ink=False) -> Canvas:
    """Display text as people photograph it: a shop sign, a poster, a door (issue 16). One panel of
    1-3 lines of 1-2 big words (60 px to ~40% of the page high) on a textured scene, a few small
    labels around it; one box per word, as scene text is labelled (IC15)."""
    W = int(rng.integers(700, 1400))
    H = int(rng.integers(500, 1000))
    cv = Canvas(W, H, (0, 0, 0), track_ink)
    cv.img.paste(_texture(rng, W, H))
    cv.draw = ImageDraw.Draw(cv.img)
    lines = int(rng.integers(1, 4))
    size = int(np.exp(rng.uniform(np.log(60), np.log(max(61, min(0.4 * H, 0.9 * H / (1.3 * lines)))))))
    f = font(_pick_font(rng), size)
    rows = [[_token(rng) for _ in range(int(rng.integers(1, 3)))] for _ in range(lines)]
    space = f.getlength(" ")
    widths = [sum(f.getlength(w) for w in r) + space * (len(r) - 1) for r in rows]
    while max(widths) > 0.92 * W and size > 40:  # long words: a smaller font rather than no sign
        size = int(size * 0.85)
        f = font(f.path, size)
        space = f.getlength(" ")
        widths = [sum(f.getlength(w) for w in r) + space * (len(r) - 1) for r in rows]
    step = size * float(rng.uniform(1.15, 1.4))
    bw, bh = max(widths) + 0.3 * size, lines * step + 0.2 * size
    x0 = float(rng.uniform(0, max(1.0, W - bw)))
    y0 = float(rng.uniform(0, max(1.0, H - bh)))
    bgc = tuple(int(c) for c in rng.integers(0, 256, 3))
    lum = 0.3 * bgc[0] + 0.6 * bgc[1] + 0.1 * bgc[2]
    ink = tuple(int(c) for c in (rng.integers(0, 90, 3) if lum > 128 else rng.integers(170, 256, 3)))
    if rng.random() < 0.7:  # a panel; otherwise letters straight on the wall / window
        cv.draw.rounded_rectangle(
            [x0, y0, x0 + bw, y0 + bh],
            radius=int(rng.integers(0, 30)),
            fill=bgc,
            outline=ink if rng.random() < 0.3 else None,
        )
    else:
        ink = _ink(rng, rng.random() < 0.5)
    for i, r in enumerate(rows):
        x = x0 + 0.15 * size + (max(widths) - widths[i]) * float(rng.choice([0.0, 0.5]))
        for w in r:
            cv.text((x, y0 + 0.1 * size + i * step), w, f, ink)
            x += f.getlength(w) + space
    for _ in range(int(rng.integers(0, 7))):  # small print around the sign (opening hours, a street number)
        sz = int(rng.integers(12, 36))
        fs = font(_pick_font(rng), sz)
        t = text_run(rng, 1, 3)
        tx, ty = float(rng.uniform(0, max(1.0, W - fs.getlength(t)))), float(rng.uniform(0, H - 1.5 * sz))
        if not (tx + fs.getlength(t) < x0 or tx > x0 + bw or ty + 1.5 * sz < y0 or ty > y0 + bh):
            continue  # not on top of the sign
        cv.text((tx, ty), t, fs, _ink(rng, rng.random() < 0.5))
    return cv


# kind: (renderer, weight in a random page); signs are rendered on request (`data --synth-kind sign`),
# so that the pages of the other kinds stay the same pages for a given index
KINDS = {
    "document": (_document, 0.4),
    "receipt": (_receipt, 0.2),
    "screenshot": (_screenshot, 0.2),
    "label": (_label, 0.2),
    "sign": (_sign, 0.0),
}


# ---------------------------------------------------------------- page-level geometry and photometry


def _perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Coefficients for PIL's PERSPECTIVE transform mapping output (dst) points to input (src) points."""
    A, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        b.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.append(v)
    return np.linalg.solve(np.array(A, np.float64), np.array(b, np.float64))


def _apply_h(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.concatenate([pts, np.ones((len(pts), 1))], 1) @ H.T
    return p[:, :2] / p[:, 2:3]


def warp(img: Image.Image, quads: np.ndarray, rng, angle: float, persp: float, fill) -> tuple[Image.Image, np.ndarray]:
    """Rotate by `angle` degrees and jitter corners by `persp` x size; returns new image and quads."""
    w, h = img.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    a = np.deg2rad(angle)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = (src - [w / 2, h / 2]) @ R.T
    dst += rng.uniform(-persp, persp, dst.shape) * [w, h]
    dst -= dst.min(0)
    ow, oh = int(np.ceil(dst[:, 0].max())), int(np.ceil(dst[:, 1].max()))
    # forward homography src->dst, for the quads
    Hf = np.append(_perspective_coeffs(dst, src), 1).reshape(3, 3)
    coeffs = _perspective_coeffs(src, dst)
    out = img.transform((ow, oh), Image.PERSPECTIVE, tuple(coeffs), Image.BILINEAR, fillcolor=fill)
    if len(quads):
        q = _apply_h(Hf, quads.reshape(-1, 2)).reshape(-1, 4, 2).astype(np.float32)
    else:
        q = quads
    return out, q


def photometric(img: Image.Image, rng) -> Image.Image:
    arr = np.asarray(img, np.float32)
    h, w = arr.shape[:2]
    if rng.random() < 0.4:  # shadow / uneven light: a linear gradient
        gx, gy = np.meshgrid(np.linspace(0, 1, w, dtype=np.float32), np.linspace(0, 1, h, dtype=np.float32))
        t = rng.uniform(-1, 1, 2)
        g = t[0] * gx + t[1] * gy
        g = (g - g.min()) / (np.ptp(g) + 1e-6)
        arr *= (1 - rng.uniform(0.2, 0.6) * g)[..., None]
    if rng.random() < 0.5:
        arr += rng.normal(0, rng.uniform(2, 10), arr.shape)
    if rng.random() < 0.3:  # colour cast
        arr *= rng.uniform(0.85, 1.15, 3)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.35:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3)))
    if rng.random() < 0.3:  # JPEG artefacts
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=int(rng.integers(30, 85)))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def render_page(
    rng: np.random.Generator,
    kind: str | None = None,
    geometry: bool = True,
    photo: bool = True,
    track_ink: bool = False,
):
    """Render one synthetic page. Returns (RGB uint8 [H,W,3], quads float32 [N,4,2]), plus the
    text-only ink mask (bool [H,W]) as a third element when `track_ink`."""
    if kind is None:
        names = list(KINDS)
        p = np.array([KINDS[k][1] for k in names])
        kind = names[rng.choice(len(names), p=p / p.sum())]
    cv = KINDS[kind][0](rng, track_ink)
    img, ink = cv.img, cv.ink
    quads = np.stack(cv.quads) if cv.quads else np.zeros((0, 4, 2), np.float32)
    if geometry:
        r = rng.random()
        if r < 0.08:  # quarter turns: sideways and upside-down pages
            angle = float(rng.choice([90, 180, 270]))
        elif r < 0.45:
            angle = float(rng.normal(0, 6))
        else:
            angle = 0.0
        persp = float(rng.uniform(0, 0.08)) if rng.random() < 0.35 else 0.0
        if angle or persp:
            bg = tuple(int(c) for c in rng.integers(0, 256, 3))
            state = rng.bit_generator.state
            img, q2 = warp(img, quads, rng, angle, persp, bg)
            if ink is not None:  # same random corners: replay the generator state
                rng.bit_generator.state = state
                ink, _ = warp(ink, quads, rng, angle, persp, 0)
            quads = q2
    if photo:
        img = photometric(img, rng)
    out = (np.asarray(img, np.uint8), quads.astype(np.float32))
    return out + (np.asarray(ink) > 127,) if track_ink else out
