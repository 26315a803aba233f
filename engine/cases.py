"""Cases: start, advance and persist workflow instances — every change in one unit of work.

Each public function (1) locks the case row, (2) restores the workflow, (3) applies the change,
(4) runs engine steps, (5) saves the instance state, syncs ``human_task`` and appends audit
events. Functions flush but never commit: the caller commits once, or rolls back on error.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException

# Spiff's own message class: event definitions compare by class, and the parser builds these.
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import TaskState
from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .audit import GENESIS_HASH, Actor, append_event
from .clock import aware, frozen_at
from .definitions import LoadedDefinition, definition_by_id, definition_in_session, latest_version, load_definition
from .errors import Forbidden, NotFound, NotWaiting, TaskAlreadyClaimed, TaskNotActive
from .forms import validate_submission
from .history import prune_history
from .models import Case, Counter, HumanTask, Person, ProcessDefinition
from .rows import Prepared, attach, attribute_keys, insert_returning, insert_rows, unscoped, update_case, update_tasks
from .sandbox import add_working_days, create_script_engine
from .serialization import SERIALIZER_VERSION, dump_instance, load_instance

SCRIPT_ENGINE = create_script_engine()
REFERENCE_PREFIXES = {"rujukan": "RJK", "aduan": "ADU"}
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OPEN_STATES = ("ready", "claimed")


@dataclass
class CaseSummary:
    """Denormalised fields the inbox filters and shows."""

    service: str | None = None
    ppks_category: str | None = None
    applicant_name: str | None = None
    village_code: str | None = None
    person_id: int | None = None


def hash_tracking_code(reference: str, code: str) -> str:
    return hashlib.sha256(f"{reference}:{code.strip().upper()}".encode()).hexdigest()


def check_tracking_code(case: Case, code: str | None) -> bool:
    if not code:
        return False
    return secrets.compare_digest(case.tracking_code_hash, hash_tracking_code(case.reference, code))


def next_counter(session: Session, name: str) -> int:
    """Increment a named gap-free counter: one upsert, which holds the row's lock until commit."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = _COUNTER_UPSERT.get(dialect)
    if stmt is None:
        table = cast(Table, Counter.__table__)
        base = insert(table).values(name=bindparam("name"), value=1)
        stmt = _COUNTER_UPSERT[dialect] = Prepared(
            base.on_conflict_do_update(index_elements=[table.c.name], set_={"value": table.c.value + 1}).returning(
                table.c.value
            )
        )
    return int(stmt.all(session, {"name": name})[0][0])


_COUNTER_UPSERT: dict[str, Prepared] = {}


def _new_reference(session: Session, key: str, now: datetime) -> str:
    prefix = REFERENCE_PREFIXES.get(key, key[:3].upper())
    year = aware(now).year
    return f"{prefix}-{year}-{next_counter(session, f'case:{prefix}:{year}'):06d}"


def lock_case(session: Session, case_id: int) -> Case:
    """Take the case's row lock (PostgreSQL) and read its current state."""
    case = session.scalars(
        select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if case is None:
        raise NotFound("Kasus tidak ditemukan")
    return case


def get_case(session: Session, reference: str) -> Case:
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise NotFound(f"Kasus {reference} tidak ditemukan")
    return case


# Workflows this process saved last, by content: a case's next step in the same process skips
# deserialization. Keyed by a digest of the exact stored bytes, so a hit is always identical to
# what the database holds; taken out (not shared) by whoever is about to change it.
_recent: OrderedDict[tuple[int, bytes], BpmnWorkflow] = OrderedDict()
_recent_lock = threading.Lock()
_RECENT_MAX = 256


def _state_key(loaded: LoadedDefinition, state: bytes) -> tuple[int, bytes]:
    return loaded.id, hashlib.blake2b(state, digest_size=16).digest()


def _remember(loaded: LoadedDefinition, state: bytes, workflow: BpmnWorkflow) -> None:
    with _recent_lock:
        _recent[_state_key(loaded, state)] = workflow
        while len(_recent) > _RECENT_MAX:
            _recent.popitem(last=False)


def restore_workflow(
    case: Case, for_update: bool = False, loaded: LoadedDefinition | None = None
) -> tuple[LoadedDefinition, BpmnWorkflow]:
    """The case's workflow; ``for_update`` takes a cached live copy if this process has one."""
    loaded = loaded or load_definition(case.definition)
    if for_update:
        with _recent_lock:
            workflow = _recent.pop(_state_key(loaded, case.state), None)
        if workflow is not None:
            return loaded, workflow
    workflow = load_instance(case.state, loaded.spec, loaded.subprocess_specs, SCRIPT_ENGINE)
    return loaded, workflow


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Ready user and manual tasks, also those inside embedded subprocesses and called processes."""
    # Walk the flat task maps rather than the tree iterator, which stops at depth 1000.
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks.extend(subprocess.tasks.values())
    return [t for t in tasks if t.state == TaskState.READY and t.task_spec.manual]


def _has_timer(definition: Any) -> bool:
    if isinstance(definition, TimerEventDefinition):
        return True
    # an event-based gateway waits as one task holding all its catch events
    return isinstance(definition, MultipleEventDefinition) and any(
        isinstance(d, TimerEventDefinition) for d in definition.event_definitions
    )


def waiting_timers(workflow: BpmnWorkflow) -> list[Any]:
    return [
        t
        for t in workflow.tasks.values()
        if t.state == TaskState.WAITING and _has_timer(getattr(t.task_spec, "event_definition", None))
    ]


def next_timer_at(workflow: BpmnWorkflow) -> datetime | None:
    moments = []
    for task in waiting_timers(workflow):
        value = task._get_internal_data("event_value")
        if isinstance(value, str):
            moments.append(TimerEventDefinition.get_datetime(value))
    return min(moments) if moments else None


def _reached_end(workflow: BpmnWorkflow) -> Any | None:
    ends = [
        t
        for t in workflow.tasks.values()
        if t.state == TaskState.COMPLETED and isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_id
    ]
    return max(ends, key=lambda t: t.last_state_change) if ends else None


def _sync_tasks(
    session: Session, case: Case, loaded: LoadedDefinition, workflow: BpmnWorkflow, now: datetime
) -> dict[str, Any]:
    """Make ``human_task`` match the workflow's ready user tasks; return the case's new columns."""
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    open_ids = [task_id for task_id, _, _ in open_tasks(session, case.id)]
    update_tasks(session, [i for i in open_ids if i not in ready], {"state": "cancelled", "completed_at": now})
    known = set(open_ids)
    values: dict[str, Any] = {}
    titles, new_rows = [], []
    for task_id, task in ready.items():
        meta = loaded.tasks.get(task.task_spec.name)
        titles.append(meta.title if meta else task.task_spec.name)
        if task_id in known:
            continue
        role = (meta.role if meta else None) or task.task_spec.lane or "operator"
        bidang = task.data.get("bidang") if role == "kabid" else None
        due = None
        if meta and meta.due_variable and isinstance(task.data.get(meta.due_variable), str):
            due = aware(datetime.fromisoformat(task.data[meta.due_variable]))
        elif meta and meta.sla_days:
            due = datetime.fromisoformat(add_working_days(meta.sla_days, aware(now)))
        new_rows.append(
            {
                "id": task_id,
                "case_id": case.id,
                "spec_name": task.task_spec.name,
                "role": role,
                "bidang": bidang,
                "state": "ready",
                "created_at": now,
                "due_at": due,
            }
        )
        if bidang:
            values["bidang"] = bidang
    insert_rows(session, HumanTask, new_rows)
    values["current_step"] = ", ".join(titles)[:200] or None
    return values


_OPEN_TASKS = Prepared(
    select(HumanTask.id, HumanTask.role, HumanTask.spec_name)
    .where(HumanTask.case_id == bindparam("case_id"), HumanTask.completed_at.is_(None))
    .order_by(HumanTask.created_at)
)


def open_tasks(session: Session, case_id: int) -> list[tuple[str, str, str]]:
    """The case's open (ready or claimed) user tasks: (id, role, spec name), oldest first."""
    return cast(list[tuple[str, str, str]], _OPEN_TASKS.all(session, {"case_id": case_id}))


def save_workflow(
    session: Session, case: Case, loaded: LoadedDefinition, workflow: BpmnWorkflow, actor: Actor, now: datetime
) -> None:
    """Persist a changed workflow: sync tasks, store pruned state, close the case if it ended.

    Writes through :mod:`engine.rows`: the case row once, under its optimistic lock.
    """
    values = _sync_tasks(session, case, loaded, workflow, now)
    prune_history(workflow)
    state = dump_instance(workflow)
    _remember(loaded, state, workflow)
    values.update(
        state=state, serializer_version=SERIALIZER_VERSION, next_timer_at=next_timer_at(workflow), updated_at=now
    )
    if workflow.completed and case.status == "active":
        end = _reached_end(workflow)
        end_id = end.task_spec.bpmn_id if end else None
        outcome, reason = loaded.outcomes.get(end_id or "", ("completed", ""))
        detail = workflow.data.get("alasan") or (end.data.get("alasan") if end else None)
        values.update(
            status=outcome if outcome in {"completed", "rejected", "expired"} else "completed",
            outcome=end_id,
            outcome_reason=f"{reason} {detail}".strip() if detail else reason,
            closed_at=now,
            next_timer_at=None,
        )
        append_event(
            session,
            case,
            "case_closed",
            actor,
            now,
            role=actor.primary_role,
            payload={"status": values["status"], "end_event": end_id, "reason": values["outcome_reason"]},
        )
    update_case(session, case, values)
    from .notifications import on_case_saved  # late import: notifications reads intake, which imports us

    on_case_saved(session, case, now)


def seed_start_data(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    """Put the case's intake data on the first ready task (the start), whence it flows on."""
    for task in workflow.tasks.values():
        if task.state == TaskState.READY:
            task.data.update(data)
            return
    workflow.task_tree.data.update(data)


def start_case(
    session: Session,
    key: str,
    data: dict[str, Any],
    summary: CaseSummary,
    actor: Actor,
    now: datetime,
) -> tuple[Case, str]:
    """Start a case on the latest version of procedure ``key``; return it and its tracking code."""
    session = unscoped(session)
    definition_id, sha256 = latest_version(session, key)
    loaded = definition_by_id(session, definition_id, sha256)
    reference = _new_reference(session, key, now)
    tracking_code = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    workflow = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=SCRIPT_ENGINE)
    # every column, so the case object has nothing left to load from the row just inserted
    values = {
        "reference": reference,
        "tracking_code_hash": hash_tracking_code(reference, tracking_code),
        "definition_id": definition_id,
        "kind": key,
        "status": "active",
        "outcome": None,
        "outcome_reason": None,
        "service": summary.service,
        "ppks_category": summary.ppks_category,
        "applicant_name": summary.applicant_name,
        "village_code": summary.village_code,
        "kecamatan_code": summary.village_code[:8] if summary.village_code else None,
        "bidang": None,
        "current_step": None,
        "person_id": summary.person_id,
        "state": b"",
        "serializer_version": SERIALIZER_VERSION,
        "next_timer_at": None,
        "event_count": 0,
        "last_event_hash": GENESIS_HASH,
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "lock_version": 1,  # what the ORM's version counter starts at
    }
    case = cast(Case, insert_returning(session, Case, values))
    with frozen_at(now):
        seed_start_data(workflow, data)
        workflow.do_engine_steps()
    append_event(
        session,
        case,
        "case_started",
        actor,
        now,
        payload={"definition": key, "version": loaded.version, "data": data},
    )
    save_workflow(session, case, loaded, workflow, actor, now)
    return case, tracking_code


def _checked_id(task_id: str) -> str:
    try:
        UUID(task_id)
    except (ValueError, TypeError):
        raise NotFound("Tugas tidak ditemukan") from None
    return task_id


def may_work_on(row: HumanTask, actor: Actor) -> bool:
    if row.role not in actor.roles:
        return False
    return not (row.role == "kabid" and row.bidang and actor.bidang != row.bidang)


_TASK_COLUMNS = list(cast(Table, HumanTask.__table__).c)
_CASE_COLUMNS = list(cast(Table, Case.__table__).c)
_TASK_KEYS = attribute_keys(HumanTask)
_CASE_KEYS = attribute_keys(Case)
_LOCK_TASK = Prepared(
    select(*_TASK_COLUMNS, *_CASE_COLUMNS, ProcessDefinition.sha256, Person.nik, Person.phone)
    .join(Case.__table__, HumanTask.case_id == Case.id)
    .join(ProcessDefinition.__table__, Case.definition_id == ProcessDefinition.id)
    .outerjoin(Person.__table__, Case.person_id == Person.id)
    .where(HumanTask.id == bindparam("task_id"))
    # the task's and its case's rows only: every case shares its procedure version's row
    .with_for_update(of=[HumanTask.__table__, Case.__table__])
)


def _locked_open_task(session: Session, task_id: str, actor: Actor) -> tuple[HumanTask, Case, str]:
    """Read a task and lock its case row in one statement (PostgreSQL re-reads both on wait).

    Also returns the digest of the case's procedure version, which finds it in the cache, and
    loads the applicant's NIK and phone (the answer and the notifications need them).
    """
    found = _LOCK_TASK.all(session, {"task_id": _checked_id(task_id)})
    if not found:
        raise NotFound("Tugas tidak ditemukan")
    values, split, end = found[0], len(_TASK_KEYS), len(_TASK_KEYS) + len(_CASE_KEYS)
    row = attach(session, HumanTask, dict(zip(_TASK_KEYS, values[:split], strict=True)))
    case = attach(session, Case, dict(zip(_CASE_KEYS, values[split:end], strict=True)))
    sha256, nik, phone = values[end:]
    set_committed_value(row, "case", case)  # the row holds its case: no lazy load, no early collection
    person = None
    if case.person_id is not None:
        person = attach(session, Person, {"id": case.person_id, "nik": nik, "phone": phone}, refresh=False)
    set_committed_value(case, "person", person)
    if not may_work_on(row, actor):
        raise Forbidden("Tugas ini bukan untuk peran atau bidang Anda")
    if row.state not in OPEN_STATES:
        raise TaskNotActive("Tugas ini sudah diselesaikan atau tidak lagi aktif")
    return row, case, sha256


def _record_task_change(
    session: Session,
    row: HumanTask,
    case: Case,
    kind: str,
    actor: Actor,
    now: datetime,
    values: dict[str, Any],
    *,
    payload: dict[str, Any] | None = None,
    write_case: bool = True,
) -> None:
    """Set ``values`` on the task row and record event ``kind`` for it in the case's chain.

    ``write_case=False`` when the caller writes the case row next (``save_workflow``).
    """
    update_tasks(session, [row.id], values)
    append_event(
        session,
        case,
        kind,
        actor,
        now,
        role=row.role,
        task_id=row.id,
        task_spec=row.spec_name,
        payload=payload,
        case_values={"updated_at": now} if write_case else None,
    )


def claim_task(session: Session, task_id: str, actor: Actor, now: datetime) -> HumanTask:
    """Claim a task for ``actor``. Raises NotFound, Forbidden, TaskNotActive, TaskAlreadyClaimed."""
    session = unscoped(session)
    row, case, _ = _locked_open_task(session, task_id, actor)
    if row.state == "claimed":
        if row.claimed_by == actor.username:
            return row
        raise TaskAlreadyClaimed(f"Tugas sudah diambil oleh {row.claimed_by}")
    _record_task_change(
        session, row, case, "task_claimed", actor, now, {"state": "claimed", "claimed_by": actor.username}
    )
    return row


def release_task(session: Session, task_id: str, actor: Actor, now: datetime) -> HumanTask:
    """Give a claimed task back to its queue. Raises like :func:`claim_task`."""
    session = unscoped(session)
    row, case, _ = _locked_open_task(session, task_id, actor)
    if row.state != "claimed":
        return row
    if row.claimed_by != actor.username:
        raise TaskAlreadyClaimed(f"Tugas diambil oleh {row.claimed_by}, bukan oleh Anda")
    _record_task_change(session, row, case, "task_released", actor, now, {"state": "ready", "claimed_by": None})
    return row


def complete_task(session: Session, task_id: str, actor: Actor, data: Any, now: datetime) -> HumanTask:
    """Validate ``data`` against the task's form and complete it, advancing the case.

    Raises NotFound, Forbidden, TaskNotActive, TaskAlreadyClaimed, InvalidSubmission.
    """
    session = unscoped(session)
    row, case, sha256 = _locked_open_task(session, task_id, actor)
    if row.state == "claimed" and row.claimed_by != actor.username:
        raise TaskAlreadyClaimed(f"Tugas sedang dikerjakan oleh {row.claimed_by}")
    loaded = definition_in_session(session, case.definition_id, sha256)
    submission = validate_submission(loaded.form_schema(row.spec_name), data)
    loaded, workflow = restore_workflow(case, for_update=True, loaded=loaded)
    task = workflow.get_task_from_id(UUID(row.id))
    if task is None or task.state != TaskState.READY:
        raise TaskNotActive("Tugas ini tidak lagi aktif")
    with frozen_at(now):
        task.set_data(**submission)
        task.run()
        workflow.do_engine_steps()
    _record_task_change(
        session,
        row,
        case,
        "task_completed",
        actor,
        now,
        {
            "state": "completed",
            "claimed_by": row.claimed_by or actor.username,
            "completed_at": now,
            "completed_by": actor.username,
        },
        payload={"data": submission},
        write_case=False,
    )
    save_workflow(session, case, loaded, workflow, actor, now)
    return row


def deliver_message(
    session: Session, case: Case, name: str, payload: dict[str, Any], actor: Actor, now: datetime
) -> Case:
    """Deliver message ``name`` (e.g. the applicant's resubmission). Raises NotWaiting."""
    session = unscoped(session)
    case = lock_case(session, case.id)
    if case.status != "active":
        raise NotWaiting("Kasus ini sudah ditutup")
    loaded, workflow = restore_workflow(case, for_update=True)
    with frozen_at(now):
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload))
        except WorkflowException:
            raise NotWaiting("Kasus ini tidak sedang menunggu pengajuan ulang") from None
        workflow.do_engine_steps()
    append_event(session, case, "message_received", actor, now, payload={"message": name, "data": payload})
    save_workflow(session, case, loaded, workflow, actor, now)
    return case
