"""export.detector.multiscale's merge: a coarse pass's big boxes replace the first pass's fragments."""

import numpy as np

from export.detector.multiscale import merge, short_side


def box(x0, y0, x1, y1):
    return (np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32), 0.9)


def test_big_coarse_box_replaces_fragments_inside_it():
    first = [box(10, 10, 40, 70), box(45, 10, 90, 70), box(200, 10, 260, 30)]
    coarse = [box(8, 8, 92, 72), box(200, 10, 260, 30)]
    out = merge(first, coarse, big=40)
    quads = [q for q, _ in out]
    assert len(out) == 2  # the two fragments went; the small coarse box is not added twice
    assert any(short_side(q) == 64 and q[0, 0] == 8 for q in quads)
    assert any(q[0, 0] == 200 for q in quads)


def test_same_box_in_both_passes_is_kept_once():
    first = [box(10, 10, 200, 70)]
    out = merge(first, [box(11, 11, 199, 69)], big=40)
    assert len(out) == 1 and out[0][0][0, 0] == 10


def test_nothing_big_leaves_the_first_pass():
    first = [box(10, 10, 40, 30)]
    assert merge(first, [box(100, 100, 140, 120)], big=40) == first
