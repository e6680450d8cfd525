#!/usr/bin/env bash
# Fig. 4 of Ivanov et al. (2024) on the 3x3 Coin Game at the larger budget, 5 seeds trained as
# one batched ensemble on the CPU (experiments/coin/README.md, "Larger budget").
# The raw run goes to runs/coin/paper_3x3_ensemble/, the collected results (JSON, PNG figures,
# table) to experiments/coin/results/paper_3x3_ensemble/. An interrupted ensemble starts again.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
name=paper_3x3_ensemble
"$PY" experiments/coin/run_ensemble.py "experiments/coin/configs/$name.json" "runs/coin/$name" 0 1 2 3 4
"$PY" experiments/coin/collect.py "runs/coin/$name" "experiments/coin/results/$name"
