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


def test_the_accurate_tier_is_tuned_on_its_own_spec_and_on_the_scene_sets_too(monkeypatch):
    from localocr.contract.models import RecognizerSpec

    from export.recognizer import tune_space_bias as t

    seen = []

    def fake_eval(ocr, folder, split, pages, casefold):
        seen.append((folder.rsplit("/", 1)[-1], split, ocr.accurate.spec.space_bias, ocr.recognizer.spec.space_bias))
        return {"e2e_f1": 0.5}

    class Model:
        def __init__(self, bias):
            self.spec = RecognizerSpec("1", "ab", 32, 4, (0.5,), (0.5,), space_bias=bias)

    class Fake:
        recognizer, accurate = Model(1.5), Model(0.0)

    monkeypatch.setattr(t, "evaluate_set", fake_eval)
    ocr = Fake()
    assert t.scores(ocr, 2.0, 3, tier="accurate") == {name: 0.5 for name, _ in t.ACCURATE_SETS}
    assert {s[0] for s in seen} == {"funsd_train", "sroie_train", "ic15_train", "openalpr_plates"}
    assert all(split == "train" and acc == 2.0 and fast == 1.5 for _, split, acc, fast in seen)
    seen.clear()
    t.scores(ocr, 1.0, 3)  # the fast tier: its own spec, the document sets
    assert {s[0] for s in seen} == {"funsd_train", "sroie_train"} and ocr.recognizer.spec.space_bias == 1.0
