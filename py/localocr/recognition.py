"""Text recognition: crops -> width-bucketed batches -> CTC greedy decoding -> words.

Contract (see contract/keys.py): input [N, 1, height, W] grey, normalised as
(x / 255 - mean) / std; output [N, W / downsample, C] log-probabilities, class
0 the CTC blank and class i + 1 the alphabet's character i.

Every character keeps the CTC steps it was read at; a step covers
`downsample` input columns, so its position maps back through the crop onto
the line's quad. That is how a line splits into words with their own quads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .contract import keys as mm
from .errors import LocalOCRError
from .geometry import as_quad, crop_quad

# Longest crop fed to the recognizer: 2048 px at height 32 is a 64:1 line
# (~120 characters). Longer lines (a 20000 x 20 strip of text) are read in
# pieces of at most this width, cut in the widest gap of ink near each limit
# (`piece_bounds`), and joined again: squeezed into 2048 px they read as garbage.
MAX_WIDTH = 2048
# ... up to this natural width at all (a 1000:1 line); beyond it the crop is squeezed to it.
LONG_LINE_MAX = 65536
# A cut falls in the last PIECE_SEARCH share of a piece's room; a gap of ink at
# least GAP_FACTOR x the height wide there is a word space (the pieces' texts are
# then joined with a space), else the emptiest column is cut (joined without).
PIECE_SEARCH = 0.4
GAP_FACTOR = 0.25
# Crops narrower than the height are padded to it (centred): a single digit
# still gets 8 CTC steps of context.
MIN_WIDTH_FACTOR = 1.0
# A batch holds crops whose widths differ by at most 25% (+16 px for the very
# short ones), so padding wastes at most ~20% of the batch's work ...
BUCKET_RATIO, BUCKET_SLACK = 1.25, 16
# ... and at most this many input columns in all (N * W): 64 K columns of 32
# rows is an 8 MB float input.
MAX_BATCH_COLUMNS = 65536
MAX_BATCH = 64
# Lines read with a mean confidence below this are read upside down too, and
# the better reading wins (an upside-down page, a label on a bottle).
FLIP_BELOW = 0.75
# ... the flipped reading must be better by this margin, so noise does not flip
# lines (0.05 and 0.15 read upright and upside-down receipts alike; 0.1 between)
FLIP_MARGIN = 0.1
# When at least this share of the lines checked read better flipped, and they
# are at least PAGE_FLIP_SHARE of all lines, the page is upside down: the
# confident lines are read flipped too (an upside-down line can still read
# "confidently" as garbage).
PAGE_FLIP_VOTE = 0.6
PAGE_FLIP_SHARE = 0.3


@dataclass
class Decoded:
    """CTC greedy decoding of one crop."""

    text: str
    confidence: float  # mean of the character confidences (0 for no text)
    char_conf: np.ndarray  # (n,) max step probability of each character
    char_steps: np.ndarray  # (n, 2) first and last CTC step of each character
    # (n,) each character's position in steps (step t covers [t, t+1)): the centroid of its class's
    # probability over its steps and one step either side. Unlike the steps' midpoint, it moves
    # little when a near-tied step at a run's edge flips between the character and the blank,
    # which two inference engines' rounding can do (browser and CPython boxes then differ by
    # a whole step otherwise). None when decoded without the logits.
    char_pos: np.ndarray | None = None


def ctc_greedy(logp: np.ndarray, alphabet: str, blank: int = 0) -> Decoded:
    """Best class per step, repeats merged, blanks dropped.

    logp: (T, C) log-probabilities (or probabilities, then they are taken as they are).
    A character's confidence is the highest probability among its steps.
    """
    logp = np.asarray(logp, np.float32)
    if logp.shape[0] == 0:
        return Decoded("", 0.0, np.zeros(0, np.float32), np.zeros((0, 2), np.int64))
    best = logp.argmax(axis=1)
    return _ctc_runs(best, logp[np.arange(len(best)), best], alphabet, blank, logp)


def ctc_greedy_batch(logits: np.ndarray, alphabet: str, blank: int = 0, space_bias: float = 0.0) -> list[Decoded]:
    """`ctc_greedy` of each row of (N, T, C) logits; the arg-max over classes runs once for the
    whole batch (one numpy call instead of N: fewer, larger operations are faster in WASM).

    space_bias: added to the space class's score for the arg-max only (the model's
    `localocr.space_bias`); confidences and positions still come from the unbiased logits.
    """
    logits = np.asarray(logits, np.float32)
    if logits.shape[1] == 0:
        return [ctc_greedy(row, alphabet, blank) for row in logits]
    best = logits.argmax(axis=2)
    top = np.take_along_axis(logits, best[:, :, None], axis=2)[:, :, 0]
    if space_bias and " " in alphabet:
        space = alphabet.index(" ") + 1
        to_space = logits[:, :, space] + space_bias > top
        best[to_space] = space
        top = np.where(to_space, logits[:, :, space], top)
    return [_ctc_runs(b, t, alphabet, blank, row) for b, t, row in zip(best, top, logits)]


def _ctc_runs(best: np.ndarray, top: np.ndarray, alphabet: str, blank: int, logp: np.ndarray) -> Decoded:
    """Greedy decoding from the best class per step and its score (T,), and the (T, C) scores."""
    is_log = top.max() <= 0  # log-softmax output is <= 0
    prob = np.exp(top) if is_log else top
    change = np.empty(len(best), bool)
    change[0] = True
    np.not_equal(best[1:], best[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(best)) - 1
    labels = best[starts]
    conf = np.maximum.reduceat(prob, starts)
    keep = labels != blank
    labels, conf = labels[keep], conf[keep].astype(np.float32)
    steps = np.stack([starts[keep], ends[keep]], axis=1)
    text = "".join(alphabet[i - 1] for i in labels)
    return Decoded(
        text, float(conf.mean()) if len(conf) else 0.0, conf, steps, _char_positions(logp, labels, steps, is_log)
    )


def _char_positions(logp: np.ndarray, labels: np.ndarray, steps: np.ndarray, is_log: bool) -> np.ndarray:
    """Probability centroid of each character's class over its steps widened by one each side."""
    if len(labels) == 0:
        return np.zeros(0, np.float64)
    last = logp.shape[0] - 1
    lo, hi = np.maximum(steps[:, 0] - 1, 0), np.minimum(steps[:, 1] + 1, last)
    t = lo[:, None] + np.arange(int((hi - lo).max()) + 1)[None, :]  # (n, window)
    inside = t <= hi[:, None]
    t = np.minimum(t, last)
    score = logp[t, labels[:, None]].astype(np.float64)
    w = np.where(inside, np.exp(score) if is_log else score, 0.0)
    return (w * (t + 0.5)).sum(axis=1) / w.sum(axis=1)


# ---------------------------------------------------------------- crops and batches


@dataclass
class Crop:
    """One rectified line, as the recognizer sees it."""

    pixels: np.ndarray  # (height, width) uint8
    quad: np.ndarray  # (4, 2) the source quad the pixels were cut from, TL TR BR BL
    line: np.ndarray | None = None  # the line's own quad, where `quad` is it widened at its ends
    ends: tuple = (0.0, 0.0)  # how far `quad` reaches past the line's start and end, image pixels


# The detector's boxes are tight (unclip 0.7, tuned for box overlap): a full stop or comma at a
# line's end falls outside them. SROIE train receipts: of 361 printed lines ending in "," or "."
# matched to one of ours, 60 were read without it, 47 of them in a box that ends before the label's.
# The accurate tier's re-reads (`reread_steps`) cut their crop END_PAD x the line's height past each
# end, into blank space only: at most half the gap to the next box on its row, never outside the
# image. The line keeps its own quad; its words stay in it unless a character was read outside.
# Chosen on training pages with the shipped accurate file (150 SROIE receipts read for the fields;
# e2e word F1 on 80 pages a set), no widening -> 0.3: address 0.540 -> 0.600 (the file before it:
# 0.520 -> 0.613; 0.15 and 0.5 did as well as 0.3), company 0.833 -> 0.820, total 0.940 -> 0.933, IC15
# 0.462 -> 0.478, plates 0.528 -> 0.567, FUNSD 0.709 and SROIE 0.719 unchanged. Widening the fast
# tier's crops too cost FUNSD 0.708 -> 0.697 and its word boxes 0.813 -> 0.800 (neighbours' glyphs
# cut in half read as letters), so it keeps the detector's boxes.
END_PAD = 0.3
# another box is on the row when their overlap across the reading direction is at least this
# share of the smaller one's height
ROW_OVERLAP = 0.3
# rows of the pairwise comparison at a time (a dense page has thousands of boxes)
MARGIN_CHUNK = 64


def end_margins(quads, size: tuple[int, int], rows=None, pad: float | None = None) -> np.ndarray:
    """(len(rows), 2) image pixels the crops of quads[rows] (default: all) may reach past their
    start and their end, the other quads their neighbours (see END_PAD)."""
    pad = END_PAD if pad is None else pad
    q = np.asarray([as_quad(x) for x in quads], np.float64).reshape(-1, 4, 2)
    rows = np.arange(len(q)) if rows is None else np.asarray(rows, np.int64).reshape(-1)
    out = np.zeros((len(rows), 2))
    if len(rows) == 0 or pad <= 0:
        return out
    mine = q[rows]
    top = mine[:, 1] - mine[:, 0]
    w = np.linalg.norm(top, axis=1)
    u = top / np.maximum(w, 1e-9)[:, None]
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)  # across the line, downwards for upright text
    h = (np.linalg.norm(mine[:, 3] - mine[:, 0], axis=1) + np.linalg.norm(mine[:, 2] - mine[:, 1], axis=1)) / 2
    lim = np.array(size, np.float64)

    def room(p, d):  # how far p may move along d inside the image
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(d > 1e-9, (lim - p) / d, np.where(d < -1e-9, -p / d, np.inf))
        return np.maximum(r.min(axis=-1), 0.0)

    start = np.minimum(room(mine[:, 0], -u), room(mine[:, 3], -u))
    end = np.minimum(room(mine[:, 1], u), room(mine[:, 2], u))
    for c0 in range(0, len(rows), MARGIN_CHUNK):
        k = slice(c0, min(len(rows), c0 + MARGIN_CHUNK))
        d = q[None, :, :, :] - mine[k, None, None, 0, :]  # (k, n, 4, 2): all corners from my top-left
        a = np.einsum("knij,kj->kni", d, u[k])
        b = np.einsum("knij,kj->kni", d, v[k])
        amin, amax, bmin, bmax = a.min(-1), a.max(-1), b.min(-1), b.max(-1)
        hk, wk = h[k, None], w[k, None]
        overlap = np.minimum(bmax, hk) - np.maximum(bmin, 0.0)
        row = overlap >= ROW_OVERLAP * np.minimum(hk, bmax - bmin)
        row[np.arange(k.stop - k.start), rows[k]] = False  # not itself
        ahead = (amin + amax) / 2 > wk / 2
        gap_end = np.where(row & ahead, np.maximum(amin - wk, 0.0), np.inf).min(axis=1)
        gap_start = np.where(row & ~ahead, np.maximum(-amax, 0.0), np.inf).min(axis=1)
        start[k] = np.minimum(start[k], gap_start / 2)
        end[k] = np.minimum(end[k], gap_end / 2)
    out[:, 0] = np.minimum(pad * h, start)
    out[:, 1] = np.minimum(pad * h, end)
    return out


def widen(quad, ends) -> np.ndarray:
    """The quad reaching ends[0] pixels before its start and ends[1] past its end (reading direction)."""
    q = as_quad(quad).astype(np.float64)
    top = q[1] - q[0]
    u = top / max(float(np.linalg.norm(top)), 1e-9)
    q[[0, 3]] -= u * ends[0]
    q[[1, 2]] += u * ends[1]
    return q.astype(np.float32)


def make_crop(grey: Image.Image, quad, height: int, max_width: int = LONG_LINE_MAX, ends=(0.0, 0.0)) -> Crop:
    """Rectify `quad` of an "L" image to `height` rows (aspect kept, width capped), reaching `ends`
    pixels past its start and end (`end_margins`)."""
    q = as_quad(quad)
    if not (ends[0] or ends[1]):
        im = crop_quad(grey, q, out_height=height, max_width=max_width)
        return Crop(np.asarray(im, np.uint8), q)
    wide = widen(q, ends)
    im = crop_quad(grey, wide, out_height=height, max_width=max_width)
    return Crop(np.asarray(im, np.uint8), wide, q, (float(ends[0]), float(ends[1])))


def buckets(
    widths,
    ratio: float = BUCKET_RATIO,
    slack: int = BUCKET_SLACK,
    max_columns: int = MAX_BATCH_COLUMNS,
    max_batch: int = MAX_BATCH,
) -> list[list[int]]:
    """Group crop indices into batches of similar width (sorted by width)."""
    order = np.argsort(np.asarray(widths), kind="stable")
    out: list[list[int]] = []
    cur: list[int] = []
    first = 0
    for i in order:
        w = int(widths[i])
        if cur and (w > first * ratio + slack or (len(cur) + 1) * w > max_columns or len(cur) >= max_batch):
            out.append(cur)
            cur = []
        if not cur:
            first = w
        cur.append(int(i))
    if cur:
        out.append(cur)
    return out


def batch_input(
    crops: list[np.ndarray], mean: float, std: float, downsample: int, min_width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Crops (height, w_i) uint8 -> ([N, 1, height, W] float32, left offsets (N,)).

    W is the widest crop (at least `min_width`) rounded up to a multiple of
    `downsample`; each crop is padded with its own background (its median
    grey, text being the minority of a line's pixels). Crops narrower than
    `min_width` are centred; the offset says where each crop starts.
    """
    h = crops[0].shape[0]
    width = max(min_width, max(c.shape[1] for c in crops))
    width = -(-width // downsample) * downsample
    x = np.empty((len(crops), 1, h, width), np.float32)
    offsets = np.zeros(len(crops), np.int64)
    a, b = np.float32(1 / (255 * std)), np.float32(mean / std)
    for i, c in enumerate(crops):
        bg = np.float32(percentiles_u8(c, (50,))[0]) * a - b  # np.median's value
        x[i, 0] = bg
        off = (min_width - c.shape[1]) // 2 if c.shape[1] < min_width else 0
        offsets[i] = off
        x[i, 0, :, off : off + c.shape[1]] = c * a - b
    return x, offsets


def piece_bounds(pixels: np.ndarray, max_width: int = MAX_WIDTH) -> list[tuple[int, int, bool]]:
    """Where to cut a crop wider than `max_width`: [(start, end, cut_in_a_gap)], covering it.

    One piece (0, width, True) when it fits. Each cut lies in the last
    PIECE_SEARCH of a piece's room, at the middle of the longest run of
    columns without ink there (a word space when it is at least GAP_FACTOR x
    the height wide), else at the column with the least ink.
    """
    h, width = pixels.shape
    if width <= max_width:
        return [(0, width, True)]
    mask = ink_mask(pixels)
    ink = mask.sum(axis=0) if mask is not None else np.zeros(width, np.int64)
    out, start = [], 0
    while width - start > max_width:
        lo, hi = start + int(max_width * (1 - PIECE_SEARCH)), start + max_width
        window = ink[lo:hi]
        empty = np.concatenate([[0], (window == 0).astype(np.int8), [0]])
        d = np.diff(empty)
        runs_s, runs_e = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        if len(runs_s):
            lengths = (runs_e - runs_s)[::-1]
            k = len(lengths) - 1 - int(np.argmax(lengths))  # the longest, the last of equals
            cut = lo + (int(runs_s[k]) + int(runs_e[k])) // 2
            gap = bool(runs_e[k] - runs_s[k] >= GAP_FACTOR * h)
        else:
            cut, gap = hi - 1 - int(np.argmin(window[::-1])), False  # the last emptiest column
        cut = max(cut, start + 1)
        out.append((start, cut, gap))
        start = cut
    out.append((start, width, True))
    return out


def join_pieces(pieces: list["LineRead"], bounds, quad, width: int) -> "LineRead":
    """The LineReads of a long line's pieces -> one LineRead of the whole line (its quad).

    A cut in a gap separates words; a cut through ink glues the words on its
    two sides together again. Confidence: the mean over all characters.
    """
    words: list[WordRead] = []
    glue = False
    for rd, (a, b, gap) in zip(pieces, bounds):
        for i, w in enumerate(rd.words):
            u0, u1, v0, v1 = w.span
            span = (a / width + u0 * (b - a) / width, a / width + u1 * (b - a) / width, v0, v1)
            if glue and i == 0 and words:
                prev = words.pop()
                n0, n1 = len(prev.text), len(w.text)
                span = (prev.span[0], span[1], min(prev.span[2], v0), max(prev.span[3], v1))
                w = WordRead(
                    prev.text + w.text,
                    sub_quad(quad, *span),
                    (prev.confidence * n0 + w.confidence * n1) / max(1, n0 + n1),
                    span,
                )
            else:
                w = WordRead(w.text, w.quad, w.confidence, span)
            words.append(w)
        glue = not gap
    confs = [c for rd in pieces if rd.char_conf is not None for c in np.atleast_1d(rd.char_conf)]
    conf = float(np.mean(confs)) if confs else 0.0
    char_conf = np.asarray(confs, np.float32)
    return LineRead(
        as_quad(quad), " ".join(w.text for w in words), conf, words, char_conf, any(rd.flipped for rd in pieces)
    )


# ---------------------------------------------------------------- words


@dataclass
class WordRead:
    """A word of a LineRead (localocr.result.Word is the result's: this one also keeps its span)."""

    text: str
    quad: np.ndarray
    confidence: float
    span: tuple = (0.0, 1.0, 0.0, 1.0)  # (u0, u1, v0, v1): its part of the line quad, as fractions


@dataclass
class LineRead:
    """A recognised line: its quad (reading orientation), text, confidence and words."""

    quad: np.ndarray
    text: str
    confidence: float
    words: list = field(default_factory=list)
    char_conf: np.ndarray | None = None
    flipped: bool = False
    reread: bool = False  # read again by the accurate tier (its reading is this one)


# Word boxes: each word's top and bottom move to its own ink rows plus a
# margin of this share of the crop height (5 of 32 rows; about the detector's
# unclip margin), so a one-line box of short words gives word boxes of their
# height (a "to" beside a "Date:"). FUNSD validation, 32 pages, word-box hmean
# at IoU 0.5 with the shipped models: 0.783 with line-high word boxes; 0.808,
# 0.812, 0.810 with margins of 4, 5, 6 rows; 0.761 with 1 row (FUNSD's boxes
# keep some margin). IC15: 0.597 either way (12 pages).
WORD_BAND_MARGIN = 5 / 32
# Ink: a crop whose 5th-95th percentile spread is below this has too little
# contrast to find its ink reliably; its word boxes keep the full line height.
MIN_CONTRAST = 40
# Rows whose ink fraction is at least this share of the densest row's belong
# to the text band (below it: a neighbouring line's descenders, specks).
BAND_FRACTION = 0.1


def percentiles_u8(pixels: np.ndarray, qs) -> list[float]:
    """`np.percentile(pixels, qs)` (its default "linear" method, the same float64
    values) for uint8 data, from a 256-bin histogram instead of a sort: several
    times faster on a line crop, which matters in WASM."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        return [float(v) for v in np.percentile(a, qs)]
    cdf = np.cumsum(np.bincount(a.ravel(), minlength=256))
    n = int(cdf[-1])
    out = []
    for q in qs:
        pos = q / 100 * (n - 1)
        k = int(np.floor(pos))
        t = pos - k
        # the k-th and (k+1)-th smallest values (0-based): first value whose count exceeds the rank
        lo, hi = (float(v) for v in np.searchsorted(cdf, [k, min(k + 1, n - 1)], side="right"))
        # numpy's _lerp, operand order included, so the result is bit-identical
        out.append(hi - (hi - lo) * (1 - t) if t >= 0.5 else lo + (hi - lo) * t)
    return out


def ink_mask(pixels: np.ndarray) -> np.ndarray | None:
    """Text pixels of a line crop (dark on light or light on dark), or None at low contrast.

    The background is the crop's median (text is the minority of a line's
    pixels); ink is what lies beyond the midpoint towards the far extreme.
    """
    lo, med, hi = percentiles_u8(pixels, (5, 50, 95))
    a = pixels.astype(np.int16)
    if hi - lo < MIN_CONTRAST:
        return None
    if hi - med < med - lo:  # background bright: dark text
        return a < (med + lo) / 2
    return a > (med + hi) / 2


def _word_rows(ink_cols: np.ndarray, c0: int, c1: int, margin: float) -> tuple[float, float]:
    """(v0, v1): the rows the ink of columns [c0, c1) fills (any row with >= BAND_FRACTION of the
    densest row's ink), widened by `margin` (a share of the crop height), as fractions of it.

    `ink_cols`: the line's ink mask summed along each row, (rows, width + 1), starting with a
    zero column (`np.cumsum`): a word's row profile is then one subtraction, not a slice and
    a mean per word (the profile equals `ink[:, c0:c1].mean(axis=1)` bit for bit)."""
    width = ink_cols.shape[1] - 1
    c0, c1 = min(max(c0, 0), width), min(c1, width)
    if c1 <= c0:
        return 0.0, 1.0
    prof = (ink_cols[:, c1] - ink_cols[:, c0]).astype(np.float64) / (c1 - c0)
    if prof.max() <= 0:
        return 0.0, 1.0
    r = np.flatnonzero(prof >= BAND_FRACTION * prof.max())
    n = ink_cols.shape[0]
    return max(0.0, r[0] / n - margin), min(1.0, (r[-1] + 1) / n + margin)


def sub_quad(quad, u0: float, u1: float, v0: float = 0.0, v1: float = 1.0) -> np.ndarray:
    """The part [u0, u1] x [v0, v1] (fractions of width and height) of a quad, bilinearly, like Pillow's QUAD."""
    q = as_quad(quad).astype(np.float64)
    u = np.array([[u0], [u1], [u1], [u0]])
    v = np.array([[v0], [v0], [v1], [v1]])
    top = q[0] + u * (q[1] - q[0])
    bottom = q[3] + u * (q[2] - q[3])
    return (top + v * (bottom - top)).astype(np.float32)


def split_words(
    dec: Decoded,
    quad,
    content_width: int,
    offset: int,
    downsample: int,
    height: int,
    pixels: np.ndarray | None = None,
    band_margin: float = WORD_BAND_MARGIN,
    within: tuple[float, float] | None = None,
) -> list[WordRead]:
    """Split a decoded line at spaces into words with quads and confidences.

    Character centres come from their CTC steps (a step covers `downsample`
    input columns); a word spans its first to last character centre, widened
    by half the line's character pitch on each side, clamped to the crop. The
    crop's column u maps linearly along the quad's top and bottom edges (the
    Pillow QUAD transform is bilinear), which gives the word's quad.

    With the crop's `pixels` (height x content_width), each word's top and
    bottom move to the rows its ink fills, widened by `band_margin` of the crop
    height (its ends stay where its characters put them: fitting them to the ink
    too cost more on documents than it gained on scenes, see the README).

    `within` (crop columns, default the whole crop): the line's own box in a crop widened past it
    (`END_PAD`); the words' ends are clamped to it, or to their outer characters' centres where a
    character (a line's last comma) was read outside it.
    """
    chars = dec.text
    if not chars.strip():
        return []
    if dec.char_pos is not None:
        centres = dec.char_pos * downsample - offset
    else:
        centres = (dec.char_steps[:, 0] + dec.char_steps[:, 1] + 1) * downsample / 2.0 - offset
    is_space = np.array([c == " " for c in chars])
    # word index per character: count of spaces before it, only non-space chars kept
    word_id = np.cumsum(is_space)
    idx = np.flatnonzero(~is_space)
    wid = word_id[idx]
    same = wid[1:] == wid[:-1]
    diffs = np.diff(centres[idx])[same]
    # pitch: median distance between neighbouring characters of a word; a line
    # of one-letter words falls back to ~0.5 of the crop height (a glyph is
    # about half as wide as the line box is tall)
    pitch = float(np.median(diffs)) if len(diffs) else 0.5 * height
    ink = ink_mask(pixels) if pixels is not None and pixels.size else None
    groups = [idx[wid == w] for w in np.unique(wid)]
    lo, hi = (0.0, float(content_width)) if within is None else within
    # first estimate: first to last character centre, widened by half a pitch
    est = [
        (
            max(min(lo, centres[g[0]]), 0.0, centres[g[0]] - pitch / 2),
            min(max(hi, centres[g[-1]]), float(content_width), centres[g[-1]] + pitch / 2),
        )
        for g in groups
    ]
    ink_cols = None
    if ink is not None:
        ink_cols = np.zeros((ink.shape[0], ink.shape[1] + 1), np.int64)
        np.cumsum(ink, axis=1, out=ink_cols[:, 1:])
    words = []
    for k, sel in enumerate(groups):
        x0, x1 = est[k]
        if x1 <= x0:
            x1 = min(float(content_width), x0 + pitch)
        v0, v1 = 0.0, 1.0
        if ink_cols is not None:
            v0, v1 = _word_rows(ink_cols, int(x0), int(np.ceil(x1)), band_margin)
        u0, u1 = x0 / content_width, x1 / content_width
        words.append(
            WordRead(
                "".join(chars[i] for i in sel),
                sub_quad(quad, u0, u1, v0, v1),
                float(dec.char_conf[sel].mean()),
                (u0, u1, v0, v1),
            )
        )
    return words


def _line(dec: Decoded, crop: Crop, offset: int, downsample: int, height: int, flipped=False) -> LineRead:
    words = split_words(
        dec,
        crop.quad,
        crop.pixels.shape[1],
        offset,
        downsample,
        height,
        crop.pixels,
        within=_own_columns(crop),
    )
    # the line keeps the detector's quad: on SROIE's line boxes (10 validation
    # receipts, 11:42 checkpoints) it matched better (hmean 0.816) than the
    # quad fitted to its words' ink (0.783)
    return LineRead(crop.quad, " ".join(w.text for w in words), dec.confidence, words, dec.char_conf, flipped)


# ---------------------------------------------------------------- the stage


def recognize_steps(
    grey: Image.Image,
    quads,
    model,
    timings: dict | None = None,
    flip_check: bool = True,
    flip_below: float = FLIP_BELOW,
    max_width: int = MAX_WIDTH,
    accurate=None,
    reread_below: float | None = None,
):
    """Generator stage: yields (session, feeds), receives outputs; returns [LineRead].

    `model` is a models.Model with a RecognizerSpec. One LineRead per quad, in
    the order given (empty text when nothing was read). `timings` (a dict)
    gets "recognize_pre", "recognize_run" and "recognize_post" seconds added.

    Two tiers: with an `accurate` model (role "accurate"), the lines `model`
    read with a confidence below `reread_below` (default: the accurate model's
    own `localocr.reread_below`, calibrated on validation pages) are read again
    by it, in the orientation the fast tier settled on, and its reading is kept
    ("reread_pre/run/post" timings).
    """
    t = timings if timings is not None else {}
    spec = model.spec
    t0 = time.perf_counter()
    crops = [make_crop(grey, q, spec.height) for q in quads]
    _add(t, "recognize_pre", time.perf_counter() - t0)
    lines = yield from _read_crops(crops, model, t, max_width=max_width)
    if flip_check:
        low = [i for i, ln in enumerate(lines) if ln.confidence < flip_below]
        won = yield from _try_flipped(grey, crops, lines, low, model, t, max_width)
        if low and won >= PAGE_FLIP_VOTE * len(low) and len(low) >= PAGE_FLIP_SHARE * len(lines):
            rest = [i for i, ln in enumerate(lines) if i not in set(low) and not ln.flipped]
            # the page is upside down: here the flipped reading only has to be better
            yield from _try_flipped(grey, crops, lines, rest, model, t, max_width, margin=0.0)
    if accurate is not None:
        yield from reread_steps(
            grey, lines, accurate, t, reread_below, max_width * accurate.spec.height // model.spec.height
        )
    return lines


# A page of at most REREAD_ALL_UP_TO lines (a scene photo, a plate) has every line below
# REREAD_FEW_BELOW read again, without the model's cap (`localocr.reread_max`): a few crops more, and
# the fast tier's confident misreads of short scene words are where the accurate one wins. Chosen on
# *training* pages (IC15 200, plates 130; e2e word F1, the model's own 0.95 / at most 4 -> this rule):
# IC15 0.466 -> 0.485, plates 0.671 -> 0.665 (every line, below 2.0: 0.490 / 0.610, the accurate
# tier splitting plates at their printed gap, "EMR 7094"); FUNSD and SROIE unchanged (more lines).
# Validation: IC15 0.449 -> 0.485, plates 0.438 -> 0.493, FUNSD 0.676 and SROIE 0.714 unchanged.
REREAD_ALL_UP_TO = 8
REREAD_FEW_BELOW = 0.99


def reread_steps(
    grey: Image.Image,
    lines: list[LineRead],
    accurate,
    timings: dict | None = None,
    below: float | None = None,
    max_width: int = MAX_WIDTH,
    most: int | None = None,
    only=None,
):
    """Generator stage: read the lines of confidence < `below` again with the `accurate` model, at
    most `most` of them (0: all), the least confident first (in place; their `reread` flag set);
    `only`: of these indices alone. Defaults: the accurate model's `localocr.reread_below` /
    `localocr.reread_max`, or, on a page of at most REREAD_ALL_UP_TO lines, REREAD_FEW_BELOW and no
    cap. Their crops reach past the lines' ends (`END_PAD`, `end_margins`). Returns how many were
    read again."""
    t = timings if timings is not None else {}
    if below is None and most is None and only is None and len(lines) <= REREAD_ALL_UP_TO:
        below, most = REREAD_FEW_BELOW, 0  # a page of a few lines (a scene, a plate): it costs little
    below = accurate.spec.reread_below if below is None else below
    most = accurate.spec.reread_max if most is None else most
    pool = range(len(lines)) if only is None else sorted(set(only))
    which = sorted((i for i in pool if lines[i].confidence < below), key=lambda i: lines[i].confidence)
    which = sorted(which[:most] if most else which)
    if not which:
        return 0
    t0 = time.perf_counter()
    ends = end_margins([ln.quad for ln in lines], grey.size, which)
    crops = [make_crop(grey, lines[i].quad, accurate.spec.height, ends=e) for i, e in zip(which, ends)]
    _add(t, "reread_pre", time.perf_counter() - t0)
    again = yield from _read_crops(crops, accurate, t, key="reread", max_width=max_width)
    for i, ln in zip(which, again):
        ln.flipped, ln.reread = lines[i].flipped, True
        lines[i] = ln
    return len(which)


def _try_flipped(grey, crops, lines, which, model, t, max_width, margin=FLIP_MARGIN):
    """Read the lines `which` upside down; keep the better readings (in place). Returns how many won."""
    if not which:
        return 0
    t0 = time.perf_counter()
    flipped = [
        make_crop(grey, as_quad(line_quad(crops[i]))[[2, 3, 0, 1]], model.spec.height, ends=crops[i].ends[::-1])
        for i in which
    ]
    _add(t, "recognize_pre", time.perf_counter() - t0)
    again = yield from _read_crops(flipped, model, t, flipped=True, max_width=max_width)
    won = 0
    for i, ln in zip(which, again):
        if ln.confidence > lines[i].confidence + margin and ln.text:
            lines[i] = ln
            won += 1
    return won


def _read_crops(
    crops: list[Crop], model, t: dict, flipped: bool = False, key: str = "recognize", max_width: int = MAX_WIDTH
):
    """Read crops; one longer than `max_width` is read in pieces (`piece_bounds`) and joined."""
    pieces, owners, cuts = [], [], []
    for i, c in enumerate(crops):
        bounds = piece_bounds(c.pixels, max_width)
        cuts.append(bounds)
        w = c.pixels.shape[1]
        for a, b, _ in bounds:
            # a piece keeps the widened ends it has: its words stay clamped to the line's own box
            ends = (c.ends[0] if a == 0 else 0.0, c.ends[1] if b == w else 0.0)
            pieces.append(c if len(bounds) == 1 else Crop(c.pixels[:, a:b], sub_quad(c.quad, a / w, b / w), None, ends))
            owners.append(i)
    reads = yield from _read_pieces(pieces, model, t, flipped, key)
    out = []
    for i, c in enumerate(crops):
        mine = [rd for rd, o in zip(reads, owners) if o == i]
        rd = mine[0] if len(mine) == 1 else join_pieces(mine, cuts[i], c.quad, c.pixels.shape[1])
        if c.line is not None:
            rd.quad = as_quad(c.line)  # its words were placed on the widened quad; the line keeps its own
        out.append(rd)
    return out


def _own_columns(crop: Crop) -> tuple[float, float] | None:
    """The crop columns of the line's own box, in a crop widened past it (None: the whole crop)."""
    if not (crop.ends[0] or crop.ends[1]):
        return None
    width = crop.pixels.shape[1]
    scale = width / max(float(np.linalg.norm(as_quad(crop.quad)[1] - as_quad(crop.quad)[0])), 1e-9)
    return crop.ends[0] * scale, width - crop.ends[1] * scale


def line_quad(crop: Crop) -> np.ndarray:
    """The line's own quad of a crop (the detector's, not widened)."""
    return crop.quad if crop.line is None else crop.line


def _read_pieces(crops: list[Crop], model, t: dict, flipped: bool = False, key: str = "recognize"):
    spec = model.spec
    out: list[LineRead | None] = [None] * len(crops)
    min_width = int(round(spec.height * MIN_WIDTH_FACTOR))
    for batch in buckets([c.pixels.shape[1] for c in crops]):
        t0 = time.perf_counter()
        x, offsets = batch_input(
            [crops[i].pixels for i in batch], spec.mean[0], spec.std[0], spec.downsample, min_width
        )
        t1 = time.perf_counter()
        res = yield model.session, {mm.RECOGNIZER_INPUT: x}
        t2 = time.perf_counter()
        logits = np.asarray(res[mm.RECOGNIZER_OUTPUT])
        want = (len(batch), x.shape[3] // spec.downsample, len(spec.alphabet) + 1)
        if logits.shape != want:
            raise LocalOCRError(
                f"The recognizer returned logits of shape {logits.shape} for an input of "
                f"shape {x.shape}; its contract says {want}.",
                "bad_model",
            )
        decoded = ctc_greedy_batch(logits, spec.alphabet, spec.blank, spec.space_bias)
        for k, (i, dec) in enumerate(zip(batch, decoded)):
            out[i] = _line(dec, crops[i], int(offsets[k]), spec.downsample, spec.height, flipped)
        t3 = time.perf_counter()
        _add(t, f"{key}_pre", t1 - t0)
        _add(t, f"{key}_run", t2 - t1)
        _add(t, f"{key}_post", t3 - t2)
    return out


def _add(t: dict, key: str, dt: float) -> None:
    t[key] = t.get(key, 0.0) + dt
