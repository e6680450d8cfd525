#!/usr/bin/env bash
# Fig. 4 of Ivanov et al. (2024) on the 3x3 Coin Game, 5 seeds, CPU (experiments/coin/README.md).
# Raw runs (with checkpoints; re-running resumes) go to runs/coin/, the collected results
# (JSON without checkpoints, PNG figures, table) to experiments/coin/results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
for name in paper_3x3 paper_3x3_no_nudge; do
  "$PY" -m pamdp.cli train coin --config "experiments/coin/configs/$name.json" \
    --seeds 0 1 2 3 4 --output "runs/coin/$name" --threads 1 --no-progress --resume
  "$PY" experiments/coin/collect.py "runs/coin/$name" "experiments/coin/results/$name"
done
