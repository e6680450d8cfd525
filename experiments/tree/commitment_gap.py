"""The commitment gap on the paper's trees, seed by seed, with its mechanism (issue 13).

For every ``paper_tree(depth, seed)`` (depths 3 and 4, seeds 0..99 by default) this runs
:func:`properties.claims.commitment.check_commitment_tree` (the commitment optimum as the best
self-consistent minimal-contract profile, confirmed by the joint LP: every profile at depth 3,
the 8 best at depth 4; exact SPE by backward induction; the committed policy checked exactly)
and writes one JSON record per tree to a journal (JSON lines), then prints a summary per
depth: how often commitment strictly beats the SPE, the gaps (absolute and relative to
``V^p_SPE(s0)``), and where the non-credible recommendations are.

The journal of the run quoted in docs/THEOREMS.md (``commitment-paper-trees``) is
``docs/theorems_run/commitment-trees.jsonl``::

    J=docs/theorems_run/commitment-trees.jsonl
    .venv/bin/python experiments/tree/commitment_gap.py --out $J
    .venv/bin/python experiments/tree/commitment_gap.py --summary $J
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from properties.claims.commitment import survey_paper_trees  # noqa: E402
from theory.atomic import atomic_write_text  # noqa: E402


def summarise(records: list[dict[str, Any]]) -> str:
    """The per-depth summary printed (and quoted in properties/report_notes.py)."""
    lines = []
    for depth in sorted({r["depth"] for r in records}):
        rows = [r for r in records if r["depth"] == depth]
        beats = [r for r in rows if r["measurements"][f"beats_depth{depth}"]]
        rel = [r["measurements"]["relative_gap"] for r in beats]
        gaps = [r["measurements"]["gap"] for r in beats]
        states = [n for r in beats for n in r["non_credible"]]
        levels = Counter(n["level"] for n in states)
        lines.append(
            f"depth {depth}: {len(rows)} trees, all claims hold: {all(r['holds'] for r in rows)}; "
            f"commitment strictly beats the SPE on {len(beats)} "
            f"(seeds {', '.join(str(r['seed']) for r in beats)})"
        )
        if beats:
            big = max(beats, key=lambda r: r["measurements"]["gap"])
            top = max(beats, key=lambda r: r["measurements"]["relative_gap"])
            lines.append(
                f"  gap (where positive): largest {big['measurements']['gap']:.4f} (seed "
                f"{big['seed']}, {100 * big['measurements']['relative_gap']:.2f}% of V^p_SPE); "
                f"largest relative {100 * top['measurements']['relative_gap']:.2f}% (seed "
                f"{top['seed']}, gap {top['measurements']['gap']:.4f}); mean "
                f"{sum(gaps) / len(gaps):.4f} ({100 * sum(rel) / len(rel):.2f}%)"
            )
        lines.append(
            f"  non-credible states: {len(states)} in {len(beats)} trees (per tree "
            f"{min((r['measurements']['non_credible'] for r in beats), default=0)}–"
            f"{max((r['measurements']['non_credible'] for r in beats), default=0)}); by level "
            f"{dict(sorted(levels.items()))}; committed→preferred "
            f"{dict(Counter(n['committed'] + '→' + n['preferred'] for n in states))}; "
            f"left children (reached by o0) {sum(int(n['state'][1:]) % 2 == 1 for n in states)}; "
            f"leaving the agent less rent: {sum(n['rent_saved'] > 0 for n in states)}; "
            f"preferred = the SPE's action there: "
            f"{sum(n['preferred'] == n['spe_action'] for n in states)}"
        )
        lp = max(r["measurements"]["lp_max_difference"] for r in rows)
        same = [
            r["measurements"]["lp_contract_difference"]
            for r in rows
            if "lp_contract_difference" in r["measurements"]
        ]
        lines.append(
            f"  joint LP vs minimal-contract value: largest difference {lp:.1e} over "
            f"{sum(r['measurements']['lp_profiles'] for r in rows)} profiles solved; the LP's "
            f"own optimal contracts equal the minimal ones (within 1e-7) on "
            f"{sum(d <= 1e-7 for d in same)} of {len(same)} trees"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--seeds", type=int, default=100, help="seeds 0..N-1 per depth")
    parser.add_argument("--out", type=Path, help="journal to write (JSON lines)")
    parser.add_argument("--summary", type=Path, help="summarise an existing journal instead")
    args = parser.parse_args(argv)
    if args.summary:
        lines = args.summary.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
    else:
        records = []
        for record in survey_paper_trees(args.depths, range(args.seeds)):
            records.append(record)
            print(
                f"depth {record['depth']} seed {record['seed']}: "
                f"gap {record['measurements']['gap']:.5f}",
                file=sys.stderr,
                flush=True,
            )
        if args.out:
            atomic_write_text(args.out, "".join(json.dumps(r) + "\n" for r in records))
    print(summarise(records))
    return 0 if all(r["holds"] for r in records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
