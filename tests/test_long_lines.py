"""Lines longer than the recognizer's widest input are read in pieces cut at gaps, and joined."""

import numpy as np
from localocr.backends.fake import FakeBackend, fake_model_bytes
from localocr.contract.models import load_model
from localocr.pipeline import run_sync
from localocr.recognition import MAX_WIDTH, piece_bounds, recognize_steps
from PIL import Image, ImageDraw
from pipeline_fakes import bars


def long_line(n_words=120, h=16):
    """One line of bar-words (3 bars each, read "xxx" by the fake recognizer), ~20000 px long."""
    im = Image.new("L", (20000, h + 8), 255)
    d = ImageDraw.Draw(im)
    x = 10
    for _ in range(n_words):
        x = bars(d, x, 4, 3, h=h)[2] + 120
    return im, x


def test_piece_bounds_cut_in_gaps_and_cover_the_line():
    im, _ = long_line()
    crop = np.asarray(im.resize((im.width * 32 // im.height, 32)))
    b = piece_bounds(crop, MAX_WIDTH)
    assert len(b) > 10
    assert b[0][0] == 0 and b[-1][1] == crop.shape[1]
    assert all(e0 == s1 for (_, e0, _), (s1, _, _) in zip(b, b[1:]))
    assert all(e - s <= MAX_WIDTH for s, e, _ in b)
    ink = (crop < 128).any(axis=0)
    assert all(gap and not ink[e] for s, e, gap in b[:-1])  # every cut is in a gap of ink
    # no gap at all: cut through ink at the emptiest column, flagged as such
    solid = np.zeros((32, 5000), np.uint8)
    solid[:, ::2] = 255
    assert [g for _, _, g in piece_bounds(solid, MAX_WIDTH)] == [False, False, True]
    assert piece_bounds(crop[:, :MAX_WIDTH]) == [(0, MAX_WIDTH, True)]


def test_a_20000_px_line_reads_every_word():
    im, end = long_line()
    be = FakeBackend()
    rec = load_model(be, fake_model_bytes("recognizer"), "recognizer")
    quad = np.array([[0, 0], [end, 0], [end, im.height], [0, im.height]], np.float32)
    (rd,) = run_sync(recognize_steps(im, [quad], rec, flip_check=False))
    assert rd.text == " ".join(["xxx"] * 120)
    assert len(rd.words) == 120
    xs = [float(w.quad[:, 0].mean()) for w in rd.words]
    assert xs == sorted(xs) and xs[0] < 100 and xs[-1] > end - 400  # word quads along the whole line
    assert max(shape[3] for shape in rec.session.calls) <= MAX_WIDTH  # in pieces, none squeezed


def test_a_cut_through_ink_glues_the_word_again():
    im = Image.new("L", (6000, 24), 255)
    d = ImageDraw.Draw(im)
    for x in range(10, 5990, 10):  # one 5980 px "word" of bars 4 px apart: no space gap
        d.rectangle([x, 4, x + 5, 19], fill=0)
    be = FakeBackend()
    rec = load_model(be, fake_model_bytes("recognizer"), "recognizer")
    quad = np.array([[0, 0], [6000, 0], [6000, 24], [0, 24]], np.float32)
    (rd,) = run_sync(recognize_steps(im, [quad], rec, flip_check=False))
    assert " " not in rd.text and len(rd.words) == 1 and len(rd.text) > 20
