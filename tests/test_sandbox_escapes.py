"""Known sandbox escapes: refused when an admin deploys them, inert if they reach the engine anyway.

Each escape is tried three ways: uploaded through ``POST /api/v1/processes`` (refused, with the
element and the quoted code); put straight into a parsed workflow and run by the engine's own
script engine, bypassing deployment (a clean ExpressionFailed, nothing secret anywhere); and
compiled by RestrictedPython with our policy but *without* our own syntax-tree checks, then run
with the runtime guards alone (defence in depth: the guards hold even if a check missed it).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from RestrictedPython import compile_restricted
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from config import DEFAULT_SECRET_KEY, TestConfig
from engine import sandbox_limits
from engine.cases import SCRIPT_ENGINE
from engine.errors import ExpressionFailed
from engine.sandbox import SafeEnvironment
from engine.sandbox_rules import DiagramPolicy
from engine.serialization import dump_instance, load_instance, state_dict
from tests.conftest import PASSWORD, app_on
from tests.sandbox_corpus import ESCAPE_EXPRESSIONS, ESCAPE_SCRIPTS, SPIFFARENA_SCRIPTS, diagram

CANARY = "kanari-rahasia-8d1f2c"
# Task data an applicant could have typed: a format template aimed at the helpers' globals.
HOSTILE_DATA = {"template": "{0.__globals__}", "decision": "lengkap"}


def _secrets() -> list[str]:
    return [CANARY, TestConfig.SECRET_KEY, DEFAULT_SECRET_KEY, "SQLALCHEMY", "sqlite:", "postgresql", "Config"]


def assert_nothing_leaks(*things: Any) -> None:
    text = repr(things)
    for secret in _secrets():
        assert secret not in text, f"{secret!r} leaked: {text[:300]}"


def assert_plain_data(value: Any) -> None:
    """What diagram code hands back is data (it goes into the case), never an object of ours."""

    def known(v: Any) -> Any:
        if isinstance(v, (datetime, timedelta)):
            return str(v)
        if isinstance(v, set):
            return str(sorted(v))
        pytest.fail(f"not data: {type(v).__name__}")

    json.dumps(value, default=known)
    assert_nothing_leaks(value)


@pytest.fixture(autouse=True)
def canary_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIBALANG_SANDBOX_CANARY", CANARY)


@pytest.fixture(scope="module")
def admin_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    with app_on(Path(tmp_path_factory.mktemp("escapes"))) as app:
        client = app.test_client()
        answer = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        yield client, {"Authorization": f"Bearer {answer.get_json()['token']}"}


def deploy(api: tuple[Any, dict[str, str]], content: bytes) -> Any:
    client, headers = api
    data = {"files": [(io.BytesIO(content), "uji_sandbox.bpmn")]}
    return client.post("/api/v1/processes", data=data, headers=headers, content_type="multipart/form-data")


def refused_at(answer: Any, element_id: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.get_json()
    found = [p for p in answer.get_json()["error"]["details"] if p["element_id"] == element_id]
    assert found, answer.get_json()
    assert "«" in found[0]["message"] and found[0]["line"], found[0]  # quotes the code, says where
    assert_nothing_leaks(answer.get_json())
    return found[0]


def run_bypassing_deployment(content: bytes, data: dict[str, Any] | None = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(content), filename="uji_sandbox.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("uji_sandbox"), script_engine=SCRIPT_ENGINE)
    workflow.get_tasks()[0].data.update(data or HOSTILE_DATA)
    workflow.do_engine_steps()
    return workflow


def assert_inert_in_the_engine(content: bytes) -> None:
    with pytest.raises(ExpressionFailed) as failure:
        workflow = run_bypassing_deployment(content)
        assert_plain_data(workflow.last_task.data if workflow.last_task else {})
    assert failure.value.details["element_id"] in ("skrip_uji", "gerbang")
    assert_nothing_leaks(failure.value.message, failure.value.details)


def run_with_guards_only(code: str, mode: str) -> Any:
    """RestrictedPython + our operator guards + the runtime guards, without our own checks."""
    try:
        compiled = compile_restricted(code, sandbox_limits.DIAGRAM_FILENAME, mode, policy=DiagramPolicy)
    except (SyntaxError, RecursionError) as exc:  # RestrictedPython itself refuses it
        return exc
    scope = SafeEnvironment().scope_for(dict(HOSTILE_DATA))
    try:
        with sandbox_limits.budget():
            result = eval(compiled, scope) if mode == "eval" else exec(compiled, scope)  # noqa: S102, S307
    except Exception as exc:  # noqa: BLE001 - any clean error is inert
        assert_nothing_leaks(str(exc))
        return exc
    if mode == "eval":
        assert_plain_data(result)
    assert_plain_data(scope.get("alasan"))
    return result


@pytest.mark.parametrize(("name", "code"), ESCAPE_EXPRESSIONS, ids=[n for n, _ in ESCAPE_EXPRESSIONS])
def test_an_escape_in_a_condition_or_a_script_is_refused_at_deployment(admin_api: Any, name: str, code: str) -> None:
    refused_at(deploy(admin_api, diagram(condition=code)), "f_ya")
    refused_at(deploy(admin_api, diagram(script=f"alasan = {code}")), "skrip_uji")


@pytest.mark.parametrize(("name", "code"), ESCAPE_SCRIPTS, ids=[n for n, _ in ESCAPE_SCRIPTS])
def test_an_escaping_script_is_refused_at_deployment(admin_api: Any, name: str, code: str) -> None:
    refused_at(deploy(admin_api, diagram(script=code)), "skrip_uji")


@pytest.mark.parametrize(("name", "code"), ESCAPE_EXPRESSIONS, ids=[n for n, _ in ESCAPE_EXPRESSIONS])
def test_an_escape_expression_is_inert_when_it_reaches_the_engine(name: str, code: str) -> None:
    assert_inert_in_the_engine(diagram(condition=code))
    assert_inert_in_the_engine(diagram(script=f"alasan = {code}"))
    run_with_guards_only(code, "eval")


@pytest.mark.parametrize(("name", "code"), ESCAPE_SCRIPTS, ids=[n for n, _ in ESCAPE_SCRIPTS])
def test_an_escaping_script_is_inert_when_it_reaches_the_engine(name: str, code: str) -> None:
    assert_inert_in_the_engine(diagram(script=code))
    run_with_guards_only(code, "exec")


def test_a_template_typed_by_an_applicant_cannot_reach_the_helpers_globals() -> None:
    # The hostile template is data, and format() on data is refused even where it compiles.
    result = run_with_guards_only("template.format(add_working_days)", "eval")
    assert isinstance(result, Exception)


@pytest.mark.parametrize("script", SPIFFARENA_SCRIPTS)
def test_ordinary_spiffarena_scripts_deploy_and_run(admin_api: Any, script: str) -> None:
    workflow = run_bypassing_deployment(diagram(script=script), {"data": {"a": 1}})
    assert workflow.completed
    assert_plain_data(dict(workflow.last_task.data))
    stored = dump_instance(workflow)  # what the case keeps survives a round trip
    assert state_dict(dump_instance(load_instance(stored, workflow.spec, {}, SCRIPT_ENGINE))) == state_dict(stored)
    answer = deploy(admin_api, diagram(script=script, process=f"uji_{abs(hash(script)) % 10**8}"))
    assert answer.status_code == 201, answer.get_json()
