"""Backbone features and teacher log-probabilities of recognizer crops, computed once.

    python -m export.pretrained.features real            # real sets, train + validation
    python -m export.pretrained.features synth --shard K # 4,000 synthetic lines, seed K

The backbone is frozen, so its features are computed once per crop and the head trains on
them for many epochs in minutes. A shard (.cache/rec48/<name>.npz) holds for n crops:
  feats    float16 [sum(T), 384]   backbone features, frames of all crops back to back
  teacher  float16 [sum(T), 159]   PP-OCRv6's own neck + head on them, pruned to ALPHABET (log p)
  frames   int32 [n]               T of each crop: its content's frames (ceil((offset + w) / 8))
  labels, flags                    as in export/shards.py
  pixels, widths                   the grey crops themselves (validation shards only: the
                                   exported model is evaluated on them end to end)

Crops are cut at height 48 by the pipeline's own rectification and padded by the pipeline's
own `batch_input` (median grey, narrow crops centred), grey in all three input channels.
IIIT5K is never trained on: all of it is the unseen-scene-crops test (`iiit5k_test`).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

import numpy as np
from localocr.recognition import batch_input, buckets

from export.pretrained import ppocr
from export.recognizer.data import DATA, real_crops
from export.synth.lines import render_line, sample_line
from export.synth.text import mrz

ROOT = ppocr.ROOT
CACHE = os.environ.get("LOCALOCR_REC48_CACHE", os.path.join(ROOT, ".cache", "rec48"))
# real set -> jittered training variants per region (fewer than the 32-px CRNN's: the features
# cost ~30 ms a word crop on one core, and the frozen backbone needs no pixel-level augmentation)
TRAIN_SETS = {
    "sroie_train": 1,
    "funsd_train": 1,
    "funsd_lines": 1,
    "ic15_train": 2,
    "openalpr_plates": 4,
    "tapuscorpus": 2,
}
VAL_SETS = ["sroie_train", "funsd_train", "ic15_train", "openalpr_plates", "tapuscorpus"]
MIN_WIDTH = ppocr.HEIGHT  # as the pipeline: crops narrower than their height are centred


def sessions(threads: int = 1, backbone: str = "fp32"):
    """(backbone, teacher, the teacher's backbone or None). With `backbone="int8"` the features are
    those of the int8-stored backbone the shipped file computes with, and the teacher still reads
    the fp32 backbone's: the head learns to read the quantized features as PP-OCR reads the exact ones."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    fp32 = ort.InferenceSession(ppocr.backbone_path(), so)
    teacher = ort.InferenceSession(ppocr.teacher_path(), so)
    if backbone == "fp32":
        return fp32, teacher, None
    return ort.InferenceSession(ppocr.backbone_int8_path(), so), teacher, fp32


def compute(crops: list[np.ndarray], backbone, teacher, teacher_backbone=None) -> tuple[list, list]:
    """Features [T_i, 384] and teacher log-probabilities [T_i, 159] of each crop (float16); the
    teacher reads `teacher_backbone`'s features where one is given, else `backbone`'s."""
    feats: list = [None] * len(crops)
    logps: list = [None] * len(crops)
    for batch in buckets([c.shape[1] for c in crops], max_columns=16384, max_batch=32):
        x, offsets = batch_input([crops[i] for i in batch], ppocr.MEAN, ppocr.STD, ppocr.DOWNSAMPLE, MIN_WIDTH)
        x3 = np.repeat(x, 3, axis=1)
        f = backbone.run(None, {"x": x3})[0]  # [n, 384, 1, T]
        tf = f if teacher_backbone is None else teacher_backbone.run(None, {"x": x3})[0]
        lp = teacher.run(None, {ppocr.BACKBONE_OUT: tf})[0]  # [n, T, 159]
        f = f[:, :, 0, :].transpose(0, 2, 1)  # [n, T, 384]
        for k, i in enumerate(batch):
            t = min(f.shape[1], -(-(int(offsets[k]) + crops[i].shape[1]) // ppocr.DOWNSAMPLE))
            feats[i] = f[k, :t].astype(np.float16)
            logps[i] = lp[k, :t].astype(np.float16)
    return feats, logps


def write(name: str, crops, labels, flags, feats, logps, keep_pixels: bool) -> None:
    os.makedirs(CACHE, exist_ok=True)
    arrays = dict(
        feats=np.concatenate(feats),
        teacher=np.concatenate(logps),
        frames=np.array([len(f) for f in feats], np.int32),
        labels=np.array(labels, dtype=str),
        flags=np.asarray(flags, np.uint8),
    )
    if keep_pixels:
        arrays.update(pixels=np.concatenate(crops, axis=1), widths=np.array([c.shape[1] for c in crops], np.int32))
    path = os.path.join(CACHE, f"{name}.npz")
    np.savez(path + ".tmp.npz", **arrays)
    os.replace(path + ".tmp.npz", path)


def read(name: str) -> dict:
    with np.load(os.path.join(CACHE, f"{name}.npz")) as z:
        return {k: z[k] for k in z.files}


def _run(name, crops, labels, flags, sess, keep_pixels):
    t = time.time()
    feats, logps = compute(crops, *sess)
    write(name, crops, labels, flags, feats, logps, keep_pixels)
    print(f"{name}: {len(crops)} crops, {sum(len(f) for f in feats)} frames, {time.time() - t:.0f} s", flush=True)


def build_real(threads: int, only=None, backbone: str = "fp32") -> None:
    sess = sessions(threads, backbone)
    h, ds = ppocr.HEIGHT, ppocr.DOWNSAMPLE
    if not only or "iiit5k_test" in only:
        parts = real_crops("iiit5k_train", height=h, downsample=ds, variants=1)
        ims = parts["train"][0] + parts["val"][0]
        _run("iiit5k_test", ims, parts["train"][1] + parts["val"][1], [0] * len(ims), sess, True)
    for name in sorted(set(TRAIN_SETS) | set(VAL_SETS)):
        if only and not any(name in o for o in only):
            continue
        if not os.path.exists(os.path.join(DATA, "funsd_train" if name == "funsd_lines" else name)):
            print(f"{name}: missing, skipped", flush=True)
            continue
        parts = real_crops(name, height=h, downsample=ds, variants=TRAIN_SETS.get(name, 1))
        if name in TRAIN_SETS:
            _run(f"{name}_train", *parts["train"], sess, False)
        if name in VAL_SETS:
            _run(f"{name}_val", *parts["val"], sess, True)


# Share of MRZ lines among the synthetic crops (ICAO 9303 lines in OCR-B: passports and ID cards),
# on top of what the generic text sampler gives; the rest is the 32-px CRNN's text mix.
MRZ_SHARE = 0.15
OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"


def synth_crops(seed: int, n: int, val: bool = False) -> tuple[list, list]:
    rng = random.Random(seed)
    ims, labels = [], []
    while len(ims) < n:
        if rng.random() < MRZ_SHARE and os.path.exists(OCRB):
            text = mrz(rng)
            img = render_line(rng, text, OCRB, height=ppocr.HEIGHT)
            if img is None or img.shape[1] // ppocr.DOWNSAMPLE < len(text) * 2:
                continue
        else:
            img, text = sample_line(rng, height=ppocr.HEIGHT, downsample=ppocr.DOWNSAMPLE)
        ims.append(img)
        labels.append(text)
    return ims, labels


SYNTH_VAL_SEED = 999_999


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["real", "synth", "synth-val", "mrz-val"])
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--per-shard", type=int, default=4000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", nargs="*")
    p.add_argument(
        "--backbone",
        choices=["fp32", "int8"],
        default="fp32",
        help="whose features the head trains on: the fp32 backbone's, or the int8-stored one the "
        "shipped file computes with (the teacher reads the fp32 features either way); "
        "put them in their own cache with LOCALOCR_REC48_CACHE",
    )
    a = p.parse_args(argv)
    if a.what == "real":
        build_real(a.threads, a.only, a.backbone)
        return
    sess = sessions(a.threads, a.backbone)
    if a.what == "synth-val":
        ims, labels = synth_crops(SYNTH_VAL_SEED, 1000)
        _run("synth_val", ims, labels, [0] * len(ims), sess, True)
    elif a.what == "mrz-val":
        rng = random.Random(SYNTH_VAL_SEED + 1)
        ims, labels = [], []
        while len(ims) < 300:
            text = mrz(rng)
            img = render_line(rng, text, OCRB, height=ppocr.HEIGHT)
            if img is not None and img.shape[1] // ppocr.DOWNSAMPLE >= len(text) * 2:
                ims.append(img)
                labels.append(text)
        _run("mrz_val", ims, labels, [0] * len(ims), sess, True)
    else:
        for k in range(a.shard, a.shard + a.count):
            ims, labels = synth_crops(k, a.per_shard)
            _run(f"synth_{k:04d}", ims, labels, [0] * len(ims), sess, False)


if __name__ == "__main__":
    main(sys.argv[1:])
