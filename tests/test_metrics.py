"""Metrics on hand-computed cases."""

import math

import numpy as np
import pytest
from localocr import metrics as M

SQ = [[0, 0], [2, 0], [2, 2], [0, 2]]


def test_area_and_iou_of_shifted_squares():
    assert M.polygon_area(SQ) == pytest.approx(4)
    shifted = [[1, 0], [3, 0], [3, 2], [1, 2]]
    assert M.polygon_iou(SQ, shifted) == pytest.approx(2 / 6)
    assert M.polygon_iou(SQ, SQ) == pytest.approx(1)
    assert M.polygon_iou(SQ, [[5, 5], [6, 5], [6, 6], [5, 6]]) == 0


def test_iou_of_square_and_its_45_degree_rotation():
    # square of side 2 about the origin vs the same rotated 45 degrees: the
    # intersection is a regular octagon of apothem 1, area 8 tan(22.5) = 3.3137
    sq = np.array(SQ, float) - 1
    r = math.sqrt(2)
    diamond = [[0, -r], [r, 0], [0, r], [-r, 0]]
    octagon = 8 * math.tan(math.radians(22.5))
    assert M.polygon_iou(sq, diamond) == pytest.approx(octagon / (8 - octagon))
    assert M.polygon_iou(sq, diamond) == pytest.approx(math.sqrt(2) / 2)


def test_iou_ignores_corner_order():
    assert M.polygon_iou(SQ[::-1], [[1, 0], [3, 0], [3, 2], [1, 2]]) == pytest.approx(1 / 3)


def test_matching_one_to_one_and_ignore():
    gt = [SQ, [[10, 0], [12, 0], [12, 2], [10, 2]], [[20, 0], [22, 0], [22, 2], [20, 2]]]
    pred = [
        SQ,  # exact: match
        [[0, 0], [2.1, 0], [2.1, 2], [0, 2]],  # a duplicate of gt 0: false positive
        [[20, 0], [21.8, 0], [21.8, 2], [20, 2]],  # on the ignore region: dropped
        [[30, 0], [32, 0], [32, 2], [30, 2]],
    ]  # nothing there: false positive
    r = M.match(pred, gt, gt_ignore=[False, False, True])
    assert r["pairs"] == [(0, 0)]
    assert (r["tp"], r["n_pred"], r["n_gt"]) == (1, 3, 2)
    s = M.prf(r["tp"], r["n_pred"], r["n_gt"])
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == pytest.approx(1 / 2)
    assert s["hmean"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_iou_threshold_boundary():
    half = [[1, 0], [3, 0], [3, 2], [1, 2]]  # IoU 1/3: no match
    assert M.match([half], [SQ])["tp"] == 0
    most = [[0.4, 0], [2.4, 0], [2.4, 2], [0.4, 2]]  # IoU 1.6/2.4 = 0.667: match
    assert M.match([most], [SQ])["tp"] == 1


def test_end_to_end_needs_equal_text():
    gt = [SQ, [[10, 0], [12, 0], [12, 2], [10, 2]]]
    pred = [SQ, [[10, 0], [12, 0], [12, 2], [10, 2]]]
    r = M.match(pred, gt, pred_text=["TOTAL", "12.50"], gt_text=["Total", "12.50"])
    assert r["tp"] == 1 and r["pairs"] == [(1, 1)]
    r = M.match(pred, gt, pred_text=["TOTAL", "12.50"], gt_text=["Total", "12.50"], casefold=True)
    assert r["tp"] == 2


def test_greedy_prefers_higher_iou():
    gt = [SQ, [[1.5, 0], [3.5, 0], [3.5, 2], [1.5, 2]]]
    pred = [[[1.4, 0], [3.4, 0], [3.4, 2], [1.4, 2]]]  # overlaps both; best with gt 1
    assert M.match(pred, gt)["pairs"] == [(0, 1)]


def test_bag_of_words():
    assert M.bag_of_words(["a a b"], ["a b", "b c"]) == (2, 3, 4)
    assert M.bag_of_words(["Total"], ["TOTAL"]) == (0, 1, 1)
    assert M.bag_of_words(["Total"], ["TOTAL"], casefold=True) == (1, 1, 1)


@pytest.mark.parametrize(
    "a,b,d",
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("flaw", "lawn", 2),
        ("same", "same", 0),
        ("ab", "ba", 2),
        ("intention", "execution", 5),
    ],
)
def test_levenshtein(a, b, d):
    assert M.levenshtein(a, b) == d
    assert M.levenshtein(b, a) == d


def test_cer():
    assert M.cer("TOTAI", "TOTAL") == pytest.approx(0.2)
    assert M.cer("", "") == 0
    assert M.cer("x", "") == 1


def test_point_in_polygon():
    assert M.point_in_polygon((1, 1), SQ)
    assert not M.point_in_polygon((3, 1), SQ)
    assert M.point_in_polygon((0, 0.5), [[0, -1], [1, 0], [0, 1], [-1, 0]])


def test_points_in_polygon_vectorised():
    pts = [(1, 1), (3, 1), (0.5, 1.9), (-0.1, 1)]
    assert M.points_in_polygon(pts, SQ).tolist() == [True, False, True, False]
