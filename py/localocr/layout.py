"""Layout: recognised line segments -> lines -> blocks, in reading order.

The detector gives line *segments* (a horizontal run of text, split at large
gaps). A person reads a receipt's "TOTAL ...... 12.50" as one line, but the
two columns of a letter one after the other. So:

1. Deskew: the page's text angle is the median angle of the segments
   (weighted by length); all geometry below is in that rotated frame.
2. Regions by recursive XY-cut: a vertical gutter splits a region into
   columns only when both sides look like columns of text (several segments,
   each side's segments wide, also relative to the region: prose, not a
   column of prices or form labels and values);
   otherwise the region splits at clear horizontal gaps (paragraphs), or at
   the gap that lets a header stand above two columns.
3. In each region (a block), segments that share a row are one line, read left
   to right; rows are read top to bottom.

Works on any page rotation: a page photographed at 90 degrees deskews to 0.
"""

from __future__ import annotations

import math
from statistics import median

import numpy as np

from .result import Block, Line

# Tuning, in units of the median segment height h (the text size):
COLUMN_GUTTER = 1.0  # a column gutter is at least ~one character wide
COLUMN_MIN_WIDTH = 4.0  # a text column's segments are (median) at least ~8 characters wide
# ... and at least this share of the region's width: prose fills its column,
# while a receipt's or a form's labels and values leave most of it empty
COLUMN_MIN_SHARE = 0.3
COLUMN_MIN_SEGMENTS = 2  # ... and there are at least two on each side
# A vertical gap between rows starts a new block when it is at least this tall
# (h is the ink height of the text: ordinary leading leaves ~0.5-1.1 h between
# rows) and at least PARAGRAPH_VS_LEADING times the region's median row gap.
PARAGRAPH_GAP = 1.5
PARAGRAPH_VS_LEADING = 1.8
ROW_OVERLAP = 0.5  # segments overlapping vertically by half the smaller height share a row


class Segment:
    """A recognised segment in the deskewed frame: bbox, height, words."""

    __slots__ = ("quad", "words", "confidence", "x0", "x1", "y0", "y1", "h")

    def __init__(self, quad, words, confidence, rot):
        self.quad = np.asarray(quad, np.float64).reshape(4, 2)
        self.words = words
        self.confidence = confidence
        p = self.quad @ rot.T
        # plain floats: the cuts below do many small comparisons, slow on numpy scalars
        self.x0, self.y0 = (float(v) for v in p.min(axis=0))
        self.x1, self.y1 = (float(v) for v in p.max(axis=0))
        # height: the quad's side length (not the bbox, which grows with rotation)
        self.h = float((np.linalg.norm(self.quad[3] - self.quad[0]) + np.linalg.norm(self.quad[2] - self.quad[1])) / 2)

    @property
    def cy(self):
        return (self.y0 + self.y1) / 2


def page_angle(quads) -> float:
    """Median text direction (radians) of the quads, weighted by their length."""
    if not len(quads):
        return 0.0
    q = np.asarray(quads, np.float64).reshape(-1, 4, 2)
    d = (q[:, 1] - q[:, 0]) + (q[:, 2] - q[:, 3])
    ang = np.arctan2(d[:, 1], d[:, 0])
    w = np.linalg.norm(d, axis=1)
    order = np.argsort(ang)
    cw = np.cumsum(w[order])
    return float(ang[order][np.searchsorted(cw, cw[-1] / 2)])


def _vertical_cuts(segs, h):
    """Candidate column gutters: (x_left, x_right) gaps in the x projection, widest first."""
    iv = sorted((s.x0, s.x1) for s in segs)
    gaps, reach = [], iv[0][1]
    for x0, x1 in iv[1:]:
        if x0 - reach >= COLUMN_GUTTER * h:
            gaps.append((reach, x0))
        reach = max(reach, x1)
    return sorted(gaps, key=lambda g: g[0] - g[1])


def _is_column(side, h, region_width) -> bool:
    if len(side) < COLUMN_MIN_SEGMENTS:
        return False
    width = median([s.x1 - s.x0 for s in side])
    return width >= COLUMN_MIN_WIDTH * h and width >= COLUMN_MIN_SHARE * region_width


def _split_columns(segs, h):
    region_width = max(s.x1 for s in segs) - min(s.x0 for s in segs)
    for gx0, gx1 in _vertical_cuts(segs, h):
        left = [s for s in segs if s.x1 <= gx0 + 1e-6]
        right = [s for s in segs if s.x0 >= gx1 - 1e-6]
        if _is_column(left, h, region_width) and _is_column(right, h, region_width):
            return left, right
    return None


def _horizontal_gaps(segs):
    """Clean horizontal gaps (no segment spans them): [(gap size, y_cut)] top to bottom."""
    iv = sorted((s.y0, s.y1) for s in segs)
    out, reach = [], iv[0][1]
    for y0, y1 in iv[1:]:
        if y0 > reach:
            out.append((y0 - reach, (y0 + reach) / 2))
        reach = max(reach, y1)
    return out


def _regions(segs, h, depth=0):
    """Recursive XY-cut -> list of segment lists in reading order."""
    if len(segs) <= 1 or depth > 64:
        return [segs]
    cols = _split_columns(segs, h)
    if cols:
        return _regions(cols[0], h, depth + 1) + _regions(cols[1], h, depth + 1)
    gaps = _horizontal_gaps(segs)
    big = [y for g, y in gaps if g >= PARAGRAPH_GAP * h]
    if big:
        return [r for band in _bands(segs, big) for r in _regions(band, h, depth + 1)]
    # a header above two columns: the row gap under which columns appear
    for _gap, y in sorted(gaps, reverse=True):
        top, bottom = _bands(segs, [y])
        if _split_columns(top, h) or _split_columns(bottom, h):
            return _regions(top, h, depth + 1) + _regions(bottom, h, depth + 1)
    return [segs]


def _bands(segs, cuts):
    cuts = sorted(cuts)
    out: list[list] = [[] for _ in range(len(cuts) + 1)]
    for s in segs:
        out[int(np.searchsorted(cuts, s.cy))].append(s)
    return [b for b in out if b]


def _rows(segs):
    """Group segments into rows (top to bottom), each sorted left to right."""
    rows: list[list] = []
    for s in sorted(segs, key=lambda s: (s.cy, s.x0)):
        best, best_ov = None, 0.0
        for r in rows[-3:]:  # rows are built top-down: only the last few can still take s
            ry0 = median([t.y0 for t in r])
            ry1 = median([t.y1 for t in r])
            ov = min(s.y1, ry1) - max(s.y0, ry0)
            clash = any(min(s.x1, t.x1) - max(s.x0, t.x0) > 0.3 * min(s.x1 - s.x0, t.x1 - t.x0) for t in r)
            if not clash and ov >= ROW_OVERLAP * min(s.y1 - s.y0, ry1 - ry0) and ov > best_ov:
                best, best_ov = r, ov
        if best is None:
            rows.append([s])
        else:
            best.append(s)
    return [sorted(r, key=lambda s: s.x0) for r in rows]


def _line(row) -> Line:
    words = [w for s in row for w in s.words]
    first, last = row[0].quad, row[-1].quad
    quad = np.stack([first[0], last[1], last[2], first[3]]).astype(np.float32)
    conf = float(np.mean([w.confidence for w in words])) if words else 0.0
    parts = (
        [Line(words=s.words, quad=s.quad.astype(np.float32), confidence=s.confidence) for s in row]
        if len(row) > 1
        else []
    )
    return Line(words=words, quad=quad, confidence=conf, segments=parts)


def _box(segs, rot) -> np.ndarray:
    """Axis-aligned box of segments in the deskewed frame, as a quad in image coordinates."""
    x0 = min(s.x0 for s in segs)
    x1 = max(s.x1 for s in segs)
    y0 = min(s.y0 for s in segs)
    y1 = max(s.y1 for s in segs)
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return (corners @ rot).astype(np.float32)  # rot is orthonormal: its inverse is its transpose


def build_blocks(segments) -> list[Block]:
    """[(quad, words: [result.Word], confidence)] -> [Block] in reading order.

    Segments without words are dropped.
    """
    segments = [s for s in segments if s[1]]
    if not segments:
        return []
    angle = page_angle([s[0] for s in segments])
    c, s_ = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s_], [-s_, c]])  # rotates the page's text direction onto +x
    segs = [Segment(q, w, conf, rot) for q, w, conf in segments]
    h = median([s.h for s in segs])
    blocks = []
    for region in _regions(segs, max(h, 1.0)):
        rows = _rows(region)
        # paragraph gaps inside a region (a cut could not isolate them cleanly) still start blocks
        gaps = [min(t.y0 for t in row) - max(t.y1 for t in prev) for prev, row in zip(rows, rows[1:])]
        leading = median(gaps) if gaps else 0.0
        cur = [rows[0]]
        for gap, row in zip(gaps, rows[1:]):
            if gap >= PARAGRAPH_GAP * h and gap >= PARAGRAPH_VS_LEADING * leading:
                blocks.append(cur)
                cur = []
            cur.append(row)
        blocks.append(cur)
    return [Block(lines=[_line(r) for r in rows_], quad=_box([s for r in rows_ for s in r], rot)) for rows_ in blocks]
