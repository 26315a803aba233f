"""Writes on the hot path: one Core statement per row change, ORM objects kept in step.

The unit of work's bookkeeping (change tracking, dependency sorting, a flush per batch) costs
several times what the SQL does for the few rows a step of a case touches. These helpers write
with single Core statements on the session's connection, inside the session's transaction,
and set the written values on any ORM object of that row as its committed state, so the
session neither writes them again nor shows stale values.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from .models import Case, CaseEvent, HumanTask, Notification

_CASE = cast(Table, Case.__table__)
_TASK = cast(Table, HumanTask.__table__)


UNSAVED_HEADS = "sibalang.unsaved_chain_heads"


def update_case(session: Session, case: Case, values: dict[str, Any]) -> None:
    """UPDATE the case row under its optimistic lock (``lock_version``), as the ORM would.

    Also writes the head of its event chain (see ``audit.append_event``). Raises
    StaleDataError when another transaction changed the row since it was read.
    """
    (session.info.get(UNSAVED_HEADS) or {}).pop(case.id, None)
    values = {**values, "event_count": case.event_count, "last_event_hash": case.last_event_hash}
    old = case.lock_version
    result = session.connection().execute(
        update(_CASE).where(_CASE.c.id == case.id, _CASE.c.lock_version == old).values(**values, lock_version=old + 1)
    )
    if result.rowcount != 1:
        raise StaleDataError(f"case {case.reference} was changed by another transaction")
    for key, value in values.items():
        set_committed_value(case, key, value)
    set_committed_value(case, "lock_version", old + 1)


def update_tasks(session: Session, task_ids: list[str], values: dict[str, Any]) -> None:
    """UPDATE ``human_task`` rows by id, and the session's objects for them."""
    if not task_ids:
        return
    session.connection().execute(update(_TASK).where(_TASK.c.id.in_(task_ids)).values(**values))
    for task_id in task_ids:
        row = session.identity_map.get(identity_key(HumanTask, task_id))
        if row is not None:
            for key, value in values.items():
                set_committed_value(row, key, value)


def insert_rows(
    session: Session, model: type[HumanTask | CaseEvent | Notification], rows: list[dict[str, Any]]
) -> None:
    """INSERT rows of ``model`` (one statement; several rows as one executemany)."""
    if rows:
        session.connection().execute(insert(cast(Table, model.__table__)), rows)
