"""Detector post-processing: known probability maps -> known quads."""

import math
import time

import numpy as np
import pytest
from localocr.detection import boxes_from_prob, connected_components, min_area_rects, rect_to_quad, unclip_size
from localocr.metrics import convex_hull, polygon_iou
from PIL import Image, ImageDraw


def rotated_rect(cx, cy, w, h, deg):
    a = math.radians(deg)
    d = np.array([math.cos(a), math.sin(a)])
    n = np.array([-d[1], d[0]])
    c = np.array([cx, cy])
    return np.array(
        [c - d * w / 2 - n * h / 2, c + d * w / 2 - n * h / 2, c + d * w / 2 + n * h / 2, c - d * w / 2 + n * h / 2]
    )


def draw(shape, polys, value=1.0):
    im = Image.new("F", (shape[1], shape[0]), 0.0)
    d = ImageDraw.Draw(im)
    for p in polys:
        d.polygon([tuple(map(float, x)) for x in p], fill=value)
    return np.asarray(im, np.float32)


def test_axis_aligned_rectangle_exact():
    p = np.zeros((20, 40), np.float32)
    p[5:9, 10:30] = 0.9
    ((q, s),) = boxes_from_prob(p, unclip_ratio=0)
    np.testing.assert_allclose(q, [[10, 5], [30, 5], [30, 9], [10, 9]], atol=1e-4)
    assert s == pytest.approx(0.9)


def test_unclip_expands_by_db_offset():
    p = np.zeros((20, 40), np.float32)
    p[5:9, 10:30] = 1.0
    # 20 x 4: D = 80 * 1.5 / 48 = 2.5 on every side
    ((q, _),) = boxes_from_prob(p, unclip_ratio=1.5)
    np.testing.assert_allclose(q, [[7.5, 2.5], [32.5, 2.5], [32.5, 11.5], [7.5, 11.5]], atol=1e-4)
    np.testing.assert_allclose(unclip_size(np.array([[20.0, 4.0]]), 1.5), [[25.0, 9.0]])


def test_scale_maps_to_image_pixels():
    p = np.zeros((1, 1, 20, 40), np.float32)
    p[0, 0, 5:9, 10:30] = 1.0
    ((q, _),) = boxes_from_prob(p, unclip_ratio=0, scale=(2.0, 3.0))
    np.testing.assert_allclose(q, [[20, 15], [60, 15], [60, 27], [20, 27]], atol=1e-4)


def test_box_threshold_and_order():
    p = np.zeros((40, 40), np.float32)
    p[20:24, 5:30] = 0.9  # lower line
    p[5:9, 5:30] = 0.8  # upper line
    p[30:34, 5:30] = 0.4  # above the pixel threshold, below box_threshold
    out = boxes_from_prob(p, threshold=0.3, box_threshold=0.5, unclip_ratio=0)
    assert [round(s, 2) for _, s in out] == [0.8, 0.9]
    assert out[0][0][0, 1] == pytest.approx(5)


def test_diagonal_neighbours_join_one_component():
    m = np.zeros((10, 10), bool)
    m[2, 2] = m[3, 3] = m[4, 4] = True
    m[8, 1] = True
    *_, labels, n = connected_components(m)
    assert n == 2


def flood_count(m):
    seen = np.zeros_like(m)
    n = 0
    for y, x in zip(*np.nonzero(m)):
        if seen[y, x]:
            continue
        n += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = cy + dy, cx + dx
                    if 0 <= yy < m.shape[0] and 0 <= xx < m.shape[1] and m[yy, xx] and not seen[yy, xx]:
                        seen[yy, xx] = True
                        stack.append((yy, xx))
    return n


@pytest.mark.parametrize("seed", range(5))
def test_components_match_flood_fill(seed):
    m = np.random.default_rng(seed).random((40, 50)) < 0.35
    row, start, end, labels, n = connected_components(m)
    assert n == flood_count(m)
    # every pixel in exactly one run
    rebuilt = np.zeros_like(m)
    for r, s, e in zip(row, start, end):
        rebuilt[r, s:e] = True
    assert np.array_equal(rebuilt, m)


def exact_min_area(points):
    """Rotating calipers reference: one side of the optimum lies on a hull edge."""
    h = convex_hull(points)
    best = np.inf
    for i in range(len(h)):
        e = h[(i + 1) % len(h)] - h[i]
        e = e / np.linalg.norm(e)
        u = h @ e
        v = h @ np.array([-e[1], e[0]])
        best = min(best, (u.max() - u.min()) * (v.max() - v.min()))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_min_area_rect_matches_rotating_calipers(seed):
    rng = np.random.default_rng(seed)
    pts = [
        rng.normal(size=(30, 2)) * [40, 6] @ np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
        for t in rng.uniform(0, math.pi, 3)
    ]
    x = np.concatenate([p[:, 0] for p in pts])
    y = np.concatenate([p[:, 1] for p in pts])
    g = np.repeat(np.arange(3), 30)
    _, _, size = min_area_rects(x, y, g)
    for k in range(3):
        assert size[k, 0] * size[k, 1] == pytest.approx(exact_min_area(pts[k]), rel=2e-3)


@pytest.mark.parametrize("deg", [0, 12, 30, 45, 60, 80, -25, -70])
def test_rotated_text_gives_rotated_quad(deg):
    rect = rotated_rect(100, 100, 140, 20, deg)
    p = draw((200, 200), [rect])
    ((q, s),) = boxes_from_prob(p, unclip_ratio=0)
    # rasterised edges (a staircase of pixel squares) add up to ~1 px per side
    assert polygon_iou(q, rect) > 0.85
    # first corner is the reading top-left: the text direction points right
    d = q[1] - q[0]
    assert d[0] > 0
    assert math.degrees(math.atan2(d[1], d[0])) == pytest.approx(deg, abs=2)
    # clockwise on screen (y down): positive shoelace area
    x, y = q[:, 0], q[:, 1]
    assert np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0


def test_vertical_text_reads_downwards_and_round_blobs_read_horizontally():
    p = np.zeros((100, 100), np.float32)
    p[10:90, 40:50] = 1.0  # tall, clearly elongated: vertical text
    ((q, _),) = boxes_from_prob(p, unclip_ratio=0)
    np.testing.assert_allclose(q, [[50, 10], [50, 90], [40, 90], [40, 10]], atol=1e-3)
    p = np.zeros((100, 100), np.float32)
    p[10:22, 40:50] = 1.0  # a single tall character: still horizontal
    ((q, _),) = boxes_from_prob(p, unclip_ratio=0)
    np.testing.assert_allclose(q, [[40, 10], [50, 10], [50, 22], [40, 22]], atol=1e-3)


def test_rect_to_quad_order():
    q = rect_to_quad((10, 5), math.pi, (20, 4))  # the same rectangle given upside down
    np.testing.assert_allclose(q, [[0, 3], [20, 3], [20, 7], [0, 7]], atol=1e-5)


def test_small_boxes_filtered_and_tiny_maps():
    p = np.zeros((30, 30), np.float32)
    p[3, 3:20] = 1.0  # one pixel high
    assert boxes_from_prob(p, min_size=2, unclip_ratio=0) == []
    assert len(boxes_from_prob(p, min_size=1, unclip_ratio=3)) == 1
    assert boxes_from_prob(np.zeros((0, 0), np.float32)) == []
    assert boxes_from_prob(np.ones((1, 1), np.float32), min_size=1, unclip_ratio=4) != []
    assert boxes_from_prob(np.zeros((16, 16), np.float32)) == []


def test_max_candidates_keeps_largest():
    p = np.zeros((40, 60), np.float32)
    p[2:6, 2:50] = 1.0
    p[10:14, 2:10] = 1.0
    p[20:24, 2:30] = 1.0
    out = boxes_from_prob(p, max_candidates=2, unclip_ratio=0)
    widths = sorted(round(float(q[1, 0] - q[0, 0])) for q, _ in out)
    assert widths == [28, 48]


def test_fast_on_a_dense_1024_map():
    rng = np.random.default_rng(0)
    lines = []
    for r in range(100):
        x = 5
        while x < 1000:
            length = int(rng.integers(20, 300))
            lines.append(
                [
                    (x, 10 * r + 2),
                    (min(x + length, 1020), 10 * r + 2),
                    (min(x + length, 1020), 10 * r + 6),
                    (x, 10 * r + 6),
                ]
            )
            x += length + int(rng.integers(10, 60))
    p = draw((1024, 1024), lines, 0.9) + rng.uniform(0, 0.2, (1024, 1024)).astype(np.float32)
    boxes_from_prob(p)
    t = time.perf_counter()
    out = boxes_from_prob(p)
    dt = time.perf_counter() - t
    assert len(out) == len(lines)
    # ~15-25 ms measured on this 2-core machine; a per-component full-size
    # array would cost seconds here, so the generous bound still catches it
    assert dt < 0.2
