"""export.onnx_to_ckpt: a checkpoint rebuilt from an exported ONNX file computes what the
trained model computed (eval mode exactly, training mode on its calibration data closely),
for the recognizer (fused Conv+BN, ONNX LSTM gates) and the fp16-stored detector."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from export import onnx_to_ckpt as O  # noqa: E402
from export.detector import model as D  # noqa: E402
from export.recognizer.model import CONFIG, CRNN, export_onnx, normalise  # noqa: E402

torch.set_num_threads(1)


def _randomise_bn(model, gen):
    """Trained-looking BatchNorms: gammas of both signs, offsets, running stats far from 0/1."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = (torch.rand(c, generator=gen) + 0.5) * torch.where(
                torch.rand(c, generator=gen) < 0.2, -1.0, 1.0
            )
            m.bias.data = torch.randn(c, generator=gen) * 0.3
            m.running_mean = torch.randn(c, generator=gen) * 0.5
            m.running_var = torch.rand(c, generator=gen) * 2 + 0.2


def test_recognizer_round_trip(tmp_path):
    gen = torch.Generator().manual_seed(0)
    model = CRNN(CONFIG).eval()
    _randomise_bn(model, gen)
    path = str(tmp_path / "rec.onnx")
    export_onnx(model, path)
    rng = np.random.default_rng(1)
    crops = [rng.integers(0, 256, (32, 48), dtype=np.uint8) for _ in range(64)]
    back, probe, run = O.recover_rec(path, crops)
    back.eval()
    x = normalise(torch.from_numpy(np.stack([c[None] for c in crops[:6]])))
    with torch.no_grad():
        want, got = model(x), back(x)
    assert float((want - got).abs().max()) < 1e-4
    # the LSTM and classifier came back as such (not only their product)
    assert torch.allclose(back.rnn.weight_hh_l1_reverse, model.rnn.weight_hh_l1_reverse)
    assert torch.allclose(back.fc.bias, model.fc.bias)
    # training mode on the calibration crops: batch statistics = the calibrated ones
    calib = normalise(torch.from_numpy(np.stack([c[None] for c in crops])))
    with torch.no_grad():
        eval_feat = back.cnn(calib)
        back.train()
        train_feat = back.cnn(calib)
    assert float((eval_feat - train_feat).abs().max()) < 1e-3 * float(eval_feat.abs().max())


def test_detector_round_trip_fp16_stored(tmp_path):
    from export.fp16_weights import convert

    gen = torch.Generator().manual_seed(2)
    net = D.DBNet().eval()
    _randomise_bn(net, gen)
    fp32, fp16 = str(tmp_path / "det32.onnx"), str(tmp_path / "det.onnx")
    D.export_onnx(net, fp32)
    convert(fp32, fp16)
    rng = np.random.default_rng(3)
    pages = [Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)) for _ in range(3)]
    back, probe, run = O.recover_det(fp16, pages)
    sess = ort.InferenceSession(fp16, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        got = run(probe)
    want = sess.run(None, {"image": probe})[0]
    assert float(np.abs(got - want).max()) < 1e-3
    # weights within fp16 rounding of the original's fused conv; threshold head = probability head
    assert torch.allclose(back.thresh.sub.weight, back.prob.sub.weight)
    assert torch.allclose(back.prob.sub.weight, net.prob.sub.weight, rtol=1e-3, atol=1e-4)
