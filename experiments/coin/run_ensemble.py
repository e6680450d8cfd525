"""Run a Coin Game configuration for several seeds as one batched ensemble.

``python experiments/coin/run_ensemble.py CONFIG.json OUTPUT_DIR SEED [SEED ...]`` trains the
seeds together (:func:`solvers.coin.ensemble.run_seeds`, one torch thread) and writes
``OUTPUT_DIR/seed_<k>/results.json``, ``summary.json`` and the figures; collect them with
``experiments/coin/collect.py``. (The command line ``pamdp train coin`` gets the same as a flag;
until then this script is the entry point.)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from solvers.coin.config import Config
from solvers.coin.ensemble import run_seeds


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    config, output, seeds = Path(argv[0]), argv[1], [int(s) for s in argv[2:]]
    cfg = replace(Config.from_dict(json.loads(config.read_text())), output=output)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    summary = run_seeds(cfg, seeds, progress=False, log=lambda line: print(line, flush=True))
    print(
        f"done in {time.perf_counter() - t0:.0f} s; iterations per second (ensemble of "
        f"{len(seeds)} seeds): {summary['iterations_per_second']}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
