"""contract.onnxfile (pure-Python protobuf reader) and the model contract checks."""

import json

import pytest
from localocr.backends.fake import FakeBackend, fake_model_bytes
from localocr.contract import keys as mm
from localocr.contract.models import load_model
from localocr.contract.onnxfile import onnx_bytes, read_model_info
from localocr.errors import LocalOCRError


def test_reads_metadata_and_io_of_fake_models():
    info = read_model_info(fake_model_bytes("recognizer"))
    assert info.metadata[mm.KIND] == "recognizer"
    assert info.metadata[mm.ALPHABET].startswith(' !"#')
    assert [t.name for t in info.inputs] == ["image"]
    assert info.inputs[0].shape == ["N", 1, 32, "W"]
    assert info.outputs[0].shape == ["N", "T", 96] and info.outputs[0].elem_type == 1


def test_matches_onnx_library():
    pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((3,), np.float32), "weight")
    node = helper.make_node("Add", ["image", "weight"], ["prob"])
    graph = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "H", "W"]),
            helper.make_tensor_value_info("weight", TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [w],
    )
    model = helper.make_model(graph)
    helper.set_model_props(model, {"localocr.kind": "detector", "é": "ünï"})
    info = read_model_info(model.SerializeToString())
    assert info.metadata == {"localocr.kind": "detector", "é": "ünï"}
    assert [t.name for t in info.inputs] == ["image"]  # the initializer is not an input
    assert info.inputs[0].shape == [1, 3, "H", "W"]
    assert [t.name for t in info.outputs] == ["prob"]


@pytest.mark.parametrize(
    "data", [b"", b"\x0a\xff\xff\xff\xff\x0f", b"not a model at all", b"\x08\x08", fake_model_bytes("detector")[:-7]]
)
def test_corrupt_model_bytes(data):
    with pytest.raises(LocalOCRError) as e:
        read_model_info(data)
    assert e.value.code == "bad_model"


def load(kind, **overrides):
    return load_model(FakeBackend(), fake_model_bytes(kind, **overrides), kind)


def test_good_models_load_with_specs():
    d = load("detector").spec
    assert (d.downsample, d.granularity, d.mean, d.unclip_ratio) == (2, "line", (0.4, 0.5, 0.6), 0.5)
    r = load("recognizer").spec
    assert (r.height, r.downsample, r.blank, len(r.alphabet)) == (32, 4, 0, 95)
    assert r.space_bias == 0.0  # optional key, absent
    assert load("recognizer", **{mm.SPACE_BIAS: "1.5"}).spec.space_bias == 1.5


@pytest.mark.parametrize(
    "kind,overrides,needle",
    [
        ("detector", {mm.KIND: "recognizer"}, "kind is 'recognizer'"),
        ("detector", {mm.MEAN: None}, mm.MEAN),
        ("detector", {mm.STD: json.dumps([1, 0, 1])}, "positive"),
        ("detector", {mm.MEAN: "[0.5, 0.5]"}, "expected 3"),
        ("detector", {mm.DOWNSAMPLE: "3"}, "downsample"),
        ("detector", {mm.GRANULARITY: "page"}, "granularity"),
        ("detector", {mm.THRESHOLD: "high"}, "not a number"),
        ("recognizer", {mm.ALPHABET: None}, mm.ALPHABET),
        ("recognizer", {mm.HEIGHT: "48"}, "height is 32"),
        ("recognizer", {mm.BLANK: "5"}, "blank"),
        ("recognizer", {mm.ALPHABET: "aab"}, "repeated"),
        ("recognizer", {mm.SPACE_BIAS: "wide"}, "not a number"),
    ],
)
def test_contract_mismatches_refused(kind, overrides, needle):
    with pytest.raises(LocalOCRError) as e:
        load(kind, **overrides)
    assert e.value.code == "bad_model" and needle in str(e.value)


def test_class_count_must_match_alphabet():
    meta = {
        mm.KIND: "recognizer",
        mm.ALPHABET: "abc",
        mm.HEIGHT: "32",
        mm.DOWNSAMPLE: "4",
        mm.MEAN: "[0.5]",
        mm.STD: "[0.5]",
    }
    bad = onnx_bytes(meta, {"image": ["N", 1, 32, "W"]}, {"logits": ["N", "T", 10]})
    with pytest.raises(LocalOCRError, match="10 classes"):
        load_model(FakeBackend(), bad, "recognizer")
    wrong_names = onnx_bytes(meta, {"input": ["N", 1, 32, "W"]}, {"logits": ["N", "T", 4]})
    with pytest.raises(LocalOCRError, match="no input named 'image'"):
        load_model(FakeBackend(), wrong_names, "recognizer")
    ok = onnx_bytes(meta, {"image": ["N", 1, 32, "W"]}, {"logits": ["N", "T", 4]})
    assert load_model(FakeBackend(), ok, "recognizer").spec.alphabet == "abc"


def test_model_from_path_and_missing_path(tmp_path):
    p = tmp_path / "det.onnx"
    p.write_bytes(fake_model_bytes("detector"))
    assert load_model(FakeBackend(), str(p), "detector").spec.downsample == 2
    with pytest.raises(LocalOCRError, match="Cannot read"):
        load_model(FakeBackend(), str(tmp_path / "nope.onnx"), "detector")


def test_onnxruntime_backend_refuses_a_graph_it_cannot_run():
    pytest.importorskip("onnxruntime")
    from localocr.backends.onnxruntime import OnnxRuntimeBackend

    with pytest.raises(LocalOCRError) as e:
        OnnxRuntimeBackend(threads=1).load(b"garbage!", "detector")
    assert e.value.code == "bad_model"
