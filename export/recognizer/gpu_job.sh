#!/usr/bin/env bash
# One-command recognizer training on a lent GPU (the `device` tool): the same training code
# as on the CPU, resumed from the CPU run's checkpoint.
#
# Here, first:   make rec-gpu-pack    (JPEG-packed real shards + fonts/words/prose, ~33 MB,
#                                      in .cache/rec-gpu; the GPU machine has no fonts or data)
# Then device run:  command "bash export/recognizer/gpu_job.sh"
#                   carry   [".cache/rec-gpu", "runs/rec/last.pt"]   (with the tree: < 64 MiB)
# It renders synthetic lines on the machine's spare CPU cores while it trains for $MINUTES
# (default 8.5) with --device cuda, and leaves last.pt, best.pt, train.log, train.out in
# $OUT/rec. Schedule: pass e.g. REC_GPU_FLAGS="--total-steps 30000" (steps, not minutes; the
# CPU run's default is 12000 steps). Then copy $OUT/rec/last.pt to runs/rec/last.pt (and append train.log to
# runs/rec/train.log) to go on here, or export it: make rec-export REC_CKPT=<that file>.
set -euo pipefail
OUT=${OUT:-/tmp/out}
MINUTES=${MINUTES:-8.5}
DEVICE=${DEVICE:-cuda}      # DEVICE=cpu MINUTES=0.5: a smoke test of this script anywhere
PY=${PY:-python3}          # the GPU image's python3 holds torch, numpy, Pillow
export LOCALOCR_REC_CACHE=$PWD/.cache/rec-gpu
export LOCALOCR_SYNTH_ASSETS=$PWD/.cache/rec-gpu/assets
export PYTHONPATH=$PWD:$PWD/py${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT/rec" "$LOCALOCR_REC_CACHE/synth"
if [ -f runs/rec/last.pt ]; then cp runs/rec/last.pt "$OUT/rec/last.pt"; fi
# synthetic lines: one renderer per spare core, each its own seed range (seed = shard number)
NREND=$(( $(nproc) > 4 ? $(nproc) - 3 : 1 ))
pids=()
for i in $(seq 0 $((NREND - 1))); do
  $PY -m export.recognizer.data synth --start $((100000 + 1000 * i)) --shards 1000 --per-shard 1000 \
      >> "$OUT/rec/render.log" 2>&1 &
  pids+=($!)
done
# wait for a first round of shards so the synthetic share of the mix is not empty
for _ in $(seq 1 90); do
  [ "$(find "$LOCALOCR_REC_CACHE/synth" -name 'train_*.npz' ! -name '*.tmp.npz' | wc -l)" -ge "$NREND" ] && break
  sleep 2
done
$PY -m export.recognizer.train --run "$OUT/rec" --device "$DEVICE" --threads 2 --minutes "$MINUTES" \
    --cols 65536 --max-batch 256 --max-shards 1000 --reload-minutes 1 --ckpt-minutes 2 --val-minutes 3 \
    ${REC_GPU_FLAGS:-} > "$OUT/rec/train.out" 2>&1 || true
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
tail -n 5 "$OUT/rec/train.out"
ls -la "$OUT/rec"
