"""Integrity of the record: each case's hash chain, checked event by event, and its replay.

:func:`check_chain` re-derives every event's hash from its content and its predecessor's, so a
changed byte, a removed, inserted or swapped event, or a case head that does not match the log
shows up as a :class:`~engine.replay.Difference` at the event where it happened. What one case's
chain cannot show — its last events or the whole case removed together with its head — is the
anchors' job (:mod:`engine.anchors`).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from . import anchors
from .append_only import missing_guards
from .audit import case_events
from .chain import Difference, check_chain
from .clock import aware
from .models import Case, CaseEvent, ProcessDefinition
from .replay import replay_events, stored_documents, stored_letters, stored_tasks


@dataclass
class CaseVerdict:
    """What verifying one case found."""

    reference: str
    events: int
    steps: int
    chain: list[Difference] = field(default_factory=list)
    replay: list[Difference] = field(default_factory=list)
    anchor: list[Difference] = field(default_factory=list)
    missing: bool = False

    @property
    def chain_valid(self) -> bool:
        return not self.chain and not self.anchor and not self.missing

    @property
    def consistent(self) -> bool:
        return self.chain_valid and not self.replay

    @property
    def differences(self) -> list[Difference]:
        return self.chain + self.anchor + self.replay

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "consistent": self.consistent,
            "chain_valid": self.chain_valid,
            "missing": self.missing,
            "events": self.events,
            "steps": self.steps,
            "differences": [d.as_dict() for d in self.differences],
        }


Anchored = tuple[tuple[int, str], int]  # ((event_count, hash), anchor seq)


def check_anchored(events: list[CaseEvent], anchored: Anchored | None) -> list[Difference]:
    """The case must still hold the event an anchor signed, with the same hash."""
    if anchored is None:
        return []
    (count, digest), seq = anchored
    if len(events) < count:
        return [Difference(count, "event_count", f">= {count} (anchor {seq})", len(events))]
    if events[count - 1].hash != digest:
        return [Difference(count, "hash", f"{digest} (anchor {seq})", events[count - 1].hash)]
    return []


def verify_case(
    session: Session,
    case: Case,
    anchored: Anchored | None = None,
    preloaded: tuple[list[Any], list[Any], dict[int, str], list[Any]] | None = None,
) -> CaseVerdict:
    """Check ``case``'s chain (and what an anchor signed of it) and replay it; never raises.

    ``preloaded``: the case's events (mapped or plain rows with their columns), task rows,
    documents and letters when read beforehand.
    """
    if preloaded is not None:
        events, tasks, documents, letters = preloaded
    else:
        events, tasks, documents, letters = case_events(session, case), None, None, None
    verdict = CaseVerdict(case.reference, len(events), 0, chain=check_chain(case, events))
    verdict.anchor = check_anchored(events, anchored)
    replay = replay_events(session, case, events, tasks, documents, letters)
    verdict.steps, verdict.replay = replay.steps, replay.differences
    return verdict


def cases_to_verify(session: Session, reference: str | None = None, since: datetime | None = None) -> list[int]:
    """Ids of the cases to verify: one by reference, or all (changed since ``since``), oldest first."""
    stmt = select(Case.id).order_by(Case.id)
    if reference is not None:
        stmt = stmt.where(Case.reference == reference)
    if since is not None:
        stmt = stmt.where(Case.updated_at >= aware(since))
    return list(session.scalars(stmt))


@contextlib.contextmanager
def batch_collector() -> Iterator[None]:
    """The objects alive before a verification run left out of Python's cycle collections during it.

    Each replayed workflow is a tree of tasks that point at their parents, freed by the cycle
    collector rather than by reference counts, so full collections keep coming — and each one
    walked the few hundred thousand long-lived objects of the app, its mappers and the parsed
    procedures: about a tenth of a replay's cost (measured with ``gc.callbacks``), a third of
    that once they are frozen. The run's own garbage is still collected (memory stays flat).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


_EVENT_COLUMNS = tuple(CaseEvent.__table__.columns)


def verify_cases(
    session: Session, case_ids: list[int], anchored: dict[str, Anchored] | None = None, batch: int = 200
) -> Iterator[CaseVerdict]:
    """Verify cases in batches (a few queries per batch), forgetting each batch (memory stays flat).

    For a batch job: the process's garbage collector is tuned while it runs (:func:`batch_collector`).
    """
    with batch_collector():
        yield from _verify_batches(session, case_ids, anchored or {}, batch)


def _verify_batches(
    session: Session, case_ids: list[int], anchored: dict[str, Anchored], batch: int
) -> Iterator[CaseVerdict]:
    for start in range(0, len(case_ids), batch):
        chunk = case_ids[start : start + batch]
        # plain rows with the events' columns (what the chain and the replay read), not mapped
        # objects: identity-map bookkeeping for ~10 events per case was a twentieth of the cost
        events: dict[int, list[Any]] = {case_id: [] for case_id in chunk}
        for event in session.execute(
            select(*_EVENT_COLUMNS).where(CaseEvent.case_id.in_(chunk)).order_by(CaseEvent.case_id, CaseEvent.seq)
        ):
            events[event.case_id].append(event)
        tasks, documents = stored_tasks(session, chunk), stored_documents(session, chunk)
        letters = stored_letters(session, chunk)
        # held for the batch: the session's identity map keeps only weak references, and each
        # replay looks its version up again (one SELECT per case without this)
        versions = list(
            session.scalars(
                select(ProcessDefinition).where(
                    ProcessDefinition.id.in_(select(Case.definition_id).where(Case.id.in_(chunk)))
                )
            )
        )
        for case in session.scalars(select(Case).where(Case.id.in_(chunk)).order_by(Case.id)):
            preloaded = (events[case.id], tasks[case.id], documents[case.id], letters[case.id])
            yield verify_case(session, case, anchored.get(case.reference), preloaded)
        session.expunge_all()
        del versions  # released with the batch


# --- several processes: replay is CPU-bound Python, so one process uses one core ---------

_worker: dict[str, Any] = {}


def _worker_start(database_url: str, anchored: dict[str, Anchored]) -> None:
    """A verification worker: its own engine and session (never a connection of its parent's)."""
    _worker.update(session=Session(create_engine(database_url)), anchored=anchored)
    gc.freeze()  # once for the worker's life (see batch_collector), not around every chunk


def _worker_verify(case_ids: list[int]) -> list[CaseVerdict]:
    session: Session = _worker["session"]
    try:
        return list(_verify_batches(session, case_ids, _worker["anchored"], batch=len(case_ids)))
    finally:
        session.rollback()  # read only: end the snapshot, keep nothing


def verify_cases_in_workers(
    database_url: str, case_ids: list[int], anchored: dict[str, Anchored] | None, workers: int, batch: int = 100
) -> Iterator[CaseVerdict]:
    """:func:`verify_cases` split over ``workers`` processes; verdicts come back in case order.

    Each worker opens its own connection to ``database_url`` (a file or a server: an in-memory
    SQLite database is not shared between processes). Processes are spawned, not forked, so no
    connection or lock of the parent is inherited.
    """
    if database_url in {"sqlite://", "sqlite:///:memory:"}:
        raise ValueError("an in-memory SQLite database cannot be verified by several processes")
    chunks = [case_ids[start : start + batch] for start in range(0, len(case_ids), batch)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_start, initargs=(database_url, anchored or {})
    ) as pool:
        for verdicts in pool.map(_worker_verify, chunks):
            yield from verdicts


def missing_cases(session: Session, anchored: dict[str, Anchored]) -> list[CaseVerdict]:
    """Anchored cases the database no longer holds."""
    present = set(session.scalars(select(Case.reference)))
    verdicts = []
    for reference in sorted(set(anchored) - present):
        (count, _), seq = anchored[reference]
        missing = Difference(None, "case", f"{count} events (anchor {seq})", "missing")
        verdicts.append(CaseVerdict(reference, 0, 0, anchor=[missing], missing=True))
    return verdicts


@dataclass
class VerificationPlan:
    """What a verification run checks: the anchors, then each case, then anchored cases gone."""

    case_ids: list[int]
    anchored: dict[str, Anchored]
    anchor_problems: list[Difference]
    missing: list[CaseVerdict]
    missing_guards: list[str]
    anchors: int
    signatures_checked: bool


def plan_verification(
    session: Session,
    *,
    reference: str | None = None,
    since: datetime | None = None,
    certificate: Any = None,
    exported: list[dict[str, Any]] | None = None,
) -> VerificationPlan:
    """Check the anchors (and an exported copy of them) and list the cases to verify.

    ``certificate`` checks the anchors' signatures; ``exported`` are anchors an auditor kept
    outside the system, which the database must still hold unchanged.
    """
    stored = anchors.stored_records(session)
    problems = anchors.check_anchor_chain(stored, certificate)
    records = stored
    if exported is not None:
        problems += anchors.check_anchor_chain(exported, certificate)
        problems += anchors.compare_with_export(stored, exported)
        last = max((r["seq"] for r in exported), default=0)
        records = exported + [r for r in stored if r["seq"] > last]
    anchored = anchors.fold_heads(records)
    if reference is not None:
        anchored = {k: v for k, v in anchored.items() if k == reference}
    missing = missing_cases(session, anchored)
    return VerificationPlan(
        case_ids=cases_to_verify(session, reference, since),
        anchored=anchored,
        anchor_problems=problems,
        missing=missing,
        missing_guards=missing_guards(session),
        anchors=len(records),
        signatures_checked=certificate is not None,
    )
