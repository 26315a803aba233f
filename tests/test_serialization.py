"""Stored workflow state: what goes in comes back, old states still load, bad ones say why."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.task import TaskState

from engine.cases import SCRIPT_ENGINE
from engine.serialization import dump_instance, instance_json, load_instance, state_dict

BPMN = Path(__file__).resolve().parents[1] / "bpmn"


@pytest.fixture(scope="module")
def specs() -> tuple[Any, Any]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN / "rujukan.bpmn"))
    parser.add_dmn_files([str(p) for p in BPMN.glob("*.dmn")])
    return parser.get_spec("rujukan"), parser.get_subprocess_specs("rujukan")


def started(specs: tuple[Any, Any], **data: Any) -> BpmnWorkflow:
    workflow = BpmnWorkflow(*specs, script_engine=SCRIPT_ENGINE)
    start = next(t for t in workflow.tasks.values() if t.state == TaskState.READY)
    start.data.update(service="alat_bantu", ppks_category="penyandang_disabilitas", resubmission_timeout="P14D", **data)
    workflow.do_engine_steps()
    return workflow


def ready_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    return next(t for t in workflow.tasks.values() if t.state == TaskState.READY and t.task_spec.manual).data


def test_a_state_round_trips_with_the_types_of_its_data(specs: Any) -> None:
    moment = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    workflow = started(specs, diterima=moment, tenggat=timedelta(days=14), jumlah=3, catatan="Ümlaut ✓")
    again = load_instance(dump_instance(workflow), *specs, SCRIPT_ENGINE)
    data = ready_data(again)
    assert data["diterima"] == moment and isinstance(data["diterima"], datetime)
    assert data["tenggat"] == timedelta(days=14)
    assert (data["jumlah"], data["catatan"]) == (3, "Ümlaut ✓")
    assert sorted(str(t.id) for t in again.tasks.values()) == sorted(str(t.id) for t in workflow.tasks.values())


def test_the_preset_dictionary_makes_a_state_smaller(specs: Any) -> None:
    workflow = started(specs)
    assert len(dump_instance(workflow)) < len(zlib.compress(instance_json(workflow), 6))


def test_a_state_stored_before_the_dictionary_still_loads(specs: Any) -> None:
    workflow = started(specs, catatan="lama")
    legacy = zlib.compress(instance_json(workflow), 6)
    assert state_dict(legacy) == state_dict(dump_instance(workflow))
    assert ready_data(load_instance(legacy, *specs, SCRIPT_ENGINE))["catatan"] == "lama"


def test_a_state_needing_an_unknown_dictionary_is_refused_with_a_reason(specs: Any) -> None:
    compressor = zlib.compressobj(6, zdict=b'{"another dictionary":true}')
    foreign = compressor.compress(instance_json(started(specs))) + compressor.flush()
    with pytest.raises(ValueError, match="compression dictionary"):
        load_instance(foreign, *specs, SCRIPT_ENGINE)
