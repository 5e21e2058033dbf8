"""The fixed validation split of the data sets in ../shared/data.

Split by image, never by crop: every model script and the evaluation command
ask `is_validation(image)` so that a validation image is never trained on.
The choice hashes the image's file name, so it does not depend on file order,
on the machine or on how many images a set has.
"""

from __future__ import annotations

import hashlib
import os
import re

# 20%: small sets (sroie 190, funsd 149 images) still keep ~30-40 validation
# pages, enough for a stable hmean/CER; the rest trains.
VALIDATION_FRACTION = 0.20


# IIIT5K crops are named <scene>_<n>.png: crops of one scene image stay together.
_CROP_SCENE = re.compile(r"^(train|test)_(\d+)_\d+$")


def split_key(image: str) -> str:
    """The unit that is split: the source image a file (page or crop) comes from."""
    stem = os.path.splitext(os.path.basename(image))[0]
    m = _CROP_SCENE.match(stem)
    return f"{m.group(1)}_{m.group(2)}" if m else stem


def is_validation(image: str, fraction: float = VALIDATION_FRACTION) -> bool:
    """True when this image (a path or file name) belongs to the validation split."""
    key = split_key(image).encode("utf-8")
    h = int.from_bytes(hashlib.sha1(key).digest()[:4], "big")
    return h < fraction * 2**32
