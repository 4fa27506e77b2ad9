#!/usr/bin/env bash
# The benchmark suite on a CUDA GPU, for a session lent one for ~15 minutes:
#   bash benchmarks/gpu.sh              # ~8 minutes at most, one JSON: benchmarks/results/gpu.json
#   bash benchmarks/gpu.sh --dry-run    # the same steps on the CPU, tiny, to check the script itself
# Steps, each under its own timeout: peak.py (fp32 and bf16 GEMM peak at 8192^2, keras-seed's GEMMs),
# throughput.py (keras-seed against HF: eager fp32, bf16 autocast, compile, compile + bf16) and
# scaling.py (skipped by --dry-run). A step that fails or times out is recorded as such in the JSON.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=benchmarks/results
DEVICE=cuda
PEAK_LIMIT=90 THROUGHPUT_LIMIT=300 SCALING_LIMIT=90
MODES=(eager bf16 compile compile-bf16) REPEATS=3 EXTRA=()
if [[ "${1:-}" == "--dry-run" ]]; then
    DEVICE=cpu PEAK_LIMIT=300 THROUGHPUT_LIMIT=400 SCALING_LIMIT=0 MODES=(eager) REPEATS=1 EXTRA=(--threads 1)
    OUT=$(mktemp -d)
    echo "dry run on the CPU into $OUT"
elif ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu.sh: torch sees no CUDA device; run it on a GPU machine (or --dry-run to check the script on the CPU)" >&2
    exit 2
fi
mkdir -p "$OUT"
STATUS=()

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

"$PYTHON" - "$OUT" "${STATUS[@]}" <<'EOF'
import json, sys
from pathlib import Path

results = Path("benchmarks/results")
out, statuses = Path(sys.argv[1]), dict(s.split("=", 1) for s in sys.argv[2:])
merged = {"steps": statuses}
for name in ("peak", "throughput", "scaling"):
    part = results / f"gpu-{name}.json"
    if statuses.get(name) == "ok" and part.exists():
        merged[name] = json.loads(part.read_text())
        part.unlink()
(out / "gpu.json").write_text(json.dumps(merged, indent=2) + "\n")
print(f"wrote {out / 'gpu.json'}: " + ", ".join(f"{k} {v}" for k, v in statuses.items()))
EOF
