#!/usr/bin/env bash
# The benchmark suite on a CUDA GPU, for a session lent one for ~15 minutes:
#   bash benchmarks/gpu.sh              # ~10 minutes at most, one JSON: benchmarks/results/gpu.json
#   bash benchmarks/gpu.sh --dry-run    # the same steps on the CPU, tiny, to check the script itself
# Steps, each under its own timeout (a failed or timed-out one is recorded as such): peak.py (fp32 and bf16 GEMM peak
# at 8192^2), throughput.py (keras-seed against HF: eager, bf16, compile, compile + bf16), scaling.py (not in --dry-run),
# mae (2 epochs of `vivit pretrain`, then of `vivit train --recipe vivit-mae-finetune --init` from it; seconds per epoch,
# on OrganMNIST3D + AdrenalMNIST3D when $VIVIT_DATA_DIR holds them, else on synthetic-shapes).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=benchmarks/results RUNS=$(mktemp -d) DEVICE=cuda
PEAK_LIMIT=90 THROUGHPUT_LIMIT=300 SCALING_LIMIT=90 MAE_LIMIT=150
MODES=(eager bf16 compile compile-bf16) REPEATS=3 EXTRA=() STATUS=() MAE_EXTRA="--epochs 2"
if [[ "${1:-}" == "--dry-run" ]]; then
    DEVICE=cpu PEAK_LIMIT=300 THROUGHPUT_LIMIT=400 SCALING_LIMIT=0 MODES=(eager) REPEATS=1 EXTRA=(--threads 1)
    MAE_LIMIT=300 MAE_EXTRA="--epochs 1 train.limit_train_batches=2 model.depth=1" OUT=$(mktemp -d)
    echo "dry run on the CPU into $OUT"
elif ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu.sh: torch sees no CUDA device; run it on a GPU machine (or --dry-run to check the script on the CPU)" >&2
    exit 2
fi
[[ -f "${VIVIT_DATA_DIR:-/none}/organmnist3d.npz" ]] && PRE=organmnist3d+adrenalmnist3d FT=organmnist3d || PRE=synthetic-shapes FT=synthetic-shapes
mkdir -p "$OUT"

step() {  # step NAME LIMIT_SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    if [[ "$limit" == 0 ]]; then STATUS+=("$name=skipped"); return; fi
    echo "== $name (at most ${limit}s)"
    timeout "$limit" "$@"
    local rc=$?
    STATUS+=("$name=$([[ $rc == 0 ]] && echo ok || ([[ $rc == 124 ]] && echo timeout || echo "failed:$rc"))")
}

step peak "$PEAK_LIMIT" "$PYTHON" benchmarks/peak.py --quick --device "$DEVICE" --out gpu-peak "${EXTRA[@]}"
step throughput "$THROUGHPUT_LIMIT" "$PYTHON" benchmarks/throughput.py --quick --repeats "$REPEATS" --device "$DEVICE" \
    --modes "${MODES[@]}" --out gpu-throughput "${EXTRA[@]}"
step scaling "$SCALING_LIMIT" "$PYTHON" benchmarks/scaling.py --quick --device "$DEVICE" --out gpu-scaling
step mae "$MAE_LIMIT" bash -c "$PYTHON -m vivit.cli.main pretrain --dataset $PRE --out $RUNS/pretrain $MAE_EXTRA && $PYTHON -m \
    vivit.cli.main train --recipe vivit-mae-finetune --dataset $FT --init $RUNS/pretrain --out $RUNS/finetune $MAE_EXTRA"

"$PYTHON" - "$OUT" "$RUNS" "$PRE" "${STATUS[@]}" <<'EOF'
import json, sys
from pathlib import Path
from vivit.training.run_dir import RunDir

results, out, runs, data = Path("benchmarks/results"), Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
merged = {"steps": (statuses := dict(s.split("=", 1) for s in sys.argv[4:]))}
for name in ("peak", "throughput", "scaling"):
    part = results / f"gpu-{name}.json"
    if statuses.get(name) == "ok" and part.exists():
        merged[name] = json.loads(part.read_text())
        part.unlink()
if statuses.get("mae") == "ok":  # seconds per epoch, training and validation, as history.csv records them
    merged["mae"] = {"data": data, **{leg: RunDir(runs / leg).read_history()["epoch_seconds"].tolist() for leg in ("pretrain", "finetune")}}
(out / "gpu.json").write_text(json.dumps(merged, indent=2) + "\n")
print(f"wrote {out / 'gpu.json'}: " + ", ".join(f"{k} {v}" for k, v in statuses.items()))
EOF
