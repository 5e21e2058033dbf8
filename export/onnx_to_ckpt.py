"""Rebuild a training checkpoint from a shipped ONNX model, so training can go on from it.

    python -m export.onnx_to_ckpt rec web/models/recognizer.onnx runs/rec/last.pt --step 19074
    python -m export.onnx_to_ckpt det web/models/detector.onnx runs/det/last.pt --step 13342
    python -m export.onnx_to_ckpt acc web/models/accurate.int8.onnx runs/rec48/last.pt --step 0

Checkpoints live outside git (runs/) and a new checkout has none; the committed fp32
recognizer (and the fp16-stored detector) hold every weight the training needs, in the
shape the TorchScript exporter left them:
- Conv + BatchNorm were fused into one Conv (eval mode). The conv gets the fused weight, and
  its BatchNorm is re-parametrised around statistics measured on the conv's own output over
  real crops/pages: running mean m and variance v, gamma = sqrt(v + eps), beta = m + fused
  bias. In eval mode that is exactly the fused conv; in training mode (batch statistics
  close to m, v) it behaves like it too, so training resumes without a jump.
- nn.LSTM became ONNX LSTM ops: gates i,o,f,c -> torch's i,f,g,o; bias = [Wb | Rb].
- The detector's threshold head (training only) is not exported: it starts as a copy of the
  probability head.
- The accurate tier (export/pretrained): only its head is ours to train (the backbone is the frozen
  PP-OCRv6 one); its int8-stored weights (Cast + Mul per channel) are read through that pattern,
  which is exactly what the shipped file computes with.
The optimiser state is not recoverable: the checkpoint holds a fresh AdamW state at the given
step, so resume with a warm-up (train_det --restart-schedule; the recognizer's cosine is by
absolute step). The written model's outputs are checked against onnxruntime on the ONNX file.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys

import numpy as np
import torch
from torch import nn


def _initializers(path: str) -> tuple[object, dict[str, np.ndarray]]:
    """The graph and its weights as fp32 arrays, fp16-stored weights seen through their Cast."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    w = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in m.graph.initializer}
    for n in m.graph.node:  # fp16 storage: initializer -> Cast(to fp32) -> consumer
        if n.op_type == "Cast" and n.input[0] in w:
            w[n.output[0]] = w[n.input[0]]
        if n.op_type == "Constant" and n.attribute and n.attribute[0].t.dims:
            w[n.output[0]] = numpy_helper.to_array(n.attribute[0].t).astype(np.float32)
        if n.op_type == "Mul" and all(i in w for i in n.input):  # int8 storage: Cast(q) * scale
            w[n.output[0]] = w[n.input[0]] * w[n.input[1]]
    return m.graph, w


def _conv_order(model: nn.Module, run) -> list[nn.Conv2d]:
    """Conv2d modules in execution order (the order of the ONNX graph's Conv nodes)."""
    order, hooks = [], []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(lambda m, i, o: order.append(m)))
    with torch.no_grad():
        run()
    for h in hooks:
        h.remove()
    seen, out = set(), []
    for m in order:
        if id(m) not in seen:
            seen.add(id(m))
            out.append(m)
    return out


def _bn_after(model: nn.Module) -> dict[int, nn.BatchNorm2d]:
    """Conv2d -> the BatchNorm2d that follows it in its Sequential."""
    pairs = {}
    for mod in model.modules():
        if isinstance(mod, nn.Sequential):
            kids = list(mod)
            for a, b in zip(kids, kids[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    pairs[id(a)] = b
    return pairs


def load_convs(model: nn.Module, graph, w: dict, convs: list[nn.Conv2d]) -> list[tuple]:
    """Copy the ONNX Conv weights into `convs` (same order); return (bn, fused bias) to calibrate."""
    nodes = [n for n in graph.node if n.op_type == "Conv"]
    if len(nodes) != len(convs):
        raise SystemExit(f"{len(nodes)} Conv nodes in the ONNX graph, {len(convs)} Conv2d in the model")
    bns = _bn_after(model)
    todo = []
    for node, conv in zip(nodes, convs):
        W = torch.from_numpy(w[node.input[1]])
        if tuple(W.shape) != tuple(conv.weight.shape):
            raise SystemExit(f"Conv {node.name}: ONNX {tuple(W.shape)} vs torch {tuple(conv.weight.shape)}")
        b = torch.from_numpy(w[node.input[2]]) if len(node.input) > 2 and node.input[2] else None
        conv.weight.data.copy_(W)
        bn = bns.get(id(conv))
        if bn is not None:
            fused = b if b is not None else torch.zeros(W.shape[0])
            # exact in eval until calibrated: identity BN plus the fused bias
            bn.weight.data.fill_(1.0)
            bn.bias.data.copy_(fused)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            todo.append((bn, fused))
        elif conv.bias is not None:
            conv.bias.data.copy_(b)
        elif b is not None and b.abs().max() > 0:
            raise SystemExit(f"Conv {node.name} has a bias the model has no place for")
    return todo


def calibrate(todo: list[tuple], run) -> None:
    """Re-parametrise each (BN, fused bias) around the statistics of its input over `run()`."""
    stats = {}
    hooks = []
    for bn, _ in todo:

        def hook(m, inp, out):
            x = inp[0].detach().double()
            s = stats.setdefault(id(m), [0.0, 0.0, 0])
            s[0] = s[0] + x.sum(dim=(0, 2, 3))
            s[1] = s[1] + (x * x).sum(dim=(0, 2, 3))
            s[2] += x.numel() // x.shape[1]

        hooks.append(bn.register_forward_hook(hook))
    with torch.no_grad():
        run()
    for h in hooks:
        h.remove()
    for bn, fused in todo:
        s0, s1, n = stats[id(bn)]
        mean = s0 / n
        var = (s1 / n - mean * mean).clamp_min(1e-6)
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(var.float())
        bn.weight.data.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.data.copy_((mean.float() + fused))


def load_lstm(lstm: nn.LSTM, graph, w: dict) -> None:
    nodes = [n for n in graph.node if n.op_type == "LSTM"]
    if len(nodes) != lstm.num_layers:
        raise SystemExit(f"{len(nodes)} LSTM nodes, {lstm.num_layers} layers")
    h = lstm.hidden_size
    onnx_to_torch = [0, 2, 3, 1]  # ONNX gate blocks i,o,f,c -> torch i,f,g(c),o
    for layer, node in enumerate(nodes):
        W, R, B = (w[node.input[k]] for k in (1, 2, 3))
        for d, suffix in enumerate(["", "_reverse"]):

            def gates(a):
                blocks = np.split(a, 4, axis=0)
                return torch.from_numpy(np.concatenate([blocks[i] for i in onnx_to_torch], axis=0))

            getattr(lstm, f"weight_ih_l{layer}{suffix}").data.copy_(gates(W[d]))
            getattr(lstm, f"weight_hh_l{layer}{suffix}").data.copy_(gates(R[d]))
            getattr(lstm, f"bias_ih_l{layer}{suffix}").data.copy_(gates(B[d][: 4 * h]))
            getattr(lstm, f"bias_hh_l{layer}{suffix}").data.copy_(gates(B[d][4 * h :]))


def load_linear(fc: nn.Linear, graph, w: dict) -> None:
    """The classifier: Gemm (weight [out, in], transB) or MatMul ([in, out]) + Add."""
    for n in graph.node:
        if n.op_type in ("Gemm", "MatMul") and n.input[1] in w:
            W = w[n.input[1]]
            W = W if W.shape == tuple(fc.weight.shape) else W.T
            fc.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            if n.op_type == "Gemm":
                fc.bias.data.copy_(torch.from_numpy(w[n.input[2]]))
            else:
                add = next(a for a in graph.node if a.op_type == "Add" and n.output[0] in a.input)
                fc.bias.data.copy_(torch.from_numpy(w[next(i for i in add.input if i in w)]))
            return
    raise SystemExit("no classifier (Gemm/MatMul) in the graph")


# ---------------------------------------------------------------- the two models


def rec_samples(n: int = 512) -> list[np.ndarray]:
    """Real training crops (uint8 [32, W]) for BN statistics."""
    from export.recognizer.train import load_real

    pools = load_real("train")
    rng = np.random.default_rng(0)
    out = []
    names = [k for k in pools if len(pools[k])]
    for i in range(n):
        pool = pools[names[i % len(names)]]
        out.append(pool.images[int(rng.integers(len(pool)))])
    return out


def recover_rec(onnx_path: str, crops: list[np.ndarray] | None = None):
    """(model, probe input, run) for the recognizer; `crops` (uint8 [32, W]) set the BN statistics."""
    from export.recognizer.model import CONFIG, CRNN, normalise
    from export.recognizer.train import pad_batch

    graph, w = _initializers(onnx_path)
    model = CRNN(CONFIG).eval()
    crops = crops if crops is not None else rec_samples()

    def batches():  # padded as in validation (pad_batch, train=False: the crop's median grey)
        for i in range(0, len(crops), 32):
            yield normalise(torch.from_numpy(pad_batch(crops[i : i + 32], random.Random(0), train=False)[0]))

    probe = next(batches())
    convs = _conv_order(model, lambda: model(probe[:2]))
    todo = load_convs(model, graph, w, convs)
    load_lstm(model.rnn, graph, w)
    load_linear(model.fc, graph, w)
    calibrate(todo, lambda: [model.cnn(x) for x in batches()])
    return model, probe[:8].numpy(), lambda x: model(torch.from_numpy(x)).numpy()


def recover_acc(onnx_path: str):
    """(head, probe input, run) for the accurate tier: run = onnxruntime backbone -> the torch head."""
    import onnxruntime as ort
    from localocr.contract import keys as mm
    from localocr.contract.onnxfile import read_model_info

    from export.pretrained import ppocr
    from export.pretrained.head import CONFIG, Head, OnBackbone

    graph, w = _initializers(onnx_path)
    meta = read_model_info(open(onnx_path, "rb").read()).metadata
    lstm = next(n for n in graph.node if n.op_type == "LSTM")
    head = Head(
        dict(CONFIG, alphabet=meta[mm.ALPHABET], version=meta[mm.VERSION], hidden=int(w[lstm.input[2]].shape[-1]))
    ).eval()
    load_lstm(head.rnn, graph, w)
    load_linear(head.fc, graph, w)
    # the file's own backbone features (its int8-stored weights), as a second output
    import onnx

    m = onnx.load(onnx_path)
    m.graph.output.append(onnx.helper.make_tensor_value_info(ppocr.BACKBONE_OUT, onnx.TensorProto.FLOAT, None))
    features = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    probe = np.random.default_rng(0).uniform(-1, 1, (3, 1, ppocr.HEIGHT, 160)).astype(np.float32)

    def run(x):
        f = features.run([ppocr.BACKBONE_OUT], {mm.RECOGNIZER_INPUT: x})[0]
        return OnBackbone(head).eval()(torch.from_numpy(f)).numpy()

    return head, probe, run


def det_pages(per_set: int = 6) -> list[str]:
    """Real training pages (paths) for BN statistics."""
    from export.detector import data as det_data

    return [rec["path"] for s in det_data.REAL_SETS for rec in det_data.load_real(s, validation=False)[:per_set]]


def recover_det(onnx_path: str, pages: list | None = None):
    """(model, probe input, run) for the detector; `pages` (anything load_image takes) set the BN statistics."""
    from export.detector import model as D

    graph, w = _initializers(onnx_path)
    net = D.DBNet().eval()
    wrapper = D.ExportWrapper(net).eval()
    pages = pages if pages is not None else det_pages()

    def inputs():  # the pipeline's own first pass (as export.fp16_weights.detector_feeds)
        from localocr import detection
        from localocr.image import load_image

        for page in pages:
            im = load_image(page)
            x, _ = detection.prepare_input(im, detection.input_scale(*im.size), D.MEAN, D.STD)
            yield torch.from_numpy(x)

    probe = next(inputs())
    convs = _conv_order(wrapper, lambda: wrapper(probe))  # threshold head: not in the export
    todo = load_convs(net, graph, w, convs)
    calibrate(todo, lambda: [wrapper(x) for x in inputs()])
    net.thresh.load_state_dict(net.prob.state_dict())
    return net, probe.numpy(), lambda x: wrapper(torch.from_numpy(x)).numpy()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["rec", "det", "acc"])
    p.add_argument("onnx")
    p.add_argument("out", help="checkpoint to write (e.g. runs/rec/last.pt)")
    p.add_argument("--step", type=int, required=True, help="the training step the ONNX file was exported at")
    p.add_argument("--seen", type=int, default=0, help="recognizer: samples seen at that step")
    p.add_argument("--lr", type=float, default=1e-3, help="the fresh AdamW's lr (the trainers set their own)")
    args = p.parse_args(argv)

    import onnxruntime as ort

    model, probe, run = {"rec": recover_rec, "det": recover_det, "acc": recover_acc}[args.kind](args.onnx)
    model.eval()
    sess = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ours = run(probe)
    ref = sess.run(None, {sess.get_inputs()[0].name: probe})[0]
    diff = float(np.abs(ours - ref).max())
    print(f"{args.kind}: recovered from {args.onnx}; max |torch - onnxruntime| on real inputs {diff:.2e}")
    if not math.isfinite(diff) or diff > (1e-2 if args.kind == "det" else 1e-3):
        raise SystemExit("recovered model does not match the ONNX file")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    if args.kind == "acc":
        state = {
            "model": model.state_dict(),
            "config": model.config,
            "opt": opt.state_dict(),
            "step": args.step,
            "epoch": 0,
            "recovered_from": args.onnx,
        }
    elif args.kind == "rec":
        from export.recognizer.model import CONFIG

        state = {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "step": args.step,
            "seen": args.seen,
            "best": float("inf"),
            "config": CONFIG,
            "recovered_from": args.onnx,
        }
    else:
        state = {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "step": args.step,
            "config": model.config,
            "rng": np.random.default_rng(args.step).bit_generator.state,
            "best": -1.0,
            "args": {},
            "torch_rng": torch.get_rng_state(),
            "recovered_from": args.onnx,
        }
    from export.recognizer.train import save

    save(args.out, state)
    print(f"wrote {args.out} (step {args.step}, fresh optimiser state)")


if __name__ == "__main__":
    main(sys.argv[1:])
