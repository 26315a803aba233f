"""Cases: start, advance and persist workflow instances — every change in one unit of work.

Each public function (1) locks the case row, (2) restores the workflow, (3) applies the change,
(4) runs engine steps, (5) saves the instance state, syncs ``human_task`` and appends audit
events. Functions flush but never commit: the caller commits once, or rolls back on error.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
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
from sqlalchemy import Table, bindparam, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from .audit import GENESIS_HASH, SYSTEM, Actor, NewEvent, append_event, chain_event, write_events
from .clock import aware, frozen_at
from .definitions import LoadedDefinition, definition_by_id, definition_in_session, latest_version, load_definition
from .errors import CaseExpired, Forbidden, NotFound, NotWaiting, TaskAlreadyClaimed, TaskNotActive
from .forms import validate_submission
from .history import prune_history
from .issuing import LetterIssuer, issue_letter_for
from .models import Case, Counter, HumanTask, Person, ProcessDefinition
from .notifications import on_case_saved
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
    person: Person | None = None  # an applicant not yet flushed: written in the case's own flush


def hash_tracking_code(reference: str, code: str) -> str:
    return hashlib.sha256(f"{reference}:{code.strip().upper()}".encode()).hexdigest()


def new_tracking_code() -> str:
    """A fresh random tracking code (8 characters, no look-alike letters)."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))


def check_tracking_code(case: Case, code: str | None) -> bool:
    if not code:
        return False
    return secrets.compare_digest(case.tracking_code_hash, hash_tracking_code(case.reference, code))


def next_counter(session: Session, name: str) -> int:
    """Increment a named gap-free counter: one upsert, which holds the row's lock until commit."""
    connection = session.connection()  # Core DML: see engine.audit.write_events
    return int(connection.execute(_COUNTER_UPSERT[connection.dialect.name], {"name": name}).scalar_one())


def _counter_upsert(dialect: str) -> Any:
    table = cast(Table, Counter.__table__)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(name=bindparam("name"), value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.name], set_={"value": table.c.value + 1})
    return stmt.returning(table.c.value)


_COUNTER_UPSERT = {dialect: _counter_upsert(dialect) for dialect in ("postgresql", "sqlite")}


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
    workflow = load_instance(
        case.state,
        loaded.spec,
        loaded.subprocess_specs,
        SCRIPT_ENGINE,
        version=case.serializer_version,
        stored_spec=lambda: json.loads(case.definition.spec_json),
    )
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
        value = task.internal_data.get("event_value")
        if isinstance(value, str):
            moments.append(TimerEventDefinition.get_datetime(value))
    return min(moments) if moments else None


def settle_due_timers(change: CaseChange, workflow: BpmnWorkflow, now: datetime) -> list[str]:
    """Fire the timers due at ``now`` before anything else changes the case, as the timer worker
    would have (and as replay does: its own ``timer_fired`` event first). Returns their names.

    Without this, a change arriving after a deadline but before the worker ran would take both
    branches: the late one, and the expiry the next engine step finds due.
    """
    due = change.case.next_timer_at
    if due is None or aware(due) > aware(now):
        return []
    waiting = waiting_timers(workflow)
    with frozen_at(now):
        workflow.refresh_timers()
        workflow.do_engine_steps()
    fired = sorted(t.task_spec.bpmn_id or t.task_spec.name for t in waiting if t.state != TaskState.WAITING)
    if fired:
        change.event("timer_fired", SYSTEM, now, payload={"timers": fired})
    return fired


def reached_end(workflow: BpmnWorkflow) -> Any | None:
    ends = [
        t
        for t in workflow.tasks.values()
        if t.state == TaskState.COMPLETED and isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_id
    ]
    return max(ends, key=lambda t: t.last_state_change) if ends else None


@dataclass
class CaseChange:
    """One change of a case in this unit of work: what :func:`save_workflow` writes besides the
    case row — its new events (one INSERT) and the task rows it changed (one upsert with the
    tasks that became ready)."""

    case: Case
    open_before: set[str]  # the ready user tasks (= open ``human_task`` rows) before the change
    events: list[NewEvent] = field(default_factory=list)
    task_rows: list[dict[str, Any]] = field(default_factory=list)

    def event(self, kind: str, actor: Actor, now: datetime, **fields: Any) -> NewEvent:
        """Chain event ``kind`` to the case (written by :func:`save_workflow`)."""
        event = chain_event(self.case, kind, actor, now, **fields)
        self.events.append(event)
        return event


def begin_change(case: Case, workflow: BpmnWorkflow | None) -> CaseChange:
    """Start recording a change of ``case`` whose workflow (None: a new case) is about to advance."""
    return CaseChange(case, {str(t.id) for t in ready_user_tasks(workflow)} if workflow is not None else set())


_TASK_TABLE = cast(Table, HumanTask.__table__)
_TASK_ATTRIBUTES = [(attr.key, attr.columns[0].name) for attr in inspect(HumanTask).column_attrs]
_TASK_CHANGES = ("state", "claimed_by", "completed_at", "completed_by")


def task_row(row: HumanTask, **changes: Any) -> dict[str, Any]:
    """The columns of a task row with ``changes`` applied (for :attr:`CaseChange.task_rows`)."""
    return {column: getattr(row, key) for key, column in _TASK_ATTRIBUTES} | changes


def _new_task_rows(
    case: Case, loaded: LoadedDefinition, workflow: BpmnWorkflow, change: CaseChange, now: datetime
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """The ``human_task`` rows of tasks that became ready, the ids of open ones the workflow
    dropped, and the case's new columns (its current step, its bidang)."""
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    changed = {r["id"] for r in change.task_rows}
    dropped = sorted(change.open_before - changed - set(ready))
    values: dict[str, Any] = {}
    titles, rows = [], []
    for task_id, task in ready.items():
        meta = loaded.tasks.get(task.task_spec.name)
        titles.append(meta.title if meta else task.task_spec.name)
        if task_id in change.open_before:
            continue
        role = (meta.role if meta else None) or task.task_spec.lane or "operator"
        bidang = task.data.get("bidang") if role == "kabid" else None
        due = None
        if meta and meta.due_variable and isinstance(task.data.get(meta.due_variable), str):
            due = aware(datetime.fromisoformat(task.data[meta.due_variable]))
        elif meta and meta.sla_days:
            due = datetime.fromisoformat(add_working_days(meta.sla_days, aware(now)))
        rows.append(
            {
                "id": task_id,
                "case_id": case.id,
                "spec_name": task.task_spec.name,
                "role": role,
                "bidang": bidang,
                "state": "ready",
                "claimed_by": None,
                "created_at": now,
                "due_at": due,
                "completed_at": None,
                "completed_by": None,
            }
        )
        if bidang:
            values["bidang"] = bidang
    values["current_step"] = ", ".join(titles)[:200] or None
    return rows, dropped, values


def _upsert(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(_TASK_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=[_TASK_TABLE.c.id], set_={name: stmt.excluded[name] for name in _TASK_CHANGES}
    )


# Statements are built once (building one costs more than running it); values are bound per call.
_TASK_UPSERT = {dialect: _upsert(dialect) for dialect in ("postgresql", "sqlite")}


def _write_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT new task rows and UPDATE changed ones: one upsert (the rows are whole)."""
    if rows:
        connection = session.connection()  # Core DML: see engine.audit.write_events
        connection.execute(_TASK_UPSERT[connection.dialect.name], rows)


# the table's columns, not the mapped attributes: a plain Core select skips the ORM's compile
# and result layers (a third of the cost), and still autoflushes through Session.execute
_OPEN_TASKS = (
    select(_TASK_TABLE.c.id, _TASK_TABLE.c.role, _TASK_TABLE.c.spec_name)
    .where(_TASK_TABLE.c.case_id == bindparam("case_id"), _TASK_TABLE.c.completed_at.is_(None))
    .order_by(_TASK_TABLE.c.created_at)
)


def open_tasks(session: Session, case_id: int) -> list[tuple[str, str, str]]:
    """The case's open (ready or claimed) user tasks: (id, role, spec name), oldest first."""
    return [(r[0], r[1], r[2]) for r in session.execute(_OPEN_TASKS, {"case_id": case_id})]


def save_workflow(
    session: Session,
    change: CaseChange,
    loaded: LoadedDefinition,
    workflow: BpmnWorkflow,
    actor: Actor,
    now: datetime,
    *,
    letters: LetterIssuer | None = None,
    tracking_code: str | None = None,
) -> None:
    """Persist a changed workflow with its events: the case row (under its optimistic lock,
    the ORM's ``version_id_col``), the events, the task rows, the notifications. Flushes.

    Raises StaleDataError when another transaction changed the case since it was read.
    An end event with ``issuesLetter`` issues its letter through ``letters`` (raises
    LettersNotConfigured without one), its event recorded in ``change``.
    """
    case = change.case
    new_rows, dropped, values = _new_task_rows(case, loaded, workflow, change, now)
    prune_history(workflow)
    state = dump_instance(workflow)
    values.update(
        state=state, serializer_version=SERIALIZER_VERSION, next_timer_at=next_timer_at(workflow), updated_at=now
    )
    if workflow.completed and case.status == "active":
        end = reached_end(workflow)
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
        change.event(
            "case_closed",
            actor,
            now,
            role=actor.primary_role,
            payload={"status": values["status"], "end_event": end_id, "reason": values["outcome_reason"]},
        )
        series = loaded.end_letters.get(end_id or "")
        if series and end is not None:
            issue_letter_for(letters, session, case, series, end_id or "", end.data, actor, now, change=change)
    for name, value in values.items():
        setattr(case, name, value)
    session.flush()  # the case row: INSERT for a new case, else UPDATE … WHERE lock_version = …
    for row in new_rows:
        row["case_id"] = case.id
    for event in change.events:
        event.case_id = case.id
    write_events(session, change.events)
    _write_tasks(session, change.task_rows + new_rows)
    if dropped:
        session.connection().execute(
            update(_TASK_TABLE).where(_TASK_TABLE.c.id.in_(dropped)).values(state="cancelled", completed_at=now)
        )
    _remember(loaded, state, workflow)
    on_case_saved(session, case, change.events, now, tracking_code=tracking_code)


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
    with session.no_autoflush:  # an applicant added by intake is written with the case, in one flush
        definition_id, sha256 = latest_version(session, key)
        loaded = definition_by_id(session, definition_id, sha256)
    reference = _new_reference(session, key, now)
    tracking_code = new_tracking_code()
    workflow = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=SCRIPT_ENGINE)
    case = Case(
        reference=reference,
        tracking_code_hash=hash_tracking_code(reference, tracking_code),
        definition_id=definition_id,
        kind=key,
        status="active",
        outcome=None,
        outcome_reason=None,
        closed_at=None,
        service=summary.service,
        ppks_category=summary.ppks_category,
        applicant_name=summary.applicant_name,
        village_code=summary.village_code,
        kecamatan_code=summary.village_code[:8] if summary.village_code else None,
        person_id=summary.person_id,
        event_count=0,
        last_event_hash=GENESIS_HASH,
        created_at=now,
    )
    # the applicant (just added by intake, or from the session): the notifications read the phone
    if summary.person is not None:
        case.person = summary.person
    else:
        case.person = session.get(Person, summary.person_id) if summary.person_id is not None else None
    session.add(case)
    change = begin_change(case, None)
    with frozen_at(now):
        seed_start_data(workflow, data)
        workflow.do_engine_steps()
    change.event("case_started", actor, now, payload={"definition": key, "version": loaded.version, "data": data})
    # the "received" message carries the code (the only place besides the receipt it is shown)
    save_workflow(session, change, loaded, workflow, actor, now, tracking_code=tracking_code)
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


_LOCK_TASK = (
    select(HumanTask, ProcessDefinition.sha256)
    .join(HumanTask.case)
    .join(Case.definition)
    .outerjoin(Case.person)
    .options(contains_eager(HumanTask.case).contains_eager(Case.person))
    .where(HumanTask.id == bindparam("task_id"))
    # the task's and its case's rows only: every case shares its procedure version's row
    .with_for_update(of=[HumanTask, Case])
    .execution_options(populate_existing=True)
)


def _locked_open_task(session: Session, task_id: str, actor: Actor) -> tuple[HumanTask, Case, str]:
    """Read a task with its case and applicant, locking the task's and the case's rows in one
    statement (PostgreSQL re-reads both on wait), and the digest of the case's procedure version
    (which finds it in the cache). Raises NotFound, Forbidden, TaskNotActive."""
    found = session.execute(_LOCK_TASK, {"task_id": _checked_id(task_id)}).first()
    if found is None:
        raise NotFound("Tugas tidak ditemukan")
    row, sha256 = found
    if not may_work_on(row, actor):
        raise Forbidden("Tugas ini bukan untuk peran atau bidang Anda")
    if row.state not in OPEN_STATES:
        raise TaskNotActive("Tugas ini sudah diselesaikan atau tidak lagi aktif")
    return row, row.case, sha256


def _record_task_change(
    session: Session, row: HumanTask, case: Case, kind: str, actor: Actor, now: datetime, values: dict[str, Any]
) -> None:
    """Set ``values`` on the task row and record event ``kind`` for it in the case's chain."""
    for name, value in values.items():
        setattr(row, name, value)
    append_event(
        session,
        case,
        kind,
        actor,
        now,
        role=row.role,
        task_id=row.id,
        task_spec=row.spec_name,
        case_values={"updated_at": now},
    )


def claim_task(session: Session, task_id: str, actor: Actor, now: datetime) -> HumanTask:
    """Claim a task for ``actor``. Raises NotFound, Forbidden, TaskNotActive, TaskAlreadyClaimed."""
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
    row, case, _ = _locked_open_task(session, task_id, actor)
    if row.state != "claimed":
        return row
    if row.claimed_by != actor.username:
        raise TaskAlreadyClaimed(f"Tugas diambil oleh {row.claimed_by}, bukan oleh Anda")
    _record_task_change(session, row, case, "task_released", actor, now, {"state": "ready", "claimed_by": None})
    return row


def complete_task(
    session: Session, task_id: str, actor: Actor, data: Any, now: datetime, *, letters: LetterIssuer | None = None
) -> HumanTask:
    """Validate ``data`` against the task's form and complete it, advancing the case.

    A task (or the end it leads to) with ``issuesLetter`` issues its letter through ``letters``
    in the same unit of work. Raises NotFound, Forbidden, TaskNotActive, TaskAlreadyClaimed,
    InvalidSubmission, LettersNotConfigured.
    """
    row, case, sha256 = _locked_open_task(session, task_id, actor)
    if row.state == "claimed" and row.claimed_by != actor.username:
        raise TaskAlreadyClaimed(f"Tugas sedang dikerjakan oleh {row.claimed_by}")
    loaded = definition_in_session(session, case.definition_id, sha256)
    submission = validate_submission(loaded.form_schema(row.spec_name), data)
    loaded, workflow = restore_workflow(case, for_update=True, loaded=loaded)
    task = workflow.get_task_from_id(UUID(row.id))
    if task is None or task.state != TaskState.READY:
        raise TaskNotActive("Tugas ini tidak lagi aktif")
    change = begin_change(case, workflow)
    settle_due_timers(change, workflow, now)
    if task.state != TaskState.READY:
        raise TaskNotActive("Tugas ini tidak lagi aktif: batas waktunya sudah lewat")
    with frozen_at(now):
        task.set_data(**submission)
        task.run()
        workflow.do_engine_steps()
    done = {
        "state": "completed",
        "claimed_by": row.claimed_by or actor.username,
        "completed_at": now,
        "completed_by": actor.username,
    }
    change.task_rows.append(task_row(row, **done))
    change.event(
        "task_completed",
        actor,
        now,
        role=row.role,
        task_id=row.id,
        task_spec=row.spec_name,
        payload={"data": submission},
    )
    meta = loaded.tasks.get(row.spec_name)
    if meta is not None and meta.letter:
        issue_letter_for(letters, session, case, meta.letter, row.spec_name, task.data, actor, now, change=change)
    save_workflow(session, change, loaded, workflow, actor, now, letters=letters)
    for name, value in done.items():  # written by the task upsert: the object shows it, unchanged
        set_committed_value(row, name, value)
    return row


def deliver_message(
    session: Session, case: Case, name: str, payload: dict[str, Any], actor: Actor, now: datetime
) -> Case:
    """Deliver message ``name`` (e.g. the applicant's resubmission). Raises NotWaiting."""
    case = lock_case(session, case.id)
    if case.status != "active":
        raise NotWaiting("Kasus ini sudah ditutup")
    loaded, workflow = restore_workflow(case, for_update=True)
    change = begin_change(case, workflow)
    if settle_due_timers(change, workflow, now) and workflow.completed:
        # the deadline passed first: nothing is written here, the timer worker closes the case
        raise CaseExpired("Batas waktu sudah lewat; permohonan ini ditutup (kedaluwarsa). Silakan ajukan permohonan baru.")
    with frozen_at(now):
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload))
        except WorkflowException:
            raise NotWaiting("Kasus ini tidak sedang menunggu pengajuan ulang") from None
        workflow.do_engine_steps()
    change.event("message_received", actor, now, payload={"message": name, "data": payload})
    save_workflow(session, change, loaded, workflow, actor, now)
    return case
