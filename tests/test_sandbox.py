"""Diagram code runs on RestrictedPython with caps on size, steps and time; failures are clean."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from engine.errors import ExpressionFailed, UnsafeExpression
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
    "9**9**9",
    "[0] * 10**9",
]


@pytest.mark.parametrize("source", UNSAFE)
def test_unsafe_expressions_are_rejected(source: str) -> None:
    with pytest.raises(UnsafeExpression) as refused:
        check_expression(source)
    assert "«" in refused.value.message  # the message quotes the code


@pytest.mark.parametrize(
    "source",
    ['decision == "lengkap"', "sla_hari = {'biasa': 5}[urgensi]", "len(dokumen) > 0 and x.get('a')", "max(1, 2)"],
)
def test_ordinary_expressions_pass(source: str) -> None:
    check_expression(source)


def test_the_environment_has_no_dangerous_builtins() -> None:
    env = SafeEnvironment()
    assert env.evaluate("len([1, 2])", {}) == 2
    with pytest.raises(ExpressionFailed, match="open"):
        env.evaluate("open('/etc/passwd')", {})
    with pytest.raises(ExpressionFailed) as unknown:
        env.evaluate("vars_", {})  # unknown names stay unknown
    assert unknown.value.details["reason"] == "nama 'vars_' tidak dikenal"


def test_scripts_write_only_data_back() -> None:
    env = SafeEnvironment()
    context = {"urgensi": "segera"}
    env.execute("sla_hari = {'biasa': 5, 'segera': 2}[urgensi]\ndef f():\n    pass", context)
    assert context == {"urgensi": "segera", "sla_hari": 2}


def test_a_deleted_variable_leaves_the_task_data() -> None:
    context: dict[str, Any] = {"sementara": 1, "tetap": 2}
    SafeEnvironment().execute("del sementara", context)
    assert context == {"tetap": 2}


def test_a_value_the_case_cannot_store_is_refused_by_name() -> None:
    with pytest.raises(ExpressionFailed, match="'tanggal'.*date"):
        SafeEnvironment().execute("tanggal = date(2026, 11, 2)", {})


RUNAWAY = [
    ("while True:\n    pass", "terlalu lama"),
    ("x = 0\nwhile True:\n    try:\n        x += 1\n    except Exception:\n        pass", "terlalu lama"),
    ("def f(n):\n    return f(n + 1)\nf(0)", "rekursi"),
    ("s = 'ab'\nfor _ in range(30):\n    s = s + s", "terlalu besar"),
    ("n = 2\nfor _ in range(30):\n    n = n * n", "Bilangan terlalu besar"),
    ("k = 10\nx = 9 ** (k ** 9)", "Bilangan terlalu besar"),
    ("k = 9\nx = [0] * (10 ** k)", "Pengulangan"),
    ("items = [1]\nfor _ in range(30):\n    items.extend(items)", "Daftar terlalu besar"),
    # 100,000 calls from C: the size cap or the clock stops it first, depending on the machine
    ("items = [1]\nany(map(items.append, items))", "Daftar terlalu besar|terlalu lama"),
    ("items = [1]\nitems[1:] = items * 60000\nitems[1:] = items * 2", "terlalu besar"),
    ("w = 10 ** 9\nx = 'a'.ljust(w)", "Teks terlalu panjang"),
    ("x = ('ab' * 1000).replace('', 'c' * 1000)", "Teks terlalu panjang"),
    ("w = 10 ** 9\nx = '%*d' % (w, 1)", "Lebar format"),
    ("w = 10 ** 9\nx = f'{1:>{w}}'", "dinamis"),
    ("n = 10 ** 9\nx = list(range(n))", "range"),
    ("a = [0] * 10000\nb = [a for _ in range(1000)]\nc = str(b)", "terlalu besar untuk diubah"),
    ("x = sum([[1]] * 10, [])", "bilangan"),
]


@pytest.mark.parametrize(("script", "reason"), RUNAWAY, ids=[r[0][:30] for r in RUNAWAY])
def test_runaway_code_stops_with_a_clear_reason(script: str, reason: str) -> None:
    with pytest.raises(Exception) as stopped:
        SafeEnvironment().execute(script, {})
    assert any(r.lower() in str(stopped.value).lower() for r in reason.split("|")), stopped.value


def test_the_budget_works_in_a_worker_thread_as_in_a_threaded_server() -> None:
    outcome: list[BaseException | None] = []

    def work() -> None:
        try:
            SafeEnvironment().execute("while True:\n    pass", {})
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], ExpressionFailed) and "terlalu lama" in str(outcome[0])


def test_the_tracer_of_the_thread_is_restored_afterwards() -> None:
    import sys

    def tracer(*args: Any) -> None:
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        SafeEnvironment().evaluate("1 + 1", {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


def test_format_takes_plain_fields_only() -> None:
    env = SafeEnvironment()
    assert env.evaluate("'{} {nama}'.format(1, nama='Budi')", {}) == "1 Budi"
    for refused in ("t.format(1)", "'{0.real}'.format(1)", "'{0[0]}'.format([1])", "'{:{w}}'.format(1, w=9)"):
        with pytest.raises(UnsafeExpression):
            check_expression(refused)


def test_a_five_thousand_term_condition_is_a_refusal_not_a_recursion_error() -> None:
    for source in (" + ".join(["x"] * 5000), " or ".join(["decision == 'a'"] * 5000), "-" * 5000 + "1"):
        with pytest.raises(UnsafeExpression, match="terlalu"):
            check_expression(source, "eval")
