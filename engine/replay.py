"""Replay: re-run a case's recorded history on its procedure version and compare.

Auditors use it to verify that what the records say happened really happened: the stored
state must be exactly what the recorded decisions, messages and timers produce.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import case_events, verify_chain
from .cases import SCRIPT_ENGINE, reached_end, ready_user_tasks, restore_workflow, seed_start_data
from .clock import frozen_at
from .definitions import load_definition
from .history import prune_history
from .models import Case, HumanTask, ProcessDefinition


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not callable(v)}


def replay_case(session: Session, case: Case) -> dict[str, Any]:
    """Return ``{consistent, chain_valid, steps, differences}`` for one case."""
    chain_problems = verify_chain(session, case)
    differences: list[str] = []
    events = list(case_events(session, case))
    loaded = load_definition(_started_on(session, case, events))
    workflow = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=SCRIPT_ENGINE)
    steps = 0
    for event in events:
        with frozen_at(event.at):
            if event.kind == "case_migrated":
                # the case moved to a newer version here: apply the same migration (engine.migration)
                from .migration import apply_migration

                target = session.get(ProcessDefinition, event.payload.get("to_definition_id"))
                if target is None:
                    differences.append(f"event {event.seq}: migrated to an unknown version")
                    break
                apply_migration(workflow, load_definition(target))
            elif event.kind == "case_started":
                seed_start_data(workflow, event.payload.get("data") or {})
                workflow.do_engine_steps()
            elif event.kind == "task_completed":
                candidates = [t for t in ready_user_tasks(workflow) if t.task_spec.name == event.task_spec]
                if not candidates:
                    differences.append(f"event {event.seq}: task {event.task_spec} was not ready in the replay")
                    break
                task = candidates[0]
                task.set_data(**(event.payload.get("data") or {}))
                task.run()
                workflow.do_engine_steps()
            elif event.kind == "message_received":
                name = event.payload.get("message")
                workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=event.payload.get("data")))
                workflow.do_engine_steps()
            elif event.kind == "timer_fired":
                workflow.refresh_timers()
                workflow.do_engine_steps()
            else:
                continue
        prune_history(workflow)
        steps += 1

    _, stored = restore_workflow(case)
    replayed_ready = sorted(t.task_spec.name for t in ready_user_tasks(workflow))
    stored_ready = sorted(t.task_spec.name for t in ready_user_tasks(stored))
    if replayed_ready != stored_ready:
        differences.append(f"ready tasks: replay {replayed_ready}, stored {stored_ready}")
    open_rows = sorted(
        session.scalars(
            select(HumanTask.spec_name).where(HumanTask.case_id == case.id, HumanTask.state.in_(("ready", "claimed")))
        )
    )
    if open_rows != stored_ready:
        differences.append(f"task table: {open_rows}, workflow state {stored_ready}")
    if workflow.completed != stored.completed:
        differences.append(f"completed: replay {workflow.completed}, stored {stored.completed}")
    end = reached_end(workflow)
    end_id = end.task_spec.bpmn_id if end else None
    if end_id != case.outcome:
        differences.append(f"end event: replay {end_id}, recorded {case.outcome}")
    replay_data = _comparable(end.data if end else _last_data(workflow))
    stored_end = reached_end(stored)
    stored_data = _comparable(stored_end.data if stored_end else _last_data(stored))
    for key in sorted(set(replay_data) | set(stored_data)):
        if replay_data.get(key) != stored_data.get(key):
            differences.append(f"data '{key}': replay {replay_data.get(key)!r}, stored {stored_data.get(key)!r}")
    return {
        "consistent": not differences and not chain_problems,
        "chain_valid": not chain_problems,
        "steps": steps,
        "differences": chain_problems + differences,
    }


def _started_on(session: Session, case: Case, events: list[Any]) -> ProcessDefinition:
    """The version the case started on (it may have moved since: ``case_migrated`` events)."""
    if not any(e.kind == "case_migrated" for e in events):
        return case.definition
    started = next((e for e in events if e.kind == "case_started"), None)
    payload = started.payload if started is not None else {}
    found = session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.key == payload.get("definition"), ProcessDefinition.version == payload.get("version")
        )
    ).first()
    return found or case.definition


def _last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    ready = ready_user_tasks(workflow)
    return dict(ready[0].data) if ready else dict(workflow.data)
