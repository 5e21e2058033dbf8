"""Orientation (`localocr.orientation`): quarter turns and tilts of real validation pages.

Each quarter turn of a page must read as the upright page reads (the turn back is exact, so the
same text), say which turn it applied, and give boxes on the image as given; orientation=False
reads the image as it is. The real-page tests skip when ../shared/data or the models are absent.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from localocr.errors import LocalOCRError
from localocr.geometry import crop_quad
from localocr.image import decode_image
from localocr.metrics import levenshtein
from localocr.orientation import (
    along,
    apply_affine,
    invert_affine,
    rotate_image,
    runs_level,
    turn_image,
    turn_points,
    turned_size,
    unturn_points,
)
from localocr.result import Page
from PIL import Image
from pipeline_fakes import fake_ocr, page_with_words  # noqa: F401 - fixture

DATA = Path(os.environ.get("LOCALOCR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
# validation pages (localocr.splits): a form, a receipt, a street scene
PAGES = [
    ("funsd_train", "images/0001118259.png"),
    ("sroie_train", "images/003.jpg"),
    ("ic15_train", "images/img_8.jpg"),
]


# ---------------------------------------------------------------- geometry, no models


@pytest.mark.parametrize("k", [0, 90, 180, 270])
def test_turn_points_follow_the_pixels(k):
    im = Image.new("L", (7, 4), 0)
    im.putpixel((5, 1), 255)  # the pixel [5, 6) x [1, 2)
    t = turn_image(im, k)
    assert t.size == turned_size(7, 4, k)
    corners = turn_points(np.array([[5, 1], [6, 2]], float), k, 7, 4)
    x0, y0 = corners.min(axis=0).astype(int)
    assert t.getpixel((int(x0), int(y0))) == 255 and np.asarray(t).sum() == 255
    back = unturn_points(corners, k, 7, 4)
    np.testing.assert_allclose(back, [[5, 1], [6, 2]])


def test_rotate_image_matrix_maps_points():
    im = Image.new("L", (200, 100), 255)
    im.putpixel((150, 20), 0)
    out, m = rotate_image(im, 25)
    x, y = apply_affine([150.5, 20.5], m)
    assert np.asarray(out)[int(y), int(x)] < 160  # the dark pixel landed where the matrix says
    np.testing.assert_allclose(apply_affine(apply_affine([3, 4], m), invert_affine(m)), [3, 4], atol=1e-9)


def test_rotation_in_the_dict():
    d = Page(10, 20, rotation=270, deskew=-3.5).to_dict()
    assert d["rotation"] == 270 and d["deskew"] == -3.5
    p = Page.from_dict(d)
    assert (p.rotation, p.deskew) == (270, -3.5)


def test_fake_pipeline_upright_page_not_turned(fake_ocr):
    im, _ = page_with_words()
    page = fake_ocr.read(im)
    assert page.rotation == 0 and page.to_dict()["rotation"] == 0


# ---------------------------------------------------------------- real pages


@pytest.fixture(scope="module")
def ocr():
    from localocr import OCR

    try:
        return OCR()
    except LocalOCRError as e:
        pytest.skip(f"no bundled models: {e}")


def upright(dataset, image):
    path = DATA / dataset / image
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return decode_image(str(path)).image


@pytest.fixture(scope="module")
def upright_reads(ocr):
    return {}


def read_upright(ocr, cache, dataset, image):
    if (dataset, image) not in cache:
        cache[(dataset, image)] = ocr.read(upright(dataset, image))
    return cache[(dataset, image)]


@pytest.mark.models
@pytest.mark.parametrize("k", [90, 180, 270])
@pytest.mark.parametrize("dataset,image", PAGES, ids=[p[0] for p in PAGES])
def test_quarter_turn_reads_as_upright(ocr, upright_reads, dataset, image, k):
    up = upright(dataset, image)
    base = read_upright(ocr, upright_reads, dataset, image)
    assert base.rotation == 0 and base.text.strip()
    given = turn_image(up, k)  # the page photographed turned clockwise by k
    page = ocr.read(given)
    assert page.rotation == (360 - k) % 360
    assert (page.width, page.height) == given.size
    assert page.text == base.text
    # every box is the upright one moved onto the given image
    w, h = up.size
    assert len(page.words) == len(base.words)
    for a, b in zip(page.words, base.words):
        np.testing.assert_allclose(a.quad, turn_points(np.asarray(b.quad, np.float64), k, w, h), atol=0.05)
    for a, b in zip(page.lines, base.lines):
        np.testing.assert_allclose(a.quad, turn_points(np.asarray(b.quad, np.float64), k, w, h), atol=0.05)
    d = page.to_dict()
    assert d["rotation"] == page.rotation and d["text"] == base.text


@pytest.mark.models
def test_boxes_cut_the_text_from_the_given_image(ocr):
    """The overlay lines up: each of the longest lines, cut from the turned image at its quad, reads as its text."""
    up = upright(*PAGES[0])
    given = turn_image(up, 90)
    page = ocr.read(given)
    assert page.rotation == 270
    segs = sorted((seg for ln in page.lines for seg in ln.parts), key=lambda s: -len(s.text))[:8]
    grey = given.convert("L")
    edits = chars = 0
    for seg in segs:
        text, _ = ocr.recognize_line(crop_quad(grey, seg.quad, out_height=ocr.recognizer.spec.height))
        edits += levenshtein(text, seg.text)
        chars += len(seg.text)
    assert chars > 50 and edits <= 0.1 * chars
    # ... and a box moved by a quarter of the image misses it
    text, _ = ocr.recognize_line(
        crop_quad(grey, segs[0].quad + np.float32([0, given.height / 4]), out_height=ocr.recognizer.spec.height)
    )
    assert levenshtein(text, segs[0].text) > 0.3 * len(segs[0].text)


@pytest.mark.models
def test_orientation_off_reads_the_image_as_it_is(ocr, upright_reads):
    from localocr import OCR

    off = OCR(orientation=False)
    base = read_upright(ocr, upright_reads, *PAGES[0])
    page = off.read(turn_image(upright(*PAGES[0]), 90))
    assert page.rotation == 0 and page.deskew == 0
    assert page.text != base.text
    assert off.read(upright(*PAGES[0])).text == base.text  # upright pages read the same either way


@pytest.mark.models
def test_tilted_page_is_straightened(ocr, upright_reads):
    up = upright(*PAGES[1])
    base = read_upright(ocr, upright_reads, *PAGES[1])
    given, fwd = rotate_image(up, 20)  # counter-clockwise by 20 degrees
    page = ocr.read(given)
    assert page.rotation == 0 and page.deskew == pytest.approx(-20, abs=3)
    # the words found upright, moved onto the tilted image, are found there with their text
    got = [(w.text, np.asarray(w.quad, np.float64).mean(axis=0)) for w in page.words]
    found = 0
    for w in base.words:
        c = apply_affine(np.asarray(w.quad, np.float64), fwd).mean(axis=0)
        found += any(t == w.text and np.hypot(*(g - c)) < 10 for t, g in got)
    assert found >= 0.6 * len(base.words)
    for w in page.words:
        d = np.asarray(w.quad[1], np.float64) - np.asarray(w.quad[0], np.float64)
        if np.hypot(*d) > 60:
            assert np.degrees(np.arctan2(-d[1], d[0])) == pytest.approx(20, abs=6)


def test_cli_no_orientation_flag():
    from localocr.cli import build_parser

    assert build_parser().parse_args(["x.png", "--no-orientation"]).orientation is False
    assert build_parser().parse_args(["x.png"]).orientation is True


def _record_detections(monkeypatch, found_on=None):
    """Wrap the pipeline's detector step: record each image detected, and (with found_on) find
    nothing on any image but that one, as a detector that sees a scene's text only upright."""
    import localocr.pipeline as pipeline

    real = pipeline.detect_steps
    seen = []

    def detect_steps(image, *args, **kwargs):
        seen.append(np.asarray(image).copy())
        boxes = yield from real(image, *args, **kwargs)
        if found_on is not None and not np.array_equal(np.asarray(image), np.asarray(found_on)):
            return []
        return boxes

    monkeypatch.setattr(pipeline, "detect_steps", detect_steps)
    return seen


def test_probe_tries_the_other_turns_when_nothing_is_found(fake_ocr, monkeypatch):
    # nothing as given nor turned by 90: the page turned by 270, then by 180, is detected too
    im, _ = page_with_words()
    seen = _record_detections(monkeypatch, found_on=Image.new("L", (1, 1), 0))
    page = fake_ocr.read(im)
    assert page.rotation == 0 and not page.lines
    want = [np.asarray(turn_image(im, k)) for k in (0, 90, 270, 180)]
    assert len(seen) >= 4 and all(np.array_equal(a, b) for a, b in zip(seen, want))


def test_probe_stops_at_the_first_turn_with_text(fake_ocr, monkeypatch):
    upright, _ = page_with_words()
    given = turn_image(upright, 90)  # found only when turned back: by 270
    seen = _record_detections(monkeypatch, found_on=turn_image(given, 270))
    fake_ocr.read(given)
    turns = [k for k in (0, 90, 180, 270) for a in seen[:3] if np.array_equal(a, np.asarray(turn_image(given, k)))]
    assert turns == [0, 90, 270]  # no 180 probe once the 270 one found text


def test_probe_not_run_when_the_page_has_text(fake_ocr, monkeypatch):
    im, _ = page_with_words()
    seen = _record_detections(monkeypatch)
    fake_ocr.read(im)
    assert seen and not any(
        a.shape == np.asarray(im).shape and np.array_equal(a, np.asarray(turn_image(im, 180))) for a in seen
    )


def test_runs_level_by_the_long_side_whatever_the_point_order():
    level = np.array([[10, 10], [110, 12], [110, 40], [10, 38]], np.float64)
    upright = level[:, ::-1]  # the same box transposed: its long side runs down the page
    square = np.array([[0, 0], [30, 0], [30, 25], [0, 25]], np.float64)
    assert runs_level(level) is True and runs_level(level[[2, 3, 0, 1]]) is True
    assert runs_level(level[[1, 2, 3, 0]]) is True  # read along the short side: still a level box
    assert runs_level(upright) is False and runs_level(upright[[2, 3, 0, 1]]) is False
    assert runs_level(square) is None
    assert [runs_level(q) for q in along([level, upright, square], True)] == [True, None]
    assert [runs_level(q) for q in along([level, upright, square], False)] == [False, None]


def _four_way_groups(quads):
    """(level, down) of a four-way vote's recognizer call: level + level reversed + down + down reversed."""
    qs = [np.asarray(q, np.float64) for q in quads]
    for n in range(len(qs) // 2 + 1):
        m = (len(qs) - 2 * n) // 2
        if 2 * n + 2 * m != len(qs):
            continue
        rev = lambda a, b: all(np.allclose(x, y[[2, 3, 0, 1]]) for x, y in zip(a, b))  # noqa: E731
        if rev(qs[n : 2 * n], qs[:n]) and rev(qs[2 * n + m :], qs[2 * n : 2 * n + m]):
            return qs[:n], qs[2 * n : 2 * n + m]
    raise AssertionError("not a four-way call")


def test_four_way_vote_reads_each_line_along_its_length(fake_ocr, monkeypatch):
    # an upright page with little text: the pass turned by 90 finds its level words too, but they are
    # no evidence for a turn by 90 or 270 (read across, along their short side)
    import localocr.pipeline as pipeline

    real, calls = pipeline.recognize_steps, []

    def recognize_steps(grey, quads, *args, **kwargs):
        if kwargs.get("flip_check") is False:
            calls.append([np.asarray(q, np.float64) for q in quads])
        return (yield from real(grey, quads, *args, **kwargs))

    im, _ = page_with_words()
    w, h = im.size
    real_detect = pipeline.detect_steps

    def detect_steps(image, *args, **kwargs):
        if image.size == (h, w):  # the pass turned by 90 sees the level words, as a detector may
            boxes = yield from real_detect(im, *args, **kwargs)
            return [(turn_points(q, 90, w, h), score) for q, score in boxes]
        return (yield from real_detect(image, *args, **kwargs))

    monkeypatch.setattr(pipeline, "recognize_steps", recognize_steps)
    monkeypatch.setattr(pipeline, "detect_steps", detect_steps)
    page = fake_ocr.read(im)
    assert page.rotation == 0 and calls
    level, down = _four_way_groups(calls[0])
    assert level and all(runs_level(q) is not False for q in level)
    assert all(runs_level(q) is not True for q in down)
