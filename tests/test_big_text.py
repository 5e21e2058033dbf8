"""Display text too big for the detector's first pass (issue 16): the coarse pass finds it.

With the bundled models: a sign whose word fills a third to a half of a 1400 x 900 photo is read;
small print beside it is still read; `add_coarse` adds coarse boxes only where the first pass
found nothing, and `coarse_scale` skips images too small for a coarse pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from localocr import OCR
from localocr.detection import add_coarse, coarse_scale, detect_steps
from localocr.pipeline import run_sync
from PIL import Image, ImageDraw, ImageFont

BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
REGULAR = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="module")
def ocr():
    return OCR()


def sign(word: str, size: int) -> Image.Image:
    im = Image.new("RGB", (1400, 900), (235, 230, 220))
    d = ImageDraw.Draw(im)
    d.text((80, 200), word, font=ImageFont.truetype(BOLD, size), fill=(180, 20, 20))
    d.text((80, 800), "small print under the sign", font=ImageFont.truetype(REGULAR, 28), fill=(30, 30, 30))
    return im


@pytest.mark.parametrize("word,size", [("OPEN", 300), ("EXIT", 400)])
def test_big_display_word_is_read(ocr, word, size):
    page = ocr.read(sign(word, size))
    assert [ln.text for ln in page.lines] == [word, "small print under the sign"]
    big = page.lines[0].quad
    assert np.ptp(big[:, 1]) > size * 0.6  # the box is the big word's, not a fragment


def test_first_pass_alone_misses_it(ocr):
    # what the coarse pass is for: at full scale the model sees no text in a 300 px word
    im = sign("OPEN", 300)
    boxes = run_sync(detect_steps(im, ocr.detector, None, coarse=False))
    assert all(q[:, 1].min() > 700 for q, _ in boxes)
    boxes = run_sync(detect_steps(im, ocr.detector, None))
    assert any(q[:, 1].min() < 300 for q, _ in boxes)


def box(x0, y0, x1, y1):
    return (np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32), 0.9)


def test_add_coarse_only_big_boxes_where_nothing_was_found():
    first = [box(10, 10, 200, 40), box(10, 600, 200, 630)]
    coarse = [
        box(300, 100, 900, 400),  # big, in an empty place: added
        box(5, 5, 210, 45),  # the first pass's line again (too small anyway)
        box(0, 590, 250, 650),  # big enough, but over a first-pass line (38% of it): left out
        box(300, 500, 340, 530),  # small: left out
    ]
    out = add_coarse(first, coarse, scale=1.0)
    assert [q[0, 0] for q, _ in out] == [10, 10, 300]
    # min_px is in first-pass input pixels: at scale 0.2 the 300-px box is 60 px there
    assert len(add_coarse(first, coarse, scale=0.2)) == 3
    assert len(add_coarse(first, coarse, scale=0.19)) == 2


def test_coarse_scale():
    assert coarse_scale(1400, 900, 1.0) == pytest.approx(320 / 900)
    assert coarse_scale(4000, 3000, 0.4) == pytest.approx(320 / 3000)
    assert coarse_scale(1400, 900, 0.7) is None  # 630 px: a coarse pass would not halve it
    assert coarse_scale(800, 600, 1.0) is None  # short side < 640 at the first scale
