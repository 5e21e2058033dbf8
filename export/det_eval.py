"""Detection metrics for monitoring training (the shipped figures come from `localocr-eval`).

`boxes_from_prob` turns a probability map into quads in input pixels. It uses the
pipeline's `localocr.detection.boxes_from_prob` when that exists, else a
simple fallback: threshold, 8-connected components (scipy), axis-aligned box of the
kernel expanded by the DB unclip distance (area * ratio / perimeter).
`hmean` matches detections to ground truth one-to-one at IoU >= 0.5 (axis-aligned boxes
of the quads), ignoring detections that mostly fall on an ignore region.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from export import detector as D


def _fallback_boxes(prob: np.ndarray, downsample: int, threshold: float, box_threshold: float,
                    unclip_ratio: float) -> np.ndarray:
    from scipy import ndimage
    lab, n = ndimage.label(prob > threshold, structure=np.ones((3, 3)))
    out = []
    for i, sl in enumerate(ndimage.find_objects(lab), 1):
        if sl is None:
            continue
        region = lab[sl] == i
        if region.sum() < 2 or prob[sl][region].mean() < box_threshold:
            continue
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        w, h = x1 - x0, y1 - y0
        d = w * h * unclip_ratio / (2 * (w + h))
        x0, y0, x1, y1 = (x0 - d) * downsample, (y0 - d) * downsample, (x1 + d) * downsample, (y1 + d) * downsample
        out.append([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return np.array(out, np.float32).reshape(-1, 4, 2)


def _pipeline():
    """The pipeline's detection helpers and metrics, or None before they exist."""
    try:
        from localocr import detection as det
        from localocr import metrics as M
    except ImportError:
        return None
    if not all(hasattr(det, f) for f in ("boxes_from_prob", "input_scale", "prepare_input")) or not hasattr(M, "match"):
        return None
    return det, M


def boxes_from_prob(prob: np.ndarray, downsample: int = D.DOWNSAMPLE, threshold: float = D.THRESHOLD,
                    box_threshold: float = D.BOX_THRESHOLD, unclip_ratio: float = D.UNCLIP_RATIO) -> np.ndarray:
    """prob [h, w] -> quads [N, 4, 2] in input-image pixels (pipeline's post-processing if present)."""
    pl = _pipeline()
    if pl is not None:
        res = pl[0].boxes_from_prob(prob, threshold=threshold, box_threshold=box_threshold,
                                    unclip_ratio=unclip_ratio, scale=float(downsample))
        return np.array([q for q, _ in res], np.float32).reshape(-1, 4, 2)
    return _fallback_boxes(prob, downsample, threshold, box_threshold, unclip_ratio)


def _aabb(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q.min(1), q.max(1)], 1) if len(q) else np.zeros((0, 4), np.float32)


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[:, None, 0], b[None, :, 0]); y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2]); y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (aa[:, None] + ab[None, :] - inter + 1e-9)


def match(dets: np.ndarray, gts: np.ndarray, ignore: np.ndarray, iou: float = 0.5) -> tuple[int, int, int]:
    """(true positives, detections counted, ground truths counted) for one page."""
    d, g = _aabb(dets), _aabb(gts)
    ig, care = g[ignore], g[~ignore]
    if len(d) and len(ig):  # drop detections lying mostly (>50%) on an ignore region
        x0 = np.maximum(d[:, None, 0], ig[None, :, 0]); y0 = np.maximum(d[:, None, 1], ig[None, :, 1])
        x1 = np.minimum(d[:, None, 2], ig[None, :, 2]); y1 = np.minimum(d[:, None, 3], ig[None, :, 3])
        inter = (np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)).sum(1)
        area = (d[:, 2] - d[:, 0]) * (d[:, 3] - d[:, 1]) + 1e-9
        d = d[inter / area <= 0.5]
    tp = 0
    if len(d) and len(care):
        m = _iou_matrix(d, care)
        used_d, used_g = set(), set()
        for k in np.argsort(-m, axis=None):
            i, j = divmod(int(k), m.shape[1])
            if m[i, j] < iou:
                break
            if i in used_d or j in used_g:
                continue
            used_d.add(i); used_g.add(j); tp += 1
    return tp, len(d), len(care)


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
    (`localocr.detection`, `localocr.metrics`: polygon IoU) when present, else the fallback here."""
    pl = _pipeline()
    TP = ND = NG = 0
    for p in pages:
        im = Image.open(p["path"]).convert("RGB")
        if pl is not None:
            det, M = pl
            s = det.input_scale(*im.size) if long_side is None else long_side / max(im.size)
            x, (sx, sy) = det.prepare_input(im, s, D.MEAN, D.STD)
            prob = run_prob(x)
            kw = {"threshold": D.THRESHOLD, "box_threshold": D.BOX_THRESHOLD, "unclip_ratio": D.UNCLIP_RATIO, **post}
            res = det.boxes_from_prob(prob, scale=(D.DOWNSAMPLE / sx, D.DOWNSAMPLE / sy), **kw)
            r = M.match([q for q, _ in res], list(p["quads"]), p["ignore"])
            tp, nd, ng = r["tp"], r["n_pred"], r["n_gt"]
        else:
            x, s = prepare(np.asarray(im), long_side or 1024)
            dets = boxes_from_prob(run_prob(x), **post) / s
            tp, nd, ng = match(dets, p["quads"], p["ignore"])
        TP += tp; ND += nd; NG += ng
    prec = TP / ND if ND else 0.0
    rec = TP / NG if NG else 0.0
    return {"precision": prec, "recall": rec, "hmean": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
            "pages": len(pages)}
