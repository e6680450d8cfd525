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
  of ``--pamdp-families``, a failure shrunk to a minimal instance and saved next to the right
  solution (the path is in the failure message).

Options: ``--pamdp-families`` (default ``episodic,discounted``), ``--pamdp-max-examples``,
``--pamdp-seed``, ``--pamdp-tolerance``, ``--pamdp-timeout`` (commands), ``--pamdp-input``.
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

_FAMILIES = ("episodic", "discounted")


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
        "--pamdp-input",
        default="document",
        choices=["document", "model"],
        help="what the solver function receives (default: document)",
    )
    group.addoption(
        "--pamdp-families",
        default=",".join(_FAMILIES),
        metavar="LIST",
        help="comma-separated instance families to fuzz (default: episodic,discounted)",
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
        help="per-run timeout for --pamdp-command (default: 10)",
    )


class PamdpCheckFailed(Exception):
    """A conformance check failed; the message is the full, readable report."""


class PamdpItem(pytest.Item):
    """One conformance check of the solver under test."""

    def __init__(self, *, check: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check = check

    def runtest(self) -> None:
        self._check()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PamdpCheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"pamdp conformance: {self.name}"


def _solver(config: pytest.Config) -> Any:
    """The solver under test from the options, or None when none is named."""
    from properties.fuzz import CommandSolver, FunctionSolver

    spec = config.getoption("--pamdp-solver")
    command = config.getoption("--pamdp-command")
    if spec and command:
        raise pytest.UsageError("give --pamdp-solver or --pamdp-command, not both")
    if command:
        try:
            return CommandSolver(command, timeout=config.getoption("--pamdp-timeout"))
        except ValueError as error:
            raise pytest.UsageError(f"--pamdp-command: {error}") from None
    if not spec:
        return None
    from properties.fuzz_cli import _load_function

    try:
        try:
            fn = _load_function(spec)
        except ImportError:
            # as under ``python -m pytest``: modules next to the tests are importable
            root = str(config.rootpath)
            if root in sys.path:
                raise
            sys.path.insert(0, root)
            fn = _load_function(spec)
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
        from properties.fuzz import attempt

        result = attempt(solver, model, tolerance=tolerance)
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


def _fuzz_check(
    solver: Any, family: str, config: pytest.Config, tolerance: Fraction
) -> Callable[[], None]:
    def check() -> None:
        from properties.fuzz import fuzz

        directory = tempfile.mkdtemp(prefix=f"pamdp-fuzz-{family}-")
        report = fuzz(
            solver,
            family=family,
            max_examples=config.getoption("--pamdp-max-examples"),
            seed=config.getoption("--pamdp-seed"),
            tolerance=tolerance,
            output_dir=directory,
        )
        if not report.ok:
            raise PamdpCheckFailed(report.summary())

    return check


def _checks(solver: Any, config: pytest.Config) -> Iterator[tuple[str, Callable[[], None]]]:
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
        yield name, _known_instance_check(solver, model, expected, tolerance)
    yield "paper-tree/depth=5", _known_instance_check(solver, paper_tree(5, 0), None, tolerance)
    families = [
        f.strip() for f in str(config.getoption("--pamdp-families")).split(",") if f.strip()
    ]
    for family in families:
        if family not in _FAMILIES:
            raise pytest.UsageError(
                f"--pamdp-families: unknown family {family!r} (use {', '.join(_FAMILIES)})"
            )
        yield f"fuzz/{family}", _fuzz_check(solver, family, config, tolerance)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the conformance suite when a solver is named (before -k / -m deselection)."""
    solver = _solver(config)
    if solver is None:
        return
    for name, check in _checks(solver, config):
        items.append(
            PamdpItem.from_parent(
                session, name=f"pamdp[{name}]", nodeid=f"pamdp[{name}]", check=check
            )
        )


@pytest.fixture
def pamdp_solver(request: pytest.FixtureRequest) -> Any:
    """The solver named by ``--pamdp-solver`` / ``--pamdp-command`` (skips if none)."""
    solver = _solver(request.config)
    if solver is None:
        pytest.skip("no solver given (--pamdp-solver or --pamdp-command)")
    return solver
