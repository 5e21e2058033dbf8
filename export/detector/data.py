"""Detector training data: ground truth loading, DB targets, on-disk shards, random crops.

Pages (synthetic and real) are pre-computed once into uint8 shards under .cache/det/
(`python -m export.detector.data --synth N`): per page the RGB image and, at 1/2 resolution
(the model's output resolution), the DB targets:
  gt     1 inside the *shrunk* text polygon (the probability-map target)
  mask   1 where the loss counts (0 inside ignore regions and outside a plate's margin)
  thresh threshold-map target in [0, 1] (x255), the DBNet distance map around the borders
  tmask  1 inside the *dilated* polygon, where the threshold loss counts
Training then only crops and rescales these arrays (`Sampler.batch`), so data never
starves the model on a single CPU core.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time

import numpy as np
from localocr.splits import is_validation
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("LOCALOCR_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
CACHE = os.path.join(ROOT, ".cache", "det")
# The real sets the detector trains on and is validated on (each split by image: localocr.splits).
REAL_SETS = ("funsd_train", "sroie_train", "ic15_train", "openalpr_plates")

# DB shrink ratio r: shrink distance D = A (1 - r^2) / L. DBNet uses 0.4 at full output
# resolution; our map is 1/2 resolution and boxes are long thin lines, where the shrunk
# kernel keeps r^2 of the height: 0.6 leaves 36% (a 10 px line keeps ~1.8 map pixels).
SHRINK_RATIO = 0.6
# DBNet's threshold-map value range.
THRESH_MIN, THRESH_MAX = 0.3, 0.7
MAX_SIDE = 1280  # long side of a stored page: keeps 1280x720 scene images at full size


# ---------------------------------------------------------------- ground truth


def _quad(q) -> np.ndarray:
    return np.asarray(q, np.float32).reshape(4, 2)


def group_words_into_lines(words: list[np.ndarray]) -> list[np.ndarray]:
    """Merge axis-aligned word quads into line quads: same row (vertical overlap >= half the
    smaller height), similar height, and a horizontal gap below ~1.2 x the height (a wider
    gap is a column or a label/value split)."""
    boxes = sorted((np.concatenate([q.min(0), q.max(0)]) for q in words), key=lambda b: b[0])
    lines: list[list[float]] = []
    for b in boxes:
        h = b[3] - b[1]
        best = None
        for ln in lines:
            lh = ln[3] - ln[1]
            ov = min(b[3], ln[3]) - max(b[1], ln[1])
            gap = b[0] - ln[2]
            if ov >= 0.5 * min(h, lh) and 0.6 < h / max(lh, 1e-3) < 1.6 and -0.3 * h <= gap <= 1.2 * max(h, lh):
                best = ln
                break
        if best is None:
            lines.append(list(b))
        else:
            best[0], best[1] = min(best[0], b[0]), min(best[1], b[1])
            best[2], best[3] = max(best[2], b[2]), max(best[3], b[3])
    return [np.array([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]], np.float32) for b in lines]


def load_real(name: str, validation: bool) -> list[dict]:
    """Pages of one real set: {'path', 'quads' [N,4,2], 'ignore' [N] bool, 'plate' bool}.
    FUNSD word boxes are grouped into lines (the model's granularity); IC15 keeps words."""
    root = os.path.join(DATA, name)
    out = []
    with open(os.path.join(root, "labels.jsonl"), encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            path = os.path.join(root, rec["image"])
            if is_validation(path) != validation:
                continue
            regions = rec.get("lines") if name != "ic15_train" and "lines" in rec else rec.get("words", [])
            quads, ign = [], []
            if name == "funsd_train":
                keep = [_quad(r["quad"]) for r in regions if not r.get("ignore")]
                quads = group_words_into_lines(keep)
                ign = [False] * len(quads)
                for r in regions:
                    if r.get("ignore"):
                        quads.append(_quad(r["quad"]))
                        ign.append(True)
            else:
                for r in regions:
                    quads.append(_quad(r["quad"]))
                    ign.append(bool(r.get("ignore")))
            out.append(
                {
                    "path": path,
                    "quads": np.stack(quads) if quads else np.zeros((0, 4, 2), np.float32),
                    "ignore": np.array(ign, bool),
                    "plate": name == "openalpr_plates",
                    "set": name,
                }
            )
    return out


# ---------------------------------------------------------------- DB targets


def _poly_area_perimeter(q: np.ndarray) -> tuple[float, float]:
    x, y = q[:, 0], q[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    per = float(np.linalg.norm(q - np.roll(q, -1, 0), axis=1).sum())
    return float(area), per


def _cross2(a, b) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def offset_quad(q: np.ndarray, d: float) -> np.ndarray | None:
    """Move every edge of a convex quad by d (positive = outward), intersecting adjacent edges.
    Returns None when an inward offset collapses the quad."""
    c = q.mean(0)
    lines = []
    for i in range(4):
        a, b = q[i].astype(np.float64), q[(i + 1) % 4].astype(np.float64)
        t = b - a
        n = np.linalg.norm(t)
        if n < 1e-6:
            return None
        t /= n
        nrm = np.array([-t[1], t[0]])
        if np.dot(nrm, (a + b) / 2 - c) < 0:  # make the normal point outward
            nrm = -nrm
        lines.append((a + nrm * d, t))
    out = []
    for i in range(4):
        (p1, t1), (p2, t2) = lines[i - 1], lines[i]
        den = t1[0] * t2[1] - t1[1] * t2[0]
        if abs(den) < 1e-9:
            return None
        s = ((p2[0] - p1[0]) * t2[1] - (p2[1] - p1[1]) * t2[0]) / den
        out.append(p1 + s * t1)
    out = np.array(out, np.float32)
    if d < 0:  # collapsed if orientation flips or area vanishes
        a0, _ = _poly_area_perimeter(q)
        a1, _ = _poly_area_perimeter(out)
        v0 = _cross2(q[1] - q[0], q[2] - q[1])
        v1 = _cross2(out[1] - out[0], out[2] - out[1])
        if a1 < 1e-3 or np.sign(v0) != np.sign(v1) or a1 > a0:
            return None
    return out


def _fill(img: Image.Image, q: np.ndarray, value: int) -> None:
    ImageDraw.Draw(img).polygon([tuple(map(float, p)) for p in q], fill=value)


def _seg_dist(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    L2 = float(ab @ ab) + 1e-9
    t = np.clip(((px - a[0]) * ab[0] + (py - a[1]) * ab[1]) / L2, 0, 1)
    return np.hypot(px - (a[0] + t * ab[0]), py - (a[1] + t * ab[1]))


def db_targets(
    h: int,
    w: int,
    quads: np.ndarray,
    ignore: np.ndarray,
    scale: float = 0.5,
    shrink_ratio: float = SHRINK_RATIO,
    min_size: float = 1.0,
) -> dict[str, np.ndarray]:
    """DB targets at `scale` x the page size (h, w). Quads in page pixels.

    A region whose shorter side at the map scale is below `min_size` pixels, or whose shrunk
    polygon collapses, is treated as ignore (no supervision either way)."""
    H, W = max(1, round(h * scale)), max(1, round(w * scale))
    gt = Image.new("L", (W, H), 0)
    mask = Image.new("L", (W, H), 1)
    tmask = Image.new("L", (W, H), 0)
    thresh = np.zeros((H, W), np.float32)
    for q0, ig in zip(quads, ignore):
        q = q0 * scale
        short = min(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[1] - q[2]))
        if ig or short < min_size:
            _fill(mask, q, 0)
            continue
        area, per = _poly_area_perimeter(q)
        D = area * (1 - shrink_ratio**2) / max(per, 1e-6)
        s = offset_quad(q, -D)
        if s is None:
            _fill(mask, q, 0)
            continue
        _fill(gt, s, 1)
        big = offset_quad(q, D)
        _fill(tmask, big, 1)
        x0, y0 = np.floor(big.min(0)).astype(int)
        x1, y1 = np.ceil(big.max(0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W - 1), min(y1, H - 1)
        if x1 < x0 or y1 < y0:
            continue
        px, py = np.meshgrid(np.arange(x0, x1 + 1, dtype=np.float32), np.arange(y0, y1 + 1, dtype=np.float32))
        dist = np.min([_seg_dist(px, py, q[i], q[(i + 1) % 4]) for i in range(4)], axis=0)
        val = 1 - np.clip(dist / max(D, 1e-6), 0, 1)
        thresh[y0 : y1 + 1, x0 : x1 + 1] = np.maximum(thresh[y0 : y1 + 1, x0 : x1 + 1], val)
    return {
        "gt": np.asarray(gt, np.uint8),
        "mask": np.asarray(mask, np.uint8),
        "thresh": (thresh * 255).round().astype(np.uint8),
        "tmask": np.asarray(tmask, np.uint8),
    }


def plate_mask(h: int, w: int, quads: np.ndarray, scale: float = 0.5) -> np.ndarray:
    """Loss mask for a plate photo, where only the plate is annotated: the loss counts only
    near the plate (the car, street and other signs around it hold unlabelled text), and not
    in a band just above/below/beside it where plate frames print dealer names and slogans."""
    H, W = max(1, round(h * scale)), max(1, round(w * scale))
    m = Image.new("L", (W, H), 0)
    for q0 in quads:
        q = q0 * scale
        x0, y0 = q.min(0)
        x1, y1 = q.max(0)
        bw, bh = x1 - x0, y1 - y0
        # margin one plate width/1.5 plate heights around it: enough background to learn
        # "car body is not text", small enough to rarely contain another sign.
        ImageDraw.Draw(m).rectangle([x0 - bw, y0 - 1.5 * bh, x1 + bw, y1 + 1.5 * bh], fill=1)
    for q0 in quads:
        q = q0 * scale
        x0, y0 = q.min(0)
        x1, y1 = q.max(0)
        bw, bh = x1 - x0, y1 - y0
        ImageDraw.Draw(m).rectangle([x0 - 0.15 * bw, y0 - 0.8 * bh, x1 + 0.15 * bw, y1 + 0.8 * bh], fill=0)
        _fill(m, q, 1)
    return np.asarray(m, np.uint8)


# ---------------------------------------------------------------- shards


def _median_height(quads: np.ndarray, ignore: np.ndarray) -> float:
    keep = quads[~ignore] if len(quads) else quads
    if len(keep) == 0:
        return 20.0  # an unannotated page: assume ordinary text size for the scale augmentation
    # the text height of a line/word box is its shorter side (also for sideways pages)
    hs = [min(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[1] - q[2])) for q in keep]
    return float(np.median(hs))


def make_record(img: np.ndarray, quads: np.ndarray, ignore: np.ndarray, plate: bool = False) -> dict:
    """Resize a page to <= MAX_SIDE and compute its stored arrays and crop hints."""
    h, w = img.shape[:2]
    s = min(1.0, MAX_SIDE / max(h, w))
    if s < 1.0:
        img = np.asarray(Image.fromarray(img).resize((round(w * s), round(h * s)), Image.BILINEAR))
        quads = quads * s
    h, w = img.shape[:2]
    t = db_targets(h, w, quads, ignore)
    if plate:
        t["mask"] = t["mask"] * plate_mask(h, w, quads)
    keep = ~ignore if len(quads) else np.zeros(0, bool)
    centres = quads[keep].mean(1) if keep.any() else np.zeros((0, 2), np.float32)
    return {"img": img, **t, "centres": centres.astype(np.float32), "height": np.float32(_median_height(quads, ignore))}


def save_record(path: str, rec: dict) -> None:
    np.savez(path, **rec)


def build_real(out: str = CACHE) -> None:
    for name in REAL_SETS:
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        pages = load_real(name, validation=False)
        t0 = time.time()
        for p in pages:
            dst = os.path.join(d, os.path.splitext(os.path.basename(p["path"]))[0] + ".npz")
            if os.path.exists(dst):
                continue
            img = np.asarray(Image.open(p["path"]).convert("RGB"))
            save_record(dst, make_record(img, p["quads"], p["ignore"], p["plate"]))
        print(f"{name}: {len(pages)} train pages in {time.time() - t0:.1f}s", flush=True)


def _synth_one(args) -> None:
    i, seed, d, kind = args
    from export.synth.pages import render_page

    dst = os.path.join(d, f"{kind + '_' if kind else ''}{i:06d}.npz")
    if os.path.exists(dst):
        return
    # page i (of a kind) is the same page on every machine
    rng = np.random.default_rng([seed, i] if kind is None else [seed, i, sum(map(ord, kind))])
    img, quads = render_page(rng, kind)
    save_record(dst + ".tmp.npz", make_record(img, quads, np.zeros(len(quads), bool)))
    os.replace(dst + ".tmp.npz", dst)  # a reader never sees a half-written page


def build_synth(
    n: int, start: int = 0, seed: int = 1234, out: str = CACHE, procs: int = 1, kind: str | None = None
) -> None:
    """n synthetic pages into <out>/synth: of random kinds, or all of one `kind` (file names <kind>_<i>)."""
    d = os.path.join(out, "synth")
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    jobs = [(i, seed, d, kind) for i in range(start, start + n)]
    if procs > 1:
        from multiprocessing import Pool

        with Pool(procs) as pool:
            for k, _ in enumerate(pool.imap_unordered(_synth_one, jobs, chunksize=8)):
                if k % 500 == 499:
                    print(f"synth {k + 1}/{n} {time.time() - t0:.0f}s", flush=True)
    else:
        for k, j in enumerate(jobs):
            _synth_one(j)
            if k % 200 == 199:
                print(f"synth {k + 1}/{n} {time.time() - t0:.0f}s", flush=True)


# real pages re-encoded, and fonts sampled, to fit the GPU job's 64 MiB carry with a checkpoint
PACK_SIDE, PACK_QUALITY, PACK_FONTS, PACK_FONT_BYTES = 896, 80, 32, 500_000


def write_pack(path: str) -> None:
    """All real *training* pages in one compact file (JPEG bytes + boxes) for a GPU machine
    that cannot see ../shared/data; `build_from_pack` rebuilds the shards there."""
    import io

    items = []
    for name in REAL_SETS:
        for p in load_real(name, validation=False):
            im = Image.open(p["path"]).convert("RGB")
            s = min(1.0, PACK_SIDE / max(im.size))
            if s < 1:
                im = im.resize((round(im.width * s), round(im.height * s)), Image.BILINEAR)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=PACK_QUALITY)
            items.append(
                {
                    "set": name,
                    "name": os.path.splitext(os.path.basename(p["path"]))[0],
                    "jpeg": buf.getvalue(),
                    "quads": p["quads"] * s,
                    "ignore": p["ignore"],
                    "plate": p["plate"],
                }
            )
    import pickle
    import shutil

    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "pages.pkl"), "wb") as f:
        pickle.dump(items, f, protocol=4)
    # the renderer's fonts and word list travel too (the GPU machine has no font packages)
    from export.synth.pages import FONTS

    os.makedirs(os.path.join(path, "fonts"), exist_ok=True)
    small = [f for f in FONTS if os.path.getsize(f) <= PACK_FONT_BYTES]
    for fp in small[:: max(1, len(small) // PACK_FONTS)]:
        shutil.copyfile(fp, os.path.join(path, "fonts", os.path.basename(fp)))
    if os.path.exists("/usr/share/dict/words"):
        shutil.copyfile("/usr/share/dict/words", os.path.join(path, "words.txt"))
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)
    nf = len(os.listdir(os.path.join(path, "fonts")))
    print(f"pack: {len(items)} pages, {nf} fonts, {size / 2**20:.1f} MiB in {path}", flush=True)


def _unpack_one(args) -> None:
    import io

    it, out = args
    d = os.path.join(out, it["set"])
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, it["name"] + ".npz")
    if not os.path.exists(dst):
        img = np.asarray(Image.open(io.BytesIO(it["jpeg"])).convert("RGB"))
        save_record(dst, make_record(img, it["quads"], it["ignore"], it["plate"]))


def build_from_pack(path: str, out: str = CACHE, procs: int = 1) -> None:
    import pickle

    with open(os.path.join(path, "pages.pkl"), "rb") as f:
        items = pickle.load(f)
    jobs = [(it, out) for it in items]
    if procs > 1:
        from multiprocessing import Pool

        with Pool(procs) as pool:
            list(pool.imap_unordered(_unpack_one, jobs, chunksize=4))
    else:
        for j in jobs:
            _unpack_one(j)
    print(f"unpacked {len(items)} real pages into {out}", flush=True)


# ---------------------------------------------------------------- sampling crops


def _shards(root: str, source: str) -> list[str]:
    return sorted(f for f in glob.glob(os.path.join(root, source, "*.npz")) if not f.endswith(".tmp.npz"))


class Sampler:
    """Random training crops from the shards, with scale augmentation.

    Each crop picks a source by weight, a page, a target median text height log-uniform
    in [8, 60] px (the size range the pipeline feeds the model), rescales so the page's
    median line height lands there, and crops `size` x `size` around a random text box
    (or anywhere, 15% of the time, for pure background). With `big` = (share, max_h), that
    share of the crops draws the height in [60, max_h] px instead: display text and signs
    (issue 16: words of 50 px and more were the detector's weak spot)."""

    def __init__(
        self,
        root: str = CACHE,
        weights: dict[str, float] | None = None,
        seed: int = 0,
        big: tuple[float, float] = (0.0, 60.0),
    ):
        # scene text (IC15) is the hardest target and the least like the synthetic pages
        self.weights = weights or {
            "synth": 0.40,
            "funsd_train": 0.13,
            "sroie_train": 0.13,
            "ic15_train": 0.24,
            "openalpr_plates": 0.10,
        }
        self.files = {k: _shards(root, k) for k in self.weights}
        self.files = {k: v for k, v in self.files.items() if v}
        if not self.files:
            raise FileNotFoundError(f"no shards under {root}: run `make det-data`")
        self.rng = np.random.default_rng(seed)
        self.big = big

    def refresh(self, root: str = CACHE) -> None:
        """Pick up pages written since start (the synth builder can run beside training)."""
        for k in self.weights:
            f = _shards(root, k)
            if f:
                self.files[k] = f

    def sample(self, size: int) -> tuple[np.ndarray, ...]:
        rng = self.rng
        keys = list(self.files)
        p = np.array([self.weights[k] for k in keys], np.float64)
        k = keys[rng.choice(len(keys), p=p / p.sum())]
        with np.load(self.files[k][rng.integers(len(self.files[k]))]) as z:
            rec = {n: z[n] for n in z.files}
        return crop(rec, size, rng, self.big)

    def batch(self, n: int, size: int) -> tuple[np.ndarray, ...]:
        items = [self.sample(size) for _ in range(n)]
        return tuple(np.stack(x) for x in zip(*items))


def _resize_region(a: np.ndarray, box: tuple[float, float, float, float], out: int, resample, fill) -> np.ndarray:
    """Crop box (x0, y0, x1, y1, may leave the array) and resize to out x out, padding with fill."""
    H, W = a.shape[:2]
    x0, y0, x1, y1 = box
    sx = out / (x1 - x0)
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    res = np.empty((out, out) + a.shape[2:], a.dtype)
    res[...] = fill
    if cx1 - cx0 < 1 or cy1 - cy0 < 1:
        return res
    ox0, oy0 = int(round((cx0 - x0) * sx)), int(round((cy0 - y0) * sx))
    ox1, oy1 = min(out, int(round((cx1 - x0) * sx))), min(out, int(round((cy1 - y0) * sx)))
    if ox1 <= ox0 or oy1 <= oy0:
        return res
    im = Image.fromarray(a).resize((ox1 - ox0, oy1 - oy0), resample, box=(cx0, cy0, cx1, cy1))
    res[oy0:oy1, ox0:ox1] = np.asarray(im)
    return res


# Text heights a crop is scaled to: log-uniform in [8, 60] px, or in [60, big max] for the big share.
BASE_TEXT_H = (8.0, 60.0)


def crop(
    rec: dict, size: int, rng: np.random.Generator, big: tuple[float, float] = (0.0, 60.0)
) -> tuple[np.ndarray, ...]:
    """One augmented crop: image uint8 [size,size,3] and targets at size/2."""
    img = rec["img"]
    H, W = img.shape[:2]
    share, big_h = big
    lo, hi = (BASE_TEXT_H[1], big_h) if share > 0 and big_h > BASE_TEXT_H[1] and rng.random() < share else BASE_TEXT_H
    target_h = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    # up to 3x for the base range; a big crop may enlarge a page further (a photo's sign up close)
    s = float(np.clip(target_h / max(float(rec["height"]), 1.0), 0.15, 3.0 if hi <= BASE_TEXT_H[1] else 8.0))
    side = size / s
    cen = rec["centres"]
    if len(cen) and rng.random() < 0.85:
        c = cen[rng.integers(len(cen))]
        x0 = c[0] - rng.uniform(0.1, 0.9) * side
        y0 = c[1] - rng.uniform(0.1, 0.9) * side
    else:
        x0 = rng.uniform(min(0, W - side), max(0, W - side))
        y0 = rng.uniform(min(0, H - side), max(0, H - side))
    fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    box = (x0, y0, x0 + side, y0 + side)
    out_img = _resize_region(img, box, size, Image.BILINEAR, fill)
    hb = tuple(v / 2 for v in box)
    half = size // 2
    gt = _resize_region(rec["gt"], hb, half, Image.NEAREST, 0)
    mask = _resize_region(rec["mask"], hb, half, Image.NEAREST, 1)
    thresh = _resize_region(rec["thresh"], hb, half, Image.BILINEAR, 0)
    tmask = _resize_region(rec["tmask"], hb, half, Image.NEAREST, 0)
    # photometric: invert (light-on-dark), channel swap, brightness/contrast
    if rng.random() < 0.1:
        out_img = 255 - out_img
    if rng.random() < 0.3:
        out_img = out_img[..., rng.permutation(3)]
    if rng.random() < 0.3:
        a, b = rng.uniform(0.7, 1.3), rng.uniform(-30, 30)
        out_img = np.clip(out_img.astype(np.float32) * a + b, 0, 255).astype(np.uint8)
    k = int(rng.integers(4)) if rng.random() < 0.1 else 0  # quarter turns
    if k:
        out_img, gt, mask, thresh, tmask = (
            np.ascontiguousarray(np.rot90(x, k)) for x in (out_img, gt, mask, thresh, tmask)
        )
    return out_img, gt, mask, thresh, tmask


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Pre-compute detector training shards into .cache/det/")
    ap.add_argument("--real", action="store_true", help="real train pages of " + ", ".join(REAL_SETS))
    ap.add_argument("--synth", type=int, default=0, help="number of synthetic pages")
    ap.add_argument("--synth-start", type=int, default=0)
    ap.add_argument("--synth-kind", help="render only this kind of page (e.g. sign: big display text)")
    ap.add_argument("--procs", type=int, default=1, help="processes for rendering")
    ap.add_argument("--pack", help="write real train pages + fonts + words into this folder (GPU job)")
    ap.add_argument("--from-pack", help="build the real shards from a pack folder instead of ../shared/data")
    ap.add_argument("--out", default=CACHE)
    a = ap.parse_args(argv)
    if a.pack:
        write_pack(a.pack)
    if a.from_pack:
        build_from_pack(a.from_pack, a.out, a.procs)
    if a.real:
        build_real(a.out)
    if a.synth:
        build_synth(a.synth, a.synth_start, out=a.out, procs=a.procs, kind=a.synth_kind)


if __name__ == "__main__":
    main()
