"""The solver under test, in three routes, and its scope protocol (issue 12; docs/VALIDATING.md).

A *solver under test* maps a FORMAT.md v1 instance document to a FORMAT.md v1 solution:

* :class:`CommandSolver` — ``"CMD {instance} {solution}"``: one new process per instance;
  pamdp writes the instance to a file, runs the command (placeholders replaced by quoted paths;
  without ``{solution}`` the solution is read from standard output) and reads the answer;
* :class:`WorkerSolver` — ``--worker "CMD"``: **one long-lived process** for the whole run.
  The protocol (docs/VALIDATING.md, "Persistent workers"): pamdp writes each instance document
  as one line of JSON on the worker's standard input and reads exactly one line from its
  standard output — a solution document, ``{"unsupported": "reason"}``, or
  ``{"error": "message"}`` (a crash on this instance; the worker carries on). A worker that
  exits or writes nothing within ``timeout`` seconds is killed with its process group, the
  instance is a ``crash`` / ``timeout``, and the next instance starts a fresh worker;
* :class:`FunctionSolver` — a Python function called with the instance document (a ``dict``,
  numbers exact: ints and ``"p/q"`` strings) or, with ``input="model"``, the
  :class:`~theory.model.PrincipalAgentMDP`; it returns a solution document (``dict`` or JSON
  text) or any object with ``recommended`` and ``contracts`` arrays.

**Scope.** A partial solver (2×2 only, episodic only, ...) says so instead of failing: a command
exits with status :data:`UNSUPPORTED_EXIT` (3), a function raises :class:`Unsupported`, and any
route may answer the document ``{"unsupported": "reason"}``. The fuzzer counts such answers,
reports their share and never calls them failures.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import select
import shlex
import signal
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from theory.format import solution_to_dict
from theory.model import PrincipalAgentMDP

__all__ = [
    "DEFAULT_TIMEOUT",
    "UNSUPPORTED_EXIT",
    "CommandSolver",
    "FunctionSolver",
    "Solver",
    "SolverCrash",
    "SolverTimeout",
    "Unsupported",
    "WorkerSolver",
    "describe",
    "load_function",
]

DEFAULT_TIMEOUT = 10.0
_EXCEPTION = re.compile(r"^\s*[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b")
#: Exit status by which a command says "this instance is outside my scope".
UNSUPPORTED_EXIT = 3


class SolverCrash(Exception):
    """The solver under test failed to produce an answer (non-zero exit, exception)."""


class SolverTimeout(Exception):
    """The solver under test ran past its timeout."""


class Unsupported(Exception):
    """Raised by a solver function for an instance outside its scope (module docstring);
    the message is the reason. Not a failure: the fuzzer counts it and reports the share."""


def _stderr_tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _headline(tail: str) -> str:
    """``": <the exception line>\n<the tail>"`` of a standard-error tail (``""`` if empty):
    the last line that names an ``...Error`` / ``...Exception``, else the last line."""
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return ""
    named = [line for line in lines if _EXCEPTION.match(line)]
    head = (named or lines)[-1].strip()
    return f": {head}" + ("\n" + tail if len(lines) > 1 else "")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # pragma: no cover - already gone
        process.kill()


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

    def filled(self, instance_path: str, solution_path: str) -> str:
        """The command with its placeholders replaced (quoted)."""
        return self.command.replace("{instance}", shlex.quote(instance_path)).replace(
            "{solution}", shlex.quote(solution_path)
        )

    def __call__(self, instance: dict[str, Any]) -> str:
        with tempfile.TemporaryDirectory(prefix="pamdp-fuzz-") as tmp:
            instance_path = Path(tmp) / "instance.json"
            solution_path = Path(tmp) / "solution.json"
            instance_path.write_text(json.dumps(instance) + "\n", encoding="utf-8")
            to_stdout = "{solution}" not in self.command
            process = subprocess.Popen(
                self.filled(str(instance_path), str(solution_path)),
                shell=True,
                stdin=subprocess.DEVNULL,
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
            tail = _stderr_tail(err.decode("utf-8", "replace"))
            if process.returncode == UNSUPPORTED_EXIT:
                raise Unsupported(tail or f"exit status {UNSUPPORTED_EXIT}")
            if process.returncode != 0:
                raise SolverCrash(f"exit status {process.returncode}" + _headline(tail))
            if to_stdout:
                return out.decode("utf-8", "replace")
            if not solution_path.exists():
                raise SolverCrash(
                    "exit status 0 but no solution file was written "
                    f"({{solution}} = {solution_path})"
                )
            return solution_path.read_text(encoding="utf-8", errors="replace")


class WorkerSolver:
    """One long-lived solver process, one JSON line in and one out per instance
    (module docstring; the protocol is in docs/VALIDATING.md).

    Parameters
    ----------
    command : the shell command starting the worker (no placeholders).
    timeout : seconds allowed per instance (the first instance also pays the start-up).

    Use as a context manager, or call :meth:`close`; :func:`properties.fuzz.fuzz` does.
    """

    def __init__(self, command: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not command.strip():
            raise ValueError("worker: the command is empty")
        if timeout <= 0:
            raise ValueError(f"timeout: must be positive (value: {timeout!r})")
        self.command = command
        self.timeout = timeout
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = b""

    def __repr__(self) -> str:
        return f"WorkerSolver({self.command!r}, timeout={self.timeout})"

    def __enter__(self) -> WorkerSolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        self._buffer = b""
        self.starts += 1
        self._process = subprocess.Popen(
            self.command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
        )
        return self._process

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return _stderr_tail(self._stderr.read().decode("utf-8", "replace"))

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _kill_group(process)
            with contextlib.suppress(Exception):
                process.wait(timeout=5)
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(Exception):
                    if stream is not None:
                        stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        """End the worker: close its input, give it a second, then kill its group."""
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(Exception):
                process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
        self._stop()

    def _died(self, process: subprocess.Popen[bytes]) -> SolverCrash:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)
        tail = self._stderr_text()
        status = process.returncode
        self._stop()
        return SolverCrash(
            f"the worker exited (status {status}) without answering" + _headline(tail)
        )

    def __call__(self, instance: dict[str, Any]) -> str:
        process = self._process if self._process is not None else self._start()
        assert process.stdout is not None
        if self._buffer or select.select([process.stdout.fileno()], [], [], 0)[0]:
            # late output of the previous instance, or the worker ended: start afresh
            self._stop()
            process = self._start()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(instance, separators=(",", ":")).encode() + b"\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(process) from None
        deadline = time.monotonic() + self.timeout
        fd = process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self._stop()
                raise SolverTimeout(
                    f"the worker gave no answer within {self.timeout:g} s (killed; restarted "
                    "for the next instance)"
                )
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise self._died(process)
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        if self._buffer.strip():  # the protocol is one line per instance: resynchronise
            self._stop()
            raise SolverCrash(
                "the worker wrote more than one line for one instance (protocol: exactly one "
                "line per instance; log to standard error); restarted"
            )
        text = line.decode("utf-8", "replace")
        if text.lstrip().startswith('{"error"'):
            with contextlib.suppress(ValueError):
                data = json.loads(text)
                if isinstance(data, dict) and set(data) == {"error"}:
                    raise SolverCrash(str(data["error"]))
        return text


class FunctionSolver:
    """Call a Python function on an instance (module docstring).

    Parameters
    ----------
    fn : the solver function.
    input : ``"document"`` (the FORMAT.md v1 dict, the default) or ``"model"`` (a
        :class:`~theory.model.PrincipalAgentMDP` with exact data).

    A function cannot be interrupted safely, so there is no timeout: use a command or a
    worker to catch hangs.
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
        except Unsupported:
            raise
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


Solver = CommandSolver | WorkerSolver | FunctionSolver | Callable[[dict[str, Any]], Any]


def describe(solver: Solver) -> str:
    """A one-line description of the solver under test."""
    if isinstance(solver, CommandSolver | WorkerSolver | FunctionSolver):
        return repr(solver)
    return f"function {getattr(solver, '__qualname__', repr(solver))}"


def load_function(spec: str) -> Any:
    """The callable named ``"module:function"`` (``function`` may be dotted).

    Raises
    ------
    ValueError
        Not of that form, or not callable.
    ImportError, AttributeError
        The module or the attribute does not exist.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--function: expected MODULE:FUNCTION (value: {spec!r})")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"--function: {spec} is not callable")
    return target
