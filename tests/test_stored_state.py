"""Stored workflow state survives upgrades: a state committed from today's format (SpiffWorkflow
3.2.0, serializer 1.5, tests/data/stored_state_1_5/) restores and finishes its case; older formats
go through SpiffWorkflow's own migrations; an unknown format is refused with a clear message."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from engine.cases import SCRIPT_ENGINE, reached_end, ready_user_tasks
from engine.clock import frozen_at
from engine.serialization import MIGRATED_TO, SERIALIZER, SERIALIZER_VERSION, UnknownStateFormat, load_instance
from tests.test_rujukan import HAPPY
from web.demo import SAMPLE_DATA

FIXTURE = Path(__file__).parent / "data" / "stored_state_1_5"
META = json.loads((FIXTURE / "meta.json").read_text())


@pytest.fixture(scope="module")
def specs() -> tuple[Any, Any]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(FIXTURE / "rujukan.bpmn"))
    parser.add_dmn_files([str(FIXTURE / "bidang_rujukan.dmn")])
    return parser.get_spec("rujukan"), parser.get_subprocess_specs("rujukan")


def stored_spec(specs: tuple[Any, Any]) -> dict[str, Any]:
    spec, subs = specs
    return {"spec": SERIALIZER.to_dict(spec), "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in subs.items()}}


def restore(specs: tuple[Any, Any], version: str = META["serializer_version"]) -> Any:
    state = (FIXTURE / "waiting_for_resubmission.state").read_bytes()
    return load_instance(state, *specs, SCRIPT_ENGINE, version=version, stored_spec=lambda: stored_spec(specs))


def test_a_state_stored_today_resumes_with_the_resubmission_and_finishes(specs: Any) -> None:
    workflow = restore(specs)
    assert ready_user_tasks(workflow) == [] and not workflow.completed  # waiting for the applicant
    moment = datetime.fromisoformat(META["written_at"]) + timedelta(days=1)
    with frozen_at(moment):
        workflow.send_event(BpmnEvent(MessageEventDefinition("pengajuan_ulang"), payload={"note": "lengkap"}))
        workflow.do_engine_steps()
        for name in HAPPY:
            (task,) = ready_user_tasks(workflow)
            assert task.task_spec.name == name
            task.set_data(**SAMPLE_DATA[name])
            task.run()
            workflow.do_engine_steps()
    assert workflow.completed and reached_end(workflow).task_spec.bpmn_id != "kedaluwarsa"


def test_a_state_stored_today_still_expires_on_its_deadline(specs: Any) -> None:
    workflow = restore(specs)
    with frozen_at(datetime.fromisoformat(META["next_timer_at"]) + timedelta(minutes=1)):
        workflow.refresh_timers()
        workflow.do_engine_steps()
    assert workflow.completed and "kedaluwarsa" in reached_end(workflow).task_spec.bpmn_id


def test_an_older_format_goes_through_spiffworkflows_migrations(specs: Any) -> None:
    """Labelled 1.4, today's state takes the 1.4 → 1.5 migration (event gateways) and still runs."""
    workflow = restore(specs, "1.4")
    with frozen_at(datetime.fromisoformat(META["written_at"]) + timedelta(days=1)):
        workflow.send_event(BpmnEvent(MessageEventDefinition("pengajuan_ulang"), payload={}))
        workflow.do_engine_steps()
    assert [t.task_spec.name for t in ready_user_tasks(workflow)] == ["verifikasi"]


def test_an_unknown_format_is_refused_clearly(specs: Any) -> None:
    with pytest.raises(UnknownStateFormat, match="serializer version '9.9'"):
        restore(specs, "9.9")


def test_every_spiffworkflow_migration_is_known() -> None:
    """Fails when a SpiffWorkflow upgrade adds a serializer format: add it to MIGRATED_TO (README)."""
    assert set(MIGRATED_TO) == set(MIGRATIONS)
    assert SERIALIZER_VERSION not in MIGRATIONS and SERIALIZER_VERSION in MIGRATED_TO.values()
    assert META["serializer_version"] == SERIALIZER_VERSION  # the fixture is today's format
