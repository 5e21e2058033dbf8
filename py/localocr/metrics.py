"""Evaluation metrics: polygon IoU, one-to-one matching, detection P/R/hmean,
end-to-end word F1, bag-of-words F1 and character error rate.

Small plain functions on numpy arrays; `evaluate.py` strings them together
over a data set. Conventions (ICDAR 2015 style):

- a prediction and a ground-truth region match when their polygon IoU is at
  least 0.5; matching is one-to-one, greedy by descending IoU;
- a ground-truth region with `ignore` counts neither way: it is never a miss,
  and a prediction that covers it (intersection / prediction area > 0.5) and
  matches no other region is dropped instead of counted as a false positive.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

IOU_THRESHOLD = 0.5  # the ICDAR convention for a detection match
IGNORE_COVER = 0.5  # ICDAR 2015: a detection mostly inside a "don't care" region is dropped


# ----------------------------------------------------------------------------
# polygons


def polygon_area(poly) -> float:
    """Unsigned area of a simple polygon (N, 2), shoelace formula."""
    p = np.asarray(poly, np.float64).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _signed_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


def convex_hull(points) -> np.ndarray:
    """Convex hull (Andrew's monotone chain), counter-clockwise in y-up terms."""
    p = np.unique(np.asarray(points, np.float64).reshape(-1, 2), axis=0)
    if len(p) < 3:
        return p

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    upper: list = []
    for q in p:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], q) <= 0:
            lower.pop()
        lower.append(q)
    for q in p[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], q) <= 0:
            upper.pop()
        upper.append(q)
    return np.array(lower[:-1] + upper[:-1])


def _as_convex(poly) -> np.ndarray:
    """The polygon as a convex one with positive signed area (hull of a non-convex quad)."""
    p = convex_hull(poly)
    if len(p) >= 3 and _signed_area(p) < 0:
        p = p[::-1]
    return p


def convex_intersection(a, b) -> np.ndarray:
    """Intersection polygon of two convex polygons (Sutherland-Hodgman clipping).

    Both must have positive signed area (see `_as_convex`). Returns (M, 2),
    possibly empty.
    """
    out = np.asarray(a, np.float64)
    clip = np.asarray(b, np.float64)
    for i in range(len(clip)):
        if len(out) == 0:
            break
        p0, p1 = clip[i], clip[(i + 1) % len(clip)]
        e = p1 - p0
        # side > 0: inside (left of the edge for a positive-area clip polygon)
        side = e[0] * (out[:, 1] - p0[1]) - e[1] * (out[:, 0] - p0[0])
        nxt = np.roll(out, -1, axis=0)
        snxt = np.roll(side, -1)
        pts = []
        for j in range(len(out)):
            if side[j] >= 0:
                pts.append(out[j])
            if (side[j] >= 0) != (snxt[j] >= 0):
                t = side[j] / (side[j] - snxt[j])
                pts.append(out[j] + t * (nxt[j] - out[j]))
        out = np.array(pts).reshape(-1, 2)
    return out


def polygon_iou(a, b) -> float:
    """Intersection over union of two polygons (quads), taken as convex (their hulls)."""
    pa, pb = _as_convex(a), _as_convex(b)
    area_a, area_b = polygon_area(pa), polygon_area(pb)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = polygon_area(convex_intersection(pa, pb))
    return inter / (area_a + area_b - inter)


def _bbox(q: np.ndarray) -> np.ndarray:
    return np.array([q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()])


def iou_matrix(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    """(IoU, intersection / prediction area) matrices, shape (len(pred), len(gt)).

    Bounding boxes prune the pairs that cannot overlap, so a page of a few
    hundred regions costs only the overlapping pairs.
    """
    P = [_as_convex(p) for p in pred]
    G = [_as_convex(g) for g in gt]
    iou = np.zeros((len(P), len(G)))
    cover = np.zeros((len(P), len(G)))
    if not P or not G:
        return iou, cover
    bp = np.array([_bbox(p) if len(p) else np.zeros(4) for p in P])
    bg = np.array([_bbox(g) if len(g) else np.zeros(4) for g in G])
    ap = np.array([polygon_area(p) for p in P])
    ag = np.array([polygon_area(g) for g in G])
    overlap = (
        (bp[:, None, 0] < bg[None, :, 2])
        & (bg[None, :, 0] < bp[:, None, 2])
        & (bp[:, None, 1] < bg[None, :, 3])
        & (bg[None, :, 1] < bp[:, None, 3])
    )
    for i, j in zip(*np.nonzero(overlap)):
        if ap[i] <= 0 or ag[j] <= 0:
            continue
        inter = polygon_area(convex_intersection(P[i], G[j]))
        iou[i, j] = inter / (ap[i] + ag[j] - inter)
        cover[i, j] = inter / ap[i]
    return iou, cover


# ----------------------------------------------------------------------------
# matching


def match(
    pred_quads,
    gt_quads,
    gt_ignore=None,
    pred_text=None,
    gt_text=None,
    iou_threshold: float = IOU_THRESHOLD,
    casefold: bool = False,
):
    """One-to-one matching of predictions to ground truth.

    With `pred_text`/`gt_text`, a pair also needs equal texts (end-to-end);
    `casefold` compares them case-insensitively. Returns a dict:
    `pairs` [(i, j)], `tp`, `n_pred` (predictions that count: all but those
    dropped on ignore regions), `n_gt` (non-ignore ground truth).
    """
    n_p, n_g = len(pred_quads), len(gt_quads)
    ignore = np.zeros(n_g, bool) if gt_ignore is None else np.asarray(gt_ignore, bool)
    iou, cover = iou_matrix(pred_quads, gt_quads)
    ok = (iou >= iou_threshold) & ~ignore[None, :]
    if pred_text is not None:
        norm = (lambda s: s.casefold()) if casefold else (lambda s: s)
        for i, j in zip(*np.nonzero(ok)):
            ok[i, j] = gt_text[j] is not None and norm(pred_text[i]) == norm(gt_text[j])
    pairs = []
    used_p, used_g = np.zeros(n_p, bool), np.zeros(n_g, bool)
    cand = sorted(zip(*np.nonzero(ok)), key=lambda ij: (-iou[ij], ij[0], ij[1]))
    for i, j in cand:
        if not used_p[i] and not used_g[j]:
            used_p[i] = used_g[j] = True
            pairs.append((int(i), int(j)))
    dropped = np.zeros(n_p, bool)
    if ignore.any() and n_p:
        on_ignore = ((iou[:, ignore] >= iou_threshold) | (cover[:, ignore] > IGNORE_COVER)).any(axis=1)
        dropped = on_ignore & ~used_p
    return {"pairs": pairs, "tp": len(pairs), "n_pred": int(n_p - dropped.sum()), "n_gt": int((~ignore).sum())}


def prf(tp: int, n_pred: int, n_gt: int) -> dict:
    """Precision, recall and their harmonic mean (hmean / F1); 0 where undefined."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gt if n_gt else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "hmean": f}


def bag_of_words(pred_words, gt_words, casefold: bool = False) -> tuple[int, int, int]:
    """(tp, n_pred, n_gt) of two multisets of whitespace tokens (case-sensitive by default)."""
    norm = (lambda s: s.casefold()) if casefold else (lambda s: s)
    pc = Counter(norm(w) for t in pred_words for w in t.split())
    gc = Counter(norm(w) for t in gt_words for w in t.split())
    return sum((pc & gc).values()), sum(pc.values()), sum(gc.values())


# ----------------------------------------------------------------------------
# characters


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    prev = np.arange(len(b) + 1)
    idx = np.arange(len(b) + 1)
    bb = np.array([ord(c) for c in b])
    for i, ca in enumerate(a, 1):
        # substitution/match from the diagonal, deletion from above; cur[0] = i
        best = np.r_[i, np.minimum(prev[:-1] + (bb != ord(ca)), prev[1:] + 1)]
        # insertions chain left to right: cur[j] = min over k <= j of best[k] + (j - k)
        prev = idx + np.minimum.accumulate(best - idx)
    return int(prev[-1])


def cer(pred: str, gt: str) -> float:
    """Character error rate of one string: edit distance / len(gt) (len(pred) when gt is empty)."""
    d = levenshtein(pred, gt)
    return d / len(gt) if gt else float(len(pred) > 0)


def points_in_polygon(points, poly) -> np.ndarray:
    """Bool per point (N, 2): inside the polygon (even-odd rule)."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    p = np.asarray(poly, np.float64).reshape(-1, 2)
    inside = np.zeros(len(pts), bool)
    for i in range(len(p)):
        x0, y0 = p[i]
        x1, y1 = p[(i + 1) % len(p)]
        if y0 == y1:
            continue  # a horizontal edge never crosses the ray
        crosses = (y0 > y) != (y1 > y)
        xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < xc)
    return inside


def point_in_polygon(pt, poly) -> bool:
    """True when the point is inside the polygon (even-odd rule)."""
    return bool(points_in_polygon([pt], poly)[0])
