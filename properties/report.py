"""The theorem report: run every claim of :data:`properties.theorems.CLAIMS` under a profile.

For each claim, two Hypothesis runs with the same seed:

1. a **survey** over ``profile.max_examples`` drawn cases that never stops early: it counts
   the instances tried (in the claim's scope), the failing ones, and collects measurements
   (iteration counts against depth, commitment gaps, contraction ratios, ...);
2. if anything failed, a **shrinking** run that raises on the first failure, so that
   Hypothesis shrinks it to a minimal case. That case is saved as a FORMAT.md v1 instance
   file ``<claim>.json`` (plus ``<claim>.case.json`` holding the other drawn arguments and the
   violations) and printed.

The result is a :class:`Report` (frozen), rendered as a text table
(:func:`render_table`), JSON (:func:`report_to_json`) or the Markdown of docs/THEOREMS.md
(:func:`render_markdown`).
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import textwrap
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, note, seed
from hypothesis.errors import HypothesisException

from properties.profiles import Profile, get_profile
from properties.theorems import CLAIMS, Claim, PropertyResult
from theory.format import dump_json, instance_to_dict
from theory.model import PrincipalAgentMDP

#: The command that regenerates docs/THEOREMS.md (quoted in the document).
REGENERATE = (
    "pamdp theorems --profile thorough --seed 0 --markdown docs/THEOREMS.md --out tests/regressions"
)

#: A witness measurement (e.g. the commitment gap) counts only above this (float noise).
WITNESS_THRESHOLD = 1e-7

#: Reading of each claim's outcome, written into docs/THEOREMS.md beside the measurements.
FINDING_NOTES: dict[str, str] = {
    "minimal-contract": (
        "Every fast contract (the closed form for two outcomes, the batched HiGHS LP "
        "otherwise) is incentive compatible, non-negative and costs the exact simplex's "
        "certified optimum, and the fast solver's implementability agrees with the exact "
        "LP's feasibility (dual or Farkas certificate re-verified in rationals)."
    ),
    "spe": (
        "Backward induction's output passes the exact one-shot-deviation check. A first run "
        "of this report showed a 'gain' of 1.5e-7 on a γ = 1/1000 instance: the checker "
        "resolved the agent's ties *within tol* for the principal on sampled off-path "
        "contracts, so a contract 1% short of a tiny minimal contract looked acceptable to "
        "the agent (slack ≤ tol) while saving the principal tol times the likelihood-ratio "
        "leverage. That was the checker's definition, not the solver: off-path ties are now "
        "exact (tests/regressions/spe-tie-tolerance-leverage.json, "
        "`test_spe_offpath_ties_are_exact`)."
    ),
    "theorem-3.3": (
        "Read as *at most T + 1 rounds*, Theorem 3.3 holds on every instance, and so does the "
        "mechanism (after k rounds the levels below k are the SPE's). The bound is far from "
        "tight: most instances need 2 rounds whatever T (one to respond, one to confirm); a "
        "third or fourth round is needed only where limited-liability rents downstream change "
        "the incentives upstream."
    ),
    "theorem-3.4-contraction-R1": (
        "**Fails, as PAPER.md §3 anticipates.** Under reading R1 the agent's Q̄ is re-solved "
        "for greedy(q). In the minimal instance q1 = 0 (greedy: a0 everywhere) and q2 differs "
        "by 0.001 in one entry, enough to flip greedy at s0 to a1. The agent's Q̄ then "
        "includes the rent of a different implemented action, the minimal contracts change, "
        "and ‖J q1 − J q2‖∞ = 0.0051 > γ‖q1 − q2‖∞ = 0.0005 (γ = 1/2): J (R1) is not a "
        "contraction, not even continuous. Theorem 3.4 cannot be proven with this operator."
    ),
    "theorem-3.4-contraction-R2": (
        "With Q̄ held fixed, J is a Bellman operator with fixed rewards; the largest ratio "
        "‖J q1 − J q2‖∞ / ‖q1 − q2‖∞ observed equals γ (attained by constant shifts)."
    ),
    "theorem-3.4-fixed-point-R1": (
        "**Fails** in 34 of 10,000 instances, for two reasons. (1) In 28 the meta-algorithm "
        "does not converge (see `meta-convergence`): there is no limit to agree with. The "
        "minimal instance (2 states, γ = 9/10, a1 unimplementable in s0) is one where iterating "
        "J (R1) from 0 does not settle either and *no* recommended profile with its minimal "
        "contracts is an SPE: a stationary pure-strategy SPE does not exist there "
        "(`test_no_stationary_spe_and_a_period_three_cycle`, "
        "tests/regressions/no-stationary-spe.json). (2) In 6 (γ = 0) the meta-algorithm "
        "converges and its q is a fixed point of J (R1), but the principal is exactly "
        "indifferent between two actions that leave the agent different rents: greedy(q) "
        "(argmax, decided by float rounding) implements one, the meta-algorithm (lowest index "
        "within 1e-9) the other. Both are SPEs with the same V^p and different V^a (1.35 "
        "against 0.95 at s1), another face of the non-uniqueness under principal ties "
        "(`test_fixed_point_r1_greedy_picks_another_equilibrium_at_a_principal_tie`, "
        "tests/regressions/fixed-point-R1-principal-tie.json). Elsewhere the meta-algorithm's q "
        "is a fixed point of J (R1) after one application (9,969 instances) or two (3), and its "
        "greedy policy is an SPE with the meta-algorithm's values."
    ),
    "theorem-3.4-fixed-point-R2": (
        "**Fails** in 43 of 10,000 instances, the same count as the meta-algorithm's "
        "non-converging runs (see `meta-convergence`): without a limit there is nothing to "
        "agree with. Where it converges, J (R2) for the last Q̄ has the principal's optimal q "
        "as its fixed point, whose greedy policy is an SPE with the meta-algorithm's values."
    ),
    "meta-convergence": (
        "**Fails: for γ < 1 the meta-algorithm can cycle.** 43 of 10,000 runs do not converge "
        "(cycles of period 2 and 3, exact repeats of earlier policies, and a few runs still "
        "moving after 200 rounds). In the shrunk instance (3 states, γ = 9/10) the principal's "
        "choice at s1 alternates between a0 (pay 1.55 on o2) and a1 (pay 0.42 on o1) from "
        "round 1 on (contracts within 1e-7 of two rounds earlier by round 8, an exact "
        "period-2 repeat from round 13) "
        "(`test_pinned_counterexamples_still_fail`): each choice changes the agent's rents, "
        "hence its continuation values, "
        "hence which action is cheaper to implement. On the 2-state instance pinned by "
        "`test_no_stationary_spe_and_a_period_three_cycle` no stationary SPE exists at all, "
        "so no algorithm that returns one can converge there: Theorem 3.4 read as 'the "
        "meta-algorithm converges to an SPE for every γ < 1' is false. Where it converges the "
        "limit passes the SPE check. Two numerical issues of the library surfaced on the way "
        "(both pinned): with its default tol = 1e-9 (equal to its tie tolerance) a converging "
        "run can stall at ~2.5e-9 and never stop (`test_meta_tolerance_stall`); and a run "
        "stopped at a looser tol keeps contracts minimal for the previous round's Q̄, so the "
        "agent deviates by a hair at the 1e-9 tie tolerance and the *reported* values jump "
        "(`reported_value_jump` below; `test_meta_reported_values_jump_at_the_stopping_"
        "tolerance`). The properties therefore stop at tol = 1e-7 and judge the limit policy "
        "with its recommendation followed, at the run's precision (`meta_tolerance`)."
    ),
    "meta-uniqueness": (
        "**Fails: the SPE is not unique, and Algorithm 1 finds different equilibria from "
        "different starts** (3 of 10,000 instances; 151 of the 40,000 runs from the four starts "
        "did not converge and are judged under `meta-convergence`). In the minimal instance "
        "(2 states, γ = 9/10) the default start ends recommending a2 at s1 unpaid (V^p(s1) ≈ "
        "2.1681, V^a(s1) ≈ 3.2184) and a random start ends recommending a0 with 0.8905 paid on "
        "o1 (V^p(s1) ≈ 2.2644, V^a(s1) = 3.34 exactly). Both are SPEs in exact arithmetic at "
        "tolerance 0, derived by hand in `test_two_subgame_perfect_equilibria_pareto_ranked` "
        "(tests/regressions/two-spe-pareto-ranked.json), and the second is better for *both* "
        "players at s1: the agent's rent at s1 raises its continuation value after o1, which "
        "makes a0 (likelier to produce o1) cheaper to implement — a self-fulfilling rent. "
        "PAPER.md §3 anticipated that the SPE need not be unique; this is a minimal witness, "
        "and it shows that the equilibrium the meta-algorithm returns depends on its start. "
        "Values are compared with each limit's recommendation followed at the runs' precision "
        "(a run stopped at tol = 1e-7 leaves contracts a few 1e-8 short, see "
        "`meta-convergence`)."
    ),
    "observed-action": (
        "With observed actions the principal earns first-best welfare minus the agent's "
        "no-contract value at every state, the agent earns exactly its no-contract value, "
        "and the observed counterpart (same expected rewards and dynamics) is never worse for "
        "the principal than hidden action; the information gain is often strictly positive "
        "(PAPER.md §7: 6/5 against 1)."
    ),
    "metamorphic-scaling": (
        "Scaling all rewards by c scales contracts and both parties' values by c, with the "
        "same recommendations (c ∈ {2, 1/2, 3, 10, 1/10})."
    ),
    "metamorphic-relabelling-agent_best": (
        "Values are invariant under relabelling states, actions and outcomes. Read literally "
        "('the contract is permuted') the claim **fails**: the minimal contract's cost is "
        "unique but the vector is not. In the first run's minimal instance a0 makes o0 and o1 "
        "equally likely (1/10 each) and the other actions never produce them, so paying 1 "
        "on either is minimal, and which one the solver returns follows the outcome order "
        "(tests/regressions/relabelling-contract-not-unique.json, "
        "`test_minimal_contract_vector_is_not_unique_under_relabelling`). The property "
        "compares contract costs."
    ),
    "metamorphic-relabelling-lowest_index": (
        "**Fails with the library's default lowest-index tie rule: the SPE is not unique.** In "
        "the minimal instance the principal is exactly indifferent at s1 between a1 (free: the "
        "agent is indifferent to a0) and a2 (minimal contract 0.6 on o0), both worth −0.4 to "
        "it, but the agent gets 0 under a1 and 0.3 under a2. Listing a2 before a1 changes the "
        "choice and the agent's value; upstream, such a tie changes the agent's incentives "
        "and hence the principal's value too. With a label-free rule (`agent_best`, the claim "
        "above) values are invariant on all 10,000 instances."
    ),
    "commitment-vs-spe": (
        "The SPE never beats the commitment optimum, and the optimum's policy is genuine "
        "(re-evaluated exactly). The gap is positive but rare on these small instances (≤ 4 "
        "states, 2 actions): 3 of 10,000, largest 0.0084 (the witness below, pinned by "
        "`test_commitment_gap_witness`): committing to pay more than the minimal "
        "contract downstream can make upstream incentives cheaper. On the three-state example "
        "of PAPER.md §7 the gap is 1/18 (`test_commitment_beats_spe_on_the_three_state_example`)."
    ),
    "symbolic-backward-induction": (
        "With γ or one reward symbolic, sympy's piecewise backward induction agrees exactly "
        "with the exact-rational solver (whose contracts come from the simplex, not the "
        "closed form) and with the float solver at every sampled value."
    ),
    "closed-form-kkt": (
        "A proof, not a sample: every case of the two-outcome closed form with up to three "
        "deviations (each Δ positive, zero or negative; which ratio binds; where the "
        "interval [d_low, d_high] lies) is parameterised by signed symbols and its "
        "optimality (dual) or infeasibility (Farkas) certificate is verified symbolically."
    ),
}


# ================================================================================ results
@dataclass(frozen=True)
class ClaimOutcome:
    """What the report found for one claim.

    Attributes
    ----------
    key, statement, paper_ref, definition, expected : copied from the :class:`Claim`.
    tried : instances in the claim's scope on which the property ran (survey).
    skipped : drawn instances outside its scope.
    failures : tried instances on which it failed.
    errors : tried instances on which the property raised an exception.
    counterexample : the shrunk failing instance as a FORMAT.md v1 document, or ``None``.
    counterexample_arguments : the other drawn arguments of that case (JSON-ready).
    violations : the violations on the shrunk case (or the exception).
    counterexample_path : where the instance file was written, if anywhere.
    summary : aggregated measurements (see :func:`summarise`).
    witness : for claims with a witness measurement (the commitment gap): the instance with
        the largest value, as a FORMAT.md v1 document.
    seconds : wall time of both runs.
    """

    key: str
    statement: str
    paper_ref: str
    definition: str
    expected: str
    tried: int
    skipped: int
    failures: int
    errors: int
    counterexample: dict[str, Any] | None = None
    counterexample_arguments: dict[str, Any] = field(default_factory=dict)
    violations: tuple[str, ...] = ()
    counterexample_path: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    witness: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return self.failures == 0 and self.errors == 0

    @property
    def verdict(self) -> str:
        if self.errors:
            return "ERROR"
        return "holds" if self.holds else "counterexample"

    @property
    def as_expected(self) -> bool:
        """False when a claim expected to hold fails, or a property raised. A known finding
        (``expected == "fails"``) that a small budget does not reproduce is not an error: its
        counterexample is pinned by a regression test."""
        if self.errors:
            return False
        if self.expected == "holds":
            return self.holds
        return True


@dataclass(frozen=True)
class Report:
    """Every claim's outcome and how the run was made."""

    profile: str
    seed: int
    outcomes: tuple[ClaimOutcome, ...]
    seconds: float
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.as_expected for o in self.outcomes)


# ============================================================================ serialising
def to_jsonable(value: Any) -> Any:
    """JSON-ready copy: arrays to lists, Fractions to ``"p/q"`` strings, models to FORMAT."""
    if isinstance(value, PrincipalAgentMDP):
        return instance_to_dict(value)
    if isinstance(value, Fraction):
        return str(value) if value.denominator != 1 else int(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def instance_json(model: PrincipalAgentMDP) -> str:
    """The model as a one-line FORMAT.md v1 document (what failing properties print)."""
    return dump_json(instance_to_dict(model))


def assert_holds(result: PropertyResult, model: PrincipalAgentMDP) -> None:
    """Raise :class:`AssertionError` if ``result`` failed, printing the instance as FORMAT.md
    v1 JSON (also attached as a Hypothesis note, so a shrunk example prints that way)."""
    if result.applicable and not result.holds:
        text = instance_json(model)
        note(f"FORMAT.md v1 instance: {text}")
        raise AssertionError(f"{result.explain()}\nFORMAT.md v1 instance: {text}")


#: Case arguments stored as nested lists that the properties take as float arrays.
ARRAY_ARGUMENTS = frozenset({"q1", "q2"})


def load_case(path: str | Path) -> tuple[Claim, dict[str, Any]]:
    """Read a saved counterexample (``<claim>.case.json`` beside its instance file) and
    return the claim with the keyword arguments that replay it: ``claim.check(**kwargs)``."""
    from properties.theorems import claim as claim_named
    from theory.format import load_instance
    from theory.model import to_fraction

    case_path = Path(path)
    document = json.loads(case_path.read_text(encoding="utf-8"))
    found = claim_named(document["claim"])
    kwargs: dict[str, Any] = {"model": load_instance(case_path.parent / document["instance"])}
    for name, value in document.get("arguments", {}).items():
        if name in ARRAY_ARGUMENTS:
            value = np.asarray(value, dtype=np.float64)
        elif name == "factor":
            value = to_fraction(value)
        kwargs[name] = value
    return found, kwargs


# ============================================================================ measurements
def summarise(
    key: str, measurements: Sequence[Mapping[str, Any]], tol: float = 1e-7
) -> dict[str, Any]:
    """Aggregate per-instance measurements: min / mean / max of every numeric one, plus

    * ``iterations_by_depth`` (Theorem 3.3): for each horizon T, how many instances needed
      each number of rounds;
    * ``positive`` counts for gaps (commitment, observed information gain): instances where
      the measurement exceeds ``tol``.
    """
    out: dict[str, Any] = {}
    numeric: dict[str, list[float]] = defaultdict(list)
    for m in measurements:
        for name, value in m.items():
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                continue
            number = float(value)
            if math.isfinite(number):
                numeric[name].append(number)
    for name, values in sorted(numeric.items()):
        array = np.asarray(values)
        out[name] = {
            "min": float(array.min()),
            "mean": float(array.mean()),
            "max": float(array.max()),
            "n": len(values),
        }
        if name in ("gap", "information_gain"):
            out[name]["positive"] = int(np.sum(array > tol))
    if key == "theorem-3.3":
        table: dict[int, Counter[int]] = defaultdict(Counter)
        for m in measurements:
            if "depth" in m and "iterations" in m:
                table[int(m["depth"])][int(m["iterations"])] += 1
        out["iterations_by_depth"] = {
            str(d): dict(sorted(c.items())) for d, c in sorted(table.items())
        }
    if key.startswith("meta") or key.startswith("theorem-3.4-fixed"):
        counts = Counter(int(m["iterations"]) for m in measurements if "iterations" in m)
        out["iterations_histogram"] = dict(sorted(counts.items()))
    return out


# ================================================================================ running
def _case_arguments(case: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_jsonable(v) for k, v in case.items() if k != "model"}


def run_claim(
    claim: Claim,
    profile: Profile | str,
    *,
    seed_value: int = 0,
    out_dir: str | Path | None = None,
    max_examples: int | None = None,
    **overrides: Any,
) -> ClaimOutcome:
    """Survey ``claim`` over the profile's instances, then shrink a failure (module docstring).

    Parameters
    ----------
    claim : the claim.
    profile : a :class:`~properties.profiles.Profile` or its name.
    seed_value : Hypothesis seed (ignored by derandomized profiles, which are reproducible).
    out_dir : where to write ``<claim>.json`` / ``<claim>.case.json`` for a counterexample
        (and ``<claim>.witness.json`` for a witness); nothing is written when ``None``.
    max_examples : override the profile's instance count.
    overrides : keyword arguments passed to the property (e.g. a planted ``solver=``).
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    config = prof.settings(
        database=None, **({"max_examples": max_examples} if max_examples else {})
    )
    counts = Counter[str]()
    measurements: list[Mapping[str, Any]] = []
    witness: dict[str, Any] = {}
    started = time.perf_counter()

    @seed(seed_value)
    @config
    @given(claim.cases)
    def survey(case: dict[str, Any]) -> None:
        try:
            result = claim.run(case, **overrides)
        except Exception:  # a property must not raise: count it, shrink it below
            counts["errors"] += 1
            return
        if not result.applicable:
            counts["skipped"] += 1
            return
        counts["tried"] += 1
        measurements.append(result.measurements)
        if not result.holds:
            counts["failures"] += 1
        if claim.witness is not None:
            value = result.measurements.get(claim.witness)
            if (
                isinstance(value, float | int)
                and math.isfinite(value)
                and value > max(witness.get("value", 0.0), WITNESS_THRESHOLD)
            ):
                witness.update(value=float(value), model=case["model"])

    survey()
    shrunk: dict[str, Any] = {}
    if counts["failures"] or counts["errors"]:

        @seed(seed_value)
        @config
        @given(claim.cases)
        def shrink(case: dict[str, Any]) -> None:
            try:
                result = claim.run(case, **overrides)
            except Exception:
                shrunk.update(
                    case=case, violations=("property raised: " + traceback.format_exc(limit=3),)
                )
                raise
            if result.applicable and not result.holds:
                shrunk.update(case=case, violations=result.violations)
                note(f"FORMAT.md v1 instance: {instance_json(case['model'])}")
                raise AssertionError(result.explain())

        # the shrunk failure is recorded in ``shrunk``; the exception itself is not needed
        with contextlib.suppress(AssertionError, HypothesisException, Exception):
            shrink()
    counterexample = None
    path = None
    arguments: dict[str, Any] = {}
    violations: tuple[str, ...] = ()
    if "case" in shrunk:
        model: PrincipalAgentMDP = shrunk["case"]["model"]
        counterexample = instance_to_dict(model)
        arguments = _case_arguments(shrunk["case"])
        violations = tuple(shrunk["violations"])
        if out_dir is not None:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            instance_path = folder / f"{claim.key}.json"
            dump_json(counterexample, instance_path, indent=1)
            dump_json(
                {
                    "claim": claim.key,
                    "paper_ref": claim.paper_ref,
                    "instance": instance_path.name,
                    "arguments": arguments,
                    "violations": list(violations),
                    "profile": prof.name,
                    "seed": seed_value,
                },
                folder / f"{claim.key}.case.json",
                indent=1,
            )
            path = str(instance_path)
    witness_doc = None
    if "model" in witness:
        witness_doc = instance_to_dict(witness["model"])
        if out_dir is not None:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            dump_json(witness_doc, folder / f"{claim.key}.witness.json", indent=1)
    return ClaimOutcome(
        key=claim.key,
        statement=claim.statement,
        paper_ref=claim.paper_ref,
        definition=claim.definition,
        expected=claim.expected,
        tried=counts["tried"],
        skipped=counts["skipped"],
        failures=counts["failures"],
        errors=counts["errors"],
        counterexample=counterexample,
        counterexample_arguments=arguments,
        violations=violations,
        counterexample_path=path,
        summary=summarise(claim.key, measurements),
        witness=witness_doc,
        seconds=time.perf_counter() - started,
    )


def run_report(
    profile: Profile | str = "ci",
    *,
    seed_value: int = 0,
    claims: Iterable[Claim] | None = None,
    out_dir: str | Path | None = None,
    max_examples: int | None = None,
    progress: Any = None,
) -> Report:
    """Run every claim (or ``claims``) and collect a :class:`Report`.

    ``progress`` is called with each :class:`ClaimOutcome` as it completes (e.g. to print).
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    started = time.perf_counter()
    outcomes = []
    for claim in CLAIMS if claims is None else tuple(claims):
        outcome = run_claim(
            claim, prof, seed_value=seed_value, out_dir=out_dir, max_examples=max_examples
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    import hypothesis

    environment = {
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    return Report(
        prof.name, seed_value, tuple(outcomes), time.perf_counter() - started, environment
    )


# ============================================================================== rendering
def _outcome_text(outcome: ClaimOutcome) -> str:
    if outcome.errors:
        return f"ERROR in {outcome.errors} instance(s)"
    if outcome.holds:
        return "holds"
    where = f" → {outcome.counterexample_path}" if outcome.counterexample_path else ""
    return f"counterexample ({outcome.failures}/{outcome.tried} instances fail){where}"


def _wrap_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> str:
    def line(cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
        height = max(len(w) for w in wrapped)
        return [
            " | ".join(
                (w[i] if i < len(w) else "").ljust(width)
                for w, width in zip(wrapped, widths, strict=True)
            ).rstrip()
            for i in range(height)
        ]

    rule = "-+-".join("-" * w for w in widths)
    out = [*line(headers), rule]
    for row in rows:
        out += [*line(row), rule]
    return "\n".join(out)


def render_table(report: Report, *, show_instances: bool = True) -> str:
    """The report as a text table (claim, paper reference, definition, tried, outcome),
    followed by every counterexample as a FORMAT.md v1 instance."""
    rows = [
        [o.key, o.paper_ref, o.definition, str(o.tried), _outcome_text(o)] for o in report.outcomes
    ]
    text = [
        f"pamdp theorems — profile {report.profile}, seed {report.seed}, {report.seconds:.1f} s",
        "",
        _wrap_table(
            ["claim", "paper", "definition used", "tried", "outcome"], rows, [30, 18, 52, 6, 34]
        ),
    ]
    for o in report.outcomes:
        if o.counterexample is None:
            continue
        text += ["", f"== {o.key}: counterexample ({o.statement})"]
        text += [f"   {v}" for v in o.violations[:6]]
        if o.counterexample_arguments:
            text.append(f"   arguments: {json.dumps(o.counterexample_arguments)}")
        if show_instances:
            text.append(f"   FORMAT.md v1 instance: {dump_json(o.counterexample)}")
    unexpected = [o.key for o in report.outcomes if not o.as_expected]
    text += [
        "",
        "all outcomes as expected"
        if not unexpected
        else f"UNEXPECTED outcomes: {', '.join(unexpected)}",
    ]
    return "\n".join(text)


def outcome_to_json(o: ClaimOutcome) -> dict[str, Any]:
    """One claim's outcome as a JSON-ready dictionary."""
    return {
        "key": o.key,
        "statement": o.statement,
        "paper_ref": o.paper_ref,
        "definition": o.definition,
        "expected": o.expected,
        "verdict": o.verdict,
        "tried": o.tried,
        "skipped": o.skipped,
        "failures": o.failures,
        "errors": o.errors,
        "counterexample": o.counterexample,
        "counterexample_arguments": o.counterexample_arguments,
        "violations": list(o.violations),
        "counterexample_path": o.counterexample_path,
        "summary": to_jsonable(o.summary),
        "witness": o.witness,
        "seconds": o.seconds,
    }


def report_to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dictionary."""
    return {
        "profile": report.profile,
        "seed": report.seed,
        "seconds": report.seconds,
        "environment": report.environment,
        "ok": report.ok,
        "claims": [outcome_to_json(o) for o in report.outcomes],
    }


def report_from_json(data: Mapping[str, Any]) -> Report:
    """Rebuild a :class:`Report` from :func:`report_to_json` output (to re-render it, e.g.
    docs/THEOREMS.md, without re-running)."""
    outcomes = tuple(
        ClaimOutcome(
            key=c["key"],
            statement=c["statement"],
            paper_ref=c["paper_ref"],
            definition=c["definition"],
            expected=c["expected"],
            tried=c["tried"],
            skipped=c["skipped"],
            failures=c["failures"],
            errors=c["errors"],
            counterexample=c["counterexample"],
            counterexample_arguments=c["counterexample_arguments"],
            violations=tuple(c["violations"]),
            counterexample_path=c["counterexample_path"],
            summary=c["summary"],
            witness=c["witness"],
            seconds=c["seconds"],
        )
        for c in data["claims"]
    )
    return Report(
        data["profile"], data["seed"], outcomes, data["seconds"], dict(data.get("environment", {}))
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    report: Report, *, notes: Mapping[str, str] | None = None, preamble: str = ""
) -> str:
    """docs/THEOREMS.md: how to regenerate, the table, then every finding in detail.

    ``notes`` maps a claim key to an explanatory paragraph (the reading of the finding);
    ``preamble`` is inserted after the regeneration instructions (e.g. how the run was split).
    """
    notes = notes or {}
    lines = [
        "# Theorem report",
        "",
        "Generated by `properties/report.py` from a real run; do not edit by hand. Regenerate with",
        "",
        "```",
        REGENERATE,
        "```",
        "",
        "The thorough profile takes about 67 minutes of one core (38 minutes split over two "
        "processes on a 2-core machine, as below). Each finished claim is "
        "journalled to `<out>/report.jsonl`; an interrupted or split run is re-rendered with "
        "`pamdp theorems --from-json DIR1/report.jsonl,DIR2/report.jsonl --markdown "
        "docs/THEOREMS.md`.",
        "",
        *([preamble, ""] if preamble else []),
        f"Profile **{report.profile}** (seed {report.seed}), "
        f"{report.seconds / 60:.1f} minutes; "
        + ", ".join(f"{k} {v}" for k, v in report.environment.items())
        + ".",
        "Each claim is a property in `properties/theorems.py` (its docstring states the claim, "
        "the paper reference and the exact definition); *tried* counts the generated instances "
        "in the claim's scope. A counterexample is the instance Hypothesis shrank the first "
        "failure to; it is saved under `tests/regressions/` and pinned by a regression test.",
        "",
        "| claim | paper | definition used | tried | outcome |",
        "|---|---|---|---:|---|",
    ]
    for o in report.outcomes:
        verdict = (
            "**holds**"
            if o.holds
            else f"**counterexample** ({o.failures} of {o.tried} fail)"
            if not o.errors
            else f"**error** ({o.errors})"
        )
        lines.append(
            f"| `{o.key}`: {_md_cell(o.statement)} | {_md_cell(o.paper_ref)} | "
            f"{_md_cell(o.definition)} | {o.tried:,} | {verdict} |"
        )
    lines += ["", "## Findings and measurements", ""]
    for o in report.outcomes:
        lines += [f"### `{o.key}` — {o.verdict}", ""]
        if o.key in notes:
            lines += [notes[o.key], ""]
        if o.counterexample is not None:
            lines += ["Violations on the shrunk instance:", ""]
            lines += [f"- {_md_cell(v)}" for v in o.violations[:8]]
            if o.counterexample_arguments:
                lines += ["", f"Other drawn arguments: `{json.dumps(o.counterexample_arguments)}`"]
            lines += [
                "",
                "Minimal instance (FORMAT.md v1"
                + (f", `tests/regressions/{o.key}.json`" if o.counterexample_path else "")
                + "):",
                "",
                "```json",
                dump_json(o.counterexample, indent=1),
                "```",
                "",
            ]
        summary = {k: v for k, v in o.summary.items()}
        if "iterations_by_depth" in summary:
            table = summary.pop("iterations_by_depth")
            lines += [
                "Rounds of the meta-algorithm against the horizon T (instances):",
                "",
                "| T | bound T + 1 | rounds: instances |",
                "|---:|---:|---|",
            ]
            for depth, counter in table.items():
                cells = ", ".join(f"{k}: {v:,}" for k, v in counter.items())
                lines.append(f"| {depth} | {int(depth) + 1} | {cells} |")
            lines.append("")
        if summary:
            lines += [
                "Measurements: "
                + "; ".join(f"{name} {_summary_text(value)}" for name, value in summary.items()),
                "",
            ]
        if o.witness is not None:
            lines += [
                f"Largest-gap witness (FORMAT.md v1, `tests/regressions/{o.key}.witness.json`):",
                "",
                "```json",
                dump_json(o.witness, indent=1),
                "```",
                "",
            ]
        lines.append(f"Run time: {o.seconds:.0f} s.")
        lines.append("")
    return "\n".join(lines)


def _summary_text(value: Any) -> str:
    if isinstance(value, dict) and {"min", "max", "mean"} <= value.keys():
        text = f"min {value['min']:.4g}, mean {value['mean']:.4g}, max {value['max']:.4g}"
        if "positive" in value:
            text += f", > 0 in {value['positive']:,} of {value['n']:,}"
        return f"({text})"
    return json.dumps(to_jsonable(value))


__all__ = [
    "FINDING_NOTES",
    "REGENERATE",
    "ClaimOutcome",
    "Report",
    "assert_holds",
    "instance_json",
    "load_case",
    "outcome_to_json",
    "render_markdown",
    "render_table",
    "report_from_json",
    "report_to_json",
    "run_claim",
    "run_report",
    "summarise",
    "to_jsonable",
]
