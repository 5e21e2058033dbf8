"""Tiny hand-built ONNX models that satisfy localocr's model contract (no trained weights), for the
tests and the app benchmark: the pipeline end to end, in CPython and in the browser, in milliseconds.

The graphs mirror the numpy fakes (localocr.backends.fake): the detector's probability is darkness,
average-pooled by 2 (downsample 2); the recognizer calls a CTC step (4 columns) 'x' where any pixel
is dark, blank elsewhere. Needs the `onnx` package (the train extra).
"""

from __future__ import annotations

import numpy as np
import onnx
from localocr.contract import keys as mm
from onnx import TensorProto, helper, numpy_helper

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
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["grey", "k"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
        helper.make_node("AveragePool", ["p"], ["prob"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    meta = {
        mm.KIND: "detector",
        mm.VERSION: "test",
        mm.MEAN: "[0.5, 0.5, 0.5]",
        mm.STD: "[0.5, 0.5, 0.5]",
        mm.DOWNSAMPLE: "2",
        mm.GRANULARITY: "line",
        mm.THRESHOLD: "0.3",
        mm.BOX_THRESHOLD: "0.5",
        mm.UNCLIP_RATIO: "1.5",
    }
    return _model(
        nodes,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [c("k", [-8.0])],
        meta,
    )


def recognizer_bytes():
    classes = len(ALPHABET) + 1
    w = np.full((1, classes), 0.0, np.float32)
    b = np.full((classes,), -10.0, np.float32)
    x = ALPHABET.index("x") + 1
    w[0, x], b[x] = 20.0, -10.0  # ink 1 -> x: +10; ink 0 -> -10
    w[0, 0], b[0] = -20.0, 10.0  # blank the other way round
    c = lambda name, v: numpy_helper.from_array(np.asarray(v), name)
    nodes = [
        helper.make_node("ReduceMin", ["image"], ["colmin"], axes=[2], keepdims=1),  # [N,1,1,W]
        helper.make_node("MaxPool", ["neg"], ["stepmax"], kernel_shape=[1, 4], strides=[1, 4]),
        helper.make_node("Neg", ["colmin"], ["neg"]),
        helper.make_node("Greater", ["stepmax", "zero"], ["inkb"]),  # dark: x < 0
        helper.make_node("Cast", ["inkb"], ["ink"], to=TensorProto.FLOAT),
        helper.make_node("Squeeze", ["ink", "axes12"], ["ink2"]),  # [N,T]
        helper.make_node("Unsqueeze", ["ink2", "axes2"], ["ink3"]),  # [N,T,1]
        helper.make_node("MatMul", ["ink3", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["z"]),
        helper.make_node("LogSoftmax", ["z"], ["logits"], axis=2),
    ]
    nodes = [nodes[0], nodes[2], nodes[1]] + nodes[3:]
    meta = {
        mm.KIND: "recognizer",
        mm.VERSION: "test",
        mm.ALPHABET: ALPHABET,
        mm.HEIGHT: "32",
        mm.DOWNSAMPLE: "4",
        mm.MEAN: "[0.5]",
        mm.STD: "[0.5]",
        mm.BLANK: "0",
    }
    inits = [
        c("zero", np.array(0.0, np.float32)),
        c("axes12", np.array([1, 2], np.int64)),
        c("axes2", np.array([2], np.int64)),
        c("w", w),
        c("b", b),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 32, "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", "T", classes])],
        inits,
        meta,
    )
