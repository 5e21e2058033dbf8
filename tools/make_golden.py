"""The repository's own golden images (tests/golden/images/): text we wrote, drawn with free fonts
(DejaVu: Bitstream Vera licence; Liberation: SIL OFL 1.1; both allow drawn output to be used freely),
so that a clone without ../shared still runs the end-to-end golden tests (tests/test_golden.py).

    python -m tools.make_golden          # rewrites the PNGs (deterministic: same fonts, same bytes)

Three kinds of picture people drop: a till receipt, an app screenshot, a sign photographed head-on.
The expected results beside them are the pipeline's own, written by the golden test's update mode
(LOCALOCR_UPDATE_GOLDEN=1) and reviewed like code.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "images"
FONTS = Path("/usr/share/fonts/truetype")


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for path in FONTS.rglob(name):
        return ImageFont.truetype(str(path), size)
    sys.exit(f"make_golden: font {name} not found under {FONTS} (Debian: fonts-dejavu-core, fonts-liberation2)")


def receipt() -> Image.Image:
    im = Image.new("RGB", (520, 760), (250, 248, 240))
    d = ImageDraw.Draw(im)
    mono, bold = font("DejaVuSansMono.ttf", 20), font("DejaVuSansMono-Bold.ttf", 26)
    y = 30
    for text, f in [("CORNER BAKERY", bold), ("12 Harbour Street", mono), ("Tel 555 0142", mono)]:
        w = d.textlength(text, font=f)
        d.text(((520 - w) / 2, y), text, fill=(30, 30, 30), font=f)
        y += 38
    y += 20
    d.text((30, y), "Date 14/03/2026  09:41", fill=(30, 30, 30), font=mono)
    y += 50
    items = [
        ("Sourdough loaf", "4.20"),
        ("Croissant x2", "3.60"),
        ("Flat white", "3.10"),
        ("Apple tart", "2.95"),
        ("Orange juice", "2.40"),
    ]
    for name, price in items:
        d.text((30, y), name, fill=(30, 30, 30), font=mono)
        d.text((490 - d.textlength(price, font=mono), y), price, fill=(30, 30, 30), font=mono)
        y += 36
    y += 16
    d.line((30, y, 490, y), fill=(60, 60, 60), width=2)
    y += 20
    d.text((30, y), "TOTAL", fill=(20, 20, 20), font=bold)
    d.text((490 - d.textlength("16.25", font=bold), y), "16.25", fill=(20, 20, 20), font=bold)
    y += 60
    d.text((30, y), "Paid by card", fill=(30, 30, 30), font=mono)
    y += 36
    d.text((30, y), "Thank you, see you soon", fill=(30, 30, 30), font=mono)
    return im


def screenshot() -> Image.Image:
    im = Image.new("RGB", (900, 520), (255, 255, 255))
    d = ImageDraw.Draw(im)
    sans, bold = font("DejaVuSans.ttf", 18), font("DejaVuSans-Bold.ttf", 24)
    d.rectangle((0, 0, 900, 64), fill=(32, 56, 100))
    d.text((24, 18), "Project settings", fill=(255, 255, 255), font=bold)
    body = [
        "Choose where your scans are saved and how often",
        "the library checks for new files. Changes apply",
        "to every device signed in to this account.",
    ]
    for i, line in enumerate(body):
        d.text((24, 100 + 34 * i), line, fill=(40, 40, 40), font=sans)
    for i, (label, x) in enumerate([("Cancel", 24), ("Save changes", 180)]):
        w = d.textlength(label, font=sans)
        fill, ink = ((235, 235, 235), (30, 30, 30)) if i == 0 else ((40, 110, 220), (255, 255, 255))
        d.rounded_rectangle((x, 260, x + w + 40, 304), 8, fill=fill)
        d.text((x + 20, 271), label, fill=ink, font=sans)
    d.text((24, 360), "Last synced 3 minutes ago", fill=(110, 110, 110), font=sans)
    return im


def sign() -> Image.Image:
    rng = random.Random(7)
    im = Image.new("RGB", (760, 440), (24, 90, 60))
    px = im.load()
    for y in range(440):  # a painted board: a gentle gradient and grain
        for x in range(0, 760, 2):
            v = int(10 * (y / 440)) + rng.randint(-6, 6)
            c = (24 + v, 90 + v, 60 + v)
            px[x, y] = c
            px[x + 1, y] = c
    d = ImageDraw.Draw(im)
    big, mid = font("LiberationSans-Bold.ttf", 96), font("LiberationSans-Regular.ttf", 44)
    for text, f, y in [("PLATFORM 4", big, 90), ("Trains to the coast", mid, 250)]:
        w = d.textlength(text, font=f)
        d.text(((760 - w) / 2, y), text, fill=(245, 240, 220), font=f)
    return im.filter(ImageFilter.GaussianBlur(0.8))


# name: (drawing, file type): the photographed sign as a camera would store it
PICTURES = {"receipt": (receipt, "png"), "screenshot": (screenshot, "png"), "sign": (sign, "jpg")}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (draw, ext) in PICTURES.items():
        path = OUT / f"{name}.{ext}"
        if ext == "jpg":
            draw().save(path, quality=85, optimize=True)
        else:
            draw().save(path, optimize=True)
        print(f"{path.relative_to(OUT.parents[2])}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
