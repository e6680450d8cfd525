"""The reading of each claim's outcome, written into docs/THEOREMS.md beside the measurements.

Kept apart from :mod:`properties.report` (which runs and renders the report) because it is
prose: one paragraph per claim key, passed to :func:`properties.report.render_markdown` as
``notes``.
"""

from __future__ import annotations

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
        "contracts is an SPE: no *pure* stationary SPE exists there (a mixed stationary one, "
        "a1 w.p. 15343301/21129660 ≈ 0.72615 at s1, and a period-2 time-dependent one do; "
        "`pamdp equilibria`) (`test_no_pure_stationary_spe_and_a_period_three_cycle`, "
        "tests/regressions/meta-cycle-no-pure-spe.json). (2) In 6 (γ = 0) the meta-algorithm "
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
        "`test_no_pure_stationary_spe_and_a_period_three_cycle` "
        "(tests/regressions/meta-cycle-no-pure-spe.json) no *pure* stationary SPE exists (a "
        "mixed stationary one, a1 w.p. 15343301/21129660 ≈ 0.72615 at s1, and a period-2 "
        "time-dependent one do; `pamdp equilibria`), so Algorithm 1, whose iterates and "
        "limits are pure stationary policies, cannot converge there: Theorem 3.4 read as 'the "
        "meta-algorithm converges to an SPE for every γ < 1' is false. Where it converges the "
        "limit passes the SPE check (and is one of the exactly enumerated pure stationary "
        "SPEs: `meta-limit-among-spes`). Two numerical issues of the library surfaced on the way "
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
        "These are the instance's only two pure stationary SPEs (of 9 profiles), and they "
        "differ *only at s1, which is unreachable from the initial state s0* (s0 is "
        "absorbing): at s0 both give V^a = 3 and V^p = 9/4, so from s0 they are the same "
        "outcome. A witness of two pure stationary SPEs that differ at the initial state is "
        "tests/regressions/two-spe-differ-at-initial-state.json (2 states, γ = 9/10): at s0 "
        "one gives V^p = 32571/3442 ≈ 9.4628, V^a = −1, the other V^p ≈ 9.5728, V^a = "
        "−3487/4342 ≈ −0.8031, better for both (`pamdp equilibria` on it); a search found 75 "
        "instances with several pure stationary SPEs among 5,748 discounted ones, 60 of them "
        "differing at s0. PAPER.md §3 anticipated that the SPE need not be unique; these are "
        "minimal witnesses, and they show that the equilibrium the meta-algorithm returns "
        "depends on its start. "
        "Values are compared with each limit's recommendation followed at the runs' precision "
        "(a run stopped at tol = 1e-7 leaves contracts a few 1e-8 short, see "
        "`meta-convergence`)."
    ),
    "pure-stationary-spe": (
        "**Open in PAPER.md; fails on 24 of 10,000 generated discounted instances (≤ 3 states, "
        "2–3 actions): no *pure* stationary SPE exists there.** Every candidate — a profile "
        "of implementable recommendations with its unique self-consistent minimal contracts, "
        "the only contracts a pure stationary SPE can offer under the paper's conventions "
        "(the agent follows at ties) — has a profitable one-shot deviation, listed exactly in "
        "the violation. The shrunk instance has 3 states and 3 actions; the smallest known "
        "is the 2-state tests/regressions/meta-cycle-no-pure-spe.json (pinned by "
        "tests/regressions/pure-stationary-spe.case.json), which does have a mixed stationary "
        "SPE (a1 w.p. 15343301/21129660 ≈ 0.72615 at s1) and a period-2 time-dependent one "
        "(`pamdp equilibria`). On average an instance has 1.53 pure stationary SPEs "
        "(up to 27: every profile of one 3-state, 3-action instance). This claim says nothing "
        "about mixed or time-dependent equilibria."
    ),
    "stationary-spe": (
        "Covers only the searched classes: a pure stationary SPE, or a mixed one with one "
        "mixing state and a support of two minimal contracts (exact mixing probability from "
        "the indifference equation, the split instance judged by the exact SPE check); "
        "mixing at several states or over three or more contracts is not searched, so a "
        "violation would mean 'none in these classes', never 'none exists'. On the pinned "
        "2-state instance without a pure stationary SPE "
        "(tests/regressions/meta-cycle-no-pure-spe.json) the search finds the mixed one, a1 "
        "w.p. 15343301/21129660 ≈ 0.72615 at s1 (`test_mixed_stationary_spe_of_the_no_"
        "stationary_regression`). In the thorough run (sharded: 20 shards of 500 instances "
        "with derived seeds, so a different sample from `pure-stationary-spe`'s) 47 of the "
        "10,000 instances have no pure stationary SPE, and on each of them the search finds "
        "exactly one mixed SPE of the searched class; the other 9,953 have a pure one. What "
        "this shows: each of these 10,000 instances has a stationary SPE in these classes. "
        "It does not show that the mixed ones found are the only mixed SPEs (other supports "
        "were not searched), nor anything about larger instances. The mixed search solves "
        "the indifference equation fraction-free over ℚ[p] (sympy `DomainMatrix`), about 15 s "
        "of CPU on the 3-state, 3-action shrunk instance of `pure-stationary-spe` (a generic "
        "symbolic solve took over 5 minutes there, which had stalled this claim's first "
        "thorough run)."
    ),
    "meta-limit-among-spes": (
        "On all 9,968 of 10,000 discounted instances where the meta-algorithm converged (the "
        "32 others are out of scope, see `meta-convergence`), its limit profile is one of the "
        "exactly enumerated pure stationary SPEs, with V^p and V^a within 1e-9 of the exact "
        "ones at every state (2 rounds in 9,483 runs, at most 111). Where Algorithm 1 stops, "
        "it stops at an exact pure stationary equilibrium; where there are several, which "
        "one depends on its start (`meta-uniqueness`)."
    ),
    "proposition-4.1": (
        "Holds on all 10,000 episodic instances under the reading of the property's docstring, "
        "with adversarial perturbations (E ∈ {1/100, 1/20, 1/10, 1/4}; Hypothesis draws each "
        "ε(s, a), half of them at ±E): with ξ = 2E the exact agent follows every "
        "recommendation that has a ξ-nudged contract for Q̂, and each state's payment is at "
        "most c_ξ(Q̄) + 2E·Σλ. On average 0.10 states per instance (up to 4) have no "
        "ξ-implementable action under Q̂ (`fallback_states`): the claim says nothing there. "
        "The comparison with the ξ-nudged SPE is *not* bounded by E alone and is only "
        "measured: V^p of the nudged SPE minus that of the approximate policy ranged from −5.5 "
        "(the approximate policy earned more) to 12.3. With ξ < 2E the agent can deviate "
        "(pinned: tests/regressions/proposition-4.1-margin-below-2E.json)."
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
        "(re-evaluated exactly). On these small generated instances (≤ 4 states, 2 actions) "
        "the gap is positive in 3 of 10,000, largest 0.0084 (the witness below, pinned by "
        "`test_commitment_gap_witness`); on the paper's trees it is common: commitment "
        "strictly beats the SPE on 38 of 100 depth-3 trees and 73 of 100 depth-4 trees (seeds "
        "0–99, `commitment-paper-trees`). The gain never comes from paying more than the "
        "minimal contracts: every profile's commitment-LP optimum equals its value under its "
        "own self-consistent minimal contracts (a lemma, proved in solvers/commitment.py and "
        "checked numerically on every depth-3 profile), so the optimum gains only by its "
        "choice of recommendations — committing to a *non-credible* one, which the principal "
        "would not choose at that state given the continuation (measured on the trees, "
        "`commitment-paper-trees`). On the three-state example of PAPER.md §7 the gap is 1/18 "
        "(`test_commitment_beats_spe_on_the_three_state_example`)."
    ),
    "commitment-paper-trees": (
        "**Commitment strictly beats the SPE on most of the paper's trees, and the gain comes "
        "from non-credible recommendations, not from paying more than the minimal contracts.** "
        "Fixed seeds (journal docs/theorems_run/commitment-trees.jsonl, "
        "`experiments/tree/commitment_gap.py`): the gap is positive on 38 of 100 depth-3 trees "
        "(the first 20 seeds give the 8 of issue 13: 4, 5, 9, 12, 13, 15, 16, 18, largest "
        "6.83% at seed 5) and on 73 of 100 depth-4 trees. Where positive it averages 2.00% of "
        "V^p_SPE(s0) at depth 3 (largest 17.85%, seed 88; largest absolute 0.0747, seed 15) "
        "and 1.38% at depth 4 (largest 7.43%, 0.0753, seed 29). Random seeds (this run, "
        "10,000 trees): positive on 1,873 of 4,997 depth-3 and 3,586 of 5,003 depth-4 trees, "
        "largest gap 0.192 (the witness below, depth 4), largest relative 38.7%. "
        "*Shown* (a proof, solvers/commitment.py): every profile's commitment-LP optimum equals "
        "its value under its own self-consistent minimal contracts, so C is the best "
        "minimal-contract profile; `tree_commitment` evaluates all 2^|R| profiles bottom-up "
        "(32,768 at depth 4, beyond the LP's 4,096 limit) and decides exactly among those "
        "within 1e-9 of the float best. *Measured*: the LP agrees with the bottom-up value on "
        "all 12,800 depth-3 profiles of the fixed seeds (largest difference 1.1e-15) and on "
        "the 8 best of each depth-4 tree (1.8e-15); the 1e-9 window assumes float errors "
        "below it (observed ~1e-15). The LP's own optimal contracts are often not the minimal "
        "ones (they are on 54 of 100 depth-3 and 6 of 100 depth-4 trees): its optimum is not "
        "unique — pay moved between a state and its parent on the outcome leading there costs "
        "the same — but none is cheaper. *Mechanism* (measured, exact check of the committed "
        "policy): every positive gap comes with non-credible recommendations, states where the "
        "principal, given the committed values below, would choose another action (46 states "
        "in the 38 depth-3 trees, 117 in the 73 depth-4 trees, 1 to 4 per tree), mostly at "
        "the last decision level (depth 3: 40 at level 2, 6 at level 1; depth 4: 86 at level "
        "3, 25 at 2, 6 at 1), and mostly committing to the cheap action a0 where the principal "
        "would implement a1 (42 of 46; 108 of 117), which leaves the agent less rent there (42 "
        "of 46; 108 of 117), usually at a left child, reached by o0 (37 of 46; 80 of 117): a "
        "lower agent continuation after o0, the outcome the cheap action makes likely, makes "
        "shirking at the parent less attractive and a1 there cheaper (our reading of these "
        "counts). At all these states but 2 (both at depth 4) the principal's preferred "
        "action is also the SPE's own choice there."
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


__all__ = ["FINDING_NOTES"]
