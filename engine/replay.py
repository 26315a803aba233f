"""Replay: rebuild a case from its procedure version and its recorded events, and compare.

Auditors use it to prove that what the records say happened really happened. The replay never
reads the stored workflow state to build anything: it starts a fresh instance of the case's
procedure version and re-executes every recorded event with its recorded data, actor and
moment. Only at the end is the result compared with what the database holds — the workflow
state, the case row, the task rows, the documents and the letters (issued at the steps the
procedure names, as the log records them, their PDF bytes unchanged) — and every disagreement becomes a :class:`Difference`
(event number, field, expected, found). A replay that cannot go on (a tampered decision that no
gateway accepts, an unknown task, a missing version) is a difference too, never an exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import case_events
from .cases import SCRIPT_ENGINE, next_timer_at, reached_end, ready_user_tasks, restore_workflow, seed_start_data
from .chain import Difference, check_chain
from .clock import aware, frozen_at
from .definitions import LoadedDefinition, load_definition
from .errors import EngineError
from .forms import validate_submission
from .history import prune_history
from .models import Case, CaseEvent, Document, HumanTask, Letter, ProcessDefinition

# Events that record what happened around the workflow but do not move it.
SIDE_EVENTS = {"comment", "document_added", "letter_issued", "letter_revoked"}
WORKFLOW_EVENTS = {"case_started", "task_completed", "message_received", "timer_fired", "case_migrated"}
TASK_EVENTS = {"task_claimed", "task_released"}
KNOWN_EVENTS = SIDE_EVENTS | WORKFLOW_EVENTS | TASK_EVENTS | {"case_closed"}


@dataclass
class ReplayedTask:
    """A user task as the replay saw it come and go (compared with its ``human_task`` row)."""

    spec_name: str
    role: str
    created_at: datetime
    seq: int
    state: str = "ready"
    claimed_by: str | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return {
            "spec_name": self.spec_name,
            "role": self.role,
            "state": self.state,
            "claimed_by": self.claimed_by,
            "completed_by": self.completed_by,
            "completed_at": self.completed_at,
        }


@dataclass
class Snapshot:
    """The case as it stood right after one event (time travel)."""

    seq: int
    kind: str
    actor: str
    role: str | None
    at: datetime
    data: dict[str, Any]
    completed: list[str]
    active: list[str]
    tasks: list[dict[str, Any]]


@dataclass
class Replay:
    """Re-executes a case's events one at a time on a fresh instance of its procedure version."""

    case: Case
    loaded: LoadedDefinition | None
    trace: bool = False
    workflow: BpmnWorkflow | None = None
    differences: list[Difference] = field(default_factory=list)
    tasks: list[ReplayedTask] = field(default_factory=list)
    steps: int = 0
    stopped: bool = False
    closed: dict[str, Any] | None = None
    closing_due: int | None = None  # seq of the step that ended the workflow, until case_closed
    documents: dict[int, str] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    _open: dict[Any, ReplayedTask] = field(default_factory=dict)  # spiff task id → replayed task
    _recorded: dict[str, ReplayedTask] = field(default_factory=dict)  # recorded task id → replayed
    session: Session | None = None  # to find the versions a case migrated to
    stored_tasks: list[Any] | None = None  # the case's task rows, when read beforehand
    stored_documents: dict[int, str] | None = None
    stored_letters: list[Any] | None = None  # the case's letter rows, when read beforehand
    # letters: what the procedure says must be issued (seq, series, source), what the log records
    letters_due: list[tuple[int, str, str]] = field(default_factory=list)
    letters_recorded: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    letters_revoked: dict[str, int] = field(default_factory=dict)  # number → seq of its revocation
    _last_seq: int = 0

    def differ(self, seq: int | None, name: str, expected: Any, found: Any) -> None:
        self.differences.append(Difference(seq, name, expected, found))

    def stop(self, seq: int, name: str, expected: Any, found: Any) -> None:
        """The replay cannot go on past this event: record why and ignore the rest."""
        self.differ(seq, name, expected, found)
        self.stopped = True

    # --- applying events ---------------------------------------------------------------

    def apply(self, event: CaseEvent) -> None:
        if self.stopped:
            return
        self._check_order(event)
        if self.closing_due is not None and event.kind != "case_closed":
            self.differ(event.seq, "kind", "case_closed", event.kind)
            self.closing_due = None
        try:
            self._apply(event)
        except Exception as exc:  # any failure of a tampered history is a finding
            self.stop(event.seq, "replay", "the event applies to the case", f"{type(exc).__name__}: {exc}")

    def _check_order(self, event: CaseEvent) -> None:
        if event.seq != self._last_seq + 1:
            self.differ(event.seq, "seq", self._last_seq + 1, event.seq)
        self._last_seq = event.seq
        # no check that moments only grow: workers' clocks may differ a little, and the chain
        # already proves the order in which events were written

    def _apply(self, event: CaseEvent) -> None:
        kind = event.kind
        if kind not in KNOWN_EVENTS:
            self.differ(event.seq, "kind", "a known event kind", kind)
            return
        if self.workflow is None and kind != "case_started":
            self.stop(event.seq, "kind", "case_started", kind)
            return
        if kind in WORKFLOW_EVENTS and self.closed is not None:
            self.stop(event.seq, "kind", "no step after the case closed", kind)
            return
        if kind == "case_started":
            self._start(event)
        elif kind == "task_completed":
            self._complete(event)
        elif kind == "message_received":
            self._message(event)
        elif kind == "timer_fired":
            self._timers(event)
        elif kind == "case_migrated":
            self._migrate(event)
        elif kind in TASK_EVENTS:
            self._claim_or_release(event)
        elif kind == "case_closed":
            self._close(event)
        elif kind == "document_added":
            self.documents[int(event.payload.get("document_id") or 0)] = str(event.payload.get("sha256"))
        elif kind == "letter_issued":
            self.letters_recorded.append((event.seq, dict(event.payload.get("letter") or {})))
        elif kind == "letter_revoked":
            number = str((event.payload.get("letter") or {}).get("number"))
            if number in self.letters_revoked:
                self.differ(event.seq, "letter_revoked", "one revocation per letter", f"{number} again")
            self.letters_revoked[number] = event.seq
        if kind in WORKFLOW_EVENTS and not self.stopped:
            self._after_step(event)

    def _start(self, event: CaseEvent) -> None:
        if self.workflow is not None:
            self.stop(event.seq, "kind", "one case_started", "a second case_started")
            return
        if self.loaded is None:
            self.stop(event.seq, "definition", self.case.definition_id, None)
            return
        recorded = (event.payload.get("definition"), event.payload.get("version"))
        if recorded != (self.loaded.key, self.loaded.version):
            self.differ(event.seq, "payload.version", f"{self.loaded.key} v{self.loaded.version}", recorded)
        self.workflow = BpmnWorkflow(self.loaded.spec, self.loaded.subprocess_specs, script_engine=SCRIPT_ENGINE)
        with frozen_at(event.at):
            seed_start_data(self.workflow, event.payload.get("data") or {})
            self.workflow.do_engine_steps()

    def _task_for(self, event: CaseEvent) -> ReplayedTask | None:
        """The open replayed task an event names: by its recorded id once known, else by name."""
        if event.task_id:
            known = self._recorded.get(str(event.task_id))
            if known is not None:
                return known if known.state in ("ready", "claimed") else None
        taken = {id(t) for t in self._recorded.values()}
        for task in self._open.values():
            if task.spec_name == event.task_spec and id(task) not in taken:
                if event.task_id:
                    self._recorded[str(event.task_id)] = task
                return task
        return None

    def _check_role(self, event: CaseEvent, task: ReplayedTask) -> None:
        if event.role != task.role:
            self.differ(event.seq, "role", task.role, event.role)

    def _claim_or_release(self, event: CaseEvent) -> None:
        task = self._task_for(event)
        if task is None:
            self.stop(event.seq, "task_spec", "an open task", event.task_spec)
            return
        self._check_role(event, task)
        if event.kind == "task_claimed":
            task.state, task.claimed_by = "claimed", event.actor
        else:
            if task.claimed_by != event.actor:
                self.differ(event.seq, "actor", task.claimed_by, event.actor)
            task.state, task.claimed_by = "ready", None

    def _complete(self, event: CaseEvent) -> None:
        assert self.workflow is not None and self.loaded is not None
        task = self._task_for(event)
        spiff = next((s for s, t in self._open.items() if t is task), None)
        live = self.workflow.get_task_from_id(spiff) if spiff is not None else None
        if task is None or live is None or live.state != TaskState.READY:
            ready = sorted(t.task_spec.name for t in ready_user_tasks(self.workflow))
            self.stop(event.seq, "task_spec", f"one of {ready}", event.task_spec)
            return
        self._check_role(event, task)
        if task.state == "claimed" and task.claimed_by != event.actor:
            self.differ(event.seq, "actor", task.claimed_by, event.actor)
        data = (event.payload or {}).get("data") or {}
        try:
            validate_submission(self.loaded.form_schema(task.spec_name), data)
        except EngineError as exc:
            self.differ(event.seq, "payload.data", "data the task's form accepts", exc.details or exc.message)
        with frozen_at(event.at):
            live.set_data(**data)
            live.run()
            self.workflow.do_engine_steps()
        task.state, task.claimed_by = "completed", task.claimed_by or event.actor
        task.completed_by, task.completed_at = event.actor, aware(event.at)
        meta = self.loaded.tasks.get(task.spec_name)
        if meta is not None and meta.letter:  # the engine issues it in the same change
            self.letters_due.append((event.seq, meta.letter, task.spec_name))

    def _message(self, event: CaseEvent) -> None:
        assert self.workflow is not None
        name = event.payload.get("message")
        with frozen_at(event.at):
            self.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=event.payload.get("data")))
            self.workflow.do_engine_steps()

    def _migrate(self, event: CaseEvent) -> None:
        """The case moved to another version here: apply the same migration (engine.migration)."""
        assert self.workflow is not None
        from .migration import apply_migration

        target_id = event.payload.get("to_definition_id")
        target = self.session.get(ProcessDefinition, target_id) if self.session is not None and target_id else None
        if target is None:
            self.stop(event.seq, "payload.to_definition_id", "a deployed version", target_id)
            return
        loaded = load_definition(target)
        with frozen_at(event.at):
            apply_migration(self.workflow, loaded)
        self.loaded = loaded

    def _timers(self, event: CaseEvent) -> None:
        assert self.workflow is not None
        from .cases import waiting_timers

        waiting = waiting_timers(self.workflow)
        with frozen_at(event.at):
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps()
        fired = sorted(t.task_spec.bpmn_id or t.task_spec.name for t in waiting if t.state != TaskState.WAITING)
        if fired != sorted(event.payload.get("timers") or []):
            self.differ(event.seq, "payload.timers", fired, event.payload.get("timers"))

    def _close(self, event: CaseEvent) -> None:
        assert self.workflow is not None and self.loaded is not None
        if not self.workflow.completed:
            self.stop(event.seq, "kind", "no case_closed while the procedure runs", "case_closed")
            return
        if self.closed is not None:
            self.differ(event.seq, "kind", "one case_closed", "a second case_closed")
            return
        self.closing_due = None
        expected = self.outcome()
        for name in ("status", "end_event"):
            if event.payload.get(name) != expected[name]:
                self.differ(event.seq, f"payload.{name}", expected[name], event.payload.get(name))
        self.closed = {**expected, "reason": event.payload.get("reason"), "at": aware(event.at)}
        series = self.loaded.end_letters.get(expected["end_event"] or "")
        if series:  # an end event with issuesLetter: issued as the case closes
            self.letters_due.append((event.seq, series, expected["end_event"]))

    def outcome(self) -> dict[str, Any]:
        """Status and end event the replayed workflow reached (as ``save_workflow`` derives them)."""
        assert self.workflow is not None and self.loaded is not None
        end = reached_end(self.workflow)
        end_id = end.task_spec.bpmn_id if end else None
        outcome, _ = self.loaded.outcomes.get(end_id or "", ("completed", ""))
        return {
            "status": outcome if outcome in {"completed", "rejected", "expired"} else "completed",
            "end_event": end_id,
        }

    def _after_step(self, event: CaseEvent) -> None:
        """Track the user tasks the step opened and closed, then prune as the engine does."""
        assert self.workflow is not None and self.loaded is not None
        self.steps += 1
        if self.trace:
            self.visited |= {
                t.task_spec.bpmn_id
                for t in self.workflow.tasks.values()
                if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id
            }
        ready = {t.id: t for t in ready_user_tasks(self.workflow)}
        for spiff_id in [s for s in self._open if s not in ready]:
            task = self._open.pop(spiff_id)
            if task.state in ("ready", "claimed"):
                task.state = "cancelled"
        for spiff_id, live in ready.items():
            if spiff_id in self._open:
                continue
            meta = self.loaded.tasks.get(live.task_spec.name)
            role = (meta.role if meta else None) or live.task_spec.lane or "operator"
            task = ReplayedTask(live.task_spec.name, role, aware(event.at), event.seq)
            self._open[spiff_id] = task
            self.tasks.append(task)
        if self.workflow.completed and self.closed is None:
            self.closing_due = event.seq
        prune_history(self.workflow)

    # --- the state after the last event, and what the database holds ----------------------

    def data(self) -> dict[str, Any]:
        assert self.workflow is not None
        return case_data(self.workflow)

    def snapshot(self, event: CaseEvent) -> Snapshot:
        active: list[str] = []
        if self.workflow is not None:
            active = sorted(
                {
                    t.task_spec.bpmn_id
                    for t in self.workflow.tasks.values()
                    if t.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED) and t.task_spec.bpmn_id
                }
            )
        return Snapshot(
            seq=event.seq,
            kind=event.kind,
            actor=event.actor,
            role=event.role,
            at=aware(event.at),
            data=self.data() if self.workflow is not None else {},
            completed=sorted(self.visited - set(active)),
            active=active,
            tasks=[t.row() for t in self.tasks],
        )

    def finish(self, session: Session) -> None:
        """Compare the replayed end state with the stored one (unless the replay stopped)."""
        if self.closing_due is not None:
            self.differ(self.closing_due, "kind", "case_closed after the last step", None)
        if self.stopped or self.workflow is None:
            if self.workflow is None and not self.stopped:
                self.differ(None, "events", "a case_started event", None)
            return
        compare_stored(session, self)


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The case's data: the end event's when it ended, else the open task's (or the workflow's)."""
    end = reached_end(workflow)
    if end is not None:
        data = end.data
    else:
        ready = ready_user_tasks(workflow)
        data = ready[0].data if ready else workflow.data
    return {k: v for k, v in data.items() if not callable(v)}


def _titles(loaded: LoadedDefinition, workflow: BpmnWorkflow) -> str | None:
    titles = []
    for task in ready_user_tasks(workflow):
        meta = loaded.tasks.get(task.task_spec.name)
        titles.append(meta.title if meta else task.task_spec.name)
    return ", ".join(titles)[:200] or None


def compare_stored(session: Session, replay: Replay) -> None:
    """Every difference between the replay and the stored workflow state, case row and task rows."""
    case, workflow, loaded = replay.case, replay.workflow, replay.loaded
    assert workflow is not None and loaded is not None
    try:
        _, stored = restore_workflow(case, loaded=loaded)
    except Exception as exc:  # an unreadable state is a finding, not a crash
        replay.differ(None, "state", "a readable workflow state", f"{type(exc).__name__}: {exc}")
        stored = None
    if stored is not None:
        replayed_ready = sorted(t.task_spec.name for t in ready_user_tasks(workflow))
        stored_ready = sorted(t.task_spec.name for t in ready_user_tasks(stored))
        if replayed_ready != stored_ready:
            replay.differ(None, "state.ready_tasks", replayed_ready, stored_ready)
        if workflow.completed != stored.completed:
            replay.differ(None, "state.completed", workflow.completed, stored.completed)
        mine, theirs = case_data(workflow), case_data(stored)
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                replay.differ(None, f"state.data.{key}", mine.get(key), theirs.get(key))
    expected_row: dict[str, Any] = {
        "status": "active",
        "outcome": None,
        "closed_at": None,
        "current_step": _titles(loaded, workflow),
        "next_timer_at": next_timer_at(workflow),
    }
    if replay.closed is not None:
        expected_row.update(
            status=replay.closed["status"],
            outcome=replay.closed["end_event"],
            closed_at=replay.closed["at"],
            next_timer_at=None,
        )
    for name, expected in expected_row.items():
        found = getattr(case, name)
        if isinstance(found, datetime):
            found = aware(found)
        if expected != found:
            replay.differ(None, f"case.{name}", _plain(expected), _plain(found))
    _compare_tasks(session, replay)
    _compare_documents(session, replay)
    _compare_letters(session, replay)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


_TASK_COLUMNS = (
    HumanTask.case_id,
    HumanTask.created_at,
    HumanTask.spec_name,
    HumanTask.role,
    HumanTask.state,
    HumanTask.claimed_by,
    HumanTask.completed_by,
    HumanTask.completed_at,
)


def stored_tasks(session: Session, case_ids: list[int]) -> dict[int, list[Any]]:
    """The task rows of several cases in one query, each case's in creation order."""
    found: dict[int, list[Any]] = {case_id: [] for case_id in case_ids}
    stmt = select(*_TASK_COLUMNS).where(HumanTask.case_id.in_(case_ids))
    for row in session.execute(stmt.order_by(HumanTask.case_id, HumanTask.created_at, HumanTask.spec_name)):
        found[row.case_id].append(row)
    return found


def stored_documents(session: Session, case_ids: list[int]) -> dict[int, dict[int, str]]:
    """Each case's documents (id → sha256), for several cases in one query."""
    found: dict[int, dict[int, str]] = {case_id: {} for case_id in case_ids}
    stmt = select(Document.case_id, Document.id, Document.sha256).where(Document.case_id.in_(case_ids))
    for case_id, document_id, digest in session.execute(stmt):
        found[case_id][document_id] = digest
    return found


def _compare_tasks(session: Session, replay: Replay) -> None:
    """Same user tasks in the same order, each in the same state, done by the same people."""
    rows = replay.stored_tasks
    if rows is None:
        rows = stored_tasks(session, [replay.case.id])[replay.case.id]
    replayed = sorted(replay.tasks, key=lambda t: (t.created_at, t.spec_name))
    if [r.spec_name for r in rows] != [t.spec_name for t in replayed]:
        replay.differ(None, "tasks", [t.spec_name for t in replayed], [r.spec_name for r in rows])
        return
    for index, (row, task) in enumerate(zip(rows, replayed, strict=True)):
        found = {
            "spec_name": row.spec_name,
            "role": row.role,
            "state": row.state,
            "claimed_by": row.claimed_by,
            "completed_by": row.completed_by,
            "completed_at": aware(row.completed_at) if row.completed_at and row.state == "completed" else None,
        }
        for name, expected in task.row().items():
            if expected != found[name]:
                replay.differ(task.seq, f"tasks[{index}].{name}", _plain(expected), _plain(found[name]))


def _compare_documents(session: Session, replay: Replay) -> None:
    rows = replay.stored_documents
    if rows is None:
        rows = stored_documents(session, [replay.case.id])[replay.case.id]
    if rows != replay.documents:
        replay.differ(None, "documents", replay.documents, rows)


_LETTER_COLUMNS = (
    Letter.case_id,
    Letter.series,
    Letter.number,
    Letter.source,
    Letter.verify_token,
    Letter.sha256,
    Letter.size,
    Letter.status,
    Letter.pdf,
)
_LETTER_FIELDS = ("series", "number", "source", "verify_token", "sha256", "size")


def stored_letters(session: Session, case_ids: list[int]) -> dict[int, list[Any]]:
    """Each case's letter rows (with their PDF bytes), oldest first, for several cases in one query."""
    found: dict[int, list[Any]] = {case_id: [] for case_id in case_ids}
    stmt = select(*_LETTER_COLUMNS).where(Letter.case_id.in_(case_ids)).order_by(Letter.case_id, Letter.id)
    for row in session.execute(stmt):
        found[row.case_id].append(row)
    return found


def _compare_letters(session: Session, replay: Replay) -> None:
    """Same letters: issued where the procedure says, as the log records them, the PDF unchanged.

    The recorded ``letter_issued`` payload (protected by the chain) names the letter's number and
    the SHA-256 of its signed PDF; the stored row and its bytes must still say the same.
    """
    rows = replay.stored_letters
    if rows is None:
        rows = stored_letters(session, [replay.case.id])[replay.case.id]
    due = [(series, source) for _, series, source in replay.letters_due]
    recorded = [(str(r.get("series")), str(r.get("source"))) for _, r in replay.letters_recorded]
    if due != recorded:
        first = replay.letters_due or replay.letters_recorded
        replay.differ(first[0][0] if first else None, "letters", due, recorded)
    by_number = {row.number: row for row in rows}
    for seq, record in replay.letters_recorded:
        number = str(record.get("number"))
        row = by_number.pop(number, None)
        if row is None:
            replay.differ(seq, f"letter[{number}]", "the stored letter", None)
            continue
        for name in _LETTER_FIELDS:
            if record.get(name) != getattr(row, name):
                replay.differ(seq, f"letter[{number}].{name}", record.get(name), getattr(row, name))
        digest = hashlib.sha256(bytes(row.pdf or b"")).hexdigest()
        if digest != record.get("sha256"):
            replay.differ(seq, f"letter[{number}].pdf", f"sha256 {record.get('sha256')}", f"sha256 {digest}")
        status = "revoked" if number in replay.letters_revoked else "valid"
        if row.status != status:
            replay.differ(replay.letters_revoked.get(number, seq), f"letter[{number}].status", status, row.status)
    for number, row in by_number.items():  # rows no event records
        replay.differ(None, f"letter[{number}]", None, f"a stored {row.series} letter no event records")
    for number, seq in replay.letters_revoked.items():
        if not any(str(r.get("number")) == number for _, r in replay.letters_recorded):
            replay.differ(seq, f"letter[{number}]", "an issued letter of this case", None)


def _started_on(session: Session, case: Case, events: list[CaseEvent]) -> ProcessDefinition | None:
    """The version the case started on: its own, unless it migrated since (``case_migrated``)."""
    if not any(e.kind == "case_migrated" for e in events):
        return session.get(ProcessDefinition, case.definition_id)
    started = next((e for e in events if e.kind == "case_started"), None)
    payload = started.payload if started is not None else {}
    return session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.key == payload.get("definition"), ProcessDefinition.version == payload.get("version")
        )
    ).first()


def start_replay(session: Session, case: Case, events: list[CaseEvent], trace: bool = False) -> Replay:
    """A replay of ``case`` on the version it started on (None there when the version is missing)."""
    loaded = None
    definition = _started_on(session, case, events)
    replay = Replay(case, None, trace=trace, session=session)
    if definition is None:
        return replay
    try:
        loaded = load_definition(definition)
    except Exception as exc:  # an unreadable version is a finding
        replay.differ(None, "definition", f"{definition.key} v{definition.version}", f"{type(exc).__name__}: {exc}")
    replay.loaded = loaded
    return replay


def replay_events(
    session: Session,
    case: Case,
    events: Iterable[CaseEvent],
    tasks: list[Any] | None = None,
    documents: dict[int, str] | None = None,
    letters: list[Any] | None = None,
) -> Replay:
    """Replay ``events`` of ``case`` and compare the outcome with what is stored.

    ``tasks``, ``documents`` and ``letters`` are the case's stored rows when the caller read them
    already (:func:`stored_tasks`, :func:`stored_documents`, :func:`stored_letters`, many cases at once).
    """
    events = list(events)
    replay = start_replay(session, case, events)
    replay.stored_tasks, replay.stored_documents, replay.stored_letters = tasks, documents, letters
    for event in events:
        replay.apply(event)
    replay.finish(session)
    return replay


def replay_case(session: Session, case: Case) -> dict[str, Any]:
    """Return ``{consistent, chain_valid, steps, differences}`` for one case (chain and replay)."""
    events = case_events(session, case)
    chain = check_chain(case, events)
    replay = replay_events(session, case, events)
    differences = chain + replay.differences
    return {
        "consistent": not differences,
        "chain_valid": not chain,
        "steps": replay.steps,
        "differences": [d.as_dict() for d in differences],
    }


def history_snapshots(session: Session, case: Case) -> list[Snapshot]:
    """The case after each of its events, as the replay rebuilds it (the stored state unused)."""
    events = case_events(session, case)
    replay = start_replay(session, case, events, trace=True)
    snapshots = []
    for event in events:
        replay.apply(event)
        snapshots.append(replay.snapshot(event))
    return snapshots
