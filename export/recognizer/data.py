"""Recognizer training data, pre-rendered to uint8 shards under .cache/rec/ (outside git).

    python -m export.recognizer.data real              # real crops of ../shared/data, train + validation
    python -m export.recognizer.data synth --shards 40 # synthetic lines, numbered after the existing ones
    python -m export.recognizer.data synth --forever   # keep rendering (niced) while training consumes

Real crops are cut from the ground-truth quads with `localocr.geometry.crop_quad`, the
pipeline's own rectification, at height 32 and natural width. Validation images
(`localocr.splits.is_validation`) go to `<set>_val.npz` only, cut from the exact quad;
training crops get a few jittered variants (tight/loose boxes, corner noise) so they
look like detector boxes.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import time

import numpy as np
from localocr.geometry import as_quad, crop_quad
from localocr.splits import is_validation
from PIL import Image

from export.charset import clean_label
from export.shards import CASE_FOLD, read_shard, write_jpeg_shard, write_shard
from export.synth.lines import HEIGHT, ctc_min_frames, sample_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# LOCALOCR_REC_CACHE: another shard folder (the GPU job carries a compressed copy, see `pack`)
CACHE = os.environ.get("LOCALOCR_REC_CACHE", os.path.join(ROOT, ".cache", "rec"))
DATA = os.environ.get("LOCALOCR_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))

# set name -> (which regions, training variants per crop). More variants for the small sets.
REAL_SETS = {
    "sroie_train": ("lines", 2),
    "funsd_train": ("words", 1),
    "iiit5k_train": ("crop", 3),
    "ic15_train": ("words", 3),
    "openalpr_plates": ("lines", 6),
    "tapuscorpus": ("lines", 3),
    # FUNSD's words grouped into lines (see `word_lines`): the recognizer meets form text as the
    # detector gives it, a line of words, and learns the word spaces a form line has (the word
    # crops alone have none: 223 of 447 missed FUNSD validation words were two words read as one)
    "funsd_lines": ("word_lines", 1),
}
# data set folder of a derived set (default: the set's own name)
SOURCE = {"funsd_lines": "funsd_train"}
REAL_MAX_WIDTH = 1600  # the longest real lines (70+ characters) at height 32


def _jitter_quad(rng: random.Random, quad: np.ndarray, img_size) -> np.ndarray:
    """A detector-like box around the ground-truth quad: grown/shrunk edges, noisy corners."""
    q = quad.copy()
    top, right = q[1] - q[0], q[2] - q[1]
    w = np.linalg.norm(top) + 1e-6
    h = np.linalg.norm(right) + 1e-6
    ux, uy = top / w, right / h
    t, b = rng.uniform(-0.06, 0.25) * h, rng.uniform(-0.06, 0.25) * h
    l, r = rng.uniform(-0.05, 0.6) * h, rng.uniform(-0.05, 0.6) * h
    q[0] += -ux * l - uy * t
    q[1] += ux * r - uy * t
    q[2] += ux * r + uy * b
    q[3] += -ux * l + uy * b
    q += np.array([[rng.gauss(0, 0.04 * h), rng.gauss(0, 0.04 * h)] for _ in range(4)], np.float32)
    q[:, 0] = np.clip(q[:, 0], 0, img_size[0] - 1)
    q[:, 1] = np.clip(q[:, 1], 0, img_size[1] - 1)
    return q


# Words join a line when their vertical extents overlap by at least this share of
# the smaller height and the gap between them is at most LINE_GAP heights (a
# wider gap is where the detector splits a form line too: columns, fields).
LINE_OVERLAP, LINE_GAP = 0.6, 1.5
# A word space is ~0.3-0.5 of the box height between the inks of two words; glyph
# spacing is under 0.2 (checked on crops: "Name/Phone Ext.:", "25-84", "PAGE # 1 of 4").
SPACE_GAP = 0.25
INK_LEVEL = 128  # a grey level darker than this is ink (FUNSD: dark print on light paper)


def _ink_span(grey: np.ndarray, box) -> tuple[float, float]:
    """First and last column (page x) with a dark pixel (< INK_LEVEL) inside the box; the box's own ends if none."""
    x0, y0, x1, y1 = (int(round(v)) for v in box[:4])
    cols = np.flatnonzero((grey[max(0, y0) : y1 + 1, max(0, x0) : x1 + 1] < INK_LEVEL).any(axis=0))
    return (box[0], box[2]) if not len(cols) else (max(0, x0) + cols[0], max(0, x0) + cols[-1] + 1)


def word_lines(words: list[dict], grey: np.ndarray) -> list[dict]:
    """Group a page's upright word regions into lines of two or more words, left to right:
    [{'text': the words, a space where the page shows one, 'quad': the axis-aligned box around them}]."""
    boxes = []
    for w in words:
        if w.get("ignore") or w.get("text") is None or not w["text"].strip():
            continue
        q = as_quad(w["quad"])
        boxes.append(
            (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()), w["text"])
        )
    lines: list[list[tuple]] = []
    for b in sorted(boxes):
        h = b[3] - b[1]
        for ln in lines:
            last = ln[-1]
            overlap = min(b[3], last[3]) - max(b[1], last[1])
            if overlap >= LINE_OVERLAP * min(h, last[3] - last[1]) and -0.2 * h <= b[0] - last[2] <= LINE_GAP * h:
                ln.append(b)
                break
        else:
            lines.append([b])
    out = []
    for ln in lines:
        if len(ln) < 2:
            continue
        x0, y0 = min(b[0] for b in ln), min(b[1] for b in ln)
        x1, y1 = max(b[2] for b in ln), max(b[3] for b in ln)
        # FUNSD cuts punctuation off as words of its own ("Name", "/", "Phone", "Ext.", ":" for
        # "Name/Phone Ext.:") and its boxes keep margins: a space only where the ink of two
        # neighbours is further apart than SPACE_GAP heights
        spans = [_ink_span(grey, b) for b in ln]
        text = ln[0][4]
        for k in range(1, len(ln)):
            h = min(ln[k - 1][3] - ln[k - 1][1], ln[k][3] - ln[k][1])
            text += (" " if spans[k][0] - spans[k - 1][1] > SPACE_GAP * h else "") + ln[k][4]
        out.append({"text": text, "quad": [x0, y0, x1, y0, x1, y1, x0, y1]})
    return out


def _to_sample(crop: Image.Image, max_width: int = REAL_MAX_WIDTH) -> np.ndarray | None:
    a = np.asarray(crop.convert("L"))
    return a if 4 <= a.shape[1] <= max_width else None


def real_crops(
    name: str, seed: int = 0, height: int = HEIGHT, downsample: int = 4, variants: int | None = None
) -> dict[str, tuple[list, list, list]]:
    """{'train': (images, labels, flags), 'val': (...)} for one data set, crops `height` rows high
    with at least the CTC frames their text needs at `downsample` columns a frame; `variants`
    jittered training crops per region (default: the set's own, REAL_SETS)."""
    which, variants = REAL_SETS[name][0], variants or REAL_SETS[name][1]
    rng = random.Random(seed)
    folder = os.path.join(DATA, SOURCE.get(name, name))
    out = {"train": ([], [], []), "val": ([], [], [])}
    flag = CASE_FOLD if name == "sroie_train" else 0
    dropped = 0
    with open(os.path.join(folder, "labels.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()]
    for rec in records:
        split = "val" if is_validation(rec["image"]) else "train"
        img = Image.open(os.path.join(folder, rec["image"])).convert("L")
        if which == "crop":
            regions = [{"text": rec["text"], "quad": [0, 0, img.width, 0, img.width, img.height, 0, img.height]}]
        elif which == "word_lines":
            regions = word_lines(rec.get("words") or [], np.asarray(img))
        else:
            regions = rec.get(which) or []
        for reg in regions:
            if reg.get("ignore") or reg.get("text") is None:
                continue
            text = clean_label(reg["text"])
            if text is None:
                dropped += 1
                continue
            quad = as_quad(reg["quad"])
            if split == "val":
                quads = [quad]
            elif which == "crop":  # already a crop: small inward jitter only
                quads = [quad] + [
                    quad
                    + np.array(
                        [
                            [rng.uniform(0, 0.04) * img.width * sx, rng.uniform(0, 0.06) * img.height * sy]
                            for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1))
                        ],
                        np.float32,
                    )
                    for _ in range(variants - 1)
                ]
            else:
                quads = [_jitter_quad(rng, quad, img.size) for _ in range(variants)]
            for q in quads:
                a = _to_sample(crop_quad(img, q, out_height=height), REAL_MAX_WIDTH * height // HEIGHT)
                if a is None or a.shape[1] // downsample < ctc_min_frames(text):
                    dropped += 1
                    continue
                out[split][0].append(a)
                out[split][1].append(text)
                out[split][2].append(flag)
    print(f"{name}: train {len(out['train'][0])} val {len(out['val'][0])} dropped {dropped}", flush=True)
    return out


def build_real() -> None:
    os.makedirs(os.path.join(CACHE, "real"), exist_ok=True)
    for name in REAL_SETS:
        if not os.path.exists(os.path.join(DATA, SOURCE.get(name, name), "labels.jsonl")):
            print(f"{name}: missing, skipped", flush=True)
            continue
        parts = real_crops(name)
        for split, (ims, labels, flags) in parts.items():
            write_shard(os.path.join(CACHE, "real", f"{name}_{split}.npz"), ims, labels, flags)


SYNTH_VAL_SEED = 999_999  # fixed stream for the synthetic validation shard (never a training seed)


def build_synth_val(n: int = 1000) -> None:
    rng = random.Random(SYNTH_VAL_SEED)
    ims, labels = zip(*(sample_line(rng) for _ in range(n)))
    os.makedirs(os.path.join(CACHE, "real"), exist_ok=True)
    write_shard(os.path.join(CACHE, "real", "synth_val.npz"), list(ims), list(labels))


def synth_shards(start: int | None, count: int | None, per_shard: int, forever: bool, keep: int) -> None:
    """Render shards synth/train_<k>.npz, seed = k; with `forever`, delete the oldest beyond `keep`."""
    folder = os.path.join(CACHE, "synth")
    os.makedirs(folder, exist_ok=True)
    existing = sorted(glob.glob(os.path.join(folder, "train_*.npz")))
    k = start if start is not None else (int(existing[-1][-10:-4]) + 1 if existing else 0)
    done = 0
    while forever or done < (count or 0):
        t = time.time()
        rng = random.Random(k)
        ims, labels = zip(*(sample_line(rng) for _ in range(per_shard)))
        write_shard(os.path.join(folder, f"train_{k:06d}.npz"), list(ims), list(labels))
        print(f"synth shard {k}: {per_shard} lines in {time.time() - t:.1f}s", flush=True)
        k += 1
        done += 1
        if forever and keep:
            for old in sorted(glob.glob(os.path.join(folder, "train_*.npz")))[:-keep]:
                os.remove(old)


def pack(out: str) -> None:
    """Real shards as JPEG-packed copies for the GPU job's 64 MiB carry: training shards
    keep one crop of each run of jittered variants (the GPU job trains for minutes),
    validation shards the strided subset of at most 1000 that training validates on."""
    os.makedirs(os.path.join(out, "real"), exist_ok=True)
    for f in sorted(glob.glob(os.path.join(CACHE, "real", "*.npz"))):
        ims, labels, flags = read_shard(f)
        if f.endswith("_train.npz"):
            keep = [i for i in range(len(labels)) if i == 0 or labels[i] != labels[i - 1]]
            # the two big sets at half: carry = working tree + checkpoint + this, under 64 MiB
            keep = keep[::2] if os.path.basename(f).startswith(("sroie", "funsd")) else keep
            ims, labels, flags = [ims[i] for i in keep], [labels[i] for i in keep], flags[keep]
        else:  # validation: the strided subset the training run validates on (--val-limit 1000)
            keep = list(range(0, len(labels), max(1, -(-len(labels) // 1000))))
            ims, labels, flags = [ims[i] for i in keep], [labels[i] for i in keep], flags[keep]
        dst = os.path.join(out, "real", os.path.basename(f))
        write_jpeg_shard(dst, ims, labels, flags)
        print(f"{dst}: {len(labels)} crops, {os.path.getsize(dst)} bytes", flush=True)
    pack_assets(os.path.join(out, "assets"))


# A small, varied font subset for the GPU machine, which has no fonts: sans, serif, mono,
# narrow, OCR-B; regular, bold, italic (~7 MB).
GPU_FONTS = [
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSerif-Bold.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSansCondensed-Oblique.ttf",
    "liberation2/LiberationSans-Regular.ttf",
    "liberation2/LiberationSerif-Italic.ttf",
    "liberation2/LiberationMono-Bold.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf",
    "crosextra/Carlito-Bold.ttf",
    "crosextra/Caladea-Regular.ttf",
    "freefont/FreeMono.ttf",
    "freefont/FreeSerifItalic.ttf",
    "inconsolata/Inconsolata.otf",
    "firacode/FiraCode-Regular.ttf",
    "roboto/unhinted/RobotoTTF/Roboto-Regular.ttf",
    "open-sans/OpenSans-Bold.ttf",
    "noto/NotoSans-Italic.ttf",
    "noto/NotoSerif-Regular.ttf",
]


def pack_assets(out: str) -> None:
    """Fonts, the word list and prose for rendering synthetic lines on the GPU machine."""
    import shutil

    from export.synth.text import words

    os.makedirs(os.path.join(out, "fonts"), exist_ok=True)
    os.makedirs(os.path.join(out, "prose"), exist_ok=True)
    for f in GPU_FONTS + ["../opentype/ocr-b/OCRB.otf", "../opentype/urw-base35/C059-Roman.otf"]:
        src = os.path.normpath(os.path.join("/usr/share/fonts/truetype", f))
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out, "fonts", os.path.basename(src)))
    with open(os.path.join(out, "words.txt"), "w") as fh:
        fh.write("\n".join(words()) + "\n")
    for f in glob.glob("/usr/share/common-licenses/*"):
        if os.path.isfile(f) and not os.path.islink(f):
            shutil.copyfile(f, os.path.join(out, "prose", os.path.basename(f)))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["real", "synth", "synth-val", "all", "pack"])
    p.add_argument("--out", default=os.path.join(ROOT, ".cache", "rec-gpu"), help="pack: output folder")
    p.add_argument("--shards", type=int, default=20)
    p.add_argument("--per-shard", type=int, default=5000)
    p.add_argument("--start", type=int, default=None)
    p.add_argument("--forever", action="store_true")
    p.add_argument("--keep", type=int, default=0, help="with --forever: keep only the newest N shards")
    a = p.parse_args(argv)
    if a.what == "pack":
        pack(a.out)
        return
    if a.what in ("real", "all"):
        build_real()
    if a.what in ("synth-val", "all", "real"):
        build_synth_val()
    if a.what in ("synth", "all"):
        synth_shards(a.start, a.shards, a.per_shard, a.forever, a.keep)


if __name__ == "__main__":
    main(sys.argv[1:])
