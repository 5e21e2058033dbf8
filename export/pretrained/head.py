"""Our recognizer head on the frozen PP-OCRv6 backbone: 2-layer BiLSTM -> linear -> CTC (issue 15).

    python -m export.pretrained.head --run runs/rec48 [--epochs 8]

Trains on the features of export/pretrained/features.py (.cache/rec48), so an epoch over ~50k
crops takes minutes on one core. Loss: CTC on the ground truth (SROIE case-folded, as the 32-px
CRNN) plus `--kd` x the per-frame KL divergence from the teacher (PP-OCRv6 small's own neck and
head, pruned to our alphabet): both read the same frames (W/8), so its soft targets align.
One-cycle AdamW; the checkpoint kept is the last one of the fixed schedule (no selection on a
split, so the unseen-crops test stays unseen). Validation per epoch on every *_val shard and on
iiit5k_test, decoded with the pipeline's own CTC decoding; runs/rec48/log.jsonl keeps the curve.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import time

import numpy as np
import torch
from localocr.recognition import ctc_greedy_batch
from torch import nn

from export.charset import ALPHABET
from export.pretrained import ppocr
from export.pretrained.features import CACHE, read
from export.recognizer.train import ctc_loss, score

CONFIG = {
    "version": "2.0.0",
    "features": ppocr.FEATURES,  # backbone channels
    "hidden": 128,  # LSTM units per direction
    "layers": 2,
    "dropout": 0.1,
    "alphabet": ALPHABET,
}


class Head(nn.Module):
    """[N, T, 384] backbone features -> log-softmax [N, T, len(alphabet) + 1]."""

    def __init__(self, config: dict = CONFIG):
        super().__init__()
        self.config = dict(config)
        h = config["hidden"]
        self.rnn = nn.LSTM(
            config["features"],
            h,
            num_layers=config["layers"],
            bidirectional=True,
            batch_first=True,
            dropout=config["dropout"],
        )
        self.drop = nn.Dropout(config["dropout"])
        self.fc = nn.Linear(2 * h, len(config["alphabet"]) + 1)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        f, _ = self.rnn(f)
        return torch.log_softmax(self.fc(self.drop(f)), dim=-1)


class OnBackbone(nn.Module):
    """The head on the backbone's own output layout [N, 384, 1, T] (for the ONNX export)."""

    def __init__(self, head: Head):
        super().__init__()
        self.head = head

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(f.squeeze(2).permute(0, 2, 1))


# ---------------------------------------------------------------- data


class Shard:
    """One features shard, crops addressable by index."""

    def __init__(self, name: str):
        d = read(name)
        self.name = name
        self.feats, self.teacher = d["feats"], d["teacher"]
        self.frames = d["frames"]
        self.starts = np.concatenate([[0], np.cumsum(self.frames)[:-1]])
        self.labels, self.flags = [str(s) for s in d["labels"]], d["flags"]

    def __len__(self):
        return len(self.labels)

    def item(self, i):
        s, t = int(self.starts[i]), int(self.frames[i])
        return self.feats[s : s + t], self.teacher[s : s + t], self.labels[i], int(self.flags[i])


def batches(items: list[tuple[Shard, int]], batch: int, rng: random.Random, max_frames: int = 6000):
    """Index batches of similar length (sorted in chunks, then shuffled)."""
    order = items[:]
    rng.shuffle(order)
    chunk = batch * 50
    out = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c : c + chunk], key=lambda it: it[0].frames[it[1]])
        cur = []
        for it in part:
            t = int(it[0].frames[it[1]])
            if cur and (len(cur) >= batch or (len(cur) + 1) * t > max_frames):
                out.append(cur)
                cur = []
            cur.append(it)
        if cur:
            out.append(cur)
    rng.shuffle(out)
    return out


def collate(group):
    """Padded features, teacher log-probabilities, frame counts, labels, flags and shard names."""
    rows = [sh.item(i) for sh, i in group]
    t = max(len(r[0]) for r in rows)
    f = np.zeros((len(rows), t, rows[0][0].shape[1]), np.float32)
    te = np.zeros((len(rows), t, rows[0][1].shape[1]), np.float32)
    for k, r in enumerate(rows):
        f[k, : len(r[0])] = r[0]
        te[k, : len(r[1])] = r[1]
    lens = torch.tensor([len(r[0]) for r in rows], dtype=torch.long)
    return (
        torch.from_numpy(f),
        torch.from_numpy(te),
        lens,
        [r[2] for r in rows],
        [r[3] for r in rows],
        [sh.name for sh, _ in group],
    )


def kd_loss(
    logp: torch.Tensor, teacher_logp: torch.Tensor, lens: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean per-frame KL(teacher || student) over each sample's own frames (`weights`: per sample)."""
    mask = (torch.arange(logp.shape[1])[None, :] < lens[:, None]).float()
    if weights is not None:
        mask = mask * weights[:, None]
    kl = (teacher_logp.exp() * (teacher_logp - logp)).sum(-1)
    return (kl * mask).sum() / mask.sum()


# ---------------------------------------------------------------- evaluation


def predict(model: Head, shard: Shard, batch: int = 64) -> list[str]:
    """Greedy CTC (the pipeline's decoding) of every crop of a shard, in order."""
    model.eval()
    out = [""] * len(shard)
    order = sorted(range(len(shard)), key=lambda i: shard.frames[i])
    with torch.no_grad():
        for c in range(0, len(order), batch):
            idx = order[c : c + batch]
            f, _, lens, _, _, _ = collate([(shard, i) for i in idx])
            logp = model(f).numpy()
            for k, i in enumerate(idx):
                out[i] = ctc_greedy_batch(logp[k : k + 1, : int(lens[k])], ALPHABET)[0].text
    return out


def teacher_predict(shard: Shard) -> list[str]:
    return [ctc_greedy_batch(shard.item(i)[1][None].astype(np.float32), ALPHABET)[0].text for i in range(len(shard))]


def val_names() -> list[str]:
    return sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(CACHE, "*_val.npz"))) + (
        ["iiit5k_test"] if os.path.exists(os.path.join(CACHE, "iiit5k_test.npz")) else []
    )


def evaluate(model: Head, shards: dict[str, Shard]) -> dict:
    return {name: score(name.replace("_test", ""), predict(model, sh), sh.labels) for name, sh in shards.items()}


def summary(m: dict) -> str:
    parts = []
    for name, r in m.items():
        s = f"{name.split('_')[0]} cer {r['cer']:.2%} acc {r['acc']:.1%}"
        if "acc_ci_alnum" in r:
            s += f" ci-alnum {r['acc_ci_alnum']:.1%}"
        parts.append(s)
    return " | ".join(parts)


# ---------------------------------------------------------------- training


def save(path: str, model: Head, opt, step: int, epoch: int) -> None:
    tmp = path + ".tmp"
    torch.save(
        {"model": model.state_dict(), "config": model.config, "opt": opt.state_dict(), "step": step, "epoch": epoch},
        tmp,
    )
    os.replace(tmp, path)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=os.path.join(ppocr.ROOT, "runs", "rec48"))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--kd", type=float, default=1.0, help="weight of the distillation term")
    p.add_argument(
        "--no-kd",
        nargs="*",
        default=["openalpr_plates"],
        help="sets trained on their labels alone: their labelling convention differs from "
        "what the teacher reads (plates: the label leaves out the printed separators)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hidden", type=int, default=CONFIG["hidden"])
    p.add_argument("--train", nargs="*", help="training shards (default: every *_train and synth_*)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    os.makedirs(a.run, exist_ok=True)
    names = a.train or sorted(
        os.path.basename(f)[:-4]
        for f in glob.glob(os.path.join(CACHE, "*.npz"))
        if f.endswith("_train.npz") or os.path.basename(f).startswith("synth_0")
    )
    train = [Shard(n) for n in names]
    val = {n: Shard(n) for n in val_names()}
    items = [(sh, i) for sh in train for i in range(len(sh))]
    print(f"train: {', '.join(f'{s.name} {len(s)}' for s in train)} = {len(items)} crops", flush=True)
    teacher = evaluate_teacher(val)
    print("teacher:", summary(teacher), flush=True)
    model = Head(dict(CONFIG, hidden=a.hidden))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    steps_per_epoch = len(batches(items, a.batch, random.Random(0)))
    total = steps_per_epoch * a.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.15)
    log = open(os.path.join(a.run, "log.jsonl"), "a")
    log.write(
        json.dumps(
            {"start": time.time(), "args": vars(a), "train": {s.name: len(s) for s in train}, "teacher": teacher}
        )
        + "\n"
    )
    step = 0
    for epoch in range(a.epochs):
        model.train()
        t0, seen, tot = time.time(), 0, [0.0, 0.0]
        for group in batches(items, a.batch, rng):
            f, te, lens, labels, flags, sets = collate(group)
            logp = model(f)
            l_ctc = ctc_loss(logp, labels, flags, lens)
            w = torch.tensor([0.0 if any(s.startswith(n) for n in a.no_kd) else 1.0 for s in sets])
            l_kd = kd_loss(logp, te, lens, w) if a.kd and w.any() else torch.zeros(())
            loss = l_ctc + a.kd * l_kd
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            seen += len(group)
            tot[0] += float(l_ctc.detach()) * len(group)
            tot[1] += float(l_kd.detach()) * len(group)
            if step % 200 == 0:
                print(
                    f"epoch {epoch} step {step}/{total} ctc {tot[0] / seen:.3f} kd {tot[1] / seen:.3f} "
                    f"{seen / (time.time() - t0):.0f}/s",
                    flush=True,
                )
        m = evaluate(model, val)
        print(f"epoch {epoch + 1}: {summary(m)}", flush=True)
        log.write(
            json.dumps(
                {
                    "epoch": epoch + 1,
                    "step": step,
                    "ctc": tot[0] / seen,
                    "kd": tot[1] / seen,
                    "time": time.time() - t0,
                    "val": m,
                }
            )
            + "\n"
        )
        log.flush()
        save(os.path.join(a.run, "last.pt"), model, opt, step, epoch + 1)


def evaluate_teacher(val: dict[str, Shard]) -> dict:
    return {name: score(name.replace("_test", ""), teacher_predict(sh), sh.labels) for name, sh in val.items()}


if __name__ == "__main__":
    main(sys.argv[1:])
