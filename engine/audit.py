"""The hash-chained audit log of a case."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from .clock import aware
from .models import Case, CaseEvent

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who does something: a staff user, the applicant, or the system (timers)."""

    username: str
    roles: tuple[str, ...] = ()
    bidang: str | None = None
    full_name: str = ""

    @property
    def primary_role(self) -> str | None:
        return self.roles[0] if self.roles else None


SYSTEM = Actor("system", ("system",), full_name="Sistem")
APPLICANT = Actor("applicant", ("applicant",), full_name="Pemohon")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def _body(case_reference: str, event: CaseEvent | NewEvent) -> dict[str, Any]:
    return {
        "case": case_reference,
        "seq": event.seq,
        "kind": event.kind,
        "actor": event.actor,
        "role": event.role,
        "at": aware(event.at).isoformat(),
        "task_id": event.task_id,
        "task_spec": event.task_spec,
        "payload": event.payload,
    }


@dataclass
class NewEvent:
    """An event as appended in this unit of work (its row is written by :func:`write_events`)."""

    case_id: int
    seq: int
    kind: str
    actor: str
    role: str | None
    at: datetime
    task_id: str | None
    task_spec: str | None
    payload: dict[str, Any]
    hash: str = ""

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _EVENT_COLUMNS}


def chain_event(
    case: Case,
    kind: str,
    actor: Actor,
    now: datetime,
    *,
    role: str | None = None,
    task_id: str | None = None,
    task_spec: str | None = None,
    payload: dict[str, Any] | None = None,
) -> NewEvent:
    """The next event of the case's chain; moves the chain head (``event_count``,
    ``last_event_hash``) on the case object, which the session writes with the case row.
    Writes nothing itself: hand the events to :func:`write_events` after the case row is flushed.
    """
    payload_text = canonical_json(payload or {})
    event = NewEvent(
        case_id=case.id,
        seq=case.event_count + 1,
        kind=kind,
        actor=actor.username,
        role=role if role is not None else actor.primary_role,
        at=aware(now),
        task_id=task_id,
        task_spec=task_spec,
        # stored as parsed back from its canonical text: the hash covers what the database returns
        payload=json.loads(payload_text),
    )
    event.hash = hashlib.sha256(
        (case.last_event_hash + _body_text(case.reference, event, payload_text)).encode()
    ).hexdigest()
    case.event_count, case.last_event_hash = event.seq, event.hash
    return event


_EVENT_TABLE = cast(Table, CaseEvent.__table__)
_EVENT_INSERT = insert(_EVENT_TABLE)


def write_events(session: Session, events: list[NewEvent]) -> None:
    """INSERT the events' rows, one statement for all (their cases' rows must be flushed)."""
    if events:
        # on the session's connection (same transaction, same statement events): a Core INSERT
        # with a list of rows through Session.execute takes the ORM's bulk path, 2-3x the cost
        session.connection().execute(_EVENT_INSERT, [event.row() for event in events])


def append_event(
    session: Session,
    case: Case,
    kind: str,
    actor: Actor,
    now: datetime,
    *,
    role: str | None = None,
    task_id: str | None = None,
    task_spec: str | None = None,
    payload: dict[str, Any] | None = None,
    case_values: dict[str, Any] | None = None,
) -> NewEvent:
    """Append one event to the case's chain and write it with the case's new head.

    ``case_values``: other columns of the case to set in the same write. Flushes.
    """
    event = chain_event(case, kind, actor, now, role=role, task_id=task_id, task_spec=task_spec, payload=payload)
    for name, value in (case_values or {}).items():
        setattr(case, name, value)
    session.flush()  # the case row with its new head, under its optimistic lock (a new case: its id)
    event.case_id = case.id
    write_events(session, [event])
    return event


def _body_text(case_reference: str, event: NewEvent, payload_text: str) -> str:
    """``canonical_json(_body(...))`` with the payload's canonical text spliced in, not redone."""
    body = _body(case_reference, event)
    del body["payload"]  # keys sort as: actor at case kind | payload | role seq task_id task_spec
    head = {k: body[k] for k in ("actor", "at", "case", "kind")}
    tail = {k: body[k] for k in ("role", "seq", "task_id", "task_spec")}
    return f'{canonical_json(head)[:-1]},"payload":{payload_text},{canonical_json(tail)[1:]}'


_EVENT_COLUMNS = ("case_id", "seq", "kind", "actor", "role", "at", "task_id", "task_spec", "payload", "hash")


def case_events(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))


def chained(events: list[CaseEvent]) -> list[tuple[CaseEvent, str]]:
    """Each event with the hash it chains from (the previous event's, or GENESIS_HASH)."""
    pairs, prev = [], GENESIS_HASH
    for event in events:
        pairs.append((event, prev))
        prev = event.hash
    return pairs


def verify_chain(session: Session, case: Case) -> list[str]:
    """Return the problems found in the case's event chain (empty when intact)."""
    problems = []
    prev = GENESIS_HASH
    events = case_events(session, case)
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            problems.append(f"event {event.seq}: expected sequence number {expected_seq}")
        if event_hash(prev, _body(case.reference, event)) != event.hash:
            problems.append(f"event {event.seq}: hash does not match its content and the previous event")
        prev = event.hash
    if events and case.last_event_hash != prev:
        problems.append("case head hash does not match the last event")
    if len(events) != case.event_count:
        problems.append(f"case counts {case.event_count} events, log holds {len(events)}")
    return problems
