"""The onnxruntime backend end to end, on tiny hand-built ONNX models (no trained weights).

The graphs mirror the numpy fakes: the detector's probability is darkness,
average-pooled by 2 (downsample 2); the recognizer calls a CTC step (4
columns) 'x' where any pixel is dark, blank elsewhere.
"""


import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from localocr import OCR, modelmeta as mm  # noqa: E402
from localocr.backends.onnxruntime import OnnxRuntimeBackend  # noqa: E402

from pipeline_fakes import page_with_words  # noqa: E402

ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F))


def _model(nodes, inputs, outputs, inits, meta):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    helper.set_model_props(m, meta)
    onnx.checker.check_model(m)
    return m.SerializeToString()


def detector_bytes():
    # normalised with mean 0.5, std 0.5: dark pixels are < 0; prob = sigmoid(-8 x), channel mean, pool 2
    c = lambda name, v: numpy_helper.from_array(np.array(v, np.float32), name)
    nodes = [helper.make_node("ReduceMean", ["image"], ["grey"], axes=[1], keepdims=1),
             helper.make_node("Mul", ["grey", "k"], ["z"]),
             helper.make_node("Sigmoid", ["z"], ["p"]),
             helper.make_node("AveragePool", ["p"], ["prob"], kernel_shape=[2, 2], strides=[2, 2])]
    meta = {mm.KIND: "detector", mm.VERSION: "test", mm.MEAN: "[0.5, 0.5, 0.5]", mm.STD: "[0.5, 0.5, 0.5]",
            mm.DOWNSAMPLE: "2", mm.GRANULARITY: "line", mm.THRESHOLD: "0.3", mm.BOX_THRESHOLD: "0.5",
            mm.UNCLIP_RATIO: "1.5"}
    return _model(nodes, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"])],
                  [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, "h", "w"])],
                  [c("k", [-8.0])], meta)


def recognizer_bytes():
    classes = len(ALPHABET) + 1
    w = np.full((1, classes), 0.0, np.float32)
    b = np.full((classes,), -10.0, np.float32)
    x = ALPHABET.index("x") + 1
    w[0, x], b[x] = 20.0, -10.0          # ink 1 -> x: +10; ink 0 -> -10
    w[0, 0], b[0] = -20.0, 10.0          # blank the other way round
    c = lambda name, v: numpy_helper.from_array(np.asarray(v), name)
    nodes = [helper.make_node("ReduceMin", ["image"], ["colmin"], axes=[2], keepdims=1),   # [N,1,1,W]
             helper.make_node("MaxPool", ["neg"], ["stepmax"], kernel_shape=[1, 4], strides=[1, 4]),
             helper.make_node("Neg", ["colmin"], ["neg"]),
             helper.make_node("Greater", ["stepmax", "zero"], ["inkb"]),                    # dark: x < 0
             helper.make_node("Cast", ["inkb"], ["ink"], to=TensorProto.FLOAT),
             helper.make_node("Squeeze", ["ink", "axes12"], ["ink2"]),                       # [N,T]
             helper.make_node("Unsqueeze", ["ink2", "axes2"], ["ink3"]),                     # [N,T,1]
             helper.make_node("MatMul", ["ink3", "w"], ["mm"]),
             helper.make_node("Add", ["mm", "b"], ["z"]),
             helper.make_node("LogSoftmax", ["z"], ["logits"], axis=2)]
    nodes = [nodes[0], nodes[2], nodes[1]] + nodes[3:]
    meta = {mm.KIND: "recognizer", mm.VERSION: "test", mm.ALPHABET: ALPHABET, mm.HEIGHT: "32",
            mm.DOWNSAMPLE: "4", mm.MEAN: "[0.5]", mm.STD: "[0.5]", mm.BLANK: "0"}
    inits = [c("zero", np.array(0.0, np.float32)), c("axes12", np.array([1, 2], np.int64)),
             c("axes2", np.array([2], np.int64)), c("w", w), c("b", b)]
    return _model(nodes, [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 32, "W"])],
                  [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", "T", classes])],
                  inits, meta)


@pytest.fixture(scope="module")
def ocr():
    return OCR(detector_bytes(), recognizer_bytes(), OnnxRuntimeBackend(threads=1))


def test_recognize_line_through_onnxruntime(ocr):
    im, _ = page_with_words(size=(150, 30), lines=((5, 7, (3, 2)),))
    text, conf = ocr.recognize_line(im)
    assert text == "xxxxx"              # this graph knows no spaces: one 'x' per bar
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
