"""export.detector.ppocr_head (issue 16): targets, loss and the torch head, on CPU in seconds, no network.
The parity check against the PP-OCRv5 file runs only where .cache/ppdet holds it."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from export.detector import ppocr_head as H  # noqa: E402


def _rect(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_crop_targets_shrink_and_ignore():
    quads = np.stack([_rect(10, 10, 110, 40), _rect(10, 60, 110, 90), _rect(200, 200, 202, 260)])
    ignore = np.array([False, True, False])
    gt, mask = H.crop_targets(quads, ignore, plate=False, size=128)
    assert gt.shape == mask.shape == (128, 128)
    assert gt[25, 60] == 1 and gt[11, 11] == 0  # shrunk kernel: the centre, not the corner
    assert mask[75, 60] == 0 and gt[75, 60] == 0  # ignore region: no loss, no target
    assert mask[5, 5] == 1


def test_crop_targets_plate_mask():
    gt, mask = H.crop_targets(_rect(40, 50, 80, 64)[None], np.array([False]), plate=True, size=128)
    assert gt[57, 60] == 1 and mask[57, 60] == 1
    assert mask[5, 5] == 0  # far from the plate the loss does not count


def test_head_shapes_and_loss():
    torch.manual_seed(0)
    net = H.make_head({})
    f = torch.randn(2, H.FEATURES, 8, 12)
    out = net(f)
    assert out.shape == (2, 1, 32, 48)
    gt = (torch.rand(2, 1, 32, 48) > 0.8).float()
    mask = torch.ones_like(gt)
    loss, bce, dice = H.head_loss(out, gt, mask)
    loss.backward()
    assert torch.isfinite(loss) and 0 <= dice <= 1
    assert net.conv1.weight.grad is not None


def test_augment_keeps_alignment():
    rng = np.random.default_rng(3)
    feat = np.zeros((H.FEATURES, 40, 40), np.float16)
    gt = np.zeros((160, 160), np.uint8)
    for _ in range(10):
        f, g, m = H._augment(feat, gt, gt, rng)
        assert g.shape == (4 * f.shape[1], 4 * f.shape[2]) == m.shape


@pytest.mark.skipif(not os.path.exists(os.path.join(H.CACHE, "ppocrv5_det.onnx")), reason="PP-OCRv5 det not fetched")
def test_parity_with_the_file():
    pytest.importorskip("onnxruntime")
    assert H.parity(size=(96, 128)) < 1e-3
