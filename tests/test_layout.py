"""Layout: segments -> lines -> blocks in the order a person reads them."""

import math

import numpy as np
import pytest
from localocr.layout import build_blocks, page_angle
from localocr.result import Word


def seg(x0, y0, x1, y1, text):
    """A recognised segment: its quad and one word per token spread over its width."""
    quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    toks = text.split()
    step = (x1 - x0) / len(toks)
    words = [
        Word(
            t,
            np.array(
                [[x0 + i * step, y0], [x0 + (i + 1) * step, y0], [x0 + (i + 1) * step, y1], [x0 + i * step, y1]],
                np.float32,
            ),
            0.9,
        )
        for i, t in enumerate(toks)
    ]
    return quad, words, 0.9


def texts(blocks):
    return [[ln.text for ln in b.lines] for b in blocks]


def test_receipt_rows_join_item_and_price():
    segs = [
        seg(20, 10, 200, 30, "SHOP NAME"),
        seg(20, 40, 120, 60, "Coffee"),
        seg(300, 41, 350, 61, "3.50"),
        seg(20, 70, 140, 90, "Bagel x2"),
        seg(300, 69, 350, 89, "4.00"),
        seg(20, 100, 100, 120, "TOTAL"),
        seg(300, 100, 350, 120, "7.50"),
    ]
    blocks = build_blocks(segs[::-1])  # input order must not matter
    assert texts(blocks) == [["SHOP NAME", "Coffee 3.50", "Bagel x2 4.00", "TOTAL 7.50"]]
    total = blocks[0].lines[-1]
    assert [p.text for p in total.parts] == ["TOTAL", "7.50"]
    np.testing.assert_allclose(total.quad, [[20, 100], [350, 100], [350, 120], [20, 120]])


def two_columns(y_start=60, rows=6):
    segs = []
    for r in range(rows):
        y = y_start + 25 * r
        segs.append(seg(20, y, 280, y + 18, f"left line {r}"))
        segs.append(seg(320, y, 580, y + 18, f"right line {r}"))
    return segs


def test_two_column_letter_reads_left_column_first():
    blocks = build_blocks(two_columns())
    assert texts(blocks) == [[f"left line {r}" for r in range(6)], [f"right line {r}" for r in range(6)]]


def test_header_above_two_columns():
    segs = [seg(100, 10, 500, 30, "A TITLE ACROSS THE PAGE")] + two_columns(y_start=40)
    t = texts(build_blocks(segs))
    assert t[0] == ["A TITLE ACROSS THE PAGE"]
    assert t[1] == [f"left line {r}" for r in range(6)]
    assert t[2] == [f"right line {r}" for r in range(6)]


def test_paragraph_gap_starts_a_block():
    segs = [
        seg(20, 10, 300, 28, "first paragraph line one"),
        seg(20, 34, 250, 52, "and its end"),
        seg(20, 90, 300, 108, "second paragraph"),
    ]
    assert texts(build_blocks(segs)) == [["first paragraph line one", "and its end"], ["second paragraph"]]


def test_form_keys_and_values_stay_on_their_rows():
    segs = [
        seg(20, 10, 80, 28, "Name:"),
        seg(150, 10, 300, 28, "Jane Doe"),
        seg(20, 40, 80, 58, "Date:"),
        seg(150, 40, 260, 58, "2024-01-02"),
        seg(20, 70, 90, 88, "Phone:"),
        seg(150, 70, 280, 88, "555 1234"),
    ]
    assert texts(build_blocks(segs)) == [["Name: Jane Doe", "Date: 2024-01-02", "Phone: 555 1234"]]


def rotate(segs, deg, centre=(300, 200)):
    a = math.radians(deg)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c = np.array(centre)
    out = []
    for q, words, conf in segs:
        rq = ((q - c) @ r.T + c).astype(np.float32)
        rw = [Word(w.text, ((w.quad - c) @ r.T + c).astype(np.float32), w.confidence) for w in words]
        out.append((rq, rw, conf))
    return out


@pytest.mark.parametrize("deg", [8, -12, 90, 180])
def test_rotated_pages_keep_their_order(deg):
    segs = [
        seg(20, 10, 200, 30, "SHOP NAME"),
        seg(20, 40, 120, 60, "Coffee"),
        seg(300, 41, 350, 61, "3.50"),
        seg(20, 70, 100, 90, "TOTAL"),
        seg(300, 70, 350, 90, "3.50"),
    ]
    blocks = build_blocks(rotate(segs, deg))
    assert texts(blocks) == [["SHOP NAME", "Coffee 3.50", "TOTAL 3.50"]]
    assert page_angle([s[0] for s in rotate(segs, deg)]) == pytest.approx(
        math.radians(deg) if deg != 180 else math.pi, abs=1e-3
    )


def test_screenshot_like_scattered_labels():
    segs = [
        seg(10, 5, 60, 20, "File"),
        seg(70, 5, 120, 20, "Edit"),
        seg(130, 5, 180, 20, "View"),
        seg(10, 50, 400, 66, "Some body text in the window"),
        seg(420, 300, 480, 316, "OK"),
        seg(500, 300, 580, 316, "Cancel"),
    ]
    t = [ln for b in texts(build_blocks(segs)) for ln in b]
    assert t == ["File Edit View", "Some body text in the window", "OK Cancel"]


def test_empty_segments_dropped():
    assert build_blocks([]) == []
    q, _, _ = seg(0, 0, 10, 10, "a")
    assert build_blocks([(q, [], 0.1)]) == []
