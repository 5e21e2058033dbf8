"""Train the CRNN recognizer with CTC on pre-rendered shards (.cache/rec, see export.recognizer.data).

    python -m export.recognizer.train --run runs/rec --minutes 600          # CPU, resumes
    python -m export.recognizer.train --run $OUT --device cuda --minutes 9  # lent GPU, same code

Resumable: `<run>/last.pt` (every --ckpt-minutes) holds model, optimiser, step and the
best validation score; `<run>/best.pt` the best model so far (mean CER of the real sets).
`<run>/train.log` gets one JSON line per log interval and per validation.

Batches: samples drawn from a mix of synthetic lines and real crops, grouped by width
(sorted pools cut into batches under a column budget), so long receipt lines keep
their natural width. Curriculum: short labels and small batches first (gets CTC past
its all-blank plateau: that takes updates, not samples), then the length cap rises to
everything. Schedule: AdamW, linear warm-up,
cosine decay. SROIE crops (labels upper case whatever the print, flag CASE_FOLD) are
trained with case-folded CTC: the probabilities of a letter's two cases are summed
before the loss, so either case is right and the model is never taught to upper-case.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import queue
import random
import sys
import threading
import time

import numpy as np
import torch
import torch.nn.functional as F
from localocr.metrics import levenshtein
from localocr.recognition import ctc_greedy_batch

from export.charset import ALPHABET, case_pairs, encode
from export.recognizer.data import CACHE
from export.recognizer.model import CONFIG, CRNN, normalise
from export.shards import CASE_FOLD, read_shard

# Training mix: share of samples drawn from each source (real sets: their training split).
# funsd_lines (FUNSD words grouped into lines, added at step ~7.6k of the first run) teaches the
# spaces of form lines; it is validated but left out of the model-selection score, so scores
# before and after it compare.
MIX = {
    "synth": 0.49,
    "sroie_train": 0.14,
    "funsd_train": 0.12,
    "funsd_lines": 0.06,
    "iiit5k_train": 0.07,
    "ic15_train": 0.05,
    "openalpr_plates": 0.03,
    "tapuscorpus": 0.04,
}
VAL_SETS = [
    "sroie_train",
    "funsd_train",
    "funsd_lines",
    "iiit5k_train",
    "ic15_train",
    "openalpr_plates",
    "tapuscorpus",
    "synth",
]
NOT_SCORED = ("synth", "funsd_lines")


def parse_mix(spec: str) -> dict[str, float]:
    """MIX with some sources' shares changed: "synth=0.3,sroie_train=0.2" (renormalised to sum 1)."""
    mix = dict(MIX)
    for part in filter(None, (x.strip() for x in spec.split(","))):
        name, _, w = part.partition("=")
        if name not in MIX:
            raise ValueError(f"--mix: unknown source {name!r} (known: {', '.join(MIX)})")
        mix[name] = float(w)
        if mix[name] < 0:
            raise ValueError(f"--mix: negative share for {name}")
    total = sum(mix.values())
    if total <= 0:
        raise ValueError("--mix: all shares are zero")
    return {k: v / total for k, v in mix.items()}


# ---------------------------------------------------------------- data


class Pool:
    """Samples of one source: images (uint8 [32, w]), labels, flags."""

    def __init__(self):
        self.images, self.labels, self.flags, self.lengths = [], [], [], []

    def add(self, images, labels, flags):
        self.images += images
        self.labels += labels
        self.flags += [int(f) for f in flags]
        self.lengths += [len(s) for s in labels]

    def __len__(self):
        return len(self.images)


def load_real(split: str) -> dict[str, Pool]:
    pools = {}
    for name in MIX:
        if name == "synth":
            continue
        path = os.path.join(CACHE, "real", f"{name}_{split}.npz")
        if os.path.exists(path):
            pools[name] = Pool()
            pools[name].add(*read_shard(path))
    if split == "val" and os.path.exists(os.path.join(CACHE, "real", "synth_val.npz")):
        pools["synth"] = Pool()
        pools["synth"].add(*read_shard(os.path.join(CACHE, "real", "synth_val.npz")))
    return pools


def load_synth(max_shards: int) -> tuple[Pool, list[str]]:
    """The newest `max_shards` synthetic shards."""
    files = sorted(glob.glob(os.path.join(CACHE, "synth", "train_*.npz")))[-max_shards:]
    pool = Pool()
    for f in files:
        try:
            pool.add(*read_shard(f))
        except (OSError, ValueError):  # being deleted by a --forever renderer
            continue
    return pool, files


def max_len_at(step: int, args) -> int:
    """Curriculum: label length cap, `start_len` until `curr_steps`/3, then linear to 1000."""
    hold = args.curr_steps // 3
    if step < hold:
        return args.start_len
    if step >= args.curr_steps:
        return 1000
    frac = (step - hold) / (args.curr_steps - hold)
    return int(args.start_len + frac * (80 - args.start_len))


def pad_batch(images: list[np.ndarray], rng: random.Random, train: bool, min_width: int = 32) -> tuple[np.ndarray, int]:
    """Stack to uint8 [N, 1, 32, W], W = max(widest, min_width) rounded up to a multiple of 4.

    Like the pipeline (localocr.recognition.batch_input): a crop narrower than `min_width`
    (the height) is centred, and crops are padded with their own median grey. Training
    also pads with the edge column, white or black now and then, so the model reads
    blank on whatever a caller pads with.
    """
    w = max(min_width, max(im.shape[1] for im in images))
    w = (w + 3) // 4 * 4
    out = np.empty((len(images), 1, images[0].shape[0], w), np.uint8)
    mode = rng.random() if train else 0.0
    for i, im in enumerate(images):
        iw = im.shape[1]
        x0 = (min_width - iw) // 2 if iw < min_width else 0
        if mode < 0.6:
            out[i, 0] = np.uint8(np.median(im))
        elif mode < 0.8:
            out[i, 0, :, :x0] = im[:, :1]
            out[i, 0, :, x0 + iw :] = im[:, -1:]
        elif mode < 0.9:
            out[i, 0] = 255
        else:
            out[i, 0] = 0
        out[i, 0, :, x0 : x0 + iw] = im
    return out, w


def batches(pools: dict[str, Pool], args, step_ref: list[int], seed: int):
    """Endless batches (pixels uint8, labels, flags) grouped by width."""
    rng = random.Random(seed)
    mix = parse_mix(getattr(args, "mix", ""))
    names = [n for n in mix if n in pools and len(pools[n]) and mix[n] > 0]
    weights = [mix[n] for n in names]
    while True:
        cap = max_len_at(step_ref[0], args)
        # small batches early: escaping the all-blank plateau takes updates, not samples
        max_batch = args.early_batch if step_ref[0] < args.early_steps else args.max_batch
        pool_size = args.pool if step_ref[0] >= args.early_steps else max(256, args.pool // 4)
        cand = []
        for _ in range(pool_size):
            src = rng.choices(names, weights)[0]
            p = pools[src]
            for _ in range(20):
                i = rng.randrange(len(p))
                if p.lengths[i] <= cap:
                    break
            else:
                continue
            cand.append((p.images[i].shape[1], src, i))
        cand.sort()
        (
            groups,
            cur,
        ) = [], []
        for c in cand:
            w = (c[0] + 3) // 4 * 4
            if cur and (w * (len(cur) + 1) > args.cols or len(cur) >= max_batch):
                groups.append(cur)
                cur = []
            cur.append(c)
        if cur:
            groups.append(cur)
        rng.shuffle(groups)
        for g in groups:
            if len(g) < 4:  # a lone very wide sample: skip rather than a tiny batch
                continue
            ims = [pools[s].images[i] for _, s, i in g]
            if rng.random() < 0.1:  # light-on-dark for every source, not only synthetic lines
                ims = [255 - im for im in ims]
            x, _ = pad_batch(ims, rng, train=True)
            yield x, [pools[s].labels[i] for _, s, i in g], [pools[s].flags[i] for _, s, i in g]


def prefetch(gen, depth=4):
    q = queue.Queue(depth)

    def work():
        for item in gen:
            q.put(item)

    threading.Thread(target=work, daemon=True).start()
    while True:
        yield q.get()


# ---------------------------------------------------------------- loss

_PAIRS = case_pairs()


def ctc_loss(
    logp: torch.Tensor, labels: list[str], flags: list[int], input_lengths: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean CTC loss per sample (divided by label length); case-folded where flagged.

    logp: [N, T, C] log-softmax. For CASE_FOLD samples the upper-case class gets
    log(p(lower) + p(upper)) and the target is the upper-cased label.
    input_lengths: (N,) frames of each sample that count (default: all T).
    """
    n, t, _ = logp.shape
    fold = torch.tensor([bool(f & CASE_FOLD) for f in flags], device=logp.device)
    if fold.any():
        lo = torch.tensor([a for a, _ in _PAIRS], device=logp.device)
        up = torch.tensor([b for _, b in _PAIRS], device=logp.device)
        folded = logp.clone()
        folded[..., up] = torch.logaddexp(logp[..., lo], logp[..., up])
        logp = torch.where(fold[:, None, None], folded, logp)
        labels = [s.upper() if f & CASE_FOLD else s for s, f in zip(labels, flags)]
    targets = [encode(s) for s in labels]
    tgt = torch.tensor([k for t_ in targets for k in t_], dtype=torch.long)
    tlen = torch.tensor([len(t_) for t_ in targets], dtype=torch.long)
    ilen = torch.full((n,), t, dtype=torch.long) if input_lengths is None else input_lengths
    return F.ctc_loss(logp.permute(1, 0, 2).float(), tgt, ilen, tlen, blank=0, reduction="mean", zero_infinity=True)


# ---------------------------------------------------------------- evaluation


def _alnum(s: str) -> str:
    return "".join(c for c in s.lower() if c.isalnum())


def score(name: str, preds: list[str], refs: list[str]) -> dict:
    """Per-set metrics: CER and exact accuracy (SROIE case-insensitive; IIIT5K also
    case-insensitive alphanumeric accuracy, the usual protocol)."""
    if name.startswith("sroie"):
        preds, refs = [p.upper() for p in preds], [r.upper() for r in refs]
    errs = sum(levenshtein(p, r) for p, r in zip(preds, refs))
    chars = sum(len(r) for r in refs)
    out = {
        "n": len(refs),
        "chars": chars,
        "cer": errs / max(chars, 1),
        "acc": sum(p == r for p, r in zip(preds, refs)) / max(len(refs), 1),
    }
    if name.startswith("iiit5k"):
        out["acc_ci_alnum"] = sum(_alnum(p) == _alnum(r) for p, r in zip(preds, refs)) / max(len(refs), 1)
    return out


def predict_batched(logits_of, images: list[np.ndarray], cols: int = 16384, space_bias: float = 0.0) -> list[str]:
    """Greedy CTC decode of every image, batched by width (results in input order), with the
    pipeline's own decoder (localocr.recognition.ctc_greedy_batch, and the model's space bias).

    `logits_of(x)` maps a padded uint8 batch [N,1,H,W] to the scores per time step [N,T,C]
    (torch in training, onnxruntime at export): one batching loop for both.
    """
    order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
    out = [None] * len(images)
    rng = random.Random(0)
    k = 0
    while k < len(order):
        j = k
        # about `cols` padded columns and at most 256 crops per batch
        while j < len(order) and (j - k + 1) * ((images[order[j]].shape[1] + 3) // 4 * 4) <= cols and j - k < 256:
            j += 1
        j = max(j, k + 1)
        idx = order[k:j]
        x, _ = pad_batch([images[i] for i in idx], rng, train=False)
        for i, d in zip(idx, ctc_greedy_batch(logits_of(x), ALPHABET, space_bias=space_bias)):
            out[i] = d.text
        k = j
    return out


@torch.no_grad()
def predict(model, images: list[np.ndarray], device, cols: int = 16384) -> list[str]:
    """Greedy CTC decode of every image with the torch model, batched by width."""
    model.eval()
    return predict_batched(lambda x: model(normalise(torch.from_numpy(x).to(device))).cpu().numpy(), images, cols)


def validate(model, val: dict[str, Pool], device, limit: int) -> dict:
    res = {}
    for name in VAL_SETS:
        if name not in val:
            continue
        p = val[name]
        # a fixed, evenly strided subset: every validation page contributes, cost bounded
        idx = list(range(0, len(p), max(1, math.ceil(len(p) / limit))))
        preds = predict(model, [p.images[i] for i in idx], device)
        res[name] = score(name, preds, [p.labels[i] for i in idx])
    return res


def val_score(res: dict) -> float:
    """Model selection: mean CER over the real validation sets."""
    cers = [v["cer"] for k, v in res.items() if k not in NOT_SCORED]
    return sum(cers) / max(len(cers), 1)


# ---------------------------------------------------------------- training


def lr_at(step: int, args) -> float:
    step -= getattr(args, "schedule_from", 0)
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    frac = min(1.0, (step - args.warmup) / max(1, args.total_steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * frac))


def save(path: str, state: dict) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def log(run: str, rec: dict) -> None:
    rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), **rec}
    line = json.dumps(rec)
    print(line, flush=True)
    with open(os.path.join(run, "train.log"), "a") as f:
        f.write(line + "\n")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default="runs/rec")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--minutes", type=float, default=600)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    p.add_argument("--total-steps", type=int, default=60000, help="length of the cosine schedule")
    p.add_argument("--lr", type=float, default=1.5e-3)
    p.add_argument("--min-lr", type=float, default=2e-5)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--cols", type=int, default=12288, help="batch budget: samples x padded width")
    p.add_argument("--max-batch", type=int, default=96)
    p.add_argument("--early-batch", type=int, default=32, help="max batch before --early-steps")
    p.add_argument("--early-steps", type=int, default=1500)
    p.add_argument("--pool", type=int, default=2048, help="samples sorted by width per refill")
    p.add_argument("--start-len", type=int, default=10, help="curriculum: first label length cap")
    p.add_argument("--curr-steps", type=int, default=3000, help="curriculum: steps until no cap")
    p.add_argument("--max-shards", type=int, default=40)
    p.add_argument("--reload-minutes", type=float, default=10)
    p.add_argument("--ckpt-minutes", type=float, default=3)
    p.add_argument("--val-minutes", type=float, default=6)
    p.add_argument("--val-limit", type=int, default=1000, help="samples per validation set")
    p.add_argument("--log-steps", type=int, default=50)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument(
        "--mix",
        default="",
        help="change sources' shares of the batches, e.g. "
        '"synth=0.3,sroie_train=0.2" (others keep theirs; renormalised)',
    )
    p.add_argument(
        "--restart-schedule",
        action="store_true",
        help="count warm-up and cosine from the resumed step (a new phase, or a checkpoint "
        "rebuilt by export.onnx_to_ckpt with a fresh optimiser)",
    )
    p.add_argument("--init", default="", help="start from these weights (no optimiser state)")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.run, exist_ok=True)
    model = CRNN(CONFIG).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, seen, best = 0, 0, float("inf")
    last = os.path.join(args.run, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, seen, best = ck["step"], ck["seen"], ck["best"]
        log(args.run, {"event": "resume", "step": step, "seen": seen, "best": best})
    elif args.init:
        model.load_state_dict(torch.load(args.init, map_location=device, weights_only=False)["model"])
        log(args.run, {"event": "init", "from": args.init})
    args.schedule_from = step if args.restart_schedule else 0
    log(args.run, {"event": "start", "args": vars(args), "params": sum(q.numel() for q in model.parameters())})

    pools = load_real("train")
    synth, synth_files = load_synth(args.max_shards)
    pools["synth"] = synth
    val = load_real("val")
    log(
        args.run,
        {
            "event": "data",
            "train": {k: len(v) for k, v in pools.items()},
            "val": {k: len(v) for k, v in val.items()},
            "synth_shards": len(synth_files),
        },
    )
    step_ref = [step]
    gen = prefetch(batches(pools, args, step_ref, args.seed + step))

    t0 = time.time()
    t_ckpt = t_val = t_reload = t_log = t0
    run_loss, run_n, run_seen = 0.0, 0, 0
    state = lambda: {
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "step": step,  # noqa: E731
        "seen": seen,
        "best": best,
        "config": CONFIG,
    }
    while True:
        now = time.time()
        if now - t0 > args.minutes * 60 or (args.max_steps and step >= args.max_steps):
            break
        x, labels, flags = next(gen)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        model.train()
        xt = normalise(torch.from_numpy(x).to(device, non_blocking=True)).contiguous(memory_format=torch.channels_last)
        logp = model(xt)
        loss = ctc_loss(logp, labels, flags)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        step_ref[0] = step
        seen += len(labels)
        run_seen += len(labels)
        run_loss += loss.item()
        run_n += 1
        if step % args.log_steps == 0:
            dt = time.time() - t_log
            log(
                args.run,
                {
                    "step": step,
                    "seen": seen,
                    "loss": run_loss / run_n,
                    "lr": lr_at(step, args),
                    "samples_per_s": run_seen / dt,
                    "max_len": max_len_at(step, args),
                    "batch": len(labels),
                    "width": x.shape[-1],
                },
            )
            run_loss, run_n, run_seen, t_log = 0.0, 0, 0, time.time()
        if time.time() - t_val > args.val_minutes * 60:
            tv = time.time()
            res = validate(model, val, device, args.val_limit)
            sc = val_score(res)
            if sc < best:
                best = sc
                save(os.path.join(args.run, "best.pt"), state())
            log(
                args.run,
                {
                    "event": "val",
                    "step": step,
                    "seen": seen,
                    "score": sc,
                    "best": best,
                    "val_seconds": time.time() - tv,
                    **res,
                },
            )
            t_val = t_log = time.time()
        if time.time() - t_ckpt > args.ckpt_minutes * 60:
            save(last, state())
            t_ckpt = time.time()
        if time.time() - t_reload > args.reload_minutes * 60:
            files = sorted(glob.glob(os.path.join(CACHE, "synth", "train_*.npz")))[-args.max_shards :]
            if files != synth_files:
                new, synth_files = load_synth(args.max_shards)
                pools["synth"].__dict__.update(new.__dict__)  # the batch thread holds the same object
                log(args.run, {"event": "reload", "synth": len(new), "shards": len(synth_files)})
            t_reload = time.time()
    res = validate(model, val, device, args.val_limit)
    sc = val_score(res)
    if sc < best:
        best = sc
        save(os.path.join(args.run, "best.pt"), state())
    save(last, state())
    log(args.run, {"event": "val", "step": step, "seen": seen, "score": sc, "best": best, **res})
    log(args.run, {"event": "end", "step": step, "seen": seen})


if __name__ == "__main__":
    main(sys.argv[1:])
