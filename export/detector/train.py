"""Train the detector (CPU or GPU, same code), resumable, logged, seeded.

    python -m export.detector.train --run runs/det [--device cuda] [--minutes 9] [--threads 1]

Every `--ckpt-min` minutes writes <run>/last.pt (model, optimiser, step, sampler RNG) and,
after each validation, <run>/best.pt when the mean validation hmean improves. Logs one
JSON object per line to <run>/log.jsonl: training loss parts, samples/s, lr; validation
loss on fixed crops and hmean (IoU 0.5) on a few validation pages of each real set.
Re-running the same command resumes from <run>/last.pt.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import torch

from export.detector import data as det_data
from export.detector import evaluate as det_eval
from export.detector import model as D

VAL_SETS = ("funsd_train", "sroie_train", "ic15_train", "openalpr_plates")


def lr_at(step: int, base: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to 5% of base at `total`, flat after."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def to_tensors(batch, device):
    img, gt, mask, thresh, tmask = (torch.from_numpy(b) for b in batch)
    x = D.normalise(img.to(device))
    f = lambda t: t.to(device).float().unsqueeze(1)  # noqa: E731
    return x, f(gt), f(mask), f(thresh) / 255.0, f(tmask)


def fixed_val_crops(n: int, size: int, seed: int = 7) -> list:
    """Validation-loss crops from validation pages (targets computed the same way as training)."""
    rng = np.random.default_rng(seed)
    from PIL import Image

    crops = []
    pages = [p for s in VAL_SETS for p in det_data.load_real(s, validation=True)[:4]]
    for i in range(n):
        p = pages[i % len(pages)]
        img = np.asarray(Image.open(p["path"]).convert("RGB"))
        rec = det_data.make_record(img, p["quads"], p["ignore"], p["plate"])
        crops.append(det_data.crop(rec, size, rng))
    return [tuple(np.stack(x) for x in zip(*crops[i : i + 8])) for i in range(0, n, 8)]


@torch.no_grad()
def validate(net, device, val_batches, val_pages, long_side) -> dict:
    net.eval()
    losses = []
    for b in val_batches:
        x, gt, mask, thresh, tmask = to_tensors(b, device)
        losses.append(D.db_loss(net(x), gt, mask, thresh, tmask)["loss"].item())
    res = {"val_loss": float(np.mean(losses)) if losses else None}

    def run_prob(x):
        return torch.sigmoid(net(torch.from_numpy(x).to(device))["prob"])[0, 0].cpu().numpy()

    hs = []
    for name, pages in val_pages.items():
        r = det_eval.evaluate(run_prob, pages, long_side or None)
        res[name] = {k: round(v, 4) for k, v in r.items()}
        hs.append(r["hmean"])
    res["mean_hmean"] = float(np.mean(hs)) if hs else 0.0
    net.train()
    return res


class _Batches(torch.utils.data.IterableDataset):
    """Endless random batches for DataLoader workers (GPU runs): each worker its own Sampler."""

    def __init__(self, data, batch, sizes, seed, big=(0.0, 60.0)):
        self.data, self.batch, self.sizes, self.seed, self.big = data, batch, sizes, seed, big

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        sampler = det_data.Sampler(self.data, seed=hash((self.seed, info.id if info else 0)) % 2**32, big=self.big)
        while True:
            yield sampler.batch(self.batch, self.sizes[sampler.rng.integers(len(self.sizes))])


def save(path, net, opt, step, sampler, best, args):
    tmp = path + ".tmp"
    torch.save(
        {
            "model": net.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "config": net.config,
            "rng": sampler.rng.bit_generator.state,
            "best": best,
            "args": vars(args),
            "torch_rng": torch.get_rng_state(),
        },
        tmp,
    )
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=os.path.join(det_data.ROOT, "runs", "det"))
    ap.add_argument("--data", default=det_data.CACHE)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--sizes", default="320,352,384", help="crop sizes, one drawn per batch")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--total-steps", type=int, default=5000, help="cosine schedule length")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this many minutes (0: no limit)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--ckpt-min", type=float, default=3.0)
    ap.add_argument("--val-min", type=float, default=10.0)
    ap.add_argument("--val-pages", type=int, default=8, help="validation pages per set for hmean")
    ap.add_argument("--val-long-side", type=int, default=0, help="0: the pipeline's own input scale")
    ap.add_argument("--log-steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--restart-schedule",
        action="store_true",
        help="count warm-up and cosine from the resumed step (a new run on new hardware)",
    )
    ap.add_argument(
        "--big-text",
        default="0,60",
        help="SHARE,MAX_H: that share of the crops scaled to a median text height in [60, MAX_H] px",
    )
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (GPU runs); 0: in-line")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    big = tuple(float(v) for v in args.big_text.split(","))
    sampler = det_data.Sampler(args.data, seed=args.seed, big=(big[0], big[1]))
    net = D.DBNet().to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    step, best = 0, -1.0
    last = os.path.join(args.run, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location=device, weights_only=False)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, best = ck["step"], ck.get("best", -1.0)
        sampler.rng.bit_generator.state = ck["rng"]
        print(f"resumed from {last} at step {step}", flush=True)
    log = open(os.path.join(args.run, "log.jsonl"), "a")

    def emit(rec):
        rec["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)

    emit(
        {
            "event": "start",
            "step": step,
            "device": str(device),
            "params": D.param_count(net),
            "files": {k: len(v) for k, v in sampler.files.items()},
            "args": vars(args),
        }
    )
    have_val = all(os.path.isdir(os.path.join(det_data.DATA, s)) for s in VAL_SETS)
    if not have_val:  # a GPU machine without ../shared/data: train, the lead validates here after
        print(f"no validation data under {det_data.DATA}: training loss only", flush=True)
    val_batches = fixed_val_crops(32, 352) if have_val else []
    val_pages = {s: det_data.load_real(s, validation=True)[: args.val_pages] for s in VAL_SETS} if have_val else {}
    sizes = [int(s) for s in args.sizes.split(",")]
    start_step = step
    loader = None
    if args.workers:
        loader = iter(
            torch.utils.data.DataLoader(
                _Batches(args.data, args.batch, sizes, args.seed * 100003 + step, sampler.big),
                batch_size=None,
                num_workers=args.workers,
                prefetch_factor=4,
                persistent_workers=True,
            )
        )
    t_start = time.time()
    t_ckpt = t_val = time.time()
    acc, n_acc, t_log, t_data = {}, 0, time.time(), 0.0
    net.train()
    while True:
        if args.max_steps and step >= args.max_steps:
            break
        if args.minutes and time.time() - t_start > args.minutes * 60:
            break
        td = time.time()
        batch = (
            next(loader) if loader is not None else sampler.batch(args.batch, sizes[sampler.rng.integers(len(sizes))])
        )
        if loader is not None:
            batch = tuple(b.numpy() if torch.is_tensor(b) else b for b in batch)
        x, gt, mask, thresh, tmask = to_tensors(batch, device)
        t_data += time.time() - td
        for g in opt.param_groups:
            g["lr"] = lr_at(step - (start_step if args.restart_schedule else 0), args.lr, args.warmup, args.total_steps)
        out = net(x)
        L = D.db_loss(out, gt, mask, thresh, tmask)
        opt.zero_grad(set_to_none=True)
        L["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        for k, v in L.items():
            acc[k] = acc.get(k, 0.0) + float(v.detach())
        n_acc += 1
        if step % args.log_steps == 0:
            dt = time.time() - t_log
            emit(
                {
                    "step": step,
                    **{k: round(v / n_acc, 4) for k, v in acc.items()},
                    "samples_per_s": round(n_acc * args.batch / dt, 2),
                    "data_frac": round(t_data / dt, 3),
                    "lr": round(opt.param_groups[0]["lr"], 6),
                }
            )
            acc, n_acc, t_log, t_data = {}, 0, time.time(), 0.0
        if time.time() - t_val > args.val_min * 60:
            res = validate(net, device, val_batches, val_pages, args.val_long_side)
            emit({"event": "val", "step": step, **res})
            if res["mean_hmean"] > best:
                best = res["mean_hmean"]
                save(os.path.join(args.run, "best.pt"), net, opt, step, sampler, best, args)
            t_val = time.time()
            sampler.refresh(args.data)
            t_log = time.time()
        if time.time() - t_ckpt > args.ckpt_min * 60:
            save(last, net, opt, step, sampler, best, args)
            t_ckpt = time.time()
    save(last, net, opt, step, sampler, best, args)
    res = validate(net, device, val_batches, val_pages, args.val_long_side)
    emit({"event": "val", "step": step, **res})
    if res["mean_hmean"] > best:
        best = res["mean_hmean"]
        save(os.path.join(args.run, "best.pt"), net, opt, step, sampler, best, args)
    save(last, net, opt, step, sampler, best, args)
    emit({"event": "end", "step": step, "best": best})


if __name__ == "__main__":
    main()
