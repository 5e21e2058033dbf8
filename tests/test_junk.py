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


def test_a_uniform_image_is_blank_and_ink_is_not():
    from PIL import ImageDraw, ImageFont

    assert pipeline.blank_page(Image.new("RGB", (2480, 3508), "white"))
    assert pipeline.blank_page(Image.new("L", (300, 200), 128))
    assert pipeline.blank_page(Image.fromarray(np.full((64, 64, 3), (200, 40, 40), np.uint8)))
    rng = np.random.default_rng(1)  # a scan's sensor noise, +-3 levels
    noisy = np.clip(235 + rng.normal(0, 1.0, (1200, 900)), 0, 255).astype(np.uint8)
    assert pipeline.blank_page(Image.fromarray(noisy))
    page = Image.new("RGB", (2480, 3508), "white")  # one pale 14 px word on an A4 page at 300 dpi
    ImageDraw.Draw(page).text((1200, 1700), "faint note", fill=(200, 200, 200), font=ImageFont.load_default(size=14))
    assert not pipeline.blank_page(page)
    colour = Image.new("RGB", (800, 600), (200, 40, 40))  # an edge in colour only counts too
    ImageDraw.Draw(colour).rectangle([10, 10, 20, 20], fill=(40, 200, 40))
    assert not pipeline.blank_page(colour)
    assert not pipeline.blank_page(Image.fromarray(rng.integers(0, 256, (300, 300), dtype=np.uint8)))


def test_a_blank_page_runs_no_model_and_says_it_is_blank(monkeypatch):
    from localocr.backends.fake import FakeBackend, fake_model_bytes

    ocr = pipeline.OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend())
    runs = []
    for m in (ocr.detector, ocr.recognizer):
        run = m.session.run
        monkeypatch.setattr(m.session, "run", lambda feeds, run=run: runs.append(1) or run(feeds))
    page = ocr.read(Image.new("RGB", (2480, 3508), "white"))
    assert page.text == "" and [n.code for n in page.notes] == ["blank"] and runs == []
    assert page.to_dict()["notes"][0]["code"] == "blank"
