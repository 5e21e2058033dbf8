"""The learning curve of a recognizer run, as a Markdown table (for the model card).

python -m export.recognizer.curve runs/rec/train.log
"""

from __future__ import annotations

import json
import sys


def rows(log_path: str) -> list[dict]:
    """Validation events of a train.log, each with the last training loss logged before it."""
    out, loss = [], None
    with open(log_path) as f:
        for line in f:
            rec = json.loads(line)
            if "loss" in rec:
                loss = rec["loss"]
            if rec.get("event") == "val":
                out.append({**rec, "train_loss": loss})
    return out


def table(log_path: str) -> str:
    head = (
        "| time (UTC) | step | samples seen | train loss | SROIE CER (ci) / line acc | FUNSD CER / word acc "
        "| IIIT5K acc (ci alnum) | IC15 acc | plates exact | tapuscorpus CER | synth CER |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows(log_path):
        g = lambda k, m, r=r: r.get(k, {}).get(m, float("nan"))
        loss = f"{r['train_loss']:.3f}" if r["train_loss"] is not None else "-"
        lines.append(
            f"| {r['time'][11:16]} | {r['step']} | {r['seen']} | {loss} "
            f"| {g('sroie_train', 'cer'):.1%} / {g('sroie_train', 'acc'):.1%} "
            f"| {g('funsd_train', 'cer'):.1%} / {g('funsd_train', 'acc'):.1%} "
            f"| {g('iiit5k_train', 'acc_ci_alnum'):.1%} | {g('ic15_train', 'acc'):.1%} "
            f"| {g('openalpr_plates', 'acc'):.1%} | {g('tapuscorpus', 'cer'):.1%} | {g('synth', 'cer'):.1%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "runs/rec/train.log"))
