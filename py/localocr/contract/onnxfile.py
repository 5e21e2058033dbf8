"""Read (and, for the fake models of the tests, write) an ONNX model's metadata and graph
inputs/outputs in pure Python: the one reader and the one writer of the model contract's bytes.

A tiny protobuf wire-format reader, so that CPython and Pyodide read a model's
contract the same way (onnxruntime-web exposes no metadata_props) and no
`onnx` import is needed. Only what the loader checks is decoded; everything
else (nodes, weights) is skipped by length without copying.

Fields read (onnx.proto3):
  ModelProto     7 graph, 14 metadata_props (StringStringEntryProto: 1 key, 2 value)
  GraphProto     5 initializer (TensorProto: 8 name), 11 input, 12 output
  ValueInfoProto 1 name, 2 type (TypeProto: 1 tensor_type)
  TypeProto.Tensor 1 elem_type, 2 shape (TensorShapeProto: 1 dim)
  Dimension      1 dim_value (int64), 2 dim_param (string)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LocalOCRError

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class _Truncated(Exception):
    pass


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise _Truncated()
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise _Truncated()


def fields(buf) -> list[tuple[int, int, Any]]:  # value: int (varint, fixed) or bytes (length-delimited)
    """Top-level fields of one message: [(field number, wire type, value)].

    value: int for varint/fixed, a memoryview for length-delimited fields.
    Raises LocalOCRError on malformed input.
    """
    buf = memoryview(buf)
    out = []
    pos = 0
    try:
        while pos < len(buf):
            key, pos = _varint(buf, pos)
            num, wt = key >> 3, key & 7
            if num == 0:
                raise _Truncated()
            if wt == _VARINT:
                val, pos = _varint(buf, pos)
            elif wt == _I64:
                if pos + 8 > len(buf):
                    raise _Truncated()
                val, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
            elif wt == _I32:
                if pos + 4 > len(buf):
                    raise _Truncated()
                val, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
            elif wt == _LEN:
                n, pos = _varint(buf, pos)
                if pos + n > len(buf):
                    raise _Truncated()
                val, pos = buf[pos : pos + n], pos + n
            else:  # groups (3, 4) are not used by ONNX
                raise _Truncated()
            out.append((num, wt, val))
    except _Truncated:
        raise LocalOCRError(
            "The model file is corrupt or not an ONNX model (bad protobuf data).", "bad_model"
        ) from None
    return out


def _str(v) -> str:
    try:
        return bytes(v).decode("utf-8")
    except (UnicodeDecodeError, TypeError):
        raise LocalOCRError("The model file is corrupt or not an ONNX model (bad string).", "bad_model") from None


@dataclass
class TensorInfo:
    name: str
    elem_type: int = 0  # 1 = float32 (onnx TensorProto.FLOAT)
    shape: list = field(default_factory=list)  # int for fixed dims, str for named ones, None for unknown

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass
class ModelInfo:
    metadata: dict[str, str]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    ir_version: int = 0


def _value_info(buf) -> TensorInfo:
    info = TensorInfo(name="")
    for num, wt, v in fields(buf):
        if num == 1 and wt == _LEN:
            info.name = _str(v)
        elif num == 2 and wt == _LEN:
            for n2, w2, t in fields(v):
                if n2 == 1 and w2 == _LEN:  # tensor_type
                    for n3, w3, tv in fields(t):
                        if n3 == 1 and w3 == _VARINT:
                            info.elem_type = tv
                        elif n3 == 2 and w3 == _LEN:  # shape
                            for n4, w4, dim in fields(tv):
                                if n4 == 1 and w4 == _LEN:
                                    d = None
                                    for n5, w5, dv in fields(dim):
                                        if n5 == 1 and w5 == _VARINT:
                                            d = dv
                                        elif n5 == 2 and w5 == _LEN:
                                            d = _str(dv)
                                    info.shape.append(d)
    return info


def read_model_info(model: bytes) -> ModelInfo:
    """Metadata, graph inputs (weights excluded) and outputs of an ONNX model's bytes."""
    if not model:
        raise LocalOCRError("The model file is empty.", "bad_model")
    meta: dict[str, str] = {}
    inputs, outputs, init_names = [], [], set()
    ir_version = 0
    graph_seen = False
    for num, wt, v in fields(model):
        if num == 1 and wt == _VARINT:
            ir_version = v
        elif num == 14 and wt == _LEN:
            key = value = ""
            for n2, w2, kv in fields(v):
                if n2 == 1 and w2 == _LEN:
                    key = _str(kv)
                elif n2 == 2 and w2 == _LEN:
                    value = _str(kv)
            meta[key] = value
        elif num == 7 and wt == _LEN:
            graph_seen = True
            for n2, w2, g in fields(v):
                if n2 == 11 and w2 == _LEN:
                    inputs.append(_value_info(g))
                elif n2 == 12 and w2 == _LEN:
                    outputs.append(_value_info(g))
                elif n2 == 5 and w2 == _LEN:
                    for n3, w3, t in fields(g):
                        if n3 == 8 and w3 == _LEN:
                            init_names.add(_str(t))
    if not graph_seen or ir_version == 0:
        raise LocalOCRError("The file is not an ONNX model (no graph found).", "bad_model")
    inputs = [i for i in inputs if i.name not in init_names]
    return ModelInfo(metadata=meta, inputs=inputs, outputs=outputs, ir_version=ir_version)


def read_metadata(model: bytes) -> dict[str, str]:
    """Just the metadata_props of an ONNX model's bytes."""
    return read_model_info(model).metadata


# ---------------------------------------------------------------- writer (a model with no nodes)


def _put_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _put_field(num: int, payload) -> bytes:
    if isinstance(payload, int):
        return _put_varint(num << 3) + _put_varint(payload)
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return _put_varint(num << 3 | 2) + _put_varint(len(payload)) + payload


def _put_value_info(name: str, shape) -> bytes:
    dims = b"".join(_put_field(1, _put_field(1, d) if isinstance(d, int) else _put_field(2, d)) for d in shape)
    tensor = _put_field(1, 1) + _put_field(2, dims)  # elem_type FLOAT, shape
    return _put_field(1, name) + _put_field(2, _put_field(1, tensor))


def onnx_bytes(metadata: dict, inputs: dict, outputs: dict) -> bytes:
    """A minimal ModelProto: ir_version 8, an empty graph with the given I/O, metadata_props."""
    graph = _put_field(2, "fake")
    graph += b"".join(_put_field(11, _put_value_info(n, s)) for n, s in inputs.items())
    graph += b"".join(_put_field(12, _put_value_info(n, s)) for n, s in outputs.items())
    model = _put_field(1, 8) + _put_field(2, "localocr-fake") + _put_field(7, graph)
    model += b"".join(_put_field(14, _put_field(1, k) + _put_field(2, v)) for k, v in metadata.items())
    return model
