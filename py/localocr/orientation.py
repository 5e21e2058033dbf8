"""Page orientation: quarter turns of the image and of the quads on it.

A rotation here is the quarter turn, in degrees clockwise (0, 90, 180, 270),
that turns the given image so its text reads upright: a page photographed with
its text running bottom to top needs 90. Turns are exact (Pillow's transpose:
no resampling), so turning a rotated page back gives the upright pixels, and
reading it gives what the upright page gives.

Coordinates are pixel-corner units (a pixel covers [x, x+1) x [y, y+1)), so a
point maps onto the turned image exactly.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

ROTATIONS = (0, 90, 180, 270)
# Pillow's transposes turn counter-clockwise: a clockwise turn of d is ROTATE_(360 - d).
_TRANSPOSE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


# Lines read below this confidence count for no way in `evidence` (pipeline.MIN_CONFIDENCE, the floor
# under which a page keeps no line).
EVIDENCE_FLOOR = 0.5


def _check(degrees: int) -> int:
    d = int(degrees) % 360
    if d not in ROTATIONS:
        raise ValueError(f"a rotation is a quarter turn (0, 90, 180 or 270 degrees), not {degrees}")
    return d


def turn_image(image: Image.Image, degrees: int) -> Image.Image:
    """The image turned clockwise by `degrees` (a quarter turn), exactly."""
    d = _check(degrees)
    return image if d == 0 else image.transpose(_TRANSPOSE[d])


def turned_size(width: int, height: int, degrees: int) -> tuple[int, int]:
    """(width, height) of a width x height image turned by `degrees`."""
    return (height, width) if _check(degrees) in (90, 270) else (width, height)


def turn_points(points, degrees: int, width: int, height: int) -> np.ndarray:
    """Points (..., 2) on a width x height image -> the same points on it turned clockwise by `degrees`."""
    d = _check(degrees)
    p = np.asarray(points)
    x, y = p[..., 0], p[..., 1]
    if d == 0:
        return p.copy()
    if d == 90:
        out = (height - y, x)
    elif d == 180:
        out = (width - x, height - y)
    else:
        out = (y, width - x)
    return np.stack(out, axis=-1).astype(p.dtype if p.dtype.kind == "f" else np.float64)


def unturn_points(points, degrees: int, width: int, height: int) -> np.ndarray:
    """Points on the turned image (of a width x height image turned by `degrees`) -> the same points
    on the width x height image: the inverse of `turn_points`."""
    d = _check(degrees)
    tw, th = turned_size(width, height, d)
    return turn_points(points, (360 - d) % 360, tw, th)


# ---------------------------------------------------------------- the decision
#
# Upright pages are the common case and cost nothing more: their detector boxes
# are looked at (a few numpy operations), and the recognizer's flip check,
# which runs anyway, says whether they are upside down.
#
# 1. Sideways (90 / 270): the detector's line boxes, clearly elongated ones only
#    (`ELONGATED`), run mostly vertically: their length along the vertical is
#    more than SIDEWAYS_SHARE of all their length, and at least SIDEWAYS_MIN
#    of them are vertical.
#    A page with little text found (`text_amount` below LITTLE_TEXT: a scene photo with a
#    few words) is decided another way: the detector, trained on upright text, may
#    not see its text sideways at all, and the flip check has little to go on. The
#    page turned by 90 is detected too; the FOUR_WAY_LINES longest lines of each
#    pass are read both ways, four orientations in all, by the accurate tier when
#    there is one (its confidences tell upside-down words apart best), and the
#    orientation whose readings show the most `evidence` (characters x confidence)
#    wins (each line counting only for the ways along its length, `along`),
#    upright unless another shows FOUR_WAY_RATIO times its evidence and at
#    least FOUR_WAY_MIN (`four_way`). IC15 validation, 16 pages x 4 turns: the
#    accurate tier's plain arg-max picked the right turn 60 times of 64 (the 4
#    misses: no text detected either way), the fast tier's 52; but on all 64
#    upright pages it turned 7 (5 with next to no text found either way, evidence
#    0.6-2.6, one 5.9 against 5.5): hence the minimum and the ratio, which cost one
#    upside-down page of the 16 (6.0 against 5.5).
# 2. Which way: the VOTE_LINES longest vertical lines are read both ways, top to
#    bottom and bottom to top, in one recognizer batch; the way with the higher
#    sum of confidences wins (`sideways_rotation`). The page is turned exactly,
#    detected again and read.
# 3. Upside down (180, or a sideways vote that was wrong): after the page is
#    read, most of its text (by characters) was read flipped by the
#    recognizer's flip check (`upside_down`): the page is turned by 180 more,
#    detected again and read. At most once. The flip check tries only lines read
#    with little confidence, and an upside-down line can read confidently as
#    garbage (a receipt's "SXUPUI" at 0.9): so the FLIP_VOTE_LINES longest lines
#    it kept upright are also read upside down, and when their flipped
#    confidences sum to more than the upright ones plus FLIP_VOTE_MARGIN a line,
#    the page is upside down too (`flip_vote`).
# 4. Tilted (after the quarter turn): the detector, trained on near-level text,
#    finds little of a page tilted by 30 degrees and less than all of one at 15.
#    When the median direction of the lines found (`layout.page_angle`; with
#    little text found, the direction of the probability map, `map_skew`) is
#    DESKEW_MIN degrees or more off level, the page is straightened by it
#    (`rotate_image`: bilinear, on a canvas that holds it) and detected again;
#    when the lines found then are still DESKEW_MIN off, once more by the sum.
#    A page with little text found is read straightened only when the detector
#    finds DESKEW_GAIN times the text on it: a street scene's words lean each their own way, and the
#    page as it is reads them better (IC15 validation: e2e F1 0.58 -> 0.52 on
#    8 upright pages when every page with a leaning median line was straightened).
#    Quads map back through the same rotation (`page.deskew` says by how much).
# The page is laid out in the turned (upright) frame, then every quad is mapped
# back onto the given image (`unturn_blocks`).

# As detection._ELONGATED: a box this many times longer than thick has its long side along the text.
ELONGATED = 2.0
SIDEWAYS_SHARE = 0.5
SIDEWAYS_MIN = 2
VOTE_LINES = 8
LITTLE_TEXT = 30.0
FOUR_WAY_LINES = 4
FOUR_WAY_RATIO = 1.15
FOUR_WAY_MIN = 3.0
# ... and only when its probability map does not lean this far (a page tilted by 30 degrees has
# little text found too; turned by 90 it leans by 60, and read four ways it was turned: 8 of 32
# FUNSD pages at +30)
FOUR_WAY_TILT = 15.0
# ... and where neither the page nor it turned by 90 has any box, the probe is run on the page turned
# by each of these in turn until one has: a detector trained on upright text often finds a scene's
# words only upright (IC15 training pages turned by 90: 30 of 201 had no box either way, 1 of them read
# the right way up; turned by 180: 34, 10).
PROBE_AGAIN = (270, 180)
# Flipped characters over all characters read (lines with text) for a page to be upside down.
UPSIDE_DOWN_SHARE = 0.5
DESKEW_MIN = 6.0
DESKEW_MAX = 45.0
DESKEW_GAIN = 1.25
# A probability map's structure tensor this coherent (1: all gradients one way) has a direction:
# FUNSD and SROIE pages tilted by 30 degrees give 0.22-0.60 (and the right sign, 19-26 degrees);
# IC15's upright scenes 0.13-0.89, those below 0.2 without a direction.
MAP_COHERENCE = 0.2
FLIP_VOTE_LINES = 4
FLIP_VOTE_MARGIN = 0.05


def sideways_lines(
    quads,
    elongated: float = ELONGATED,
    share: float = SIDEWAYS_SHARE,
    least: int = SIDEWAYS_MIN,
    most: int = VOTE_LINES,
) -> list[int]:
    """Indices of the `most` longest vertical lines when the page looks sideways (step 1), else []."""
    if len(quads) == 0:
        return []
    q = np.asarray(quads, np.float64).reshape(-1, 4, 2)
    d = q[:, 1] - q[:, 0]
    length = np.hypot(d[:, 0], d[:, 1])
    thick = np.hypot(*(q[:, 3] - q[:, 0]).T)
    long_ = length >= elongated * thick
    vertical = long_ & (np.abs(d[:, 1]) > np.abs(d[:, 0]))
    if vertical.sum() < least or length[vertical].sum() <= share * length[long_].sum():
        return []
    idx = np.flatnonzero(vertical)
    order = np.argsort(-length[idx], kind="stable")
    return [int(i) for i in idx[order][:most]]


def text_amount(quads) -> float:
    """How much text boxes hold: the sum of their length over thickness (about a line's characters / 2)."""
    if len(quads) == 0:
        return 0.0
    q = np.asarray(quads, np.float64).reshape(-1, 4, 2)
    a = np.hypot(*(q[:, 1] - q[:, 0]).T)
    b = np.hypot(*(q[:, 3] - q[:, 0]).T)
    return float((np.maximum(a, b) / np.maximum(np.minimum(a, b), 1e-6)).sum())


def longest(quads, most: int = VOTE_LINES) -> list[int]:
    """Indices of the `most` longest quads (first of equals first)."""
    if len(quads) == 0:
        return []
    q = np.asarray(quads, np.float64).reshape(-1, 4, 2)
    length = np.maximum(np.hypot(*(q[:, 1] - q[:, 0]).T), np.hypot(*(q[:, 3] - q[:, 0]).T))
    return [int(i) for i in np.argsort(-length, kind="stable")[:most]]


def runs_level(quad) -> bool | None:
    """Whether a box's long side runs level (True) or up and down (False) on the image as given; None
    for a box less than ELONGATED times longer than thick (a letter or two: either way)."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    a, b = q[1] - q[0], q[2] - q[1]
    la, lb = float(np.hypot(*a)), float(np.hypot(*b))
    if max(la, lb) < ELONGATED * max(min(la, lb), 1e-6):
        return None
    long = a if la >= lb else b
    return bool(abs(long[0]) >= abs(long[1]))


def along(quads, level: bool) -> list:
    """The quads that can be read `level` (as the page is, or upside down) or, level False, down or up
    the page (turned by 90 or 270): a box that runs the other way is a line the other pass found
    too, and reading it the wrong way along its short side is no evidence (`four_way`)."""
    return [q for q in quads if runs_level(q) in (None, level)]


def reading_down(quad) -> np.ndarray:
    """The quad (TL, TR, BR, BL) of a vertical line read from top to bottom (its top edge on the
    right), its long side the reading direction."""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    if np.hypot(*(q[3] - q[0])) > np.hypot(*(q[1] - q[0])):
        q = q[[3, 0, 1, 2]]
    return q if q[1, 1] - q[0, 1] >= 0 else q[[2, 3, 0, 1]]


def sideways_rotation(down_confidences, up_confidences) -> int:
    """Step 2: the rotation of a sideways page from the confidences of its lines read top to bottom
    and bottom to top. Text read top to bottom is an upright page turned 90 clockwise: 270 turns
    it back; bottom to top: 90. Lines that read below EVIDENCE_FLOOR on average both ways are no
    text (noise, bars, strokes): the page stays as it is (0)."""
    down, up = np.asarray(down_confidences, np.float64), np.asarray(up_confidences, np.float64)
    if max(float(down.mean()) if down.size else 0.0, float(up.mean()) if up.size else 0.0) < EVIDENCE_FLOOR:
        return 0
    return 270 if float(np.sum(down)) > float(np.sum(up)) else 90


def evidence(texts, confidences, floor: float = EVIDENCE_FLOOR) -> float:
    """How much text lines read well: the sum of their characters (spaces aside) times their
    confidence, over the lines read at `floor` or better (what the page would keep: noise read any
    way is no evidence for a way)."""
    return float(sum(len(t.replace(" ", "")) * c for t, c in zip(texts, confidences) if c >= floor))


def four_way(evidences: dict) -> int:
    """The rotation of a page from the `evidence` of its lines read each way {rotation: evidence}:
    the most, upright unless another has FOUR_WAY_RATIO times upright's and at least FOUR_WAY_MIN
    (first of equals)."""
    up = evidences.get(0, 0.0)
    best = max(ROTATIONS, key=lambda r: (evidences.get(r, 0.0), -ROTATIONS.index(r)))
    e = evidences.get(best, 0.0)
    return best if best and e > FOUR_WAY_RATIO * up and e >= FOUR_WAY_MIN else 0


def upside_down(reads, share: float = UPSIDE_DOWN_SHARE) -> bool:
    """Step 3: did the flip check read most of the page's characters upside down?"""
    flipped = total = 0
    for rd in reads:
        n = len(rd.text.replace(" ", ""))
        total += n
        flipped += n if rd.flipped else 0
    return total > 0 and flipped > share * total


def flip_candidates(reads, most: int = FLIP_VOTE_LINES) -> list[int]:
    """Indices of the `most` longest lines with text that the flip check kept upright."""
    idx = [i for i, rd in enumerate(reads) if rd.text.strip() and not rd.flipped]
    return [idx[k] for k in longest([reads[i].quad for i in idx], most)]


def flip_vote(upright_confidences, flipped_confidences, margin: float = FLIP_VOTE_MARGIN) -> bool:
    """Do these lines read better upside down (by `margin` a line)?"""
    n = len(upright_confidences)
    return n > 0 and float(np.sum(flipped_confidences)) > float(np.sum(upright_confidences)) + margin * n


def rotate_image(image: Image.Image, degrees: float):
    """(the image turned counter-clockwise by `degrees` on a canvas that holds it, filled with its
    median grey; the 2 x 3 matrix that maps a point on the image onto the turned one)."""
    w, h = image.size
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    nw, nh = int(math.ceil(abs(c) * w + abs(s) * h)), int(math.ceil(abs(s) * w + abs(c) * h))
    cx, cy, ncx, ncy = w / 2, h / 2, nw / 2, nh / 2
    # counter-clockwise on screen (y down): x' = c x + s y, y' = -s x + c y, about the centres
    fwd = np.array([[c, s, ncx - c * cx - s * cy], [-s, c, ncy + s * cx - c * cy]])
    # Pillow's AFFINE maps each output pixel to an input one: the inverse rotation
    coeffs = (c, -s, cx - c * ncx + s * ncy, s, c, cy - s * ncx - c * ncy)
    small = image.convert("L").reduce(max(1, min(w, h) // 64))
    fill = int(np.median(np.asarray(small)))
    out = image.transform(
        (nw, nh),
        Image.Transform.AFFINE,
        coeffs,
        resample=Image.Resampling.BILINEAR,
        fillcolor=fill if image.mode == "L" else (fill,) * 3,
    )
    return out, fwd


def skew(quads) -> float:
    """How far the page's lines are off level, degrees (counter-clockwise positive): the
    length-weighted median direction of the boxes (`layout.page_angle`)."""
    from .layout import page_angle

    return -math.degrees(page_angle(quads)) if len(quads) else 0.0


def map_skew(prob) -> tuple[float, float]:
    """(text direction in degrees, counter-clockwise positive, modulo 180 in (-90, 90]; coherence in
    [0, 1]) of a detector probability map: its structure tensor's dominant gradient orientation,
    turned by 90 (text lines are bands: the map changes most across them). It sees text the
    detector responds to only faintly (a page tilted by 30 degrees, where few boxes pass the
    threshold), but it underestimates large tilts (about 22 for 30): `oriented_steps` corrects
    it with the boxes found on the straightened page."""
    p = np.asarray(prob, np.float32)
    if p.ndim != 2 or min(p.shape) < 3:
        return 0.0, 0.0
    gx = p[1:-1, 2:] - p[1:-1, :-2]
    gy = p[2:, 1:-1] - p[:-2, 1:-1]
    jxx, jyy, jxy = (float(np.dot(a.ravel(), b.ravel())) for a, b in ((gx, gx), (gy, gy), (gx, gy)))
    total = jxx + jyy
    if total <= 0:
        return 0.0, 0.0
    coherence = math.hypot(jxx - jyy, 2 * jxy) / total
    grad = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))  # y down: clockwise positive
    text = (90.0 - grad) % 180.0  # counter-clockwise, the normal
    return (text - 180.0 if text > 90.0 else text), coherence


def apply_affine(points, matrix) -> np.ndarray:
    p = np.asarray(points, np.float64)
    m = np.asarray(matrix, np.float64)
    return p @ m[:, :2].T + m[:, 2]


def invert_affine(matrix) -> np.ndarray:
    m = np.asarray(matrix, np.float64)
    a = np.linalg.inv(m[:, :2])
    return np.concatenate([a, -(a @ m[:, 2])[:, None]], axis=1)


def unturn_blocks(blocks, degrees: int, width: int, height: int, deskew=None) -> None:
    """Map every quad of [Block] read on the image turned by `degrees` (and then straightened by the
    `deskew` matrix, `rotate_image`'s) back onto the width x height given image (in place; words
    shared by a line and its segments are mapped once)."""
    if _check(degrees) == 0 and deskew is None:
        return
    back = None if deskew is None else invert_affine(deskew)
    done = set()

    def move(obj):
        if id(obj) not in done:
            done.add(id(obj))
            q = np.asarray(obj.quad, np.float64)
            if back is not None:
                q = apply_affine(q, back)
            obj.quad = unturn_points(q, degrees, width, height).astype(np.float32)

    for b in blocks:
        move(b)
        for ln in b.lines:
            move(ln)
            for w in ln.words:
                move(w)
            for seg in ln.segments:
                move(seg)
                for w in seg.words:
                    move(w)
