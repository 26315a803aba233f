"""Diagram expressions run in a restricted environment; unsafe ones never deploy or run."""

from __future__ import annotations

import pytest

from engine.errors import UnsafeExpression
from engine.sandbox import SafeEnvironment, check_expression

UNSAFE = [
    "import os",
    "from os import system",
    "__import__('os')",
    "open('/etc/passwd').read()",
    "eval('1')",
    "exec('x = 1')",
    "().__class__.__bases__[0].__subclasses__()",
    "getattr(x, 'y')",
    "globals()",
    "x._private",
    "compile('1', 'f', 'eval')",
    "'%s' % '__class__'",
]


@pytest.mark.parametrize("source", UNSAFE)
def test_unsafe_expressions_are_rejected(source: str) -> None:
    with pytest.raises(UnsafeExpression):
        check_expression(source)


@pytest.mark.parametrize(
    "source",
    ['decision == "lengkap"', "sla_hari = {'biasa': 5}[urgensi]", "len(dokumen) > 0 and x.get('a')", "max(1, 2)"],
)
def test_ordinary_expressions_pass(source: str) -> None:
    check_expression(source)


def test_the_environment_has_no_dangerous_builtins() -> None:
    env = SafeEnvironment()
    assert env.evaluate("len([1, 2])", {}) == 2
    with pytest.raises(UnsafeExpression):
        env.evaluate("open('/etc/passwd')", {})
    with pytest.raises(NameError):
        env.evaluate("vars_", {})  # unknown names stay unknown


def test_scripts_write_only_data_back() -> None:
    env = SafeEnvironment()
    context = {"urgensi": "segera"}
    env.execute("sla_hari = {'biasa': 5, 'segera': 2}[urgensi]", context)
    assert context == {"urgensi": "segera", "sla_hari": 2}
