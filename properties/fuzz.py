"""Differential fuzzing of any principal-agent solver against exact ground truth (issue 4).

A *solver under test* maps a FORMAT.md v1 instance to a FORMAT.md v1 solution. It is either

* an external program — :class:`CommandSolver`, ``"CMD {instance} {solution}"``: pamdp writes
  the instance to a file, runs the command (placeholders replaced by quoted paths; without
  ``{solution}`` the solution is read from standard output) and reads the solution file; or
* a Python function — :class:`FunctionSolver`: called with the instance document (a ``dict``,
  numbers exact: ints and ``"p/q"`` strings) or, with ``input="model"``, with the
  :class:`~theory.model.PrincipalAgentMDP`; it returns a solution document (``dict`` or JSON
  text) or any object with ``recommended`` and ``contracts`` arrays (e.g. an
  :class:`~solvers.backward_induction.SPESolution`).

Hypothesis draws instances from :func:`properties.strategies.instances` (exact rationals on
small grids, with planted ties, zero rewards, identical outcome distributions and
unimplementable actions), every answer is checked by :func:`properties.verify.verify_solution`
(the exact SPE test of PAPER.md §2, within the tolerance), and the first failure is shrunk by
Hypothesis to a minimal instance (fewest states, actions and outcomes, then simplest numbers).

Failures are classified: ``wrong`` (a well-formed solution that is not an SPE, or whose claimed
values are false), ``crash`` (the program exits non-zero / the function raises), ``timeout``
(the program runs past ``timeout`` seconds; it is killed with its process group),
``invalid_json`` and ``invalid_solution`` (not FORMAT.md v1: the message names the field).
The minimal failing instance is saved with the wrong and the right solution side by side
(:meth:`FuzzFailure.save`): the right one is pamdp's exact backward induction (episodic) or the
meta-algorithm (discounted), itself verified.

Determinism: ``seed`` fixes the search; each distinct instance is run once and its verdict
cached, so a non-deterministic solver cannot make the shrinker flaky. Budgets: ``time_budget``
stops the search for a first failure (no new instances are tried after it); ``shrink_budget``
bounds the shrinking that follows (the best instance so far is reported, flagged
``shrink_complete=False``).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from random import Random
from typing import Any, Literal

from properties.verify import DEFAULT_TOLERANCE, VerificationReport, parse_solution, verify_solution
from theory.format import SolutionError, instance_to_dict, loads_json, solution_to_dict
from theory.model import PrincipalAgentMDP, to_fraction

__all__ = [
    "FAILURE_KINDS",
    "UNCHECKED",
    "Attempt",
    "CommandSolver",
    "FunctionSolver",
    "FuzzFailure",
    "FuzzReport",
    "SolverCheckError",
    "SolverCrash",
    "SolverTimeout",
    "attempt",
    "check_command",
    "check_solver",
    "fuzz",
    "reference_solution",
    "shrink_structurally",
]

FailureKind = Literal["wrong", "crash", "timeout", "invalid_json", "invalid_solution"]
FAILURE_KINDS: tuple[str, ...] = ("wrong", "crash", "timeout", "invalid_json", "invalid_solution")
DEFAULT_TIMEOUT = 10.0


class SolverCrash(Exception):
    """The solver under test failed to produce an answer (non-zero exit, exception)."""


class SolverTimeout(Exception):
    """The solver under test ran past its timeout."""


class SolverCheckError(AssertionError):
    """Raised by :func:`check_solver` when the solver fails; ``report`` holds the details."""

    def __init__(self, report: FuzzReport) -> None:
        self.report = report
        super().__init__(report.summary())


class _Stop(BaseException):
    """Ends a Hypothesis run early (a budget ran out). A BaseException on purpose: Hypothesis
    treats Exceptions as test failures and would shrink them; this one passes straight through."""


# -------------------------------------------------------------------------- solvers
class CommandSolver:
    """Run an external program on an instance file (module docstring).

    Parameters
    ----------
    command : a shell command containing ``{instance}`` and optionally ``{solution}``;
        e.g. ``"python my_solver.py {instance} {solution}"``.
    timeout : seconds before the program (and its process group) is killed.
    """

    def __init__(self, command: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if "{instance}" not in command:
            raise ValueError(
                f"command: must contain the placeholder {{instance}} (value: {command!r})"
            )
        if timeout <= 0:
            raise ValueError(f"timeout: must be positive (value: {timeout!r})")
        self.command = command
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"CommandSolver({self.command!r}, timeout={self.timeout})"

    def __call__(self, instance: dict[str, Any]) -> str:
        with tempfile.TemporaryDirectory(prefix="pamdp-fuzz-") as tmp:
            instance_path = Path(tmp) / "instance.json"
            solution_path = Path(tmp) / "solution.json"
            instance_path.write_text(json.dumps(instance) + "\n", encoding="utf-8")
            to_stdout = "{solution}" not in self.command
            command = self.command.replace("{instance}", shlex.quote(str(instance_path))).replace(
                "{solution}", shlex.quote(str(solution_path))
            )
            process = subprocess.Popen(
                command,
                shell=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            try:
                out, err = process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                process.communicate()
                raise SolverTimeout(f"no answer within {self.timeout:g} s (killed)") from None
            if process.returncode != 0:
                tail = err.decode("utf-8", "replace").strip().splitlines()[-8:]
                raise SolverCrash(
                    f"exit status {process.returncode}" + (": " + "\n".join(tail) if tail else "")
                )
            if to_stdout:
                return out.decode("utf-8", "replace")
            if not solution_path.exists():
                raise SolverCrash(
                    f"exit status 0 but no solution file was written "
                    f"({{solution}} = {solution_path})"
                )
            return solution_path.read_text(encoding="utf-8", errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # pragma: no cover - already gone
        process.kill()


class FunctionSolver:
    """Call a Python function on an instance (module docstring).

    Parameters
    ----------
    fn : the solver function.
    input : ``"document"`` (the FORMAT.md v1 dict, the default) or ``"model"`` (a
        :class:`~theory.model.PrincipalAgentMDP` with exact data).

    A function cannot be interrupted safely, so there is no timeout: use a
    :class:`CommandSolver` to catch hangs.
    """

    def __init__(self, fn: Callable[[Any], Any], *, input: str = "document") -> None:
        if not callable(fn):
            raise TypeError(f"fn: must be callable (value: {fn!r})")
        if input not in ("document", "model"):
            raise ValueError(f"input: must be 'document' or 'model' (value: {input!r})")
        self.fn = fn
        self.input = input

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        return f"FunctionSolver({getattr(self.fn, '__module__', '?')}.{name})"

    def __call__(self, instance: dict[str, Any], model: PrincipalAgentMDP | None = None) -> Any:
        argument: Any = instance
        if self.input == "model":
            from theory.format import instance_from_dict

            argument = model if model is not None else instance_from_dict(instance)
        try:
            result = self.fn(argument)
        except Exception as error:
            tail = "".join(traceback.format_exception(error)[-3:]).strip()
            raise SolverCrash(f"{type(error).__name__}: {error}\n{tail}") from error
        if model is None or isinstance(result, dict | str | bytes):
            return result
        if hasattr(result, "recommended") and hasattr(result, "contracts"):
            return solution_to_dict(
                model,
                result.recommended,
                result.contracts,
                exact=bool(getattr(result, "exact", False)),
            )
        return result


Solver = CommandSolver | FunctionSolver | Callable[[dict[str, Any]], Any]


# -------------------------------------------------------------------------- one attempt
@dataclass(frozen=True)
class Attempt:
    """The verdict on one instance.

    Attributes
    ----------
    kind : ``"ok"``, one of :data:`FAILURE_KINDS`, or ``"unchecked"`` (a discounted instance
        with no SPE known to pamdp, see :func:`_judged`; not a failure).
    message : what went wrong (empty when ok).
    raw_output : the solver's answer as it came (text or object), None if it crashed.
    solution : the parsed solution document (a dict), None if there is none.
    report : the verification report, None unless the solution was well-formed.
    seconds : time taken by the solver.
    """

    kind: str
    message: str = ""
    raw_output: Any = None
    solution: dict[str, Any] | None = None
    report: VerificationReport | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.kind not in ("ok", UNCHECKED)


def attempt(
    solver: Solver, model: PrincipalAgentMDP, *, tolerance: Any = DEFAULT_TOLERANCE
) -> Attempt:
    """Run ``solver`` on ``model`` and verify its answer exactly (module docstring)."""
    document = instance_to_dict(model)
    start = time.perf_counter()
    try:
        raw = solver(document, model) if isinstance(solver, FunctionSolver) else solver(document)
    except SolverTimeout as error:
        return Attempt("timeout", str(error), seconds=time.perf_counter() - start)
    except SolverCrash as error:
        return Attempt("crash", str(error), seconds=time.perf_counter() - start)
    except Exception as error:  # a plain callable that raised
        return Attempt(
            "crash", f"{type(error).__name__}: {error}", seconds=time.perf_counter() - start
        )
    seconds = time.perf_counter() - start
    data: Any = raw
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        if not raw.strip():
            return Attempt("invalid_json", "the solution is empty", raw, seconds=seconds)
        try:
            data = loads_json(raw)
        except json.JSONDecodeError as error:
            return Attempt("invalid_json", f"not valid JSON: {error}", raw, seconds=seconds)
    if not isinstance(data, dict):
        return Attempt(
            "invalid_solution",
            f"<document>: a solution must be a JSON object (value: {_clip(data)})",
            raw,
            seconds=seconds,
        )
    try:
        parsed = parse_solution(data, model)
        report = verify_solution(model, parsed, tolerance=tolerance, reference=False)
    except SolutionError as error:
        return Attempt("invalid_solution", str(error), raw, data, seconds=seconds)
    if report.ok:
        return Attempt("ok", "", raw, data, report, seconds)
    first = report.violations[0]
    more = len(report.violations) - 1
    return Attempt(
        "wrong",
        first.message + (f" (and {more} more violation(s))" if more else ""),
        raw,
        data,
        report,
        seconds,
    )


def _clip(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


#: Verdict on a discounted instance where the answer is not an SPE but pamdp finds none either.
UNCHECKED = "unchecked"


def _judged(result: Attempt, model: PrincipalAgentMDP) -> Attempt:
    """Demote a ``wrong`` verdict on a discounted instance to ``unchecked`` when pamdp's own
    reference (the meta-algorithm) is not an SPE either.

    For γ < 1 a Markov SPE need not exist under the paper's tie conventions (PAPER.md §3: rents
    couple states; the fuzzer found a two-state, γ = 9/10 instance where neither recommendation
    in the looping state is an equilibrium), and then no answer can pass. Such instances are
    counted (``FuzzReport.kinds_seen["unchecked"]``) and reported, never blamed on the solver.
    Crashes, timeouts and malformed output are failures regardless.
    """
    if result.kind != "wrong" or model.is_episodic:
        return result
    _, method = reference_solution(model)
    if method.endswith("an SPE"):
        return result
    return replace(
        result,
        kind=UNCHECKED,
        message=f"not an SPE, but pamdp finds no SPE of this instance either ({method})",
    )


# -------------------------------------------------------------------------- results
def reference_solution(model: PrincipalAgentMDP) -> tuple[dict[str, Any], str]:
    """pamdp's solution of ``model`` as a FORMAT.md v1 document, and how it was computed.

    Episodic: exact backward induction (PAPER.md §2). Discounted: the meta-algorithm (floats,
    PAPER.md §3). Either way the result is verified exactly and the verdict is part of the
    description.
    """
    from solvers.backward_induction import solve_backward_induction
    from solvers.meta_algorithm import meta_algorithm

    if model.is_episodic:
        spe = solve_backward_induction(model, exact=True)
        document = solution_to_dict(
            model,
            spe.recommended,
            spe.contracts,
            principal_values=spe.principal_values,
            agent_values=spe.agent_values,
            exact=True,
        )
        method = "pamdp exact backward induction"
    else:
        result = meta_algorithm(model)
        spe = result.solution
        document = solution_to_dict(
            model,
            spe.recommended,
            spe.contracts,
            principal_values=spe.principal_values,
            agent_values=spe.agent_values,
        )
        method = (
            f"pamdp meta-algorithm ({result.iterations} iterations"
            + ("" if result.converged else ", NOT converged")
            + ")"
        )
    report = verify_solution(model, document, reference=False)
    method += ", verified: " + (
        "an SPE" if report.ok else f"NOT an SPE ({len(report.violations)} violation(s))"
    )
    return document, method


@dataclass(frozen=True)
class FuzzFailure:
    """The minimal failing instance found, with the wrong and the right solution.

    Attributes
    ----------
    kind : one of :data:`FAILURE_KINDS`.
    message : the first problem, in words.
    model : the minimal instance.
    instance : its FORMAT.md v1 document.
    attempt : the solver's attempt on it (raw output, parsed solution, verification report).
    right_solution : pamdp's solution document; ``right_method`` says how it was computed.
    shrink_complete : False if the shrink budget ran out first.
    directory : where :meth:`save` wrote the files (None if not saved).
    """

    kind: str
    message: str
    model: PrincipalAgentMDP
    instance: dict[str, Any]
    attempt: Attempt
    right_solution: dict[str, Any]
    right_method: str
    shrink_complete: bool = True
    directory: Path | None = None

    @property
    def size(self) -> tuple[int, int, int]:
        """``(|S|, |A|, |O|)`` of the minimal instance."""
        return self.model.n_states, self.model.n_actions, self.model.n_outcomes

    def side_by_side(self) -> str:
        """Per state: the solver's policy and the true values it earns, next to pamdp's."""
        model = self.model
        wrong = self.attempt.solution
        report = self.attempt.report
        right = self.right_solution["policy"]
        lines = [
            f"  {'state':<8}| {'wrong: action':<13} {'contract':<22} {'true V^p':>10} "
            f"| {'right: action':<13} {'contract':<22} {'V^p':>10}"
        ]
        for s in range(model.n_states):
            w_action, w_contract, w_value = "—", "—", "—"
            if (
                wrong is not None
                and isinstance(wrong.get("policy"), list)
                and s < len(wrong["policy"])
                and isinstance(wrong["policy"][s], dict)
            ):
                entry = wrong["policy"][s]
                w_action = str(entry.get("recommended_action", "—"))
                w_contract = _contract_cell(entry.get("contract"))
            if report is not None:
                w_value = _cell(report.states[s].principal_value)
            r_entry = right[s]
            lines.append(
                f"  {model.states[s]:<8}| {w_action:<13} {w_contract:<22} {w_value:>10} "
                f"| {r_entry['recommended_action']:<13} "
                f"{_contract_cell(r_entry['contract']):<22} "
                f"{_cell(to_fraction(r_entry.get('principal_value', 0))):>10}"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        n_s, n_a, n_o = self.size
        lines = [
            f"FAILURE ({self.kind}) on a minimal instance with {n_s} state(s), {n_a} "
            f"action(s), {n_o} outcome(s), γ = {_cell(to_fraction(self.model.discount))}"
            + ("" if self.shrink_complete else " (shrinking stopped by its budget)"),
            f"  {self.message}",
        ]
        report = self.attempt.report
        if report is not None and len(report.violations) > 1:
            for v in report.violations[1:8]:
                lines.append(f"  - [{v.kind}] {v.message}")
        lines.append("")
        lines.append("wrong (solver under test) vs right (" + self.right_method + "):")
        lines.append(self.side_by_side())
        lines.append("")
        lines.append("instance (FORMAT.md v1):")
        lines.append(json.dumps(self.instance))
        if self.directory is not None:
            lines.append("")
            lines.append(
                f"saved to {self.directory}/ (instance.json, wrong_solution.json, "
                "right_solution.json, report.txt); re-check with: pamdp verify "
                f"{self.directory}/instance.json {self.directory}/wrong_solution.json"
            )
        return "\n".join(lines)

    def save(self, directory: str | Path) -> FuzzFailure:
        """Write the instance, both solutions and a report to ``directory``; return a copy
        of this failure that knows where it was saved."""

        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / "instance.json").write_text(
            json.dumps(self.instance, indent=1) + "\n", encoding="utf-8"
        )
        (path / "right_solution.json").write_text(
            json.dumps(self.right_solution, indent=1) + "\n", encoding="utf-8"
        )
        wrong = self.attempt.solution
        raw = self.attempt.raw_output
        if wrong is not None:
            (path / "wrong_solution.json").write_text(
                json.dumps(wrong, indent=1, default=_json_default) + "\n", encoding="utf-8"
            )
        elif raw is not None:
            (path / "wrong_output.txt").write_text(str(raw), encoding="utf-8")
        saved = replace(self, directory=path)
        text = saved.summary()
        if self.attempt.report is not None:
            text += "\n\n" + self.attempt.report.summary()
        (path / "report.txt").write_text(text + "\n", encoding="utf-8")
        return saved


def _json_default(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


def _cell(value: Fraction | None) -> str:
    if value is None:
        return "—"
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{value.numerator}/{value.denominator}"
    return text if len(text) <= 10 else f"{float(value):.6g}"


def _contract_cell(contract: Any) -> str:
    if not isinstance(contract, list):
        return "—"
    parts = []
    for x in contract:
        try:
            parts.append(_cell(to_fraction(x)))
        except (TypeError, ValueError, ZeroDivisionError):
            parts.append("?")
    return "(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class FuzzReport:
    """The outcome of a fuzzing run.

    Attributes
    ----------
    solver : a description of the solver under test.
    family, seed, max_examples, tolerance : the run's settings.
    examples : distinct instances the solver was run on (search and shrinking).
    seconds : wall time.
    budget_exhausted : the time budget stopped the search before ``max_examples``.
    failure : the minimal failure, or None if every answer was right.
    kinds_seen : how many instances failed in each way (during search and shrinking).
    """

    solver: str
    family: str
    seed: int
    max_examples: int
    tolerance: Fraction
    examples: int
    seconds: float
    budget_exhausted: bool = False
    failure: FuzzFailure | None = None
    kinds_seen: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        head = (
            f"pamdp fuzz: {self.solver}: family {self.family}, seed {self.seed}, "
            f"{self.examples} instance(s) solved in {self.seconds:.1f} s, tolerance "
            f"{_cell(self.tolerance)}"
        )
        unchecked = self.kinds_seen.get(UNCHECKED, 0)
        note = (
            ""
            if not unchecked
            else (
                f"\nnote: {unchecked} discounted instance(s) had no SPE known to pamdp (the "
                "meta-algorithm did not reach one; a Markov SPE may not exist, PAPER.md §3): "
                "the answers there were not counted as failures"
            )
        )
        if self.failure is None:
            return (
                head
                + "\nOK: every answer was an SPE within tolerance"
                + (" (stopped by the time budget)" if self.budget_exhausted else "")
                + note
            )
        return head + note + "\n" + self.failure.summary()


# ------------------------------------------------------------------- structural shrinking
@dataclass
class _Fields:
    """A FORMAT.md v1 instance as mutable lists of exact numbers (for structural shrinking)."""

    name: str
    states: list[str]
    actions: list[str]
    outcomes: list[str]
    initial: int
    gamma: Fraction
    observed: bool
    probs: list[list[list[Fraction]]]
    agent: list[list[Fraction]]
    principal: list[list[Fraction]]
    transitions: list[list[list[tuple[int, Fraction]]]]

    @classmethod
    def of(cls, model: PrincipalAgentMDP) -> _Fields:
        data = model.exact_data()
        n_o = model.n_outcomes
        offsets = model.transition_offsets.tolist()
        nxt = model.transition_next.tolist()
        tprob = data.transition_prob.tolist()
        return cls(
            model.name,
            list(model.states),
            list(model.actions),
            list(model.outcomes),
            model.initial_state,
            data.discount,
            model.observed_action,
            data.outcome_probs.tolist(),
            data.agent_reward.tolist(),
            data.principal_reward.tolist(),
            [
                [
                    [
                        (nxt[k], tprob[k])
                        for k in range(offsets[s * n_o + o], offsets[s * n_o + o + 1])
                    ]
                    for o in range(n_o)
                ]
                for s in range(model.n_states)
            ],
        )

    def build(self) -> PrincipalAgentMDP | None:
        from theory.format import instance_from_dict
        from theory.model import InstanceError

        n_s, n_a, n_o = len(self.states), len(self.actions), len(self.outcomes)
        document: dict[str, Any] = {
            "format": "pamdp/instance@1",
            "name": f"fuzz counterexample S={n_s} A={n_a} O={n_o}",
            "states": self.states,
            "initial_state": self.states[self.initial],
            "actions": self.actions,
            "outcomes": self.outcomes,
            "discount": self.gamma,
            "outcome_probs": self.probs,
            "agent_reward": self.agent,
            "principal_reward": self.principal,
            "transitions": [
                [[[t, p] for t, p in entries] for entries in row] for row in self.transitions
            ],
        }
        if self.observed:
            document["observed_action"] = True
        try:
            return instance_from_dict(document)
        except InstanceError:
            return None

    def keep_states(self, keep: list[int], initial: int) -> _Fields:
        """Only the states ``keep`` (in that order); transitions to the others are dropped
        and the rest renormalised (an emptied distribution ends the episode)."""
        index = {s: i for i, s in enumerate(keep)}
        transitions = []
        for s in keep:
            row = []
            for entries in self.transitions[s]:
                kept = [(index[t], p) for t, p in entries if t in index]
                total = sum((p for _, p in kept), Fraction(0))
                row.append([(t, p / total) for t, p in kept] if total else [])
            transitions.append(row)
        return _Fields(
            self.name,
            [self.states[s] for s in keep],
            self.actions,
            self.outcomes,
            index[initial],
            self.gamma,
            self.observed,
            [self.probs[s] for s in keep],
            [self.agent[s] for s in keep],
            [self.principal[s] for s in keep],
            transitions,
        )

    def reachable(self, start: int) -> list[int]:
        seen = {start}
        stack = [start]
        while stack:
            s = stack.pop()
            for entries in self.transitions[s]:
                for t, _ in entries:
                    if t not in seen:
                        seen.add(t)
                        stack.append(t)
        return sorted(seen)

    def fold_leaf(self, t: int) -> _Fields | None:
        """Replace the leaf ``t`` (no successors) by its SPE values: every ``(s, o)`` that
        leads to ``t`` for sure ends the episode instead, with ``γ V^p(t)`` added to
        ``r^p(s, o)`` and ``γ Σ_o 𝒪(s, a)(o) V^a(t)`` to ``r(s, a)``. The SPE of the other
        states is unchanged (PAPER.md §2: backward induction only sees ``t`` through its
        values), so a solver bug that does not live in ``t`` survives the move. None when some
        ``(s, o)`` reaches ``t`` only with probability < 1 (not representable)."""
        from solvers.backward_induction import solve_backward_induction

        if any(self.transitions[t][o] for o in range(len(self.outcomes))):
            return None
        parents = [
            (s, o)
            for s, row in enumerate(self.transitions)
            if s != t
            for o, entries in enumerate(row)
            if any(u == t for u, _ in entries)
        ]
        if not parents or any(len(self.transitions[s][o]) != 1 for s, o in parents):
            return None
        leaf = self.keep_states([t], t).build()
        if leaf is None:
            return None
        spe = solve_backward_induction(leaf, exact=True)
        v_p, v_a = spe.principal_values[0], spe.agent_values[0]
        agent = [list(row) for row in self.agent]
        principal = [list(row) for row in self.principal]
        transitions = [[list(entries) for entries in row] for row in self.transitions]
        for s, o in parents:
            principal[s][o] += self.gamma * v_p
            for a in range(len(self.actions)):
                agent[s][a] += self.gamma * self.probs[s][a][o] * v_a
            transitions[s][o] = []
        folded = replace(self, agent=agent, principal=principal, transitions=transitions)
        return folded.keep_states([x for x in range(len(self.states)) if x != t], self.initial)

    def drop_action(self, a: int) -> _Fields:
        keep = [x for x in range(len(self.actions)) if x != a]
        out = replace(
            self,
            actions=[self.actions[x] for x in keep],
            probs=[[row[x] for x in keep] for row in self.probs],
            agent=[[row[x] for x in keep] for row in self.agent],
        )
        if self.observed:  # the outcomes are the actions: drop the same outcome
            out = out._drop_outcome_columns(a)
        return out

    def _drop_outcome_columns(self, o: int) -> _Fields:
        keep = [x for x in range(len(self.outcomes)) if x != o]
        return replace(
            self,
            outcomes=[self.outcomes[x] for x in keep],
            probs=[[[row[x] for x in keep] for row in state] for state in self.probs],
            principal=[[row[x] for x in keep] for row in self.principal],
            transitions=[[row[x] for x in keep] for row in self.transitions],
        )

    def merge_outcome(self, o: int, into: int) -> _Fields:
        """Hidden action: outcome ``o``'s probability goes to ``into``, then ``o`` is dropped."""
        probs = [[list(row) for row in state] for state in self.probs]
        for state in probs:
            for row in state:
                row[into] += row[o]
        return replace(self, probs=probs)._drop_outcome_columns(o)

    def zero_reward(self, which: str, s: int, k: int) -> _Fields:
        table = [list(row) for row in (self.agent if which == "agent" else self.principal)]
        table[s][k] = Fraction(0)
        return replace(self, agent=table) if which == "agent" else replace(self, principal=table)

    def candidates(self) -> list[_Fields]:
        """Smaller instances, biggest reductions first."""
        n_s, n_a, n_o = len(self.states), len(self.actions), len(self.outcomes)
        out: list[_Fields] = []
        for s in range(n_s):  # a subgame: the states reachable from s, rooted at s
            keep = self.reachable(s)
            if len(keep) < n_s:
                out.append(self.keep_states(keep, s))
        for t in range(n_s):
            if t != self.initial:
                out.append(self.keep_states([x for x in range(n_s) if x != t], self.initial))
        for t in range(n_s):
            if t != self.initial:
                folded = self.fold_leaf(t)
                if folded is not None:
                    out.append(folded)
        if n_a > 1:
            out.extend(self.drop_action(a) for a in reversed(range(n_a)))
        if not self.observed and n_o > 1:
            out.extend(
                self.merge_outcome(o, into)
                for o in reversed(range(n_o))
                for into in range(n_o)
                if into != o
            )
        for which, table in (("agent", self.agent), ("principal", self.principal)):
            out.extend(
                self.zero_reward(which, s, k)
                for s, row in enumerate(table)
                for k, value in enumerate(row)
                if value != 0
            )
        return out


def _size_text(model: PrincipalAgentMDP) -> str:
    return f"{model.n_states} state(s), {model.n_actions} action(s), {model.n_outcomes} outcome(s)"


def _size_key(model: PrincipalAgentMDP) -> tuple[int, int, int, int]:
    return (
        model.n_states,
        model.n_actions,
        model.n_outcomes,
        len(json.dumps(instance_to_dict(model))),
    )


def shrink_structurally(
    model: PrincipalAgentMDP,
    still_fails: Callable[[PrincipalAgentMDP], bool],
    *,
    deadline: float | None = None,
) -> tuple[PrincipalAgentMDP, bool]:
    """Greedy structural shrinking after Hypothesis' own (module docstring).

    Repeatedly tries, on the current instance: the subgame rooted at each state; deleting a
    state (transitions into it are dropped and renormalised); folding a leaf into its parents'
    rewards (:meth:`_Fields.fold_leaf`); deleting an action; merging two outcomes; zeroing one
    reward — and keeps the first candidate that is smaller and still
    fails in the same way, until none does (a 1-minimal instance for these moves) or the
    ``deadline`` (``time.monotonic()``) passes. Returns the instance and whether it finished.
    """
    current = model
    progress = True
    while progress:
        progress = False
        for candidate in _Fields.of(current).candidates():
            if deadline is not None and time.monotonic() > deadline:
                return current, False
            smaller = candidate.build()
            if smaller is None or _size_key(smaller) >= _size_key(current):
                continue
            if still_fails(smaller):
                current = smaller
                progress = True
                break
    return current, True


# ------------------------------------------------------------------------------ driver
def fuzz(
    solver: Solver,
    *,
    family: str = "all",
    min_states: int = 1,
    max_states: int = 4,
    min_actions: int = 2,
    max_actions: int = 3,
    min_outcomes: int = 2,
    max_outcomes: int = 3,
    observed_action: bool | None = None,
    max_examples: int = 100,
    seed: int = 0,
    time_budget: float | None = None,
    shrink_budget: float = 60.0,
    tolerance: Any = DEFAULT_TOLERANCE,
    output_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> FuzzReport:
    """Fuzz ``solver`` on Hypothesis-generated instances (module docstring).

    Parameters
    ----------
    solver : a :class:`CommandSolver`, a :class:`FunctionSolver`, or a plain callable taking
        the instance document.
    family : ``"episodic"``, ``"discounted"`` or ``"all"``
        (:func:`properties.strategies.instances`).
    min_states, max_states, min_actions, max_actions, min_outcomes, max_outcomes : instance
        sizes (outcomes: hidden action only). The defaults ``min_actions=2`` and
        ``min_outcomes=2`` spend the search on instances where contracts matter; the
        structural shrinker still tries fewer actions and outcomes.
    observed_action : None draws hidden- and observed-action instances; True / False fixes one.
    max_examples : instances to try before declaring success.
    seed : the search's random seed.
    time_budget : seconds for the search (None: no limit).
    shrink_budget : seconds for shrinking a failure.
    tolerance : the verification tolerance (:data:`properties.verify.DEFAULT_TOLERANCE`).
    output_dir : save the minimal failure there (instance, both solutions, report).
    progress : called with a line of text now and then (e.g. ``print``).

    Returns
    -------
    FuzzReport
        ``report.ok`` is True iff no instance failed.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    from properties.strategies import instances

    if max_examples < 1:
        raise ValueError(f"max_examples: must be at least 1 (value: {max_examples!r})")
    if time_budget is not None and time_budget <= 0:
        raise ValueError(f"time_budget: must be positive (value: {time_budget!r})")
    tau = to_fraction(tolerance)
    strategy = instances(
        family=family,  # type: ignore[arg-type]
        min_states=min_states,
        max_states=max_states,
        min_actions=min_actions,
        max_actions=max_actions,
        min_outcomes=min_outcomes,
        max_outcomes=max_outcomes,
        observed_action=observed_action,
        exact=True,
    )
    start = time.monotonic()
    deadline = None if time_budget is None else start + time_budget
    cache: dict[str, Attempt] = {}
    kinds: dict[str, int] = {}
    state: dict[str, Any] = {"last": None, "shrink_deadline": None, "exhausted": False}

    def condition(model: PrincipalAgentMDP) -> bool:
        key = json.dumps(instance_to_dict(model), sort_keys=True)
        known = cache.get(key)
        if known is None:
            now = time.monotonic()
            if state["shrink_deadline"] is not None:
                if now > state["shrink_deadline"]:
                    raise _Stop
            elif deadline is not None and now > deadline:
                state["exhausted"] = True
                raise _Stop
            known = cache[key] = _judged(attempt(solver, model, tolerance=tau), model)
            if known.kind == UNCHECKED:
                kinds[UNCHECKED] = kinds.get(UNCHECKED, 0) + 1
            if known.failed:
                kinds[known.kind] = kinds.get(known.kind, 0) + 1
                if state["shrink_deadline"] is None:
                    # Hypothesis gets half the shrink budget, the structural pass the rest
                    state["shrink_start"] = time.monotonic()
                    state["shrink_deadline"] = state["shrink_start"] + shrink_budget / 2
                    if progress is not None:
                        progress(
                            f"failure ({known.kind}) on instance {len(cache)} "
                            f"({_size_text(model)}); shrinking …"
                        )
                elif progress is not None:
                    progress(f"shrinking: still failing with {_size_text(model)}")
            elif progress is not None and state["shrink_deadline"] is None and len(cache) % 25 == 0:
                progress(f"{len(cache)} instance(s) OK")
        if known.failed:
            state["last"] = model
        return known.failed

    config = settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    minimal: PrincipalAgentMDP | None = None
    complete = True
    try:
        minimal = find(strategy, condition, settings=config, random=Random(seed))
    except NoSuchExample:
        minimal = None
    except _Stop:
        minimal = state["last"]
        complete = minimal is None
    description = (
        solver.__repr__()
        if isinstance(solver, CommandSolver | FunctionSolver)
        else f"function {getattr(solver, '__qualname__', repr(solver))}"
    )
    failure = None
    if minimal is not None:
        kind = cache[json.dumps(instance_to_dict(minimal), sort_keys=True)].kind
        shrink_deadline = max(
            time.monotonic() + shrink_budget / 2,
            state.get("shrink_start", time.monotonic()) + shrink_budget,
        )

        def same_failure(candidate: PrincipalAgentMDP) -> bool:
            key = json.dumps(instance_to_dict(candidate), sort_keys=True)
            if key not in cache:
                cache[key] = _judged(attempt(solver, candidate, tolerance=tau), candidate)
            return cache[key].kind == kind

        minimal, finished = shrink_structurally(minimal, same_failure, deadline=shrink_deadline)
        complete = complete and finished
        if progress is not None:
            progress(
                f"minimal failing instance: {_size_text(minimal)}"
                + ("" if complete else " (shrink budget exhausted)")
            )
        document = instance_to_dict(minimal)
        tried = cache[json.dumps(document, sort_keys=True)]
        right, method = reference_solution(minimal)
        failure = FuzzFailure(
            tried.kind,
            tried.message,
            minimal,
            document,
            tried,
            right,
            method,
            shrink_complete=complete,
        )
        if output_dir is not None:
            failure = failure.save(output_dir)
    return FuzzReport(
        description,
        family,
        seed,
        max_examples,
        tau,
        len(cache),
        time.monotonic() - start,
        bool(state["exhausted"]),
        failure,
        kinds,
    )


def check_solver(
    fn: Callable[[Any], Any],
    *,
    input: str = "document",
    raise_on_failure: bool = True,
    **options: Any,
) -> FuzzReport:
    """Fuzz a Python solver function; raise :class:`SolverCheckError` if it is ever wrong.

    ``fn`` takes the instance document (or, with ``input="model"``, the model) and returns a
    solution (module docstring). Keyword options are those of :func:`fuzz`. Use it in a test::

        from properties import check_solver

        def test_my_solver():
            check_solver(my_package.solve, family="episodic", max_examples=200)
    """
    report = fuzz(FunctionSolver(fn, input=input), **options)
    if raise_on_failure and not report.ok:
        raise SolverCheckError(report)
    return report


def check_command(
    command: str, *, timeout: float = DEFAULT_TIMEOUT, raise_on_failure: bool = True, **options: Any
) -> FuzzReport:
    """Like :func:`check_solver` for an external program ``"CMD {instance} {solution}"``."""
    report = fuzz(CommandSolver(command, timeout=timeout), **options)
    if raise_on_failure and not report.ok:
        raise SolverCheckError(report)
    return report
