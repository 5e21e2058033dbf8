"""Draw the app icons (web/icons/*.png) with Pillow: a page with lines of text under a scan frame.

    python -m tools.make_icons        # rewrites web/icons/; deterministic bytes for the same Pillow

Sizes are the ones browsers ask for: 192 and 512 (Chromium's install criteria and splash screen),
maskable 192/512 (Android adaptive icons crop to a circle: the drawing stays inside the central 80%
"safe zone"), 180 (iOS home screen) and 32 (tab favicon). Drawn at 4x and downsampled for smooth edges.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "web" / "icons"
THEME = (31, 78, 121)  # #1f4e79, the manifest's theme_color
PAPER = (255, 255, 255)
INK = (31, 78, 121)
FRAME = (255, 196, 61)  # the scan frame: a warm accent that reads on the dark background
SUPERSAMPLE = 4
# name -> (size, maskable)
ICONS = {
    "icon-32.png": (32, False),
    "apple-touch-icon-180.png": (180, False),
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-192.png": (192, True),
    "maskable-512.png": (512, True),
}


def draw(size: int, maskable: bool) -> Image.Image:
    s = size * SUPERSAMPLE
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    if maskable:
        d.rectangle((0, 0, s, s), fill=THEME)  # full bleed: the OS applies its own mask
        scale = 0.62  # drawing inside the 80% safe circle
    else:
        d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=THEME)
        scale = 0.8
    c, half = s / 2, s * scale / 2

    def box(x0, y0, x1, y1):  # unit square [-1, 1] -> pixels
        return (c + x0 * half, c + y0 * half, c + x1 * half, c + y1 * half)

    d.rounded_rectangle(box(-0.62, -0.8, 0.62, 0.8), radius=max(1, int(half * 0.08)), fill=PAPER)
    for i, width in enumerate((1.0, 0.8, 0.92, 0.6)):  # four "lines of text" of varied length
        y = -0.5 + i * 0.32
        d.rounded_rectangle(box(-0.42, y, -0.42 + 0.84 * width, y + 0.14), radius=max(1, int(half * 0.05)), fill=INK)
    w = max(2, int(half * 0.1))  # the scan frame's four corners
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * 0.9, sy * 0.95
            corner = [(x, y - sy * 0.35), (x, y), (x - sx * 0.35, y)]
            d.line([(c + px * half, c + py * half) for px, py in corner], fill=FRAME, width=w, joint="curve")
    return im.resize((size, size), Image.LANCZOS)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (size, maskable) in ICONS.items():
        draw(size, maskable).save(OUT / name, optimize=True)
    print(f"{len(ICONS)} icons in {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
