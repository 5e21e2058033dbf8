"""Detector: export contract, torch/ONNX parity, int8 drift, synthetic boxes vs ink, training.

Fast (a few seconds each); torch and the export code live in export/.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from localocr.contract import keys as mm  # noqa: E402

from export.detector import data as det_data  # noqa: E402
from export.detector import model as D  # noqa: E402
from export.synth.pages import render_page  # noqa: E402

torch.set_num_threads(1)
MODELS = os.path.join(ROOT, "web", "models")


def _session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    net = D.DBNet().eval()
    # random BN statistics so the parity check exercises them (fresh BN is the identity)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    path = str(tmp_path_factory.mktemp("det") / "detector.onnx")
    D.export_onnx(net, path)
    return net, path


def test_export_contract(exported):
    _, path = exported
    s = _session(path)
    (inp,), (out,) = s.get_inputs(), s.get_outputs()
    assert (inp.name, out.name) == (mm.DETECTOR_INPUT, mm.DETECTOR_OUTPUT)
    assert len(inp.shape) == 4 and inp.shape[:2] == [1, 3] and isinstance(inp.shape[2], str)
    for h, w in [(64, 96), (128, 32)]:  # dynamic H/W, output at 1/downsample
        y = s.run(None, {"image": np.random.rand(1, 3, h, w).astype(np.float32)})[0]
        assert y.shape == (1, 1, h // D.DOWNSAMPLE, w // D.DOWNSAMPLE)
        assert y.min() >= 0.0 and y.max() <= 1.0  # sigmoid inside the graph
    meta = s.get_modelmeta().custom_metadata_map
    assert meta[mm.KIND] == "detector" and meta[mm.GRANULARITY] == "line"
    assert int(meta[mm.DOWNSAMPLE]) == D.DOWNSAMPLE == 2
    assert json.loads(meta[mm.MEAN]) == D.MEAN and len(json.loads(meta[mm.STD])) == 3
    for k in (mm.VERSION, mm.THRESHOLD, mm.BOX_THRESHOLD, mm.UNCLIP_RATIO, mm.SHRINK_RATIO):
        assert k in meta and meta[k]
    float(meta[mm.THRESHOLD]), float(meta[mm.UNCLIP_RATIO]), float(meta[mm.SHRINK_RATIO])


def test_torch_onnx_parity(exported):
    net, path = exported
    x = np.random.default_rng(1).standard_normal((1, 3, 96, 160)).astype(np.float32)
    with torch.no_grad():
        ref = D.ExportWrapper(net)(torch.from_numpy(x)).numpy()
    got = _session(path).run(None, {"image": x})[0]
    assert np.abs(got - ref).max() < 1e-4


@pytest.mark.models
def test_int8_drift_bound():
    fp, q = os.path.join(MODELS, "detector.onnx"), os.path.join(MODELS, "detector.int8.onnx")
    if not (os.path.exists(fp) and os.path.exists(q)):
        pytest.skip("no shipped int8 detector")
    img, _ = render_page(np.random.default_rng(5), "document", geometry=False, photo=False)
    img = img[:512, :512]
    x = ((img / 255.0 - np.array(D.MEAN)) / np.array(D.STD)).transpose(2, 0, 1)[None].astype(np.float32)
    x = x[:, :, : x.shape[2] // 32 * 32, : x.shape[3] // 32 * 32]
    a = _session(fp).run(None, {"image": x})[0]
    b = _session(q).run(None, {"image": x})[0]
    assert np.abs(a - b).mean() < 0.02
    assert ((a > D.THRESHOLD) == (b > D.THRESHOLD)).mean() > 0.98
    assert os.path.getsize(q) <= 2 * 1024 * 1024  # the size bound


def _polygon_mask(quads, h, w, grow=0.0):
    from PIL import Image, ImageDraw

    m = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(m)
    for q in quads:
        g = det_data.offset_quad(q, grow) if grow else q  # every edge moved out by `grow` px
        d.polygon([tuple(map(float, p)) for p in g], fill=255, outline=255)
    return np.asarray(m) > 0


@pytest.mark.parametrize("kind", ["document", "receipt", "screenshot", "label", "sign"])
def test_synthetic_boxes_match_ink(kind):
    for seed, geometry in [(11, False), (12, True)]:
        img, quads, ink = render_page(np.random.default_rng(seed), kind, geometry=geometry, photo=False, track_ink=True)
        h, w = ink.shape
        assert len(quads) > 0 and ink.any()
        for q in quads:  # every box contains ink
            assert (ink & _polygon_mask([q], h, w)).any()
        # no text ink outside the boxes; a warped page resamples the ink, allow 2 px of spill
        outside = ink & ~_polygon_mask(quads, h, w, grow=2.0 if geometry else 0.0)
        assert outside.sum() == 0, (kind, geometry, int(outside.sum()))


def test_db_targets_kernel_inside_box():
    q = np.array([[[10, 10], [110, 10], [110, 30], [10, 30]]], np.float32)
    t = det_data.db_targets(40, 120, q, np.zeros(1, bool), scale=1.0)
    ys, xs = np.nonzero(t["gt"])
    assert ys.min() > 10 and ys.max() < 30 and xs.min() > 10 and xs.max() < 110
    area = t["gt"].sum()
    assert 0.25 * 2000 < area < 0.6 * 2000  # kernel ~ r^2 of the height for a long line
    assert t["thresh"].max() > 200 and t["tmask"].sum() > 2000
    ig = det_data.db_targets(40, 120, q, np.ones(1, bool), scale=1.0)
    assert ig["gt"].sum() == 0 and ig["mask"][20, 60] == 0


def test_tiny_training_lowers_loss():
    rng = np.random.default_rng(0)
    img, quads = render_page(rng, "receipt", geometry=False, photo=False)
    rec = det_data.make_record(img, quads, np.zeros(len(quads), bool))
    batch = tuple(np.stack(x) for x in zip(*[det_data.crop(rec, 128, rng) for _ in range(4)]))
    torch.manual_seed(0)
    net = D.DBNet({"stages": [(16, 2, 3, 1), (24, 2, 3, 1), (32, 2, 3, 1), (48, 2, 3, 1)], "fpn": 32, "head": 16})
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    x = D.normalise(torch.from_numpy(batch[0]))
    gt, mask, tmask = (torch.from_numpy(b).float().unsqueeze(1) for b in (batch[1], batch[2], batch[4]))
    th = torch.from_numpy(batch[3]).float().unsqueeze(1) / 255
    losses = []
    for _ in range(25):
        L = D.db_loss(net(x), gt, mask, th, tmask)
        opt.zero_grad()
        L["loss"].backward()
        opt.step()
        losses.append(L["loss"].item())
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:3]), losses


def test_big_text_crops_enlarge_the_text():
    """--big-text: that share of the crops scales the page's median line to 60..max px (issue 16)."""
    rng = np.random.default_rng(3)
    img, quads = render_page(rng, "receipt", geometry=False, photo=False)
    rec = det_data.make_record(img, quads, np.zeros(len(quads), bool))

    def kernel_rows(big):
        r = np.random.default_rng(5)
        heights = []
        for _ in range(40):
            gt = det_data.crop(rec, 256, r, big)[1]
            rows = np.nonzero(gt.any(1))[0]
            if len(rows):  # the tallest run of kernel rows: one line's kernel height at 1/2 res
                runs = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
                heights.append(max(len(x) for x in runs))
        return np.median(heights)

    base, big = kernel_rows((0.0, 60.0)), kernel_rows((1.0, 200.0))
    assert big > 2.5 * base, (base, big)
