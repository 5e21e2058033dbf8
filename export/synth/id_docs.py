"""Synthetic ID documents (ICAO 9303 TD1 cards, TD2 cards, TD3 passport pages) with an OCR-B MRZ,
photographed: on a table, rotated, in perspective, blurred, JPEG-compressed.

    doc = render_document(np.random.default_rng(0), "TD3")
    doc.image        # RGB PIL image
    doc.lines        # the true MRZ lines (localocr.fields.mrz.compose)
    doc.values       # the field values they encode, as localocr.fields returns them

`random_identity(rng)` gives the field values alone, for MRZ text lines (recognizer training).
Needs Debian's fonts-ocr-b (Makefile FONT_PACKAGES).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from localocr.fields.mrz import FORMATS, compose, parse
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .pages import _pick_font, photometric, warp
from .pages import font as _sans_font

OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"

# ICAO codes: states, and the specimen state Utopia; "D" is Germany (D<<).
STATES = (
    "UTO",
    "D",
    "FRA",
    "GBR",
    "USA",
    "ITA",
    "ESP",
    "NLD",
    "BEL",
    "CHE",
    "AUT",
    "SWE",
    "NOR",
    "POL",
    "PRT",
    "IRL",
    "CAN",
    "AUS",
    "JPN",
    "BRA",
    "MEX",
    "IND",
    "ZAF",
    "NZL",
    "GRC",
    "CZE",
    "DNK",
    "FIN",
)
_SYLLABLES = (
    "AN",
    "NA",
    "MAR",
    "IA",
    "ER",
    "IK",
    "SON",
    "LO",
    "RE",
    "TTA",
    "BE",
    "KO",
    "VAL",
    "DI",
    "MO",
    "SCH",
    "MID",
    "TH",
    "OR",
    "EL",
    "JA",
    "NE",
    "SU",
    "ZU",
    "KI",
    "WA",
    "LI",
    "PE",
    "TER",
    "GO",
    "HAN",
    "SEN",
    "BAU",
    "MAN",
    "OV",
    "RA",
    "CH",
    "DE",
    "LA",
    "QU",
    "XI",
    "YO",
    "FER",
    "NAN",
)
# Printed (non-MRZ) labels of the visual zone
_LABELS = (
    "Surname / Nom",
    "Given names / Prénoms",
    "Nationality / Nationalité",
    "Date of birth",
    "Sex / Sexe",
    "Date of expiry",
    "Document No.",
    "Authority",
    "Place of birth",
    "Signature",
)


@dataclass
class Document:
    image: Image.Image
    lines: list
    values: dict
    format: str


def _name(rng, parts=(1, 3)) -> str:
    words = []
    for _ in range(int(rng.integers(parts[0], parts[1] + 1))):
        words.append("".join(rng.choice(_SYLLABLES) for _ in range(int(rng.integers(2, 4)))))
    return " ".join(words)


def _date(rng, lo: int, hi: int) -> str:
    return f"{int(rng.integers(lo, hi)) % 100:02d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"


def _alnum(rng, n: int, digits_share: float = 0.7) -> str:
    return "".join(
        str(rng.integers(0, 10)) if rng.random() < digits_share else chr(65 + int(rng.integers(0, 26)))
        for _ in range(n)
    )


def random_identity(rng: np.random.Generator, fmt: str = "TD3") -> dict:
    """Keyword arguments of `compose` for a random holder (names can be long: they get cut)."""
    f = FORMATS[fmt]
    opt_len = f.spans["optional"][2] - f.spans["optional"][1]
    return {
        "document_type": "P" if fmt == "TD3" else str(rng.choice(["I", "ID", "A", "C"])),
        "issuing_state": str(rng.choice(STATES)),
        "surname": _name(rng, (1, 2)),
        "given_names": _name(rng, (1, 3)),
        "number": _alnum(rng, int(rng.integers(8, 10))),
        "nationality": str(rng.choice(STATES)),
        "birth_date": _date(rng, 1940, 2015),
        "sex": str(rng.choice(["M", "F", ""], p=[0.47, 0.47, 0.06])),
        "expiry_date": _date(rng, 2020, 2036),
        "optional": _alnum(rng, int(rng.integers(0, opt_len + 1)), 0.9) if rng.random() < 0.5 else "",
        **({"optional2": _alnum(rng, int(rng.integers(0, 8)), 0.9)} if fmt == "TD1" and rng.random() < 0.3 else {}),
    }


def expected_values(lines: list[str]) -> dict:
    """What localocr.fields should return for true MRZ lines: {field: value} ('' for absent)."""
    return dict(parse(lines).values)


# card size in pixels (width, height) at the scale drawn; ISO/IEC 7810 ID-1, ID-2, ID-3 proportions
_SIZES = {"TD1": (1000, 630), "TD2": (1050, 740), "TD3": (1250, 880)}


def _card(rng, fmt: str, lines: list[str], ident: dict) -> Image.Image:
    w, h = _SIZES[fmt]
    base = np.array(rng.integers(200, 250, 3), np.float32)
    tint = rng.uniform(-25, 25, 3)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    arr = base + tint * (gx / w)[..., None] + rng.uniform(-15, 15) * np.sin(gy / rng.uniform(8, 30))[..., None]
    # guilloche-like waves, faint
    for _ in range(int(rng.integers(2, 6))):
        f, ph, amp = rng.uniform(0.005, 0.03), rng.uniform(0, 6.3), rng.uniform(4, 12)
        arr -= amp * (np.abs(np.sin(gx * f + gy * f * rng.uniform(-1, 1) + ph)) < 0.08)[..., None]
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    ink = tuple(int(c) for c in rng.integers(0, 70, 3))
    # photo
    px0, py0 = int(0.04 * w), int(0.18 * h)
    d.rectangle(
        [px0, py0, px0 + int(0.26 * w), py0 + int(0.5 * h)], fill=tuple(int(c) for c in rng.integers(90, 190, 3))
    )
    # title and visual zone
    d.text(
        (int(0.04 * w), int(0.04 * h)),
        str(rng.choice(["PASSPORT", "IDENTITY CARD", "RESIDENCE PERMIT", "PASSEPORT", "CARTE D'IDENTITÉ"])),
        font=_sans_font(_pick_font(rng), int(0.055 * h)),
        fill=ink,
    )
    label_font = _sans_font(_pick_font(rng), int(0.028 * h))
    value_font = _sans_font(_pick_font(rng), int(0.042 * h))
    values = [
        ident["surname"],
        ident["given_names"],
        ident["nationality"],
        ident["birth_date"],
        ident["sex"] or "X",
        ident["expiry_date"],
        ident["number"],
        "MINISTRY",
        "CITY",
        "",
    ]
    x, y = int(0.34 * w), int(0.16 * h)
    for label, value in zip(_LABELS, values):
        if y > 0.6 * h:
            break
        d.text((x, y), label, font=label_font, fill=ink)
        d.text((x, y + int(0.03 * h)), value, font=value_font, fill=ink)
        y += int(0.085 * h)
    # the MRZ: OCR-B, 10 characters per inch scaled to the card: lines fill ~89% of its width
    n = len(lines[0])
    size = 10
    while ImageFont.truetype(OCRB, size + 1).getlength("<" * n) < 0.89 * w:
        size += 1
    mrz_font = ImageFont.truetype(OCRB, size)
    pitch = int(size * rng.uniform(1.15, 1.35))
    y = h - int(0.05 * h) - pitch * len(lines)
    x = int((w - mrz_font.getlength(lines[0])) / 2)
    # a light MRZ band, as on many documents
    if rng.random() < 0.5:
        d.rectangle([0, y - pitch // 3, w, h], fill=tuple(int(c) for c in np.clip(base + 10, 0, 255)))
    mrz_ink = tuple(int(c) for c in rng.integers(0, 45, 3))
    for i, line in enumerate(lines):
        d.text((x, y + i * pitch), line, font=mrz_font, fill=mrz_ink)
    return img


def render_document(rng: np.random.Generator, fmt: str | None = None) -> Document:
    """A photographed synthetic document of format `fmt` (random when None)."""
    fmt = fmt or str(rng.choice(list(FORMATS)))
    ident = random_identity(rng, fmt)
    lines = compose(fmt, **ident)
    card = _card(rng, fmt, lines, ident)
    # on a table: a margin of background around the card, then rotation and perspective together
    w, h = card.size
    m = int(0.12 * w)
    table = tuple(int(c) for c in rng.integers(30, 160, 3))
    photo = Image.new("RGB", (w + 2 * m, h + 2 * m), table)
    photo.paste(card, (m, m))
    angle = float(rng.uniform(-12, 12))
    persp = float(rng.uniform(0, 0.05))
    photo, _ = warp(photo, np.zeros((0, 4, 2), np.float32), rng, angle, persp, table)
    photo = photometric(photo, rng)
    if rng.random() < 0.7:  # the camera's focus, always a little soft
        photo = photo.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2))))
    scale = float(rng.uniform(0.7, 1.1))
    photo = photo.resize((int(photo.width * scale), int(photo.height * scale)), Image.BILINEAR)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=int(rng.integers(55, 92)))
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return Document(image, lines, expected_values(lines), fmt)


__all__ = ["Document", "random_identity", "render_document", "expected_values"]
