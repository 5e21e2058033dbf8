"""Store an ONNX model's float32 weights as float16, keeping every computation in float32.

    python -m export.fp16_weights SRC.onnx DST.onnx [--check PAGES]

`fp16_weights(model)` replaces each float32 initializer of at least `MIN_ELEMENTS` values by a
float16 initializer plus a `Cast(to=FLOAT)` node that produces the original name, so the graph,
its inputs/outputs and metadata_props are unchanged and every operator still sees float32. The file
holds half the weight bytes; onnxruntime (CPython and web) folds the Casts into float32 constants
when it builds the session (graph optimisation "basic" and up), so inference runs the same fp32
kernels at the same speed, on weights rounded to fp16 (relative error <= 2^-11).

The export (export/detector/export.py) can call `convert(src, dst)` on its fp32 file; `max_abs_diff`
compares two models' outputs on the same inputs (parity check, see `--check`).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Below this many values the Cast node (~40 bytes in the file) costs about what fp16 saves (2 bytes
# a value), and tiny tensors (scales, biases of 1-2 channels) are not worth a node each.
MIN_ELEMENTS = 32
FP16_MAX = float(np.finfo(np.float16).max)  # 65504: larger weights would become inf
CAST_SUFFIX = "_fp16"


def fp16_weights(model: onnx.ModelProto, min_elements: int = MIN_ELEMENTS) -> onnx.ModelProto:
    """A copy of `model` whose float32 initializers (>= min_elements values) are stored as float16,
    each followed by a Cast back to float32 under its original name. Raises ValueError if a weight
    does not fit in float16 (|w| > 65504). Initializers that are also graph inputs are left alone
    (they can be overridden at run time, so their type is part of the interface)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    graph_inputs = {i.name for i in graph.input}
    taken = {i.name for i in graph.initializer} | {o for n in graph.node for o in n.output} | graph_inputs
    kept, casts = [], []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or init.name in graph_inputs:
            kept.append(init)
            continue
        w = numpy_helper.to_array(init)
        if w.size < min_elements:
            kept.append(init)
            continue
        if np.abs(w).max(initial=0.0) > FP16_MAX:
            raise ValueError(f"initializer {init.name!r} has values beyond float16's range ({FP16_MAX})")
        half = init.name + CAST_SUFFIX
        while half in taken:
            half += "_"
        taken.add(half)
        kept.append(numpy_helper.from_array(w.astype(np.float16), half))
        casts.append(
            helper.make_node("Cast", [half], [init.name], to=TensorProto.FLOAT, name=f"Cast{CAST_SUFFIX}_{init.name}")
        )
    del graph.initializer[:]
    graph.initializer.extend(kept)
    # The Casts go first: every consumer of a weight comes after the node that now produces it.
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(out)
    return out


def convert(src: str, dst: str, min_elements: int = MIN_ELEMENTS) -> dict:
    """Write `dst` = fp16_weights(load(src)). Returns {"bytes_before", "bytes_after", "converted"}."""
    model = onnx.load(src)
    half = fp16_weights(model, min_elements)
    onnx.save(half, dst)
    data = half.SerializeToString()
    n = sum(1 for n in half.graph.node if n.op_type == "Cast" and n.name.startswith(f"Cast{CAST_SUFFIX}_"))
    return {"bytes_before": len(model.SerializeToString()), "bytes_after": len(data), "converted": n}


def max_abs_diff(a: str | bytes, b: str | bytes, feeds: list[dict[str, np.ndarray]]) -> float:
    """Largest |a(x) - b(x)| over every output of every feed (onnxruntime CPU, one thread)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sa = ort.InferenceSession(a, opts, providers=["CPUExecutionProvider"])
    sb = ort.InferenceSession(b, opts, providers=["CPUExecutionProvider"])
    worst = 0.0
    for feed in feeds:
        for ya, yb in zip(sa.run(None, feed), sb.run(None, feed)):
            worst = max(worst, float(np.abs(ya.astype(np.float64) - yb).max()))
    return worst


def detector_feeds(model_path: str, sets: tuple[str, ...], pages: int) -> list[dict[str, np.ndarray]]:
    """The detector inputs of real validation pages, made by the pipeline's own first pass
    (load_image -> input_scale -> prepare_input with the model's mean/std)."""
    from pathlib import Path

    from localocr import detection
    from localocr.contract.models import detector_spec
    from localocr.contract.onnxfile import read_model_info
    from localocr.image import load_image
    from localocr.splits import is_validation

    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    info = read_model_info(Path(model_path).read_bytes())
    spec = detector_spec(info.metadata, info)
    feeds = []
    for name in sets:
        files = sorted(p for p in (data / name / "images").iterdir() if is_validation(p.name))[:pages]
        for p in files:
            im = load_image(str(p))
            x, _ = detection.prepare_input(im, detection.input_scale(*im.size), spec.mean, spec.std)
            feeds.append({"image": x})
    return feeds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--min-elements", type=int, default=MIN_ELEMENTS)
    ap.add_argument(
        "--check",
        type=int,
        default=0,
        metavar="PAGES",
        help="compare outputs with SRC on this many validation pages of sroie_train and funsd_train",
    )
    args = ap.parse_args(argv)
    report = convert(args.src, args.dst, args.min_elements)
    print(
        f"{args.dst}: {report['bytes_before']:,} -> {report['bytes_after']:,} bytes, {report['converted']} weights as fp16"
    )
    if args.check:
        feeds = detector_feeds(args.src, ("sroie_train", "funsd_train"), args.check)
        print(f"max |fp32 - fp16 weights| over {len(feeds)} pages: {max_abs_diff(args.src, args.dst, feeds):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
