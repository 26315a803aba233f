"""The sandbox for every expression and script inside a diagram, on RestrictedPython.

SpiffWorkflow's default script engine is plain ``eval``/``exec``; its documentation shows
replacing the environment with RestrictedPython's. Here every piece of diagram code is compiled
by :func:`engine.sandbox_rules.compile_diagram_code` — the same function deployment uses — and
runs with a small set of builtins, RestrictedPython's ``safer_getattr`` wrapped by
:func:`engine.sandbox_limits.guarded_getattr`, guarded iteration, item writes, operators and
in-place operators (:mod:`engine.sandbox_limits`), within a per-thread step and time budget
(:mod:`engine.sandbox_budget`, which says how it is enforced in gunicorn sync workers and Flask's
threaded server alike). Only data the case can store goes back into the task data. Any failure
becomes :class:`engine.errors.ExpressionFailed`: an engine error naming the step, never a 500.
"""

from __future__ import annotations

import copy
import logging
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from . import sandbox_limits as limits
from .clock import ClockedDatetime
from .errors import ExpressionFailed, UnsafeExpression
from .sandbox_rules import check_expression, check_template, compile_diagram_code, shorten

__all__ = ["SafeEnvironment", "SandboxedScriptEngine", "add_working_days", "check_expression", "create_script_engine"]

log = logging.getLogger(__name__)


def add_working_days(days: int, start: datetime | None = None) -> str:
    """ISO-8601 moment ``days`` working days (Mon–Fri) after ``start`` (default: now)."""
    moment = start or ClockedDatetime.now(UTC)
    remaining = int(days)
    if remaining > 3650:
        raise limits.LimitExceeded("add_working_days: paling banyak 3650 hari kerja")
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment.isoformat()


HELPERS: dict[str, Callable[..., Any]] = {"add_working_days": add_working_days}

_PLAIN_BUILTINS = (
    "None False True abs bool callable chr complex divmod float int isinstance issubclass len oct hex "
    "ord repr round slice str tuple list dict set frozenset enumerate filter map max min reversed sorted "
    "zip any all"
).split()
_EXCEPTIONS = (
    "Exception ArithmeticError AssertionError AttributeError IndexError KeyError LookupError NameError "
    "NotImplementedError OverflowError RuntimeError StopIteration TypeError UnboundLocalError ValueError "
    "ZeroDivisionError"
).split()


def _builtins() -> dict[str, Any]:
    import builtins

    table = {name: safe_builtins.get(name, getattr(builtins, name)) for name in _PLAIN_BUILTINS + _EXCEPTIONS}
    table.update(pow=limits.guarded_pow, range=limits.guarded_range, sum=limits.guarded_sum)
    table.update(map=limits.guarded_map)
    return table


SAFE_BUILTINS = _builtins()
_GUARDS: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "__name__": "diagram",
    "_getattr_": limits.guarded_getattr,
    "_getitem_": lambda obj, key: obj[key],
    "_getiter_": limits.guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": limits.guarded_write,
    "_inplacevar_": limits.guarded_inplacevar,
    "_binop_": limits.guarded_binop,
    "_apply_": limits.guarded_apply,
    "_format_width_": limits.guarded_format_width,
    "_print_": limits.DiscardPrint,
    "_render_": limits.check_render_size,
}


def _format_guard(obj: Any, name: str, default: Any = None) -> Any:
    """``"{} {}".format(a, b)`` on a plain template; anything else refused (see check_template)."""
    if name in ("format", "format_map") and isinstance(obj, str):
        check_template(obj)
        method = getattr(obj, name)

        def rendered(*args: Any, **kwargs: Any) -> str:
            for value in (*args, *kwargs.values()):
                limits.check_render_size(value)
            return method(*args, **kwargs)

        return rendered
    return limits.guarded_getattr(obj, name, default)


_GUARDS["_getattr_"] = _format_guard
# What engine.serialization can store in a case (a bare date cannot: store date.isoformat()).
_STORABLE = (str, int, float, bool, type(None), list, tuple, dict, set, frozenset, datetime, timedelta)


def _check_storable(key: str, value: Any) -> None:
    """Only data SpiffWorkflow can serialize goes back into the case (no generators, functions…)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limits.MAX_ITEMS or not isinstance(item, _STORABLE):
            kind = "terlalu besar" if seen > limits.MAX_ITEMS else f"bertipe {type(item).__name__}"
            raise limits.LimitExceeded(f"Variabel '{key}' berisi data yang tidak dapat disimpan ({kind})")
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)


class SafeEnvironment(TaskDataEnvironment):
    """Evaluates and executes diagram code compiled by :func:`compile_diagram_code`, within budget."""

    def __init__(self) -> None:
        super().__init__({"date": date, "timedelta": timedelta, **HELPERS})

    def scope_for(self, context: dict, external_context: dict | None = None) -> dict:
        """The globals diagram code runs with: guards, builtins, helpers, then the task data."""
        scope = dict(_GUARDS)
        scope.update(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):  # type: ignore[no-untyped-def]
        """The value of ``expression``; raises ExpressionFailed (SpiffWorkflow also calls this directly)."""
        try:
            code = compile_diagram_code(expression, "eval")
            scope = self.scope_for(context, external_context)
            with limits.budget():
                return eval(code, scope)  # noqa: S307 - restricted code object, guarded scope
        except Exception as exc:
            raise expression_failed(expression, exc) from exc

    def execute(self, script, context, external_context=None):  # type: ignore[no-untyped-def]
        """Run ``script`` on a copy of ``context``, then write its data back; raises ExpressionFailed."""
        try:
            return self._execute(script, context, external_context)
        except Exception as exc:
            raise expression_failed(script, exc) from exc

    def _execute(self, script: str, context: dict, external_context: dict | None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code = compile_diagram_code(script, "exec")
        scope = self.scope_for(copy.copy(context), external_context)
        with limits.budget():
            exec(code, scope)  # noqa: S102 - restricted code object, guarded scope
        updates = {}
        for key, value in scope.items():
            if key.startswith("_") or key in _GUARDS or key in self.globals or callable(value):
                continue
            if external_context and key in external_context:
                continue
            _check_storable(key, value)
            updates[key] = value
        for key in [k for k in context if k not in scope]:
            context.pop(key)
        context.update(updates)
        return True


def _diagram_line(exc: BaseException) -> int | None:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == limits.DIAGRAM_FILENAME]
    return lines[-1] if lines else None


def _reason(exc: BaseException) -> str:
    """Why diagram code failed, in Indonesian; Python's own text only where it names nothing better."""
    if isinstance(exc, (UnsafeExpression, limits.LimitExceeded)):
        return str(exc.args[0]) if exc.args else type(exc).__name__
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None)
        return f"nama '{name}' tidak dikenal" if name else "nama tidak dikenal"
    if isinstance(exc, KeyError):
        return f"kunci {shorten(repr(exc.args[0]), 60)} tidak ada dalam data" if exc.args else "kunci tidak ada"
    if isinstance(exc, ZeroDivisionError):
        return "pembagian dengan nol"
    if isinstance(exc, RecursionError):
        return "rekursi terlalu dalam"
    if isinstance(exc, MemoryError):
        return "memori tidak cukup"
    return f"kesalahan {type(exc).__name__}: {shorten(str(exc), 160)}"


def expression_failed(source: str, exc: BaseException, task: Any = None) -> ExpressionFailed:
    """The engine error for diagram code that failed: the step (when known), the code, the reason."""
    spec = getattr(task, "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    label = getattr(spec, "bpmn_name", None) or element
    details = {
        "element_id": element,
        "expression": shorten(source, 200),
        "line": _diagram_line(exc),
        "reason": _reason(exc),
    }
    where = f"ekspresi pada langkah '{label}'" if label else "ekspresi diagram"
    return ExpressionFailed(
        f"Prosedur tidak dapat dijalankan: {where} gagal ({details['reason']}). "
        "Tidak ada yang disimpan; mohon hubungi admin Dinas Sosial.",
        details=details,
    )


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine on :class:`SafeEnvironment`; failures name the task's step."""

    def __init__(self) -> None:
        super().__init__(environment=SafeEnvironment())

    def _failed(self, task: Any, source: str, exc: ExpressionFailed) -> ExpressionFailed:
        failed = expression_failed(source, exc.__cause__ or exc, task)
        details = failed.details
        log.warning(
            "diagram code failed at %s: %s (%s)", details["element_id"], details["reason"], details["expression"]
        )
        return failed

    def evaluate(self, task, expression, external_context=None):  # type: ignore[no-untyped-def]
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionFailed as exc:
            raise self._failed(task, expression, exc) from exc.__cause__

    def execute(self, task, script, external_context=None):  # type: ignore[no-untyped-def]
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ExpressionFailed as exc:
            raise self._failed(task, script, exc) from exc.__cause__


def create_script_engine() -> PythonScriptEngine:
    return SandboxedScriptEngine()
