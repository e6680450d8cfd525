"""Core solver benchmark (issue 2): ratios measured side by side in one run.

Prints
* float backward induction on a depth-10 paper tree (vectorised by level, closed-form and
  batched-HiGHS contracts) next to the same backward induction written state by state with one
  cvxpy LP (solver HiGHS) per (state, action) — the minimal contract of every action is needed
  to choose the recommendation — and their ratio (target ≥ 100×);
* the time of a depth-20 tree (about a million states), float;
* the time of exact (rational) backward induction on a depth-10 tree, python-flint next to the
  pure-Fraction reference (best of ``--repeats``, each on a fresh tree so that the exact view is
  built inside the timed solve; ``benchmarks/bench_exact.py`` has the CPU times).

Run: ``.venv/bin/python benchmarks/bench_core.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from solvers.backward_induction import solve_backward_induction
from solvers.contracts_reference import minimal_contract_cvxpy
from theory.generators import paper_tree
from theory.model import PrincipalAgentMDP


def backward_induction_cvxpy(model: PrincipalAgentMDP) -> tuple[np.ndarray, np.ndarray]:
    """Plain backward induction, one state at a time, one cvxpy LP per (state, action)."""
    heights = model.heights
    assert heights is not None
    n_o = model.n_outcomes
    v_p = np.zeros(model.n_states)
    v_a = np.zeros(model.n_states)
    for s in np.argsort(heights, kind="stable"):
        cont_p = np.array(
            [
                model.principal_reward[s, o]
                + model.discount * sum(p * v_p[n] for n, p in model.successors(s, o))
                for o in range(n_o)
            ]
        )
        cont_a = np.array(
            [
                model.discount * sum(p * v_a[n] for n, p in model.successors(s, o))
                for o in range(n_o)
            ]
        )
        probs = model.outcome_probs[s]
        q_bar = model.agent_reward[s] + probs @ cont_a
        best, best_value, best_agent = -1, -np.inf, 0.0
        for a in range(model.n_actions):
            result = minimal_contract_cvxpy(q_bar, probs, a)
            if not bool(result.implementable):
                continue
            value = probs[a] @ cont_p - float(result.expected_payment)
            if value > best_value + 1e-9:
                best, best_value = a, value
                best_agent = q_bar[a] + float(result.expected_payment)
        assert best >= 0
        v_p[s], v_a[s] = best_value, best_agent
    return v_p, v_a


def timed(function, repeats: int = 1):  # type: ignore[no-untyped-def]
    best = np.inf
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of N for the fast paths")
    parser.add_argument("--skip-depth20", action="store_true")
    args = parser.parse_args()

    tree = paper_tree(10, 0)
    fast_time, fast = timed(lambda: solve_backward_induction(tree), args.repeats)
    slow_time, (slow_vp, _) = timed(lambda: backward_induction_cvxpy(tree), 1)
    agree = float(np.max(np.abs(slow_vp - fast.principal_values)))
    print(f"depth-10 tree ({tree.n_states} states), float backward induction")
    print(f"  vectorised (closed form + batched HiGHS) : {fast_time * 1e3:10.2f} ms")
    print(
        f"  state by state, cvxpy LP per (s, a)      : {slow_time * 1e3:10.2f} ms "
        f"({2 * tree.n_states} LPs)"
    )
    print(
        f"  speed-up                                 : {slow_time / fast_time:10.0f}x "
        f"(target >= 100x); max |V^p difference| = {agree:.1e}"
    )
    lp_time, _ = timed(lambda: solve_backward_induction(tree, contract_method="lp"), args.repeats)
    print(
        f"  vectorised, batched HiGHS LP only        : {lp_time * 1e3:10.2f} ms "
        f"({slow_time / lp_time:.0f}x the cvxpy loop)"
    )

    exact_times = {}
    for backend in ("python", "flint"):
        best = np.inf
        for _ in range(args.repeats):  # a fresh tree each time: the exact view is built inside
            fresh = paper_tree(10, 0)
            solve_backward_induction(fresh)
            start = time.perf_counter()
            exact = solve_backward_induction(fresh, exact=True, exact_backend=backend)
            best = min(best, time.perf_counter() - start)
        exact_times[backend] = best
    print(
        f"depth-10 tree, exact rational backward induction: {exact_times['flint'] * 1e3:.1f} ms "
        f"(python-flint; pure-Fraction reference {exact_times['python'] * 1e3:.0f} ms, "
        f"{exact_times['python'] / exact_times['flint']:.1f}x; "
        f"V^p(s0) - float = {float(exact.principal_values[0]) - fast.principal_values[0]:.1e})"
    )

    if not args.skip_depth20:
        start = time.perf_counter()
        big = paper_tree(20, 0)
        generate_time = time.perf_counter() - start
        solve_time, solution = timed(lambda: solve_backward_induction(big), 1)
        print(
            f"depth-20 tree ({big.n_states} states): generated in {generate_time:.2f} s, "
            f"solved in {solve_time:.2f} s; V^p(s0) = {solution.principal_values[0]:.6f}, "
            f"costly action in {np.mean(solution.recommended == 1):.1%} of states"
        )


if __name__ == "__main__":
    main()
