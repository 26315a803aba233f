"""Moving running cases to a newer version of their procedure, where it is safe.

SpiffWorkflow's ``diff_workflow`` aligns a case's tasks with the new version's specs and
``migrate_workflow`` re-points them. A case moves only if every task it still holds has a
counterpart in the new version (a removed step would leave a task no spec can restore) and no
one is working on one of its tasks (its ready tasks are re-created). Each move is one
transaction with its ``case_migrated`` event; replay applies the same migration at that event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import Actor
from .cases import begin_change, lock_case, restore_workflow, save_workflow
from .clock import frozen_at
from .definitions import LoadedDefinition, latest_definition, load_definition
from .errors import Conflict, NotFound
from .inbox import task_title
from .models import Case, HumanTask, ProcessDefinition
from .serialization import SERIALIZER


class MigrationRefused(Conflict):
    code = "migration_refused"


@dataclass
class MigrationCheck:
    """Whether one case can move to the target version, and if not, why."""

    reference: str
    from_version: int
    reasons: list[str] = field(default_factory=list)

    @property
    def can_move(self) -> bool:
        return not self.reasons


def _label(spec: Any) -> str:
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def _kept(task: Any) -> bool:
    # tasks not yet reached (future, predicted) are dropped and predicted again from the new
    # version by migrate_workflow; finished and live ones stay and need a counterpart
    return bool(task.has_state(TaskState.FINISHED_MASK | TaskState.READY | TaskState.WAITING | TaskState.STARTED))


def _removed(task: Any, where: str) -> str:
    when = "sudah dilalui" if task.has_state(TaskState.FINISHED_MASK) else "sedang berjalan"
    return f"langkah «{_label(task.task_spec)}»{where} ({when}) tidak ada lagi di versi baru"


def _diff(workflow: BpmnWorkflow, target: LoadedDefinition) -> tuple[Any, dict[Any, Any], list[str]]:
    top, subprocesses = diff_workflow(SERIALIZER.registry, workflow, target.spec, target.subprocess_specs)
    reasons = [_removed(t, "") for t in top.removed if _kept(t)]
    for sp_id, sp_diff in subprocesses.items():
        name = workflow.subprocesses[sp_id].spec.name
        if sp_diff is None:
            reasons.append(f"subproses «{name}» tidak ada lagi di versi baru")
        else:
            reasons += [_removed(t, f" (subproses {name})") for t in sp_diff.removed if _kept(t)]
    return top, subprocesses, sorted(set(reasons))


def check_case(session: Session, case: Case, target: ProcessDefinition) -> MigrationCheck:
    """Why ``case`` cannot move to ``target`` (an empty list of reasons: it can)."""
    check = MigrationCheck(case.reference, case.definition.version)
    if case.status != "active":
        check.reasons.append("kasus sudah ditutup")
    if case.definition.key != target.key:
        check.reasons.append("versi tujuan milik prosedur lain")
    elif case.definition.version >= target.version:
        check.reasons.append(f"kasus sudah pada versi {case.definition.version}")
    if check.reasons:
        return check
    claimed = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "claimed")).all()
    for row in claimed:
        check.reasons.append(f"tugas «{task_title(row)}» sedang dikerjakan {row.claimed_by}: lepaskan dulu")
    _, workflow = restore_workflow(case)
    check.reasons += _diff(workflow, load_definition(target))[2]
    return check


def dry_run(
    session: Session, key: str, target_version: int | None = None
) -> tuple[ProcessDefinition, list[MigrationCheck]]:
    """Every running case of procedure ``key`` on an older version: can it move, and why not."""
    target = _target(session, key, target_version)
    cases = session.scalars(
        select(Case)
        .join(ProcessDefinition, Case.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == key, Case.status == "active", ProcessDefinition.version < target.version)
        .order_by(Case.id)
    ).all()
    return target, [check_case(session, case, target) for case in cases]


def _target(session: Session, key: str, version: int | None) -> ProcessDefinition:
    if version is None:
        found = latest_definition(session, key)
    else:
        found = session.scalars(
            select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
        ).first()
    if found is None:
        raise NotFound(f"Prosedur '{key}' versi {version or 'terbaru'} tidak ada")
    return found


def apply_migration(workflow: BpmnWorkflow, target: LoadedDefinition) -> None:
    """Re-point a workflow to ``target``'s specs (what both the move and its replay do)."""
    top, subprocesses, reasons = _diff(workflow, target)
    if reasons:
        raise MigrationRefused("Kasus tidak dapat dipindahkan: " + "; ".join(reasons), details=reasons)
    for sp_id, sp_diff in subprocesses.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, sub, target.subprocess_specs[sub.spec.name])
    migrate_workflow(top, workflow, target.spec)
    workflow.subprocess_specs = dict(target.subprocess_specs)
    workflow.do_engine_steps()


def migrate_case(session: Session, reference: str, target: ProcessDefinition, actor: Actor, now: datetime) -> Case:
    """Move one running case to ``target`` (audited). Raises MigrationRefused with the reasons."""
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise NotFound(f"Kasus {reference} tidak ditemukan")
    case = lock_case(session, case.id)
    check = check_case(session, case, target)
    if not check.can_move:
        raise MigrationRefused("Kasus tidak dapat dipindahkan: " + "; ".join(check.reasons), details=check.reasons)
    source = case.definition
    loaded = load_definition(target)
    _, workflow = restore_workflow(case)
    change = begin_change(case, workflow)
    with frozen_at(now):
        apply_migration(workflow, loaded)
    change.event(
        "case_migrated",
        actor,
        now,
        payload={
            "key": target.key,
            "from_version": source.version,
            "to_version": target.version,
            "to_definition_id": target.id,
        },
    )
    case.definition = target  # written with the case row by save_workflow
    save_workflow(session, change, loaded, workflow, actor, now)
    return case


def migrate_cases(
    session: Session, key: str, references: list[str], actor: Actor, now: datetime, target_version: int | None = None
) -> tuple[list[str], dict[str, list[str]]]:
    """Bulk move: each case in its own savepoint; returns (moved, {reference: reasons refused})."""
    target = _target(session, key, target_version)
    moved, refused = [], {}
    for reference in references:
        try:
            with session.begin_nested():
                migrate_case(session, reference, target, actor, now)
        except (MigrationRefused, NotFound) as exc:
            refused[reference] = list(exc.details or [exc.message])
        else:
            moved.append(reference)
    return moved, refused
