"""The CRNN recognizer: architecture, its default config, and its ONNX export, in one module.

Input `image` float32 [N, 1, 32, W] grey, x = (pixel / 255 - mean) / std; output `logits`
float32 [N, W/4, C] log-softmax over C = len(ALPHABET) + 1 classes, class 0 = CTC blank
(the contract in ../shared/ARCHITECTURE.md; key names in localocr.contract.keys).

CNN (designed for CPU/WASM: the first conv already has stride 2, so the expensive
layers run on a quarter of the pixels; plain narrow 3x3 convs, since depthwise convs
are slow to train on CPU and gain little at this width) -> 2-layer BiLSTM -> linear.

    conv3x3/2   1->32                       32xW -> 16xW/2
    conv3x3/2  32->64                       -> 8xW/4
    conv3x3    64->128, maxpool (2,1)       -> 4xW/4
    conv3x3   128->128, maxpool (2,1)       -> 2xW/4
    conv(2x3) 128->192 (collapses height)   -> 1xW/4
    BiLSTM(192->2x128) x2 -> linear 256 -> C
"""

from __future__ import annotations

import json

import torch
from torch import nn

from export.charset import ALPHABET

CONFIG = {
    "version": "1.0.0",
    "height": 32,  # contract: recognizer input height
    "downsample": 4,  # contract: W / T
    "mean": [0.5],  # grey, 0..1 scale: centres the input on 0
    "std": [0.5],  # -> inputs in [-1, 1]
    "channels": (32, 64, 128, 128, 192),
    "hidden": 128,  # LSTM units per direction
    "dropout": 0.1,  # between LSTM layers and before the classifier
    "alphabet": ALPHABET,
}


def _cbr(cin, cout, k=3, stride=1, padding=1):
    return [nn.Conv2d(cin, cout, k, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class CRNN(nn.Module):
    """CNN -> 2-layer BiLSTM -> linear; forward returns log-softmax [N, W/4, C]."""

    def __init__(self, config: dict = CONFIG):
        super().__init__()
        c1, c2, c3, c4, c5 = config["channels"]
        self.config = dict(config)
        self.cnn = nn.Sequential(
            *_cbr(1, c1, stride=2),
            *_cbr(c1, c2, stride=2),
            *_cbr(c2, c3),
            nn.MaxPool2d((2, 1), (2, 1)),
            *_cbr(c3, c4),
            nn.MaxPool2d((2, 1), (2, 1)),
            *_cbr(c4, c5, k=(2, 3), padding=(0, 1)),
        )
        h = config["hidden"]
        self.rnn = nn.LSTM(c5, h, num_layers=2, bidirectional=True, batch_first=True, dropout=config["dropout"])
        self.drop = nn.Dropout(config["dropout"])
        self.fc = nn.Linear(2 * h, len(config["alphabet"]) + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.cnn(x)  # [N, C5, 1, W/4]
        f = f.squeeze(2).permute(0, 2, 1)  # [N, W/4, C5]
        f, _ = self.rnn(f)
        return torch.log_softmax(self.fc(self.drop(f)), dim=-1)


def normalise(pixels: torch.Tensor, config: dict = CONFIG) -> torch.Tensor:
    """uint8 grey [N, 1, H, W] -> the model's float input."""
    return (pixels.float() / 255.0 - config["mean"][0]) / config["std"][0]


def metadata(config: dict = CONFIG) -> dict[str, str]:
    """The model's metadata_props (keys from localocr.contract.keys; values are strings)."""
    from localocr.contract import keys as mm

    return {
        mm.KIND: "recognizer",
        mm.VERSION: config["version"],
        mm.MEAN: json.dumps(config["mean"]),
        mm.STD: json.dumps(config["std"]),
        mm.DOWNSAMPLE: str(config["downsample"]),
        mm.HEIGHT: str(config["height"]),
        mm.ALPHABET: config["alphabet"],
        mm.BLANK: "0",
    }


def export_onnx(model: CRNN, path: str, opset: int = 17) -> None:
    """Write `model` to ONNX: dynamic batch and width, names and metadata per the contract.

    Uses the TorchScript exporter, which maps nn.LSTM to the ONNX LSTM op (one op that
    onnxruntime and onnxruntime-web run natively and that dynamic int8 quantization covers).
    """
    import onnx
    from localocr.contract import keys as mm

    model = model.eval()
    h = model.config["height"]
    dummy = torch.zeros(2, 1, h, 128)
    torch.onnx.export(
        model,
        (dummy,),
        path,
        input_names=[mm.RECOGNIZER_INPUT],
        output_names=[mm.RECOGNIZER_OUTPUT],
        opset_version=opset,
        dynamo=False,
        dynamic_axes={mm.RECOGNIZER_INPUT: {0: "batch", 3: "width"}, mm.RECOGNIZER_OUTPUT: {0: "batch", 1: "frames"}},
    )
    m = onnx.load(path)
    del m.metadata_props[:]
    for k, v in metadata(model.config).items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m)
    onnx.save(m, path)
