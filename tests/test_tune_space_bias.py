"""export/recognizer/tune_space_bias.py: the choice rule and the metadata it writes."""

import onnx
from localocr.contract import keys as mm
from localocr.contract.onnxfile import read_metadata
from onnx import TensorProto, helper

from export.recognizer.tune_space_bias import choose, write_bias


def test_choose_takes_the_best_mean_and_the_smaller_bias_on_a_tie():
    table = {0.0: {"a": 0.70, "b": 0.66}, 1.0: {"a": 0.72, "b": 0.67}, 2.0: {"a": 0.75, "b": 0.60}}
    assert choose(table) == 1.0
    table[3.0] = {"a": 0.71, "b": 0.68}  # same mean as 1.0: the smaller bias wins
    assert choose(table) == 1.0


def test_write_bias_sets_only_that_key(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    m = helper.make_model(graph)
    m.metadata_props.add(key=mm.KIND, value="recognizer")
    m.metadata_props.add(key=mm.SPACE_BIAS, value="9")
    path = tmp_path / "r.onnx"
    onnx.save(m, path)
    write_bias(str(path), 1.5)
    meta = read_metadata(path.read_bytes())
    assert meta == {mm.KIND: "recognizer", mm.SPACE_BIAS: "1.5"}
    assert onnx.load(path).graph == m.graph
