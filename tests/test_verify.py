"""Tests of properties.verify and ``pamdp verify`` (issues 4, 12): exact SPE verification and
the learned-policy report (ratios, accuracy, deviations, nudges)."""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pamdp.verify import main as verify_main
from properties.verify import (
    parse_solution,
    verify_files,
    verify_policy,
    verify_solution,
)
from solvers.backward_induction import solve_backward_induction
from solvers.meta_algorithm import meta_algorithm
from theory.exact_contracts import minimal_contract_exact
from theory.format import (
    SolutionError,
    dump_json,
    instance_to_dict,
    load_instance,
    save_instance,
    solution_to_dict,
)
from theory.generators import paper_tree, random_instance, three_state_example
from theory.spe import NEGATIVE_PAYMENT, NOT_FOLLOWED, OVERPAYMENT, PRINCIPAL_DEVIATION
from theory.spe import minimal_contract as _minimal
from theory.ties import DEFAULT_TIES, EXACT_TIES

#: A two-state discounted instance found by ``pamdp fuzz`` on which neither recommendation in
#: the looping state s2 is a pure stationary equilibrium (see
#: test_discounted_instance_without_pure_stationary_spe).
NO_SPE_INSTANCE = Path(__file__).resolve().parents[1] / "examples" / "no_pure_stationary_spe.json"


def kinds_at(report, state):
    return {v.kind for v in report.states[state].violations}


def test_three_state_spe_verifies_with_zero_gap():
    """The SPE of PAPER.md §7 (b(L) = 1 everywhere) passes; utilities 1 and 1/5 equal the
    reference exactly."""
    model = three_state_example()
    report = verify_policy(
        model,
        [0, 0, 0],
        [[1, 0]] * 3,
        principal_values=[1, "1/2", "1/2"],
        agent_values=["1/5", "1/10", "1/10"],
        claimed_principal_utility=1,
        claimed_agent_utility="1/5",
    )
    assert report.ok, report.summary()
    assert (report.principal_utility, report.agent_utility) == (F(1), F(1, 5))
    assert report.principal_gap == 0 and report.agent_gap == 0
    assert [c.minimal_payment for c in report.states] == [F(9, 10)] * 3
    assert all(c.on_path for c in report.states)


def test_contract_lowered_by_one_percent_in_a_single_state_is_flagged():
    """Issue 4, must show: the exact SPE of a 63-state paper tree with one positive contract
    lowered by 1% is rejected, and the lowered state itself is flagged: the agent no longer
    follows there (the contract was exactly minimal, so any cut breaks its indifference)."""
    tree = paper_tree(6, 0)
    spe = solve_backward_induction(tree, exact=True)
    assert verify_policy(tree, spe.recommended, spe.contracts, reference=False).ok
    paid = [s for s in range(tree.n_states) if any(spe.contracts[s])]
    state = paid[len(paid) // 2]
    contracts = spe.contracts.copy()
    contracts[state] = [x * F(99, 100) for x in contracts[state]]
    report = verify_policy(tree, spe.recommended, contracts, reference=False)
    assert not report.ok
    assert NOT_FOLLOWED in kinds_at(report, state)
    check = report.states[state]
    assert check.agent_action != check.recommended and check.follow_deficit > 0
    assert any(v.state == state and tree.states[state] in v.message for v in report.violations)


def test_contract_lowered_by_one_percent_three_state_by_hand():
    """sL with b(L) = 0.99: aL is worth −4/5 + 9/10 · 99/100 = 91/1000 to the agent, aR
    99/1000, so it deviates by 1/125 and the principal could regain the minimal contract's
    value 1/2 − 509/9000 = 3991/9000 by paying b(L) = 1."""
    report = verify_policy(three_state_example(), [0, 0, 0], [[1, 0], ["99/100", 0], [1, 0]])
    sl = report.states[1]
    assert sl.follow_deficit == F(1, 125)
    assert sl.deviation_gain == F(3991, 9000)
    assert kinds_at(report, 1) == {NOT_FOLLOWED, PRINCIPAL_DEVIATION}
    assert report.states[2].ok


def test_overpayment_and_principal_deviation_by_hand():
    """rec = (aR, aL, aL), contracts (0, 0), (1, 0), (11/10, 0).
    sR pays 11/10 on L: 9/10 · 11/10 = 99/100 against the minimal 9/10, an overpayment of
    9/100. s0: the agent takes aR for free; the principal gets
    1/10 · (14/9 + 1/2) + 9/10 · 41/100 = 5171/9000 (sR is worth 1/2 − 9/100 = 41/100 now),
    while aL with its minimal contract earns 9/10 · (14/9 + 1/2) + 1/10 · 41/100 − 9/10 · b(L),
    where the agent's rent at sR (19/100 instead of 1/10) raises b(L) to 109/100:
    q = 91/100, a gain of 3019/9000."""
    report = verify_policy(three_state_example(), [1, 0, 0], [[0, 0], [1, 0], ["11/10", 0]])
    assert report.states[2].overpayment == F(9, 100)
    assert kinds_at(report, 2) == {OVERPAYMENT}
    s0 = report.states[0]
    assert kinds_at(report, 0) == {PRINCIPAL_DEVIATION}
    assert s0.best_action == 0 and s0.deviation_gain == F(3019, 9000)
    assert report.principal_utility == F(5171, 9000)
    assert report.principal_gap == 1 - F(5171, 9000)


def test_negative_payment_is_a_violation_not_invalid_input():
    model = three_state_example()
    report = verify_policy(model, [0, 0, 0], [[1, 0], [1, "-1/10"], [1, 0]], reference=False)
    assert NEGATIVE_PAYMENT in kinds_at(report, 1)
    document = solution_to_dict(model, [0, 0, 0], [[1, 0], [1, F(-1, 10)], [1, 0]], exact=True)
    parsed = parse_solution(document, model)
    assert parsed.policy[1].contract == (F(1), F(-1, 10))
    assert NEGATIVE_PAYMENT in kinds_at(verify_solution(model, document, reference=False), 1)


def test_claimed_values_are_checked():
    model = three_state_example()
    report = verify_policy(
        model,
        [0, 0, 0],
        [[1, 0]] * 3,
        principal_values=[1, "1/2", "2/5"],
        claimed_agent_utility="1/4",
        reference=False,
    )
    assert [(v.kind, v.state) for v in report.violations] == [
        ("claimed_value", 2),
        ("claimed_value", None),
    ]
    assert report.violations[0].amount == F(1, 10)
    assert "claimed principal_value 2/5 but the true value is 1/2" in report.violations[0].message


def test_tolerance_separates_rounding_from_errors():
    """The float SPE of a paper tree, written as shortest decimals, fails a strict (τ = 0)
    check: in some states its contract misses the agent's indifference point by rounding
    (< 1e-12), the exact agent deviates there, and the values upstream change with it. The
    report points at the tiny violations; at the default τ = 1e-9 the solution passes."""
    tree = paper_tree(6, 2)
    spe = solve_backward_induction(tree)
    document = solution_to_dict(
        tree,
        spe.recommended,
        spe.contracts,
        principal_values=spe.principal_values,
        agent_values=spe.agent_values,
    )
    strict = verify_solution(tree, document, ties=EXACT_TIES, reference=False)
    assert not strict.ok
    deviations = [v for v in strict.violations if v.kind == NOT_FOLLOWED]
    assert deviations and max(v.amount for v in deviations) < F(1, 10**12)
    assert "larger --tolerance" in strict.summary()
    assert verify_solution(tree, document).ok


def test_discounted_meta_algorithm_solution_verifies():
    for seed in range(4):
        model = random_instance(4, 2, 2, seed=seed, episodic=False)
        result = meta_algorithm(model)
        if not result.converged:
            continue
        sol = result.solution
        report = verify_policy(
            model,
            sol.recommended,
            sol.contracts,
            principal_values=sol.principal_values,
            agent_values=sol.agent_values,
        )
        assert report.ok, report.summary()
        gap = report.principal_gap
        assert report.reference is not None and not report.reference.exact
        assert gap is not None and abs(gap) < F(1, 10**6)


def test_discounted_instance_without_pure_stationary_spe():
    """A finding (PAPER.md §3, "the SPE need not be unique ... or cycle"): in this two-state,
    γ = 9/10 instance s0 is absorbing (the agent takes a2 for free, worth 1/10 a step, so
    V^a(s0) = 1) and at s2 outcome o1 loops back to s2. Write x = V^a(s2).

    * Recommend a2 at s2: it needs b(o0) ≥ 9x/10 − 7/10, and minimal payment makes
      x = 4/5 + b, so x = 1, b(o0) = 1/5 and V^p(s2) = −1/5. But then a1 (free) earns
      1/2 · (−1/10 + 9/10 · (−1/5)) = −7/50 > −1/5: a profitable deviation of 3/50.
    * Recommend a1 at s2 (free): x = 9/11, V^p(s2) = −1/11. But then a2 costs only
      b(o0) = 2/55 and earns −2/55 > −1/11: a profitable deviation of 3/55.

    Neither stationary policy is an SPE, and the meta-algorithm does not converge."""
    model = load_instance(NO_SPE_INSTANCE)
    implement = verify_policy(model, [1, 1], [[0, 0], ["1/5", 0]], reference=False)
    free = verify_policy(model, [1, 0], [[0, 0], [0, 0]], reference=False)
    assert [(v.kind, v.amount) for v in implement.violations] == [(PRINCIPAL_DEVIATION, F(3, 50))]
    assert [(v.kind, v.amount) for v in free.violations] == [(PRINCIPAL_DEVIATION, F(3, 55))]
    assert not meta_algorithm(model).converged


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    q=st.lists(st.integers(-6, 6), min_size=3, max_size=3),
    p=st.lists(st.integers(0, 4), min_size=3, max_size=3),
    action=st.integers(0, 2),
)
def test_two_outcome_closed_form_matches_the_exact_lp(q, p, action):
    """The verifier's 2-outcome closed form (PAPER.md §1) agrees with the exact simplex of
    theory.exact_contracts on implementability and cost, ties included."""
    q_bar = [F(x, 2) for x in q]
    probs = [[1 - F(x, 4), F(x, 4)] for x in p]
    fast = _minimal(q_bar, probs, action)
    lp = minimal_contract_exact(q_bar, probs, action)
    assert fast.implementable == lp.implementable
    assert fast.expected_payment == lp.expected_payment


def test_report_renders_and_serialises():
    report = verify_policy(three_state_example(), [0, 0, 0], [[1, 0], ["99/100", 0], [1, 0]])
    text = report.summary()
    assert "NOT an SPE" in text and "sL" in text and "[not_followed]" in text
    document = json.loads(json.dumps(report.to_dict()))
    assert document["ok"] is False and document["counts"]["not_followed"] == 2
    assert document["states"][1]["agent_action"] == "aR"


# ---------------------------------------------------------------------------- the CLI
@pytest.fixture
def three_state_files(tmp_path: Path) -> tuple[Path, Path]:
    model = three_state_example()
    instance = tmp_path / "instance.json"
    solution = tmp_path / "solution.json"
    save_instance(model, instance)
    dump_json(
        solution_to_dict(
            model,
            [0, 0, 0],
            [[1, 0]] * 3,
            principal_values=[1, F(1, 2), F(1, 2)],
            agent_values=[F(1, 5), F(1, 10), F(1, 10)],
            exact=True,
        ),
        solution,
    )
    return instance, solution


def test_cli_exit_zero_for_an_spe(three_state_files, capsys):
    instance, solution = three_state_files
    assert verify_main([str(instance), str(solution)]) == 0
    assert "OK — an SPE within tolerance" in capsys.readouterr().out


def test_cli_exit_one_lists_violations_per_state(three_state_files, capsys):
    instance, solution = three_state_files
    data = json.loads(solution.read_text())
    data["policy"][1]["contract"] = ["99/100", 0]
    solution.write_text(json.dumps(data))
    assert verify_main([str(instance), str(solution)]) == 1
    out = capsys.readouterr().out
    assert "state sL: the agent does not take the recommended action aL" in out
    assert verify_main([str(instance), str(solution), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_cli_exit_two_for_invalid_input(three_state_files, tmp_path, capsys):
    instance, solution = three_state_files
    bad = instance_to_dict(three_state_example())
    bad["outcome_probs"][1][0] = ["9/10", "2/10"]
    bad_instance = tmp_path / "bad.json"
    bad_instance.write_text(json.dumps(bad))
    assert verify_main([str(bad_instance), str(solution)]) == 2
    assert "outcome_probs[1][0]" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert verify_main([str(instance), str(broken)]) == 2
    assert "invalid JSON" in capsys.readouterr().err
    unknown = json.loads(solution.read_text())
    unknown["policy"][2]["recommended_action"] = "aX"
    broken.write_text(json.dumps(unknown))
    assert verify_main([str(instance), str(broken)]) == 2
    assert "policy[2].recommended_action: unknown action" in capsys.readouterr().err
    assert verify_main([str(instance), str(tmp_path / "missing.json")]) == 2
    assert verify_main([str(instance), str(solution), "--tolerance", "abc"]) == 2
    assert verify_main([str(instance), str(solution), "--tolerance", "-1"]) == 2
    with pytest.raises(SolutionError):
        verify_files(instance, bad_instance)


def test_cli_on_a_paper_tree_is_fast(tmp_path):
    """Issue 4, must show (the benchmark is benchmarks/bench_verify.py): verifying the float
    SPE of the 1023-state paper tree, reference SPE included, takes well under a second."""
    tree = paper_tree(10, 0)
    spe = solve_backward_induction(tree)
    save_instance(tree, tmp_path / "tree.json")
    dump_json(
        solution_to_dict(
            tree,
            spe.recommended,
            spe.contracts,
            principal_values=spe.principal_values,
            agent_values=spe.agent_values,
        ),
        tmp_path / "solution.json",
    )
    report = verify_files(tmp_path / "tree.json", tmp_path / "solution.json")
    assert report.ok and report.n_states == 1023
    assert report.seconds < 2.0  # generous on a loaded machine; the benchmark asserts < 1 s
    assert np.isclose(float(report.principal_utility), spe.principal_values[0])


# -------------------------------------------------------------- learned policies (issue 12)
NUDGED = [[F(9, 8), 0]] * 3  # the ξ = 1/10 nudged minimal contract in every state


def test_a_nudging_policy_is_reported_as_nudge_with_its_margin():
    """Three-state example (PAPER.md §7), every state paying the ξ = 1/10 nudged contract.
    By hand: in a leaf, aL against aR needs (9/10 − 1/10) b(L) ≥ 4/5 + ξ, so b(L) = 9/8,
    E[pay] = 81/80 (9/80 above the minimal 9/10), V^a = −4/5 + 81/80 = 17/80 and
    V^p = 7/5 − 81/80 = 31/80. At s0 both continuations add 17/80 to both actions, so the
    same contract is the nudged one: V^a(s0) = 17/80 − 4/5 + 81/80 = 17/40 and
    V^p(s0) = 7/5 + 31/80 − 81/80 = 31/40 — ratios 31/40 and (17/40) ÷ (1/5) = 17/8.
    Without a margin the three extra 9/80 are overpayments; with --margin 1/10 they are
    nudges, not violations."""
    model = three_state_example()
    plain = verify_policy(model, [0, 0, 0], NUDGED)
    assert [(v.kind, v.amount) for v in plain.violations] == [(OVERPAYMENT, F(9, 80))] * 3
    assert "declare the margin with --margin" in plain.summary()
    nudged = verify_policy(model, [0, 0, 0], NUDGED, ties=DEFAULT_TIES.with_(margin=F(1, 10)))
    assert nudged.ok, nudged.summary()
    assert [nudged.nudge_paid(c) for c in nudged.states] == [F(9, 80)] * 3
    assert (nudged.principal_ratio, nudged.agent_ratio) == (F(31, 40), F(17, 8))
    assert nudged.accuracy() == (3, 3) and nudged.accuracy(on_path=True) == (3, 3)
    text = nudged.summary()
    assert "V^p ÷ SPE = 0.775, V^a ÷ SPE = 2.125" in text
    assert "3 states pay above the minimal contract within the declared margin ξ = 1/10" in text
    assert "3 states, 2 actions, 2 outcomes" in text


def test_a_policy_the_agent_deviates_from_is_compared_state_by_state():
    """SPE contracts at s0 and sL, none at sR (still recommending aL). At sR the unpaid agent
    takes aR (it prefers it by 4/5), so V^p(sR) = 1/10 · 14/9 = 7/45, short of the SPE's 1/2
    by 31/90. At s0, V^a(sR) = 0 makes aL worth −4/5 + 9/10 · 1/10 + 9/10 = 19/100 against
    aR's 1/10 · 1/10 + 1/10 = 11/100: the agent follows, reaching sL with probability 9/10
    and sR with 1/10. Every recommendation is the SPE's (accuracy 3/3), weighted too."""
    model = three_state_example()
    report = verify_policy(model, [0, 0, 0], [[1, 0], [1, 0], [0, 0]])
    [(check, shortfall)] = report.deviations()
    assert check.name == "sR" and check.follow_deficit == F(4, 5) and shortfall == F(31, 90)
    assert report.accuracy() == (3, 3)
    assert report.visits == pytest.approx((1.0, 0.9, 0.1))
    assert report.visit_weighted_accuracy() == pytest.approx(1.0)
    text = report.summary()
    assert "the agent deviates in 1 state: sR (recommended aL, takes aR" in text
    assert "principal short by 31/90" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("  sR ")]
    assert rows and rows[0][1:4] == ["aL", "aL", "aR"]  # rec, SPE, agent
    # a recommendation that differs from the SPE's counts against the accuracy
    other = verify_policy(model, [0, 0, 1], [[1, 0], [1, 0], [0, 0]])
    assert other.accuracy() == (2, 3)
    assert other.visit_weighted_accuracy() == pytest.approx(1.9 / 2.0)


def test_json_numbers_are_exact_and_float_and_the_gap_sign_is_stated():
    report = verify_policy(three_state_example(), [0, 0, 0], [[1, 0], [1, 0], [0, 0]])
    document = json.loads(json.dumps(report.to_dict()))
    assert document["format"] == "pamdp/verification@2"
    assert document["principal_utility"]["exact"] == str(report.principal_utility)
    assert document["principal_utility"]["float"] == float(report.principal_utility)
    assert document["gap_convention"].startswith("reference minus policy")
    assert document["principal_gap"]["exact"] == str(1 - report.principal_utility)
    assert document["deviations"][0]["principal_shortfall"]["exact"] == "31/90"
    assert document["states"][2]["spe_recommended"] == "aL"


def test_cli_margin_turns_the_overpayments_into_nudges(tmp_path, capsys):
    """Must show (issue 12): `pamdp verify` on the nudging policy prints the ratio, the
    accuracy and the per-state comparison, and with --margin equal to its nudge it reports
    no overpayment."""
    model = three_state_example()
    save_instance(model, tmp_path / "instance.json")
    dump_json(solution_to_dict(model, [0, 0, 0], NUDGED, exact=True), tmp_path / "learned.json")
    files = [str(tmp_path / "instance.json"), str(tmp_path / "learned.json")]
    assert verify_main(files) == 1
    assert "[overpayment]" in capsys.readouterr().out
    assert verify_main([*files, "--margin", "1/10"]) == 0
    out = capsys.readouterr().out
    assert "[overpayment]" not in out
    for text in ("ratio       : V^p ÷ SPE", "accuracy    :", "nudge       : 3 states", " SPE "):
        assert text in out
