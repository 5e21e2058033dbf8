"""Bounded detector memory (issue 17): a large detector input (the second, finer pass of a big or
blank page) is made and run in bands (`detection.tile_rows`), never whole, and the banded map is the
whole-input map."""

import numpy as np
import pytest
from localocr import detection
from localocr.contract.keys import DETECTOR_INPUT, DETECTOR_OUTPUT
from localocr.pipeline import run_sync
from PIL import Image, ImageDraw
from pipeline_fakes import fake_ocr, page_with_words  # noqa: F401  (fixture)


@pytest.mark.parametrize(
    "height,width", [(2944, 2080), (3072, 736), (9600, 64), (2048, 1088), (800, 640), (4096, 4096), (1504, 1472)]
)
def test_tile_rows_cover_the_input_in_equal_bounded_bands(height, width):
    bands = detection.tile_rows(height, width)
    if height * width <= detection.MAX_RUN_PIXELS:
        assert bands == [(0, height, 0, height)]
        return
    assert len(bands) > 1
    assert bands[0][2] == 0 and bands[-1][3] == height
    heights = {y1 - y0 for y0, y1, _, _ in bands}
    assert len(heights) == 1  # one shape: onnxruntime reuses its buffers
    band = heights.pop()
    assert band * width <= max(detection.BAND_PIXELS, detection.BAND_MIN_ROWS * width)
    for (y0, y1, k0, k1), nxt in zip(bands, bands[1:] + [None]):
        assert 0 <= y0 <= k0 < k1 <= y1 <= height
        assert y0 % 32 == 0 and k0 % 32 == 0 and (k1 % 32 == 0 or k1 == height)
        if nxt is not None:
            assert nxt[2] == k1  # kept ranges follow each other with no gap
        # every kept row has TILE_MARGIN rows of context on both sides, unless at the page's edge
        assert k0 == 0 or k0 - y0 >= detection.TILE_MARGIN
        assert k1 == height or y1 - k1 >= detection.TILE_MARGIN


@pytest.mark.parametrize("width,rows", [(3264, 1024), (6016, 704), (2080, 1024), (2144, 1024), (8192, 1024)])
def test_tile_cols_keep_every_run_within_the_bound_in_equal_columns(width, rows):
    cols = detection.tile_cols(width, rows)
    if rows * width <= detection.MAX_RUN_PIXELS:
        assert cols == [(0, width, 0, width)]
        return
    sizes = {x1 - x0 for x0, x1, _, _ in cols}
    assert len(sizes) == 1 and len(cols) > 1  # one shape
    size = sizes.pop()
    assert size * rows <= detection.MAX_RUN_PIXELS
    assert cols[0][2] == 0 and cols[-1][3] == width
    for (x0, x1, k0, k1), nxt in zip(cols, cols[1:] + [None]):
        assert 0 <= x0 <= k0 < k1 <= x1 <= width and x0 % 32 == 0 and k0 % 32 == 0
        if nxt is not None:
            assert nxt[2] == k1
        assert k0 == 0 or k0 - x0 >= detection.TILE_MARGIN
        assert k1 == width or x1 - k1 >= detection.TILE_MARGIN
    # as few columns as the bound allows: one fewer could not cover the width within it
    cap = detection.MAX_RUN_PIXELS // rows // 32 * 32
    assert (len(cols) - 1) * (cap - 2 * detection.TILE_MARGIN) + 2 * detection.TILE_MARGIN < width


def test_a_wide_input_runs_in_bands_and_columns_and_gives_the_whole_map(fake_ocr):
    im, _ = page_with_words(
        size=(3264, 1836), lines=[(40 + (y % 7) * 90, y, (3, 5, 2, 4)) for y in range(30, 1800, 95)]
    )
    resized = detection.resize_input(im, 1.0)
    bands = detection.tile_rows(resized.height, resized.width)
    assert len(bands) > 1 and len(detection.tile_cols(resized.width, bands[0][1] - bands[0][0])) == 2
    seen = []
    _recording(fake_ocr.detector.session, seen)
    tiled = run_sync(detection.detector_prob(fake_ocr.detector, resized, {}))
    assert len(seen) == 2 * len(bands) and len(set(seen)) == 1
    assert max(h * w for _, _, h, w in seen) <= detection.MAX_RUN_PIXELS
    x = detection.input_rows(resized, 0, resized.height, fake_ocr.detector.spec.mean, fake_ocr.detector.spec.std)
    whole = np.asarray(fake_ocr.detector.session.run({DETECTOR_INPUT: x})[DETECTOR_OUTPUT]).reshape(tiled.shape)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    # a tile made alone is that part of the whole input
    part = detection.input_rows(resized, 64, 1088, fake_ocr.detector.spec.mean, fake_ocr.detector.spec.std, 1440, 3264)
    np.testing.assert_array_equal(part, x[:, :, 64:1088, 1440:3264])


def _recording(session, seen):
    run = session.run

    def recorded(feeds):
        seen.append(feeds[DETECTOR_INPUT].shape)
        return run(feeds)

    session.run = recorded


def test_an_empty_a4_page_runs_the_detector_only_on_bounded_inputs(fake_ocr):
    # a page with no text (paper with a shadow across it: not blank, which is never detected) finds
    # nothing at the first pass and retries at the finest scale allowed: ~6 MP
    seen = []
    _recording(fake_ocr.detector.session, seen)
    shadow = np.linspace(215, 255, 3508).astype(np.uint8)[:, None, None].repeat(2480, 1).repeat(3, 2)
    page = fake_ocr.read(Image.fromarray(shadow))
    assert page.lines == []
    assert len(seen) > 2  # the fine pass ran, in bands
    assert max(h * w for _, _, h, w in seen) <= detection.MAX_RUN_PIXELS  # wide bands run in columns


def test_banded_map_equals_the_whole_map_on_the_fake_detector(fake_ocr):
    im, _ = page_with_words(size=(2100, 2900), lines=[(40, y, (3, 5, 2)) for y in range(30, 2850, 95)])
    resized = detection.resize_input(im, 1.0)
    assert len(detection.tile_rows(resized.height, resized.width)) > 1
    banded = run_sync(detection.detector_prob(fake_ocr.detector, resized, {}))
    x = detection.input_rows(resized, 0, resized.height, fake_ocr.detector.spec.mean, fake_ocr.detector.spec.std)
    whole = np.asarray(fake_ocr.detector.session.run({DETECTOR_INPUT: x})[DETECTOR_OUTPUT]).reshape(banded.shape)
    np.testing.assert_allclose(banded, whole, atol=1e-6)
    x2, scale = detection.prepare_input(im, 1.0, fake_ocr.detector.spec.mean, fake_ocr.detector.spec.std)
    np.testing.assert_array_equal(x2, x)  # prepare_input = resize_input + input_rows
    assert scale == resized.scale


# in bands; in bands and columns, the lines across the columns' cut (near x = 1632)
@pytest.mark.parametrize("size,x0", [((1216, 2400), 40), ((3264, 1408), 1100)])
def test_banded_map_matches_the_whole_map_on_the_shipped_detector(size, x0):
    from localocr import OCR

    try:
        ocr = OCR()
    except Exception as e:  # no onnxruntime or no models: the fake-model test above still runs
        pytest.skip(f"shipped models not loadable: {e}")
    page = Image.new("L", size, 255)
    d = ImageDraw.Draw(page)
    for i, y in enumerate(range(40, size[1] - 40, 46)):
        d.text(
            (x0 + (i % 5) * 30, y),
            f"Line {i:03d}: TOTAL 12.50 RM  invoice no. {i * 7919 % 100000:05d}",
            fill=0,
            font_size=26,
        )
    resized = detection.resize_input(page, 1.0)
    bands = detection.tile_rows(resized.height, resized.width)
    assert len(bands) > 1
    cols = detection.tile_cols(resized.width, bands[0][1] - bands[0][0])
    assert len(cols) == (2 if size[0] > 3000 else 1)
    banded = run_sync(detection.detector_prob(ocr.detector, resized, {}))
    spec = ocr.detector.spec
    x = detection.input_rows(resized, 0, resized.height, spec.mean, spec.std)
    out = run_sync(_one(ocr.detector.session, x))
    whole = np.asarray(out).reshape(banded.shape)
    assert float(np.abs(banded - whole).max()) < 0.2  # near the cuts only (TILE_MARGIN's comment)
    kw = dict(threshold=spec.threshold, box_threshold=spec.box_threshold, unclip_ratio=spec.unclip_ratio)
    a = detection.boxes_from_prob(whole, **kw)
    b = detection.boxes_from_prob(banded, **kw)
    assert len(a) == len(b) > 25
    np.testing.assert_allclose(np.array([q for q, _ in a]), np.array([q for q, _ in b]), atol=2.0)


def _one(session, x):
    out = yield session, {DETECTOR_INPUT: x}
    return out[DETECTOR_OUTPUT]
