#!/usr/bin/env bash
# The accuracy table of issue 7 (benchmarks/accuracy.py) on a lent CUDA GPU, in one bounded call.
#
# Here, once per session (the device machine can fetch nothing):
#   bash benchmarks/accuracy_gpu.sh --prepare
#       copies the MedMNIST 3D files into .gpu/data and downloads the pure-Python wheels the
#       device image lacks (pooch, platformdirs) into .gpu/whl; .gpu/ is git-excluded.
# On the device (tool `run`, carry [".gpu"]), with the seconds it may use:
#   bash benchmarks/accuracy_gpu.sh --run 540
#       trains every (cell, seed) that benchmarks/results/accuracy.json does not hold yet,
#       JOBS (default 8) at a time, and writes accuracy.json and results.md under $OUT as each
#       run finishes, so whatever finished before the limit comes back.
# Here again, with the folder the files came back to:
#   bash benchmarks/accuracy_gpu.sh --collect FOLDER
#       merges its entries into benchmarks/results/accuracy.json and regenerates docs/results.md.
#
# Check the --run step on the CPU first (tiny runs into a temporary folder, nothing committed):
#   bash benchmarks/accuracy_gpu.sh --dry-run
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RESULTS=benchmarks/results/accuracy.json

case "${1:-}" in
--prepare)
    mkdir -p .gpu/data .gpu/whl
    grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
    DATA=${VIVIT_DATA_DIR:-../shared/data}
    cp "$DATA"/organmnist3d.npz "$DATA"/adrenalmnist3d.npz .gpu/data/ || exit 1
    # The device's Python is 3.12; both packages are pure Python (py3-none-any).
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 -d .gpu/whl \
        pooch==1.9.0 platformdirs==4.14.8 || exit 1
    du -sh .gpu
    ;;
--run | --dry-run)
    if [[ "$1" == --dry-run ]]; then
        OUT=$(mktemp -d) LIMIT=900 JOBS=2 THREADS=1 DATA=${VIVIT_DATA_DIR:-../shared/data}
        ROOT=$OUT/runs
        SMOKE=(--only adrenalmnist3d/vivit-medmnist-200-epochs --seeds 42 1 --epochs 1 train.limit_train_batches=2)
        PYTHON=${PYTHON_DRY:-.venv/bin/python}
        echo "dry run on the CPU into $OUT"
    else
        LIMIT=${2:?give the seconds this call may use, e.g. --run 540}
        OUT=${OUT:?the device sets OUT; run this with the tool run}
        JOBS=${JOBS:-8} THREADS=${THREADS:-2} DATA=.gpu/data SMOKE=()
        ROOT=/tmp/accuracy-runs  # a second call on the same warm machine resumes what the first left
        if compgen -G ".gpu/whl/*.whl" > /dev/null; then
            "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl || exit 1
        fi
        export PYTHONPATH=$PWD/src:/tmp/site${PYTHONPATH:+:$PYTHONPATH}
        "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
            echo "accuracy_gpu.sh: torch sees no CUDA device" >&2; exit 2; }
        nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
    fi
    # The dry run starts from no entries, so that its smoke runs are never skipped as recorded.
    if [[ "$1" == --dry-run ]]; then echo '{"entries": []}' > "$OUT/accuracy.json"; else cp "$RESULTS" "$OUT/accuracy.json"; fi
    # The whole table, minus what is recorded. Runs unfinished at the limit resume on a second call while
    # the machine is warm, and are lost with it otherwise.
    timeout "$LIMIT" "$PYTHON" benchmarks/accuracy.py --group all --skip-recorded --jobs "$JOBS" --threads "$THREADS" \
        --data-dir "$DATA" --root "$ROOT" --results "$OUT/accuracy.json" --doc "$OUT/results.md" "${SMOKE[@]}"
    rc=$?
    echo "accuracy.py exit $rc$([[ $rc == 124 ]] && echo ': stopped at the limit')"
    mkdir -p "$OUT/logs" && cp "$ROOT"/logs/*.log "$OUT/logs/" 2>/dev/null
    "$PYTHON" -c "import json,sys; e=json.load(open(sys.argv[1]))['entries']; print(len(e), 'entries in', sys.argv[1])" "$OUT/accuracy.json"
    ;;
--collect)
    FOLDER=${2:?give the folder the device files came back to}
    .venv/bin/python - "$FOLDER/accuracy.json" "$RESULTS" <<'EOF' || exit 1
import sys
sys.path.insert(0, "benchmarks")
from pathlib import Path
from accuracy_results import load_entries, merge, save_entries

fetched, committed = Path(sys.argv[1]), Path(sys.argv[2])
before = load_entries(committed)
after = merge(load_entries(fetched), before)  # an entry recorded here since --prepare wins
save_entries(committed, after)
print(f"{committed}: {len(before)} -> {len(after)} entries")
EOF
    .venv/bin/python benchmarks/accuracy.py --docs-only
    ;;
*)
    sed -n '2,19p' "$0"
    exit 2
    ;;
esac
