"""The accurate recognizer tier (export/pretrained, issue 15): the int8 weight storage, the
head's training pieces, and the committed web/models/accurate.int8.onnx (marker `models`):
contract and provenance, torch/onnxruntime parity of our head, its reading of real crops."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from localocr import OCR  # noqa: E402
from localocr.backends.onnxruntime import OnnxRuntimeBackend  # noqa: E402
from localocr.contract import keys as mm  # noqa: E402
from localocr.contract.models import load_model  # noqa: E402

from export.pretrained.head import CONFIG, Head, kd_loss  # noqa: E402
from export.pretrained.int8 import int8_weights  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILE = os.path.join(ROOT, "web", "models", "accurate.int8.onnx")
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
needs_file = pytest.mark.skipif(not os.path.exists(FILE), reason="web/models/accurate.int8.onnx not built")


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.rnn = torch.nn.LSTM(16 * 8, 32, bidirectional=True, batch_first=True)
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        f = torch.relu(self.conv(x))  # [N, 16, 8, W]
        f = f.flatten(1, 2).permute(0, 2, 1)  # [N, W, 128]
        return torch.log_softmax(self.fc(self.rnn(f)[0]), -1)


def test_int8_storage_keeps_the_graph_in_float32_and_drifts_little(tmp_path):
    torch.manual_seed(0)
    model = Tiny().eval()
    path = str(tmp_path / "m.onnx")
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, 8, 12),),
        path,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n", 3: "w"}},
        opset_version=11,
        dynamo=False,
    )
    q = int8_weights(onnx.load(path), min_elements=64)
    assert {t.data_type for t in q.graph.initializer if t.name.endswith("_q8")} == {onnx.TensorProto.INT8}
    assert len(q.SerializeToString()) < 0.4 * os.path.getsize(path)
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 20)).astype(np.float32)
    ref = ort.InferenceSession(path).run(None, {"x": x})[0]
    got = ort.InferenceSession(q.SerializeToString()).run(None, {"x": x})[0]
    assert np.abs(np.exp(ref) - np.exp(got)).max() < 0.02  # probabilities
    assert (ref.argmax(-1) == got.argmax(-1)).mean() > 0.97


def test_distillation_term_is_zero_on_the_teachers_own_output_and_ignores_padding():
    lp = torch.log_softmax(torch.randn(2, 5, len(CONFIG["alphabet"]) + 1), -1)
    lens = torch.tensor([5, 3])
    assert float(kd_loss(lp, lp, lens)) == pytest.approx(0.0, abs=1e-6)
    other = lp.clone()
    other[1, 3:] = torch.log_softmax(torch.randn(2, other.shape[-1]), -1)  # padding frames only
    assert float(kd_loss(other, lp, lens)) == pytest.approx(0.0, abs=1e-6)
    assert float(kd_loss(torch.log_softmax(torch.randn_like(lp), -1), lp, lens)) > 0.1


def test_head_reads_backbone_features_into_the_alphabets_classes():
    head = Head().eval()
    out = head(torch.zeros(2, 7, CONFIG["features"]))
    assert out.shape == (2, 7, len(CONFIG["alphabet"]) + 1)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2, 7), atol=1e-5)


@pytest.mark.models
@needs_file
def test_committed_file_contract_and_provenance():
    model = load_model(OnnxRuntimeBackend(threads=1), FILE, "recognizer", "accurate")
    spec = model.spec
    assert (spec.role, spec.height, spec.downsample, spec.blank) == ("accurate", 48, 8, 0)
    assert 0.0 < spec.reread_below <= 1.0
    assert spec.alphabet == CONFIG["alphabet"]
    meta = {p.key: p.value for p in onnx.load(FILE).metadata_props}
    pre = json.loads(meta[mm.PRETRAINED])
    assert (pre["package"], pre["version"], pre["licence"]) == ("rapidocr", "3.10.0", "Apache-2.0")
    assert len(pre["sha256"]) == 64
    notice = open(os.path.join(os.path.dirname(FILE), "accurate.NOTICE"), encoding="utf-8").read()
    assert "Apache License" in notice and pre["sha256"] in notice
    assert os.path.getsize(FILE) < 4_000_000


@pytest.mark.models
@needs_file
def test_committed_head_matches_torch(tmp_path):
    from export.onnx_to_ckpt import recover_acc

    head, probe, run = recover_acc(FILE)
    sess = ort.InferenceSession(FILE, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ours = run(probe)
    assert np.abs(ours - sess.run(None, {mm.RECOGNIZER_INPUT: probe})[0]).max() < 1e-3


@pytest.mark.models
@needs_file
@pytest.mark.skipif(not os.path.isdir(os.path.join(DATA, "iiit5k_train")), reason="no ../shared/data")
def test_committed_tier_reads_unseen_scene_crops():
    """IIIT5K is never trained on (export/pretrained/features.py): 60 of its crops, read alone."""
    from PIL import Image

    folder = os.path.join(DATA, "iiit5k_train")
    recs = [json.loads(line) for line in open(os.path.join(folder, "labels.jsonl"))][::33][:60]
    ocr = OCR(backend=OnnxRuntimeBackend(threads=1), accurate=FILE, reread_below=2.0)  # every crop
    ok = 0
    for r in recs:
        text, _ = ocr.recognize_line(Image.open(os.path.join(folder, r["image"])))
        ok += "".join(c for c in text.lower() if c.isalnum()) == "".join(c for c in r["text"].lower() if c.isalnum())
    assert ok / len(recs) >= 0.9
