#!/usr/bin/env bash
# For a machine with a GPU: the small config end to end on CUDA, then the metric backend at the
# large size (n=50,000, d=2,048, K=100), numpy against torch on the GPU. Steps 1-3 took 2.7 minutes on an H200 (step 4, not yet run there, repeats step 1 with two workers).
#   bash benchmarks/gpu_check.sh [OUT_DIR [CPU_STORE]]     (default OUT_DIR: /tmp/facebench-gpu-check)
# CPU_STORE: the store of the same config run with --device cpu; step 2 then prints how far the
# GPU's ground truth and scores are from the CPU's (benchmarks/compare_stores.py). Step 4 runs the
# config again with two worker processes (spawned, one GPU) and compares it with step 1 (not yet
# run on a GPU; benchmarks/gpu_check.md).
# Prints: the device, the run's summary and per-kind cost (wall, device, peak host and GPU memory)
# from the store, the boards' cost ratios, and the metric timings with their relative differences.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-/tmp/facebench-gpu-check}"
CPU_STORE="${2:-}"
DEVICE="${DEVICE:-cuda}"   # DEVICE=cpu SIZE=small: a dry run of this script on a machine without a GPU
SIZE="${SIZE:-large}"
PY="${PYTHON:-.venv/bin/python}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"

echo "== 1. small config end to end on $DEVICE"
start=$(date +%s)
"$PY" -m facebench run benchmarks/gpu_small.yaml --device "$DEVICE" --quiet --store "$OUT/store.sqlite" \
  --cache-dir "$OUT/cache" --out "$OUT/boards" 2> "$OUT/run.log" || { tail -20 "$OUT/run.log"; exit 1; }
echo "wall $(( $(date +%s) - start )) s"; tail -3 "$OUT/run.log"
"$PY" - "$OUT/store.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(f"{'kind':<9} {'jobs':>4} {'wall s':>8} {'peak RSS MiB':>12} {'peak GPU MiB':>12}  device")
for kind, n, s, rss, gpu, dev in db.execute(
        "SELECT kind, COUNT(*), SUM(seconds), MAX(peak_rss_bytes), MAX(peak_gpu_bytes), GROUP_CONCAT(DISTINCT device) "
        "FROM job_costs GROUP BY kind"):
    print(f"{kind:<9} {n:>4} {s:8.1f} {(rss or 0) / 2**20:12.0f} {(gpu or 0) / 2**20:12.0f}  {dev}")
PY
"$PY" -c "import json,sys; b=json.load(open(sys.argv[1]))['benchmarks'][0]['cost_ratio']; print('cost ratio', {m: round(r, 4) for m, r in b['ratio'].items()})" "$OUT/boards/leaderboard.json"
if [ -n "$CPU_STORE" ]; then
  echo "== 2. CPU store (A) against this GPU run (B)"
  "$PY" benchmarks/compare_stores.py "$CPU_STORE" "$OUT/store.sqlite"
fi

echo "== 3. metric backend at size $SIZE (large: n=50,000, d=2,048, K=100): numpy vs torch on $DEVICE"
"$PY" benchmarks/bench_metric_backend.py --device "$DEVICE" --size "$SIZE"

echo "== 4. the same config with --workers 2 (B) against step 1 (A)"
start=$(date +%s)
"$PY" -m facebench run benchmarks/gpu_small.yaml --device "$DEVICE" --workers 2 --quiet --store "$OUT/workers2/store.sqlite" \
  --cache-dir "$OUT/workers2/cache" --out "$OUT/workers2/boards" 2> "$OUT/workers2.log" || { tail -20 "$OUT/workers2.log"; exit 1; }
echo "wall $(( $(date +%s) - start )) s"
"$PY" benchmarks/compare_stores.py "$OUT/store.sqlite" "$OUT/workers2/store.sqlite"
