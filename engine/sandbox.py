"""A restricted environment for the expressions and scripts inside diagrams.

SpiffWorkflow's default script engine is plain ``eval``/``exec``: a diagram could ``import os``.
Here every expression is checked before it runs (and at deployment): no imports, no names or
attributes starting with an underscore, no calls to anything outside a short list of safe
builtins and the helper functions below. It runs with those builtins only.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from .clock import _ClockedDatetime
from .errors import UnsafeExpression

_SAFE_BUILTIN_NAMES = (
    "abs all any bool dict enumerate filter float int len list map max min range "
    "reversed round set sorted str sum tuple zip isinstance ValueError KeyError True False None"
).split()
SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES if hasattr(builtins, name)
}

FORBIDDEN_NAMES = frozenset(
    "eval exec compile open input breakpoint globals locals vars getattr setattr delattr "
    "__import__ type object memoryview help exit quit classmethod staticmethod super "
    "property dir id hash".split()
)

_FORBIDDEN_NODES: tuple[type[ast.AST], ...] = (
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
    ast.ClassDef,
    ast.AsyncFunctionDef,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Raise,
    ast.Delete,
)


def add_working_days(days: int, start: datetime | None = None) -> str:
    """ISO-8601 moment ``days`` working days (Mon–Fri) after ``start`` (default: now)."""
    moment = start or _ClockedDatetime.now(UTC)
    remaining = int(days)
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment.isoformat()


HELPERS: dict[str, Callable[..., Any]] = {"add_working_days": add_working_days}


def check_expression(source: str, mode: str = "exec") -> None:
    """Raise :class:`UnsafeExpression` unless ``source`` only uses the allowed subset."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise UnsafeExpression(f"Sintaks tidak valid: {exc.msg}") from exc
    for node in ast.walk(tree):
        if isinstance(node, _FORBIDDEN_NODES):
            raise UnsafeExpression(f"Konstruksi tidak diizinkan: {type(node).__name__}")
        if isinstance(node, ast.Name):
            if node.id.startswith("_") or node.id in FORBIDDEN_NAMES:
                raise UnsafeExpression(f"Nama tidak diizinkan: {node.id}")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                raise UnsafeExpression(f"Atribut tidak diizinkan: {node.attr}")
        elif isinstance(node, ast.FunctionDef):
            if node.name.startswith("_"):
                raise UnsafeExpression(f"Nama fungsi tidak diizinkan: {node.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "__" in node.value:
                raise UnsafeExpression("Teks dengan '__' tidak diizinkan dalam ekspresi")


@functools.lru_cache(maxsize=4096)
def _compiled(source: str, mode: str) -> Any:
    check_expression(source, mode)
    return compile(source, "<diagram>", mode)


class SafeEnvironment(TaskDataEnvironment):
    """Evaluates diagram expressions with restricted builtins after an AST check."""

    def __init__(self) -> None:
        super().__init__({"date": date, "timedelta": timedelta, **HELPERS})

    def _globals(self, context: dict, external_context: dict | None) -> dict:
        scope = {"__builtins__": SAFE_BUILTINS}
        scope.update(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):  # type: ignore[no-untyped-def]
        return eval(_compiled(expression, "eval"), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):  # type: ignore[no-untyped-def]
        self.check_for_overwrite(context, external_context or {})
        code = _compiled(script, "exec")
        scope = self._globals(copy.copy(context), external_context)
        exec(code, scope)
        for key, value in scope.items():
            if key == "__builtins__" or callable(value) or key in self.globals:
                continue
            if external_context and key in external_context:
                continue
            context[key] = value
        for key in [k for k in context if k not in scope]:
            context.pop(key)
        return True


def create_script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=SafeEnvironment())
