"""Tests of solvers.deep.ground_truth: reachability, the closest pure stationary SPE."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from solvers.deep.ground_truth import graph_reachable, ground_truth
from theory.format import load_instance
from theory.generators import paper_tree, random_instance

ROOT = Path(__file__).resolve().parents[1]


def test_graph_reachable_on_the_tree_and_an_unreachable_state() -> None:
    assert graph_reachable(paper_tree(3, 0)).all()
    model = random_instance(5, 2, 2, seed=1)
    reach = graph_reachable(model)
    assert reach[model.initial_state]
    # every reachable non-initial state has a reachable predecessor with a positive path to it
    probs = model.outcome_probs
    for s in np.flatnonzero(reach):
        if s == model.initial_state:
            continue
        preds = [
            p
            for p in np.flatnonzero(reach)
            for o in range(model.n_outcomes)
            if probs[p, :, o].max() > 0 and any(t == s for t, _ in model.successors(int(p), o))
        ]
        assert preds


def test_episodic_ground_truth_is_backward_induction() -> None:
    model = paper_tree(3, 1)
    truth = ground_truth(model)
    assert truth.pure_spes is None
    spe = truth.solve_result.solution.recommended
    comparison = truth.closest(spe)
    assert comparison["reference"] == "backward induction"
    assert comparison["reference_disagreements_all"] == 0
    flipped = np.array(spe).copy()
    flipped[0] = 1 - flipped[0]
    assert truth.closest(flipped)["reference_disagreements_reachable"] == 1


def test_discounted_closest_spe_and_none() -> None:
    model = random_instance(3, 2, 2, seed=5, episodic=False, discount="1/2")
    truth = ground_truth(model)
    assert truth.pure_spes is not None and len(truth.pure_spes) == 1
    profile = truth.pure_spes[0].recommended
    assert truth.closest(profile)["closest_pure_spe"]["disagreements_all"] == 0
    none = ground_truth(load_instance(ROOT / "examples" / "no_pure_stationary_spe.json"))
    assert none.pure_spes == ()
    assert none.closest([0, 0])["closest_pure_spe"] == "no pure stationary SPE"
