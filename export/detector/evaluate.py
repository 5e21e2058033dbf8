"""Detection metrics for monitoring training (the shipped figures come from `localocr-eval`).

`boxes_from_prob` turns a probability map into quads in input pixels with the pipeline's
`localocr.detection.boxes_from_prob`; `evaluate` matches them to the ground truth with
`localocr.metrics.match` (one-to-one at IoU >= 0.5, ignore regions left out).
"""

from __future__ import annotations

import numpy as np
from localocr import detection as det
from localocr import metrics as M
from PIL import Image

from export.detector import model as D


def boxes_from_prob(
    prob: np.ndarray,
    downsample: int = D.DOWNSAMPLE,
    threshold: float = D.THRESHOLD,
    box_threshold: float = D.BOX_THRESHOLD,
    unclip_ratio: float = D.UNCLIP_RATIO,
) -> np.ndarray:
    """prob [h, w] -> quads [N, 4, 2] in input-image pixels (the pipeline's post-processing)."""
    res = det.boxes_from_prob(
        prob, threshold=threshold, box_threshold=box_threshold, unclip_ratio=unclip_ratio, scale=float(downsample)
    )
    return np.array([q for q, _ in res], np.float32).reshape(-1, 4, 2)


def prepare(img: np.ndarray, long_side: int = 1024) -> tuple[np.ndarray, float]:
    """Resize so the long side is `long_side`, pad to multiples of 32; returns (input [1,3,H,W], scale)."""
    h, w = img.shape[:2]
    s = long_side / max(h, w)
    nh, nw = max(32, round(h * s)), max(32, round(w * s))
    im = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR), np.float32) / 255.0
    H, W = -(-nh // 32) * 32, -(-nw // 32) * 32
    x = np.zeros((H, W, 3), np.float32)
    x[:nh, :nw] = (im - np.array(D.MEAN, np.float32)) / np.array(D.STD, np.float32)
    return x.transpose(2, 0, 1)[None], s


def evaluate(run_prob, pages: list[dict], long_side: int | None = None, **post) -> dict:
    """Detection precision/recall/hmean at IoU 0.5 over pages (from det_data.load_real).

    run_prob(x [1,3,H,W] float32) -> prob [H/2, W/2]. Inputs are prepared like the pipeline
    (its `input_scale` unless `long_side` is given); boxes and matching are the pipeline's
    (`localocr.detection`, `localocr.metrics`: polygon IoU)."""
    TP = ND = NG = 0
    for p in pages:
        im = Image.open(p["path"]).convert("RGB")
        s = det.input_scale(*im.size) if long_side is None else long_side / max(im.size)
        x, (sx, sy) = det.prepare_input(im, s, D.MEAN, D.STD)
        prob = run_prob(x)
        kw = {"threshold": D.THRESHOLD, "box_threshold": D.BOX_THRESHOLD, "unclip_ratio": D.UNCLIP_RATIO, **post}
        res = det.boxes_from_prob(prob, scale=(D.DOWNSAMPLE / sx, D.DOWNSAMPLE / sy), **kw)
        r = M.match([q for q, _ in res], list(p["quads"]), p["ignore"])
        TP += r["tp"]
        ND += r["n_pred"]
        NG += r["n_gt"]
    prec = TP / ND if ND else 0.0
    rec = TP / NG if NG else 0.0
    return {
        "precision": prec,
        "recall": rec,
        "hmean": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "pages": len(pages),
    }
