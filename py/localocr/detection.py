"""Text detection: detector input preparation and probability map -> quads.

Everything here is numpy on whole arrays, never a full-size array per
component (the EasyOCR anti-pattern), so that it stays fast in WASM.

Post-processing (DB style), `boxes_from_prob`:

1. threshold the probability map;
2. connected components (8-connectivity) from horizontal runs, merged with a
   vectorised union-find: cost grows with the number of runs, not pixels;
3. per component the minimum-area rectangle of its pixel squares (an angle
   search over all components at once, refined to 0.01 degrees);
4. box score: mean probability over the component's pixels;
5. expansion ("unclip"): DB's offset D = area * unclip_ratio / perimeter
   applied to the rectangle (the exact offset of a rectangle, no polygon
   clipper needed);
6. small-box filter and quads clockwise from the text's reading top-left.

Coordinates: a prob-map pixel (row r, column c) covers the square
[c, c+1) x [r, r+1), so quads are in "pixel corner" units; multiplying by the
downsample factor gives detector-input pixels exactly.
"""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from .contract import keys as mm
from .errors import LocalOCRError
from .geometry import as_quad
from .metrics import iou_matrix

# ----------------------------------------------------------------------------
# input preparation

# First pass at most ~2 MP: a 1700 x 1200 detector input, enough for text of
# ~10 px or more in a typical phone photo of a page, and ~0.5 MP of
# probability map at downsample 2.
MAX_PIXELS = 2_000_000
# Images whose long side is below this are upscaled to it (a cropped
# screenshot or a single word): the detector needs some context around text.
MIN_LONG_SIDE = 640
MAX_UPSCALE = 3.0  # ... but at most 3x: beyond that nothing new is visible
# Second pass: when the median detected line is shorter than LEGIBLE_PX at the
# detector input (small text in a big photo, downscaled too far), detect
# again at a scale that brings it to TARGET_PX, within MAX_PIXELS_FINE.
LEGIBLE_PX = 12.0
TARGET_PX = 20.0
MAX_PIXELS_FINE = 6_000_000
# Coarse pass: display text taller than the model has learnt to see (a 300 px "OPEN" on a sign
# filling a 1400 x 900 photo is not found at all at full scale) is found again on the image
# shrunk to COARSE_SHORT_SIDE pixels on its short side (at most half the first pass's scale: none when
# the first pass's short side is below twice that). Only
# its boxes of at least COARSE_MIN_PX (first-pass input pixels) on their short side, and lying where
# the first pass found (almost) nothing (first-pass boxes cover < COARSE_FREE of them), are added.
# On the validation sets this changes no figure by more than 0.001 (export.detector.multiscale and
# web/models/README.md); replacing first-pass boxes with coarse ones cost FUNSD 0.05-0.13 hmean.
COARSE_SHORT_SIDE = 320
COARSE_MIN_PX = 60.0
COARSE_FREE = 0.2


def input_scale(
    width: int,
    height: int,
    max_pixels: int = MAX_PIXELS,
    min_long_side: int = MIN_LONG_SIDE,
    max_upscale: float = MAX_UPSCALE,
) -> float:
    """The first-pass resize factor for an image of this size."""
    s = min(1.0, (max_pixels / max(1, width * height)) ** 0.5)
    long_side = max(width, height)
    if long_side * s < min_long_side:
        s = min(max_upscale, min_long_side / max(1, long_side))
    return s


def coarse_scale(width: int, height: int, scale: float, short_side: int = COARSE_SHORT_SIDE) -> float | None:
    """The coarse pass's scale (the image's short side to `short_side` pixels) after a first pass at
    `scale`, or None when that would not halve the first pass (its short side < 2 * `short_side`)."""
    if min(width, height) * scale < 2 * short_side:
        return None
    return short_side / min(width, height)


def add_coarse(boxes: list, coarse: list, scale: float, min_px: float = COARSE_MIN_PX, free: float = COARSE_FREE):
    """`boxes` plus the coarse pass's big boxes that lie where `boxes` found (almost) nothing.

    scale: the first pass's scale (min_px is in its input pixels). Boxes are (quad, score) in image
    pixels."""
    big = [b for b in coarse if min(_sides(b[0])) * scale >= min_px]
    if not big or not boxes:
        return list(boxes) + big
    _, cover = iou_matrix([q for q, _ in big], [q for q, _ in boxes])  # intersection / coarse box area
    return list(boxes) + [b for j, b in enumerate(big) if cover[j].sum() < free]


def refine_scale(
    line_heights,
    scale: float,
    width: int,
    height: int,
    legible_px: float = LEGIBLE_PX,
    target_px: float = TARGET_PX,
    max_pixels: int = MAX_PIXELS_FINE,
    found_any: bool = True,
) -> float | None:
    """A better scale after a first pass, or None when the first one was fine.

    `line_heights`: heights of the detected lines in original image pixels.
    Nothing found on a downscaled image also retries at the finest scale allowed.
    """
    s_max = min(MAX_UPSCALE, (max_pixels / max(1, width * height)) ** 0.5)
    if len(line_heights) == 0:
        new = min(1.0, s_max) if not found_any and scale < 0.999 else None
    else:
        med = float(np.median(line_heights)) * scale
        new = min(s_max, scale * target_px / med) if med < legible_px else None
    # 1.25: a smaller change would detect almost the same boxes at extra cost
    return new if new is not None and new > scale * 1.25 else None


# Bounded memory: a detector input larger than MAX_RUN_PIXELS (only a second, finer pass can be:
# the first is at most MAX_PIXELS) is made and run in horizontal bands of equal height (one shape:
# onnxruntime reuses its buffers), each about BAND_PIXELS but at least BAND_MIN_ROWS rows, and
# overlapping by 2 * TILE_MARGIN rows; each keeps only the rows of its probability map at least
# TILE_MARGIN rows inside it (or at the page's edge). The model is fully convolutional but sees far:
# against the whole-input map, a 6 MP FUNSD form differed by at most 0.31 with a 128-row margin,
# 0.17 with 192, 0.026 with 256 (the same boxes each time; a SROIE receipt 0.155, 0.067, 0.067).
# 192 rows and bands of >= 1024 rows run ~1.4x the rows of the whole pass. A 6 MP pass in one run
# lifted CPython's peak RSS to ~630 MB (a blank A4 page at 300 dpi).
MAX_RUN_PIXELS = 2_200_000
BAND_PIXELS = 2_000_000
BAND_MIN_ROWS = 1024
TILE_MARGIN = 192


def _cuts(length: int, size: int, margin: int, multiple: int) -> list[tuple[int, int, int, int]]:
    """Windows of `size` over 0:length overlapping by at least 2 * margin: [(a0, a1, keep0, keep1)],
    the kept ranges tiling 0:length in order, each cut halfway through an overlap, on the grid."""
    if size >= length:
        return [(0, length, 0, length)]
    step = size - 2 * margin
    starts = list(range(0, length - size, step)) + [length - size]
    out = []
    keep0 = 0
    for i, a0 in enumerate(starts):
        keep1 = (starts[i + 1] + a0 + size) // 2 // multiple * multiple if i + 1 < len(starts) else length
        out.append((a0, a0 + size, keep0, keep1))
        keep0 = keep1
    return out


def tile_rows(
    height: int,
    width: int,
    max_pixels: int = MAX_RUN_PIXELS,
    band_pixels: int = BAND_PIXELS,
    margin: int = TILE_MARGIN,
    min_rows: int = BAND_MIN_ROWS,
    multiple: int = 32,
) -> list[tuple[int, int, int, int]]:
    """Bands for a detector input of height x width (both multiples of `multiple`):
    [(y0, y1, keep0, keep1)], rows y0:y1 run, rows keep0:keep1 kept; the kept ranges tile
    0:height in order. One band when the input has at most `max_pixels`."""
    if height * width <= max_pixels:
        return [(0, height, 0, height)]
    band = max(min_rows, 2 * margin + multiple, (band_pixels // max(1, width)) // multiple * multiple)
    return _cuts(height, band, margin, multiple)


def tile_cols(
    width: int, rows: int, max_pixels: int = MAX_RUN_PIXELS, margin: int = TILE_MARGIN, multiple: int = 32
) -> list[tuple[int, int, int, int]]:
    """Columns for a band of `rows` rows and `width` columns whose run would pass `max_pixels` (a
    band is at least BAND_MIN_ROWS high: a wide input's is too big): [(x0, x1, keep0, keep1)] as
    `tile_rows` gives rows, as few equal tiles as keep each run within `max_pixels`. onnxruntime's
    heap grows with the largest run (~62 MiB a megapixel in onnxruntime-web) and never shrinks: the
    finer pass over a 1280 x 720 photo ran bands of 1024 x 3264 (3.3 MP); now 1024 x 1824, for
    ~12% more pixels run. One column when the band is within `max_pixels`."""
    if rows * width <= max_pixels:
        return [(0, width, 0, width)]
    cap = max(2 * margin + multiple, (max_pixels // max(1, rows)) // multiple * multiple)
    if cap >= width:
        return [(0, width, 0, width)]
    n = -(-(width - 2 * margin) // (cap - 2 * margin))
    size = -(-(width + 2 * margin * (n - 1)) // (n * multiple)) * multiple
    return _cuts(width, size, margin, multiple)


def prepare_input(image, scale: float, mean, std, multiple: int = 32):
    """PIL "L"/"RGB" image -> ([1, 3, H, W] float32 normalised, (sx, sy) actual scale).

    Resized with Pillow (antialiased when shrinking) before any float work,
    normalised per channel as (x / 255 - mean) / std, padded right/bottom to a
    multiple of `multiple` with 0 (the mean colour after normalisation).
    """
    resized = resize_input(image, scale, multiple)
    return input_rows(resized, 0, resized.height, mean, std), resized.scale


class ResizedInput:
    """A page resized for the detector, before any float work: `image` (nw x nh), `scale` (sx, sy),
    and the padded input size `height` x `width` (multiples of the grid)."""

    def __init__(self, image, scale, height: int, width: int):
        self.image, self.scale, self.height, self.width = image, scale, height, width


def resize_input(image, scale: float, multiple: int = 32) -> ResizedInput:
    w, h = image.size
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    if (nw, nh) == (w, h):
        im = image
    else:
        # Pillow's bilinear resize widens its kernel when shrinking (antialiased);
        # reducing_gap 2: a cheap integer reduce first for big shrinks, same look
        im = image.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0 if scale < 0.5 else None)
    return ResizedInput(im, (nw / w, nh / h), -(-nh // multiple) * multiple, -(-nw // multiple) * multiple)


def input_rows(resized: ResizedInput, y0: int, y1: int, mean, std, x0: int = 0, x1: int | None = None) -> np.ndarray:
    """Rows y0:y1 (and columns x0:x1, default all) of the normalised, padded detector input:
    [1, 3, y1 - y0, x1 - x0] float32 (a tile is made alone, so that a large input never exists
    whole: see `tile_rows`, `tile_cols`)."""
    im = resized.image
    nh, nw = im.height, im.width
    x1 = resized.width if x1 is None else x1
    x = np.zeros((1, 3, y1 - y0, x1 - x0), np.float32)
    r1, c1 = min(y1, nh), min(x1, nw)
    if r1 <= y0 or c1 <= x0:
        return x
    tile = im if (y0, r1, x0, c1) == (0, nh, 0, nw) else im.crop((x0, y0, c1, r1))
    chans = tile.split() if tile.mode == "RGB" else (tile,) * 3
    for c in range(3):
        # contiguous per-channel work: strided HWC ops are slow in WASM
        a = np.asarray(chans[c], dtype=np.float32)
        x[0, c, : r1 - y0, : c1 - x0] = a * np.float32(1 / (255 * std[c])) - np.float32(mean[c] / std[c])
    return x


# ----------------------------------------------------------------------------
# post-processing


def threshold_runs(mask: np.ndarray):
    """Horizontal runs of True in a 2-D bool mask.

    Returns (row, start, end) int arrays in row-major order, `end` exclusive.
    """
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)  # (h, w+1): +1 at a run's first column, -1 after its last
    nz = np.flatnonzero(d)
    vals = d.ravel()[nz]
    starts, ends = nz[vals == 1], nz[vals == -1]
    row = starts // (w + 1)
    return row, starts - row * (w + 1), ends - row * (w + 1)


def label_runs(row: np.ndarray, start: np.ndarray, end: np.ndarray, width: int) -> np.ndarray:
    """8-connected component label (0..n-1, by first run) for each run of `threshold_runs`."""
    n = len(row)
    if n == 0:
        return np.zeros(0, np.int64)
    stride = width + 4  # keeps the +-1 column offsets of one row off the next row
    skey = row * stride + start + 1
    ekey = row * stride + end + 1
    # Runs b of row r+1 touching run a (8-connectivity): start_b <= end_a and end_b >= start_a.
    hi = np.searchsorted(skey, (row + 1) * stride + end + 1, side="right")
    lo = np.searchsorted(ekey, (row + 1) * stride + start + 1, side="left")
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    a = np.repeat(np.arange(n), counts)
    first = np.cumsum(counts) - counts
    b = np.repeat(lo, counts) + (np.arange(total) - np.repeat(first, counts))
    parent = np.arange(n)
    while len(a):
        pa, pb = parent[a], parent[b]
        open_ = pa != pb  # an edge whose ends share a root stays settled
        if not open_.any():
            break
        a, b, pa, pb = a[open_], b[open_], pa[open_], pb[open_]
        # hook the larger root under the smaller one: parents only decrease, so no cycles
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:  # full path compression: parent[x] is a root again
            pp = parent[parent]
            if np.array_equal(pp, parent):
                break
            parent = pp
    _, labels = np.unique(parent, return_inverse=True)
    return labels.reshape(-1)


def connected_components(mask: np.ndarray):
    """Label the 8-connected components of a bool mask.

    Returns (row, start, end, label) per run and the number of components. A
    convenience for tests and tools; `boxes_from_prob` uses the runs directly.
    """
    mask = np.asarray(mask, dtype=bool)
    row, start, end = threshold_runs(mask)
    labels = label_runs(row, start, end, mask.shape[1])
    return row, start, end, labels, int(labels.max()) + 1 if len(labels) else 0


# Angle search for the minimum-area rectangle: a rectangle repeats every 90
# degrees; 3-degree steps find the basin, then +-3 in 0.5 and +-0.5 in 0.05
# steps refine it to 0.025 degrees (a 1000 px line then errs < 0.5 px).
_COARSE = np.deg2rad(np.arange(0.0, 90.0, 3.0))
_REFINE = (np.deg2rad(np.arange(-3.0, 3.01, 0.5)), np.deg2rad(np.arange(-0.5, 0.501, 0.05)))


def _extents(x, y, cos, sin, bounds):
    """Per group min/max of the projections on (cos, sin) and its normal.

    x, y: (P,) points sorted by group, `bounds` the group starts; cos/sin are
    (K, P). Returns umin, umax, vmin, vmax, each (K, G).
    """
    u = x * cos + y * sin
    v = y * cos - x * sin
    return (
        np.minimum.reduceat(u, bounds, axis=1),
        np.maximum.reduceat(u, bounds, axis=1),
        np.minimum.reduceat(v, bounds, axis=1),
        np.maximum.reduceat(v, bounds, axis=1),
    )


def min_area_rects(x: np.ndarray, y: np.ndarray, group: np.ndarray):
    """Minimum-area enclosing rectangle of each group of points, all groups at once.

    `group` must be sorted (0..G-1, every group non-empty). Returns per group
    (centre (G,2), angle (G,) in radians of the first side, size (G,2) = the
    extents along the angle and along its normal).
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    # centre the points of each group first: projections stay small and exact
    cx = np.add.reduceat(x, bounds) / np.diff(np.r_[bounds, len(x)])
    cy = np.add.reduceat(y, bounds) / np.diff(np.r_[bounds, len(y)])
    xs, ys = x - cx[group], y - cy[group]
    ang = _COARSE[:, None]
    umin, umax, vmin, vmax = _extents(xs, ys, np.cos(ang), np.sin(ang), bounds)
    area = (umax - umin) * (vmax - vmin)
    best = _COARSE[np.argmin(area, axis=0)]  # (G,)
    for steps in _REFINE:
        cand = best[None, :] + steps[:, None]  # (J, G)
        c, s = np.cos(cand), np.sin(cand)
        umin, umax, vmin, vmax = _extents(xs, ys, c[:, group], s[:, group], bounds)
        area = (umax - umin) * (vmax - vmin)
        best = cand[np.argmin(area, axis=0), np.arange(len(bounds))]
    c, s = np.cos(best)[None, :], np.sin(best)[None, :]
    umin, umax, vmin, vmax = (e[0] for e in _extents(xs, ys, c[:, group], s[:, group], bounds))
    uc, vc = (umin + umax) / 2, (vmin + vmax) / 2
    cos, sin = c[0], s[0]
    centre = np.stack([cx + uc * cos - vc * sin, cy + uc * sin + vc * cos], axis=1)
    size = np.stack([umax - umin, vmax - vmin], axis=1)
    return centre, best, size


# A box counts as "clearly elongated" when its long side is at least this many
# times its short side; then the long side is the text direction. Rounder
# boxes read along the side nearer horizontal: a lone "1" or "l" (a receipt's
# quantity column) is ~1.5-1.9 times taller than wide once expanded, and must
# not turn into vertical text.
_ELONGATED = 2.0


def rects_to_quads(centre, angle, size) -> np.ndarray:
    """Rectangles (centre (N,2), angle of the first side (N,), size (N,2)) -> quads (N, 4, 2).

    `size` is (side along the angle, side along its normal). Picks the reading
    direction (see `_ELONGATED`), pointing rightwards (downwards for exactly
    vertical text), and returns the corners clockwise from the reading
    top-left (TL, TR, BR, BL), float64.
    """
    centre = np.asarray(centre, np.float64).reshape(-1, 2)
    angle = np.asarray(angle, np.float64).reshape(-1)
    size = np.asarray(size, np.float64).reshape(-1, 2)
    a, b = size[:, 0], size[:, 1]
    d = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    swap = (b >= _ELONGATED * a) | ((a < _ELONGATED * b) & (np.abs(n[:, 0]) > np.abs(d[:, 0])))
    d = np.where(swap[:, None], n, d)
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    flip = (d[:, 0] < -1e-9) | ((np.abs(d[:, 0]) <= 1e-9) & (d[:, 1] < 0))
    d = np.where(flip[:, None], -d, d)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)  # normal pointing "down" from the text's top
    hw, hh = (a / 2)[:, None], (b / 2)[:, None]
    c = centre
    return np.stack([c - d * hw - n * hh, c + d * hw - n * hh, c + d * hw + n * hh, c - d * hw + n * hh], axis=1)


def rect_to_quad(centre, angle: float, size) -> np.ndarray:
    """One rectangle as a float32 (4, 2) quad; see `rects_to_quads`."""
    return rects_to_quads(centre, angle, size)[0].astype(np.float32)


def unclip_size(size: np.ndarray, ratio: float) -> np.ndarray:
    """DB expansion of rectangles (N, 2): each side grows by 2*D, D = area * ratio / perimeter."""
    size = np.asarray(size, np.float64)
    area = size[:, 0] * size[:, 1]
    perim = 2 * (size[:, 0] + size[:, 1])
    dist = area * ratio / np.maximum(perim, 1e-9)
    return size + 2 * dist[:, None]


def boxes_from_prob(
    prob: np.ndarray,
    threshold: float = 0.3,
    box_threshold: float = 0.5,
    unclip_ratio: float = 1.5,
    min_size: float = 1.0,
    max_candidates: int = 1000,
    scale=1.0,
) -> list[tuple[np.ndarray, float]]:
    """Probability map -> [(quad, score)], in reading-ish order (top to bottom).

    prob: (H', W') (or [1,1,H',W']) text probability in [0, 1].
    threshold: pixel threshold for the binary map; box_threshold: minimum mean
    probability over a component's pixels; unclip_ratio: DB expansion ratio;
    min_size: minimum short side before expansion, prob-map pixels (and
    min_size + 2 after it, as in DB); max_candidates: the largest components kept.
    scale: a number or (sx, sy) multiplying the output coordinates; quads are
    in prob-map pixel-corner units before it (see the module docstring), so
    `scale = downsample / resize_factor` gives original image pixels.

    Quads are float32 (4, 2), clockwise from the reading top-left.
    """
    prob = np.asarray(prob)
    h, w = prob.shape[-2], prob.shape[-1]
    prob = prob.reshape(h, w)
    mask = prob > threshold
    row, start, end = threshold_runs(mask)
    if len(row) == 0:
        return []
    labels = label_runs(row, start, end, w)
    ncomp = int(labels.max()) + 1
    runlen = end - start
    # run sums: the masked pixels in row-major order are exactly the runs, concatenated
    vals = prob[mask].astype(np.float64)
    run_sum = np.add.reduceat(vals, np.cumsum(runlen) - runlen)
    npix = np.bincount(labels, weights=runlen, minlength=ncomp)
    score = np.bincount(labels, weights=run_sum, minlength=ncomp) / npix
    keep = score >= box_threshold
    if max_candidates and keep.sum() > max_candidates:
        order = np.argsort(-np.where(keep, npix, -1), kind="stable")[:max_candidates]
        keep = np.zeros(ncomp, bool)
        keep[order] = True
    sel = keep[labels]
    if not sel.any():
        return []
    row, start, end, labels = row[sel], start[sel], end[sel], labels[sel]
    # per (component, row): the leftmost and rightmost pixel edge; their 4
    # corners are all the hull of the component's pixel squares can need
    order = np.lexsort((row, labels))
    row, start, end, labels = row[order], start[order], end[order], labels[order]
    gkey = labels * (h + 1) + row
    gb = np.flatnonzero(np.r_[True, gkey[1:] != gkey[:-1]])
    grow, glab = row[gb], labels[gb]
    xl, xr = np.minimum.reduceat(start, gb), np.maximum.reduceat(end, gb)
    # a row whose edges equal those of the rows above and below adds only
    # collinear corners: drop it (the rows of a component are contiguous)
    same = (glab[1:] == glab[:-1]) & (xl[1:] == xl[:-1]) & (xr[1:] == xr[:-1])
    inner = np.r_[False, same] & np.r_[same, False]
    grow, glab, xl, xr = grow[~inner], glab[~inner], xl[~inner], xr[~inner]
    px = np.stack([xl, xr, xl, xr], axis=1).ravel()
    py = np.stack([grow, grow, grow + 1, grow + 1], axis=1).ravel()
    pg = np.repeat(glab, 4)
    comp_ids, pg = np.unique(pg, return_inverse=True)
    centre, angle, size = min_area_rects(px, py, pg.reshape(-1))
    big = unclip_size(size, unclip_ratio)
    ok = (size.min(axis=1) >= min_size) & (big.min(axis=1) >= min_size + 2)
    quads = rects_to_quads(centre[ok], angle[ok], big[ok])
    sx, sy = (scale, scale) if np.isscalar(scale) else scale
    quads = (quads * np.array([sx, sy], np.float64)).astype(np.float32)
    scores = score[comp_ids[ok]]
    order = np.lexsort((quads[:, :, 0].min(axis=1), quads[:, :, 1].min(axis=1)))
    return [(quads[i], float(scores[i])) for i in order]


# ---------------------------------------------------------------- the stage


def _add(t: dict, key: str, dt: float) -> None:
    t[key] = t.get(key, 0.0) + dt


def detector_prob(model, resized: ResizedInput, timings: dict):
    """Generator stage: the detector's probability map [H/ds, W/ds] for a resized page, its input
    made and run in bands when it is large, a wide band in columns (`tile_rows`, `tile_cols`: bounded
    memory, the same map)."""
    ds, spec = model.spec.downsample, model.spec
    height, width = resized.height, resized.width
    bands = tile_rows(height, width)
    cols = tile_cols(width, bands[0][1] - bands[0][0])
    prob = None
    for y0, y1, keep0, keep1 in bands:
        for x0, x1, kx0, kx1 in cols:
            t0 = time.perf_counter()
            part = input_rows(resized, y0, y1, spec.mean, spec.std, x0, x1)
            _add(timings, "detect_pre", time.perf_counter() - t0)
            out = yield model.session, {mm.DETECTOR_INPUT: part}
            p = np.asarray(out[mm.DETECTOR_OUTPUT])
            p = p.reshape(p.shape[-2:])
            if p.shape != ((y1 - y0) // ds, (x1 - x0) // ds):
                raise LocalOCRError(
                    f"The detector returned a {p.shape} map for a {part.shape[2:]} input; "
                    f"its metadata says downsample {ds}.",
                    "bad_model",
                )
            if len(bands) == 1 and len(cols) == 1:
                return p
            if prob is None:
                prob = np.empty((height // ds, width // ds), p.dtype)
            prob[keep0 // ds : keep1 // ds, kx0 // ds : kx1 // ds] = p[
                (keep0 - y0) // ds : (keep1 - y0) // ds, (kx0 - x0) // ds : (kx1 - x0) // ds
            ]
    return prob


def detect_steps(
    image,
    model,
    timings: dict | None = None,
    *,
    threshold=None,
    box_threshold=None,
    unclip_ratio=None,
    max_pixels: int = MAX_PIXELS,
    min_long_side: int = MIN_LONG_SIDE,
    refine: bool = True,
    maps: list | None = None,
    coarse: bool | None = None,
):
    """Generator stage: PIL "L"/"RGB" image -> [(quad in image pixels, score)].

    One pass at `input_scale`; a second, finer pass when the text
    found is too small to be read reliably (`refine_scale`); a coarse pass for
    display text too big for the first (`coarse_scale`, `add_coarse`; `coarse`:
    default as `refine`).
    threshold, box_threshold, unclip_ratio: override the model's metadata.
    maps: a list that gets the first pass's probability map (orientation looks at it).
    """
    t = timings if timings is not None else {}
    spec = model.spec
    w, h = image.size
    kw = dict(
        threshold=spec.threshold if threshold is None else threshold,
        box_threshold=spec.box_threshold if box_threshold is None else box_threshold,
        unclip_ratio=spec.unclip_ratio if unclip_ratio is None else unclip_ratio,
    )
    scale = input_scale(w, h, max_pixels=max_pixels, min_long_side=min_long_side)
    boxes = yield from _detect_pass(image, model, scale, kw, t, maps)
    if refine:
        new = refine_scale([min(_sides(q)) for q, _ in boxes], scale, w, h, found_any=bool(boxes))
        if new is not None:
            boxes = yield from _detect_pass(image, model, new, kw, t)
    c = coarse_scale(w, h, scale) if (refine if coarse is None else coarse) else None
    if c is not None:
        found = yield from _detect_pass(image, model, c, kw, t)
        boxes = add_coarse(boxes, found, scale)
    return boxes


def _detect_pass(image, model, scale: float, kw: dict, t: dict, maps: list | None = None):
    """One detector pass at `scale`: [(quad in image pixels, score)]; `maps` gets its map."""
    w, h = image.size
    t0 = time.perf_counter()
    resized = resize_input(image, scale)
    sx, sy = resized.scale
    _add(t, "detect_pre", time.perf_counter() - t0)
    pre = t["detect_pre"]
    t1 = time.perf_counter()
    prob = yield from detector_prob(model, resized, t)
    del resized
    t2 = time.perf_counter()
    ds = model.spec.downsample
    boxes = boxes_from_prob(prob, scale=(ds / sx, ds / sy), **kw)
    if maps is not None:
        maps.append(prob)
    del prob
    boxes = [(_clip_quad(q, w, h), s) for q, s in boxes]
    _add(t, "detect_run", t2 - t1 - (t["detect_pre"] - pre))  # the bands' input making is detect_pre
    _add(t, "detect_post", time.perf_counter() - t2)
    return boxes


def _sides(q):
    q = as_quad(q)
    return (float(np.linalg.norm(q[1] - q[0])), float(np.linalg.norm(q[3] - q[0])))


def _clip_quad(q, w, h):
    """Keep corners within the image (expansion can push them past its edge)."""
    q = np.array(q, np.float32)
    q[:, 0] = np.clip(q[:, 0], 0, w)
    q[:, 1] = np.clip(q[:, 1], 0, h)
    return q
