"""Train the tree experiments of experiments/tree (Fig. 3 and the nudging study).

Each (ξ, tree) pair is one ``pamdp train tree`` invocation (``pamdp.train.run_tree``) with the
paper's defaults at depth 10; raw outputs go to ``runs/tree/xi_<ξ>/tree_<seed>`` (ignored by
git; ``--resume`` makes the script restartable at any point), and
``experiments/tree/collect.py`` gathers them into ``experiments/tree/results/``.

Usage::

    .venv/bin/python experiments/tree/run.py --nudges 0 --trials 5            # Fig. 3
    .venv/bin/python experiments/tree/run.py --nudges 0.005 0.01 0.02 0.05 --trials 2
    .venv/bin/python experiments/tree/run.py --nudges 0 --trials 5 --workers 2       # 2 at once
    .venv/bin/python experiments/tree/run.py --nudges 0 --trials 5 --address HEAD:6379

``--workers N`` / ``--address HOST:PORT`` are passed to every ``pamdp train tree`` run: its
trials are shards on N local Ray workers or on a Ray cluster (docs/DISTRIBUTED.md; on a
cluster ``runs/`` must be on a file system every node sees). The trials' results are those of
the serial sweep.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pamdp import train as cli  # noqa: E402


def run_dir(nudge: float, tree: int, base: Path = ROOT / "runs" / "tree") -> Path:
    """Where the raw outputs of one (ξ, tree) pair live."""
    return base / f"xi_{nudge:g}" / f"tree_{tree}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nudges", type=float, nargs="+", default=[0.0])
    parser.add_argument("--trees", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20_000)
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers", type=int, default=1, help="train each tree's trials on N local Ray workers"
    )
    engine.add_argument(
        "--address", default=None, help="train the trials on the Ray cluster at HOST:PORT"
    )
    args = parser.parse_args(argv)
    where = ["--workers", str(args.workers)]
    if args.address is not None:
        where = ["--address", args.address]
    for nudge in args.nudges:
        for tree in args.trees:
            train = argparse.ArgumentParser()
            cli.add_tree_arguments(train)
            options = train.parse_args(
                [
                    "--depth",
                    str(args.depth),
                    "--seed",
                    str(tree),
                    "--trials",
                    str(args.trials),
                    "--iterations",
                    str(args.iterations),
                    "--nudge",
                    repr(nudge),
                    "--output",
                    str(run_dir(nudge, tree)),
                    "--resume",
                    "--no-progress",
                    *where,
                ]
            )
            print(f"== ξ = {nudge:g}, tree {tree}", file=sys.stderr, flush=True)
            code = cli.run_tree(options)
            if code:
                return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
