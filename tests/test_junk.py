"""The junk floor (pipeline.keep_segment, junk_page): noise gives no text, real lines stay."""

import numpy as np
import pytest
from localocr import LocalOCRError, pipeline
from localocr.recognition import LineRead, WordRead
from PIL import Image


def read(text, conf):
    q = np.zeros((4, 2), np.float32)
    return LineRead(q, text, conf, words=[WordRead(w, q, conf) for w in text.split()])


def test_floor_and_short_floor():
    keep = pipeline.keep_segment
    assert keep("TOTAL 12.50", 0.55) and not keep("TOTAL 12.50", 0.45)
    assert not keep("S", 0.89) and keep("S", 0.95) and not keep("ab", 0.85) and keep("abc", 0.6)
    assert not keep("   ", 1.0)
    assert keep("S", 0.89, floor=0.0, short_floor=None)  # both off


def test_a_page_of_low_confidence_segments_is_junk_and_says_so():
    noise = [read(t, c) for t, c in (("SST", 0.68), ("S", 0.93), ("SAE", 0.4), ("9", 0.3), ("BO", 0.35), ("SRP", 0.38))]
    notes = []
    assert pipeline.junk_page(noise) and pipeline.segments_of(noise, notes=notes) == []
    assert [n.code for n in notes] == ["junk"] and "noise" in notes[0].message
    # a poor but real page: most segments read confidently
    real = [read(t, c) for t, c in (("STOP", 0.7), ("AHEAD", 0.9), ("x", 0.3), ("EXIT", 0.8), ("42", 0.95))]
    assert not pipeline.junk_page(real)
    assert [s[2] for s in pipeline.segments_of(real)] == [0.7, 0.9, 0.8, 0.95]
    # few segments are never a "page" of junk: the floors alone decide
    assert not pipeline.junk_page(noise[:3])


@pytest.mark.models
def test_noise_pages_give_no_text_with_the_bundled_models():
    try:
        ocr = pipeline.OCR()
    except LocalOCRError as e:
        pytest.skip(f"no bundled models: {e}")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2000, 2000), dtype=np.uint8)  # uniform noise: 46 segments read
    page = ocr.read(Image.fromarray(a))
    assert page.text == "" and "junk" in [n.code for n in page.notes]
