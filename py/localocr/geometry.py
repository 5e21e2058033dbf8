"""Quads: ordering and rectification to upright crops.

A quad is four (x, y) corners, clockwise from the top-left corner of the text
as read: top-left, top-right, bottom-right, bottom-left. The same `crop_quad`
cuts recognizer inputs in the pipeline and training crops in export/, so the
model sees at inference exactly what it was trained on.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def as_quad(quad) -> np.ndarray:
    """Any 8 numbers or 4 points -> float32 array of shape (4, 2)."""
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    return q


def quad_size(quad) -> tuple[float, float]:
    """(width, height) of a quad: mean of its top/bottom and left/right edge lengths."""
    q = as_quad(quad)
    w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(w), float(h)


def crop_quad(image: Image.Image, quad, out_height: int | None = None, max_width: int | None = None) -> Image.Image:
    """Rectify the quad's content to an upright image.

    The top edge of the quad (corner 0 -> 1) becomes the top of the crop. With
    `out_height`, the crop is scaled to that height keeping its aspect ratio
    (width at least 1, at most `max_width` when given). Downscaling goes through
    Pillow's antialiased resize, so a tall line does not alias.
    """
    q = as_quad(quad)
    w, h = quad_size(q)
    w_px, h_px = max(1, int(round(w))), max(1, int(round(h)))
    # Image.Transform.QUAD maps the output rectangle onto the source corners given as
    # upper-left, lower-left, lower-right, upper-right.
    data = tuple(float(v) for v in (q[0, 0], q[0, 1], q[3, 0], q[3, 1], q[2, 0], q[2, 1], q[1, 0], q[1, 1]))
    if out_height is None:
        return image.transform((w_px, h_px), Image.Transform.QUAD, data, resample=Image.Resampling.BILINEAR)
    out_w = max(1, int(round(w * out_height / max(h, 1e-6))))
    if max_width is not None:
        out_w = min(out_w, max_width)
    if h_px <= 2 * out_height:
        # close to the target scale: one bilinear transform straight to size
        return image.transform((out_w, out_height), Image.Transform.QUAD, data, resample=Image.Resampling.BILINEAR)
    crop = image.transform((w_px, h_px), Image.Transform.QUAD, data, resample=Image.Resampling.BILINEAR)
    return crop.resize((out_w, out_height), Image.Resampling.BILINEAR, reducing_gap=2.0)
