"""Load the two models and check them against the contract (contract/keys.py).

A model is refused, with a message naming the problem, when its metadata or
its inputs/outputs do not match what the pipeline expects: another model's
file, an old export, a corrupt download. Defaults are used only for the
tuning knobs (thresholds), never for facts about the model's I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from ..errors import LocalOCRError
from . import keys as mm
from .onnxfile import ModelInfo, read_model_info

if TYPE_CHECKING:
    from ..backends.base import Session

# Post-processing defaults when a detector's metadata does not say (DB's
# published values: pixel threshold 0.3, expansion 1.5); box_threshold 0.5:
# a component must be on average more text than not.
DEFAULT_THRESHOLD = 0.3
DEFAULT_BOX_THRESHOLD = 0.5
DEFAULT_UNCLIP_RATIO = 1.5

# A kind's model file in a models folder, in order of preference: the int8 one (smaller, the web
# app's), else fp32. Written only here: OCR's bundled models, boot.json and the service worker's
# precache list (tools/boot.py, tools/precache.py) follow it, and the browser worker loads the file
# boot.json names.
MODEL_FILE_NAMES = ("{kind}.int8.onnx", "{kind}.onnx")


def model_file(folder: Path | str, kind: str) -> Path | None:
    """The file `kind` ("detector", "recognizer", "accurate") loads from `folder`, or None."""
    for pattern in MODEL_FILE_NAMES:
        path = Path(folder) / pattern.format(kind=kind)
        if path.is_file():
            return path
    return None


def _bad(name: str, what: str) -> LocalOCRError:
    return LocalOCRError(f"The {name} model does not match localocr's model contract: {what}.", "bad_model")


def _get(meta: dict, key: str, name: str) -> str:
    if key not in meta:
        raise _bad(name, f"metadata key '{key}' is missing")
    return meta[key]


def _float_list(meta: dict, key: str, name: str, n: int) -> list[float]:
    try:
        v = [float(x) for x in json.loads(_get(meta, key, name))]
    except (ValueError, TypeError):
        raise _bad(name, f"'{key}' is not a JSON list of numbers") from None
    if len(v) != n:
        raise _bad(name, f"'{key}' has {len(v)} values, expected {n}")
    if key == mm.STD and any(x <= 0 for x in v):
        raise _bad(name, f"'{key}' must be positive")
    return v


def _number(meta: dict, key: str, name: str, kind=float, default=None):
    if key not in meta:
        if default is None:
            raise _bad(name, f"metadata key '{key}' is missing")
        return default
    try:
        return kind(meta[key])
    except ValueError:
        raise _bad(name, f"'{key}' = {meta[key]!r} is not a number") from None


@dataclass(frozen=True)
class DetectorSpec:
    version: str
    mean: tuple
    std: tuple
    downsample: int
    granularity: str
    threshold: float
    box_threshold: float
    unclip_ratio: float


@dataclass(frozen=True)
class RecognizerSpec:
    version: str
    alphabet: str
    height: int
    downsample: int
    mean: tuple
    std: tuple
    blank: int = 0
    space_bias: float = 0.0
    role: str = "fast"
    reread_below: float = 0.0
    reread_max: int = 0


def _io_names(info: ModelInfo | None, input_names, output_names) -> tuple[list[str], list[str]]:
    """The model's input and output names: as a session gives them, else as its bytes say."""
    names_in = list(input_names) if input_names is not None else [t.name for t in info.inputs] if info else []
    names_out = list(output_names) if output_names is not None else [t.name for t in info.outputs] if info else []
    return names_in, names_out


def _check_io(info: ModelInfo | None, names_in, names_out, name, inp, out, in_rank, out_rank):
    if inp not in names_in:
        raise _bad(name, f"it has no input named '{inp}' (inputs: {', '.join(names_in) or 'none'})")
    if out not in names_out:
        raise _bad(name, f"it has no output named '{out}' (outputs: {', '.join(names_out) or 'none'})")
    if info is None:
        return None, None
    ti = next(t for t in info.inputs if t.name == inp) if any(t.name == inp for t in info.inputs) else None
    to = next(t for t in info.outputs if t.name == out) if any(t.name == out for t in info.outputs) else None
    for t, rank, what in ((ti, in_rank, "input"), (to, out_rank, "output")):
        if t is not None and t.shape and t.rank != rank:
            raise _bad(name, f"its {what} '{t.name}' has rank {t.rank}, expected {rank}")
        if t is not None and t.elem_type not in (0, 1):  # 1: float32
            raise _bad(name, f"its {what} '{t.name}' is not float32")
    return ti, to


def _kind_and_io(meta: dict, info: ModelInfo | None, input_names, output_names, name: str, kind: str, out_rank: int):
    """The checks both kinds share: the metadata's kind, the contract's input and output by name,
    their ranks and types. Returns the (input, output) tensor infos, or Nones without the bytes."""
    found = _get(meta, mm.KIND, name)
    if found != kind:
        raise _bad(name, f"its kind is '{found}', not '{kind}'")
    names_in, names_out = _io_names(info, input_names, output_names)
    inp, out = (
        (mm.DETECTOR_INPUT, mm.DETECTOR_OUTPUT) if kind == "detector" else (mm.RECOGNIZER_INPUT, mm.RECOGNIZER_OUTPUT)
    )
    return _check_io(info, names_in, names_out, name, inp, out, 4, out_rank)


def detector_spec(
    meta: dict, info: ModelInfo | None = None, input_names=None, output_names=None, name: str = "detector"
) -> DetectorSpec:
    """Check a detector's metadata and I/O; return its spec or raise LocalOCRError."""
    ti, _ = _kind_and_io(meta, info, input_names, output_names, name, "detector", 4)
    if ti is not None and len(ti.shape) == 4 and isinstance(ti.shape[1], int) and ti.shape[1] != 3:
        raise _bad(name, f"its input has {ti.shape[1]} channels, expected 3 (RGB)")
    ds = _number(meta, mm.DOWNSAMPLE, name, int)
    if ds not in (1, 2, 4, 8, 16, 32):
        raise _bad(name, f"downsample {ds} does not divide 32")
    gran = _get(meta, mm.GRANULARITY, name)
    if gran not in ("word", "line"):
        raise _bad(name, f"granularity '{gran}' is neither 'word' nor 'line'")
    return DetectorSpec(
        version=meta.get(mm.VERSION, "?"),
        mean=tuple(_float_list(meta, mm.MEAN, name, 3)),
        std=tuple(_float_list(meta, mm.STD, name, 3)),
        downsample=ds,
        granularity=gran,
        threshold=_number(meta, mm.THRESHOLD, name, float, DEFAULT_THRESHOLD),
        box_threshold=_number(meta, mm.BOX_THRESHOLD, name, float, DEFAULT_BOX_THRESHOLD),
        unclip_ratio=_number(meta, mm.UNCLIP_RATIO, name, float, DEFAULT_UNCLIP_RATIO),
    )


def recognizer_spec(
    meta: dict, info: ModelInfo | None = None, input_names=None, output_names=None, name: str = "recognizer"
) -> RecognizerSpec:
    """Check a recognizer's metadata and I/O; return its spec or raise LocalOCRError."""
    ti, to = _kind_and_io(meta, info, input_names, output_names, name, "recognizer", 3)
    alphabet = _get(meta, mm.ALPHABET, name)
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise _bad(name, "its alphabet is empty or has repeated characters")
    height = _number(meta, mm.HEIGHT, name, int)
    blank = _number(meta, mm.BLANK, name, int, 0)
    if blank != 0:
        raise _bad(name, f"blank index {blank}; the contract fixes it at 0")
    channels = _number(meta, mm.CHANNELS, name, int, 1)
    if channels != 1:
        raise _bad(name, f"{mm.CHANNELS} is {channels}; the pipeline feeds grey crops (1 channel)")
    role = meta.get(mm.ROLE, "fast")
    if role not in ("fast", "accurate"):
        raise _bad(name, f"role '{role}' is neither 'fast' nor 'accurate'")
    if ti is not None and len(ti.shape) == 4:
        if isinstance(ti.shape[1], int) and ti.shape[1] != 1:
            raise _bad(name, f"its input has {ti.shape[1]} channels, expected 1 (grey)")
        if isinstance(ti.shape[2], int) and ti.shape[2] != height:
            raise _bad(name, f"its input height is {ti.shape[2]} but the metadata says {height}")
    if to is not None and len(to.shape) == 3 and isinstance(to.shape[2], int):
        if to.shape[2] != len(alphabet) + 1:
            raise _bad(
                name, f"it has {to.shape[2]} classes but the alphabet needs {len(alphabet) + 1} (len(alphabet) + blank)"
            )
    return RecognizerSpec(
        version=meta.get(mm.VERSION, "?"),
        alphabet=alphabet,
        height=height,
        downsample=_number(meta, mm.DOWNSAMPLE, name, int),
        mean=tuple(_float_list(meta, mm.MEAN, name, 1)),
        std=tuple(_float_list(meta, mm.STD, name, 1)),
        blank=blank,
        space_bias=_number(meta, mm.SPACE_BIAS, name, float, 0.0),
        role=role,
        reread_below=_number(meta, mm.REREAD_BELOW, name, float, 0.0),
        reread_max=_number(meta, mm.REREAD_MAX, name, int, 0),
    )


S = TypeVar("S", DetectorSpec, RecognizerSpec)


@dataclass
class Model(Generic[S]):
    """A session with its checked spec."""

    session: Session
    spec: S
    name: str


@overload
def load_model(backend, model, kind: Literal["detector"], name: str | None = None) -> Model[DetectorSpec]: ...
@overload
def load_model(backend, model, kind: Literal["recognizer"], name: str | None = None) -> Model[RecognizerSpec]: ...
def load_model(backend, model, kind: str, name: str | None = None) -> Model[Any]:
    """Load a model for `kind` ("detector" | "recognizer").

    `model`: a path, the ONNX bytes, or an already created Session (whose
    `metadata`, `input_names`, `output_names` are then checked).
    """
    name = name or kind
    check: Any = detector_spec if kind == "detector" else recognizer_spec
    if hasattr(model, "run") or hasattr(model, "run_async"):
        sess = model
        spec = check(
            dict(getattr(sess, "metadata", {}) or {}), None, list(sess.input_names), list(sess.output_names), name
        )
        return Model(sess, spec, name)
    if not isinstance(model, (bytes, bytearray, memoryview)):
        path = str(model)
        try:
            with open(path, "rb") as f:
                model = f.read()
        except OSError as e:
            raise LocalOCRError(f"Cannot read the {name} model file {path}: {e.strerror}.", "bad_model") from None
        name = f"{name} ({path})"
    model = bytes(model)
    info = read_model_info(model)
    spec = check(info.metadata, info, name=name)
    sess = backend.load(model, name, info)  # parsed once: the backend gets what was read
    return Model(sess, spec, name)
