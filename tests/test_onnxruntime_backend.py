"""The onnxruntime backend end to end, on tiny hand-built ONNX models (no trained weights).

The graphs mirror the numpy fakes: the detector's probability is darkness,
average-pooled by 2 (downsample 2); the recognizer calls a CTC step (4
columns) 'x' where any pixel is dark, blank elsewhere.
"""

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from localocr import OCR  # noqa: E402
from localocr.backends.onnxruntime import OnnxRuntimeBackend  # noqa: E402
from pipeline_fakes import page_with_words  # noqa: E402

from tools.contract_models import detector_bytes, recognizer_bytes  # noqa: E402


@pytest.fixture(scope="module")
def ocr():
    return OCR(detector_bytes(), recognizer_bytes(), OnnxRuntimeBackend(threads=1))


def test_recognize_line_through_onnxruntime(ocr):
    im, _ = page_with_words(size=(150, 30), lines=((5, 7, (3, 2)),))
    text, conf = ocr.recognize_line(im)
    assert text == "xxxxx"  # this graph knows no spaces: one 'x' per bar
    assert conf > 0.99


def test_read_through_onnxruntime(ocr, tmp_path):
    im, boxes = page_with_words(size=(400, 200), lines=((20, 30, (5,)), (20, 100, (3,))))
    path = tmp_path / "p.png"
    im.save(path)
    page = ocr.read(str(path))
    assert page.backend == "onnxruntime-cpu" and "1 threads" in page.backend_detail
    # the graph's prob does not join letters: each bar is a box, and layout joins a row
    assert page.text.split("\n\n") == ["x x x x x", "x x x"]
    assert len(page.lines[0].parts) == 5
