"""Shared helpers for the pipeline tests: an OCR on the numpy fake models, synthetic pages."""

import pytest
from localocr import OCR
from localocr.backends.fake import FakeBackend, fake_model_bytes
from PIL import Image, ImageDraw


@pytest.fixture
def fake_ocr():
    return OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend())


def bars(draw, x, y, n, h=16, w=6, pitch=14):
    """Draw a fake 'word' of n bars (read as n 'x' by the fake recognizer); return its box."""
    for i in range(n):
        draw.rectangle([x + i * pitch, y, x + i * pitch + w - 1, y + h - 1], fill=0)
    return (x, y, x + (n - 1) * pitch + w, y + h)


def page_with_words(size=(400, 200), lines=((20, 30, (3, 2)), (20, 120, (4,))), gap=30):
    """A white page with rows of bar-words; returns (image, [[word boxes] per line])."""
    im = Image.new("L", size, 255)
    d = ImageDraw.Draw(im)
    boxes = []
    for x, y, words in lines:
        row = []
        for n in words:
            b = bars(d, x, y, n)
            row.append(b)
            x = b[2] + gap
        boxes.append(row)
    return im, boxes
