"""export/fp16_weights.py: float16 storage of float32 weights, float32 compute, same contract."""

from __future__ import annotations

import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from export import fp16_weights as F  # noqa: E402


def conv_model(scale: float = 1.0) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((8, 3, 3, 3)) * scale).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)  # 8 values: below MIN_ELEMENTS, stays fp32
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w", "b"], ["h"], pads=[1, 1, 1, 1]),
            helper.make_node("Sigmoid", ["h"], ["prob"]),
        ],
        "det",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 8, "H", "W"])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"localocr.kind": "detector"})
    return model


def test_weights_stored_as_fp16_with_fp32_interface_and_output():
    model = conv_model()
    half = F.fp16_weights(model)
    types = {i.name: i.data_type for i in half.graph.initializer}
    assert types == {"w_fp16": TensorProto.FLOAT16, "b": TensorProto.FLOAT}
    assert [n.op_type for n in half.graph.node] == ["Cast", "Conv", "Sigmoid"]
    assert half.graph.input == model.graph.input and half.graph.output == model.graph.output
    assert {p.key: p.value for p in half.metadata_props} == {"localocr.kind": "detector"}
    assert len(half.SerializeToString()) < len(model.SerializeToString())
    x = np.random.default_rng(1).standard_normal((1, 3, 16, 24)).astype(np.float32)
    diff = F.max_abs_diff(model.SerializeToString(), half.SerializeToString(), [{"image": x}])
    assert 0 < diff < 1e-3  # rounded weights (not identical), within fp16's precision
    out = ort.InferenceSession(half.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    assert out.dtype == np.float32


def test_weights_beyond_fp16_range_are_refused():
    with pytest.raises(ValueError, match="float16"):
        F.fp16_weights(conv_model(scale=1e6))


def test_convert_writes_the_file(tmp_path):
    src, dst = tmp_path / "a.onnx", tmp_path / "b.onnx"
    onnx.save(conv_model(), src)
    report = F.convert(str(src), str(dst))
    assert report["converted"] == 1 and report["bytes_after"] == dst.stat().st_size < report["bytes_before"]
