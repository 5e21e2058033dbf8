#!/usr/bin/env bash
# One-command detector training job for a lent GPU (the device tool), same code as on CPU.
#
# Here, first (once per refresh):   make det-gpu-pack      # real train pages + fonts -> .cache/det_gpu (~50 MiB)
# Then device `run`:  command "bash export/detector/gpu_job.sh", carry [".cache/det_gpu", "runs/det/last.pt"]
# It rebuilds the shards on the machine (16 cores), resumes from runs/det/last.pt, trains for
# $MINUTES on CUDA, and writes last.pt, best.pt and log.jsonl to $OUT. Copy last.pt back into
# runs/det/ and run `make det-export` here (validation needs ../shared/data, which stays here).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/det_gpu_out}
MINUTES=${MINUTES:-6.5}          # + ~2 min of data building + final save: inside the 10-minute command limit
SYNTH=${SYNTH:-3000}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/py:${PYTHONPATH:-}" PYTHONUNBUFFERED=1
export LOCALOCR_FONTS="$PWD/.cache/det_gpu/fonts" LOCALOCR_WORDS="$PWD/.cache/det_gpu/words.txt"
N=$(nproc)
CACHE=/tmp/det_cache RUN=/tmp/det_run
mkdir -p "$RUN"
[ -f runs/det/last.pt ] && cp runs/det/last.pt "$RUN/last.pt"
(nvidia-smi -L || true) | tee "$OUT/gpu.txt"
$PY -m export.detector.data --from-pack .cache/det_gpu --synth "$SYNTH" --procs "$N" --out "$CACHE" 2>&1 | tee "$OUT/data.log"
set +e
$PY -m export.detector.train --run "$RUN" --data "$CACHE" --device "${DEVICE:-cuda}" --minutes "$MINUTES" --threads 4 \
  --batch 32 --workers $((N - 2)) --lr 2e-3 --warmup 100 --restart-schedule --total-steps "${STEPS:-6000}" \
  --ckpt-min 2 --log-steps 50 2>&1 | tee "$OUT/train.log"
rc=${PIPESTATUS[0]}
cp "$RUN"/last.pt "$RUN"/log.jsonl "$OUT"/ 2>/dev/null
[ -f "$RUN/best.pt" ] && cp "$RUN/best.pt" "$OUT"/
exit "$rc"
