"""pytest plugin: run pamdp's conformance suite against any principal-agent solver (issue 4).

Installed with pamdp (entry point ``pytest11: pamdp``); inert unless a solver is named::

    pytest --pamdp-solver=their_package.module:solve        # a Python function
    pytest --pamdp-command="their-solver {instance} {solution}"   # any program

The function receives the FORMAT.md v1 instance document (a dict; ``--pamdp-input=model``
passes a :class:`theory.model.PrincipalAgentMDP` instead) and returns a solution document
(a dict or JSON text) or an object with ``recommended`` and ``contracts``
(:mod:`properties.fuzz`). The suite added to the session:

* ``pamdp[three-state/...]`` — the hand-derived instances of PAPER.md §7 (hidden action with
  γ = 1 and γ = 9/10, observed action): the answer must verify as an SPE and reach the derived
  principal and agent utilities (1, 1/5; 19/20, 19/100; 6/5, 0);
* ``pamdp[paper-tree/depth=5]`` — a 31-state tree of the paper's Fig. 3 family (PAPER.md §6);
* ``pamdp[fuzz/FAMILY]`` — differential fuzzing (:func:`properties.fuzz.fuzz`) on each family
  of ``--pamdp-families``, each failure class shrunk to a minimal instance and saved next to
  the right solution (the folder is in the failure message).

A partial solver answers "unsupported" outside its scope (:class:`properties.fuzz.Unsupported`,
exit status 3, or ``{"unsupported": "reason"}``): a known instance it does not support is
skipped, fuzzed ones are counted and the share is shown in the item's report section.

Options (the same scope as ``pamdp fuzz``): ``--pamdp-families`` (default
``episodic,discounted``, i.e. ``pamdp fuzz --family all``), ``--pamdp-min-states``,
``--pamdp-max-states``, ``--pamdp-min-actions``, ``--pamdp-max-actions``,
``--pamdp-min-outcomes``, ``--pamdp-max-outcomes``, ``--pamdp-observed-action`` /
``--pamdp-hidden-action``, ``--pamdp-two-by-two``, ``--pamdp-max-examples``, ``--pamdp-seed``,
``--pamdp-shrink-budget``, ``--pamdp-tolerance``, ``--pamdp-timeout`` (commands and workers),
``--pamdp-input``, ``--pamdp-worker``.
The fixture ``pamdp_solver`` gives the solver under test to a project's own tests. A module
that is not importable as installed is looked for in the rootdir too (as under
``python -m pytest``).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import pytest

from theory.ties import Ties

_FAMILIES = ("episodic", "discounted")
#: size options and their defaults (those of properties.fuzz.fuzz and pamdp fuzz)
_SIZES = {
    "min_states": 1,
    "max_states": 4,
    "min_actions": 2,
    "max_actions": 3,
    "min_outcomes": 2,
    "max_outcomes": 3,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pamdp", "pamdp: conformance suite for principal-agent solvers")
    group.addoption(
        "--pamdp-solver",
        default=None,
        metavar="MODULE:FUNCTION",
        help="run pamdp's conformance suite against this Python solver function",
    )
    group.addoption(
        "--pamdp-command",
        default=None,
        metavar="CMD",
        help='run the suite against a program: "CMD {instance} {solution}"',
    )
    group.addoption(
        "--pamdp-worker",
        default=None,
        metavar="CMD",
        help="run the suite against a persistent worker (JSON lines, docs/VALIDATING.md)",
    )
    group.addoption(
        "--pamdp-input",
        default="document",
        choices=["document", "model"],
        help="what the solver function receives (default: document)",
    )
    group.addoption(
        "--pamdp-families",
        default=",".join(_FAMILIES),
        metavar="LIST",
        help="comma-separated instance families to fuzz (default: episodic,discounted, the "
        "same instances as pamdp fuzz --family all)",
    )
    for name, default in _SIZES.items():
        group.addoption(
            f"--pamdp-{name.replace('_', '-')}",
            type=int,
            default=default,
            metavar="N",
            help=f"fuzzed instances: {name.replace('_', ' ')} (default: {default})",
        )
    group.addoption(
        "--pamdp-observed-action",
        dest="pamdp_observed_action",
        action="store_true",
        default=None,
        help="fuzz observed-action instances only",
    )
    group.addoption(
        "--pamdp-hidden-action",
        dest="pamdp_observed_action",
        action="store_false",
        help="fuzz hidden-action instances only",
    )
    group.addoption(
        "--pamdp-two-by-two",
        action="store_true",
        default=False,
        help="fuzz instances with 2 actions and 2 outcomes only",
    )
    group.addoption(
        "--pamdp-max-examples",
        type=int,
        default=100,
        metavar="N",
        help="fuzzed instances per family (default: 100)",
    )
    group.addoption("--pamdp-seed", type=int, default=0, help="fuzzing seed (default: 0)")
    group.addoption(
        "--pamdp-shrink-budget",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds for shrinking per fuzzed family, shared by the failure classes (default: 60)",
    )
    group.addoption(
        "--pamdp-tolerance",
        default="1e-9",
        metavar="TAU",
        help="verification tolerance (default: 1e-9)",
    )
    group.addoption(
        "--pamdp-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per-instance timeout for --pamdp-command / --pamdp-worker (default: 10)",
    )


class PamdpCheckFailed(Exception):
    """A conformance check failed; the message is the full, readable report."""


class PamdpItem(pytest.Item):
    """One conformance check of the solver under test."""

    def __init__(
        self, *, check: Callable[..., None], wants_item: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._check = check
        self._wants_item = wants_item

    def runtest(self) -> None:
        if self._wants_item:
            self._check(self)
        else:
            self._check()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PamdpCheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"pamdp conformance: {self.name}"


def _solver(config: pytest.Config) -> Any:
    """The solver under test from the options, or None when none is named."""
    from properties.fuzz import CommandSolver, FunctionSolver, WorkerSolver, load_function

    spec = config.getoption("--pamdp-solver")
    command = config.getoption("--pamdp-command")
    worker = config.getoption("--pamdp-worker")
    if sum(bool(x) for x in (spec, command, worker)) > 1:
        raise pytest.UsageError(
            "give one of --pamdp-solver, --pamdp-command and --pamdp-worker, not several"
        )
    timeout = config.getoption("--pamdp-timeout")
    if command:
        try:
            return CommandSolver(command, timeout=timeout)
        except ValueError as error:
            raise pytest.UsageError(f"--pamdp-command: {error}") from None
    if worker:
        try:
            return WorkerSolver(worker, timeout=timeout)
        except ValueError as error:
            raise pytest.UsageError(f"--pamdp-worker: {error}") from None
    if not spec:
        return None

    try:
        try:
            fn = load_function(spec)
        except ImportError:
            # as under ``python -m pytest``: modules next to the tests are importable
            root = str(config.rootpath)
            if root in sys.path:
                raise
            sys.path.insert(0, root)
            fn = load_function(spec)
    except (ValueError, ImportError, AttributeError) as error:
        raise pytest.UsageError(f"--pamdp-solver={spec}: cannot load it ({error})") from None
    return FunctionSolver(fn, input=config.getoption("--pamdp-input"))


def _tolerance(config: pytest.Config) -> Fraction:
    text = config.getoption("--pamdp-tolerance")
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise pytest.UsageError(f"--pamdp-tolerance: not a number (value: {text!r})") from None
    if value < 0:
        raise pytest.UsageError(f"--pamdp-tolerance: must be non-negative (value: {text!r})")
    return value


def _known_instance_check(
    solver: Any, model: Any, expected: tuple[Fraction, Fraction] | None, tolerance: Fraction
) -> Callable[[], None]:
    def check() -> None:
        from properties.fuzz import UNSUPPORTED, attempt

        result = attempt(solver, model, ties=Ties().with_tolerance(tolerance))
        if result.kind == UNSUPPORTED:
            pytest.skip(f"{model.name}: the solver answered unsupported: {result.message}")
        if result.failed:
            text = f"{model.name}: {result.kind}: {result.message}"
            if result.report is not None:
                text += "\n\n" + result.report.summary(max_states=12)
            raise PamdpCheckFailed(text)
        if expected is not None and result.report is not None:
            got = (result.report.principal_utility, result.report.agent_utility)
            if any(abs(g - e) > tolerance for g, e in zip(got, expected, strict=True)):
                raise PamdpCheckFailed(
                    f"{model.name}: an SPE, but the utilities (V^p, V^a) = ({got[0]}, "
                    f"{got[1]}) differ from the hand-derived ({expected[0]}, {expected[1]}) "
                    "of PAPER.md §7"
                )

    return check


def _scope(config: pytest.Config) -> dict[str, Any]:
    """The fuzzing scope of the options (the keyword arguments of properties.fuzz.fuzz)."""
    scope: dict[str, Any] = {
        name: config.getoption(f"--pamdp-{name.replace('_', '-')}") for name in _SIZES
    }
    scope["observed_action"] = config.getoption("pamdp_observed_action")
    scope["two_by_two"] = bool(config.getoption("--pamdp-two-by-two"))
    return scope


def _fuzz_check(
    solver: Any, family: str, config: pytest.Config, tolerance: Fraction
) -> Callable[[PamdpItem], None]:
    def check(item: PamdpItem) -> None:
        from hypothesis.errors import InvalidArgument

        from properties.fuzz import fuzz

        directory = tempfile.mkdtemp(prefix=f"pamdp-fuzz-{family}-")
        try:
            report = fuzz(
                solver,
                family=family,
                max_examples=config.getoption("--pamdp-max-examples"),
                seed=config.getoption("--pamdp-seed"),
                shrink_budget=config.getoption("--pamdp-shrink-budget"),
                ties=Ties().with_tolerance(tolerance),
                output_dir=directory,
                **_scope(config),
            )
        except (ValueError, InvalidArgument) as error:
            raise pytest.UsageError(f"pamdp fuzzing options: {error}") from None
        item.add_report_section("call", "pamdp", report.summary())
        if not report.ok:
            raise PamdpCheckFailed(report.summary())
        if report.unsupported == report.tried:
            pytest.skip(
                f"fuzz/{family}: the solver answered unsupported on all {report.tried} instances"
            )

    return check


def _checks(solver: Any, config: pytest.Config) -> Iterator[tuple[str, Callable[..., None], bool]]:
    from theory.generators import paper_tree, three_state_example

    tolerance = _tolerance(config)
    hand = [
        ("three-state/hidden/gamma=1", three_state_example(), (Fraction(1), Fraction(1, 5))),
        (
            "three-state/hidden/gamma=9_10",
            three_state_example(discount=Fraction(9, 10)),
            (Fraction(19, 20), Fraction(19, 100)),
        ),
        (
            "three-state/observed/gamma=1",
            three_state_example(observed_action=True),
            (Fraction(6, 5), Fraction(0)),
        ),
    ]
    for name, model, expected in hand:
        yield name, _known_instance_check(solver, model, expected, tolerance), False
    tree = _known_instance_check(solver, paper_tree(5, 0), None, tolerance)
    yield "paper-tree/depth=5", tree, False
    families = [
        f.strip() for f in str(config.getoption("--pamdp-families")).split(",") if f.strip()
    ]
    for family in families:
        if family not in _FAMILIES:
            raise pytest.UsageError(
                f"--pamdp-families: unknown family {family!r} (use {', '.join(_FAMILIES)})"
            )
        yield f"fuzz/{family}", _fuzz_check(solver, family, config, tolerance), True


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the conformance suite when a solver is named (before -k / -m deselection)."""
    solver = _solver(config)
    if solver is None:
        return
    for name, check, wants_item in _checks(solver, config):
        items.append(
            PamdpItem.from_parent(
                session,
                name=f"pamdp[{name}]",
                nodeid=f"pamdp[{name}]",
                check=check,
                wants_item=wants_item,
            )
        )


@pytest.fixture
def pamdp_solver(request: pytest.FixtureRequest) -> Any:
    """The solver named by ``--pamdp-solver`` / ``--pamdp-command`` / ``--pamdp-worker``
    (skips if none)."""
    solver = _solver(request.config)
    if solver is None:
        pytest.skip("no solver given (--pamdp-solver, --pamdp-command or --pamdp-worker)")
    return solver
