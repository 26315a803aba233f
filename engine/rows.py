"""Writes on the hot path: one Core statement per row change, ORM objects kept in step.

The unit of work's bookkeeping (change tracking, dependency sorting, a flush per batch) costs
several times what the SQL does for the few rows a step of a case touches. These helpers write
with single Core statements on the session's connection, inside the session's transaction,
and set the written values on any ORM object of that row as its committed state, so the
session neither writes them again nor shows stale values. Statements are built once per set
of columns and reused, so each call only binds parameters.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from .models import Case, CaseEvent, HumanTask, Notification

_CASE = cast(Table, Case.__table__)
_TASK = cast(Table, HumanTask.__table__)
_INSERTS = {model: insert(cast(Table, model.__table__)) for model in (HumanTask, CaseEvent, Notification)}
_statements: dict[tuple[str, frozenset[str]], Any] = {}

UNSAVED_HEADS = "sibalang.unsaved_chain_heads"


def _case_update(columns: frozenset[str]) -> Any:
    stmt = _statements.get(("case", columns))
    if stmt is None:
        stmt = (
            update(_CASE)
            .where(_CASE.c.id == bindparam("w_id"), _CASE.c.lock_version == bindparam("w_version"))
            .values({name: bindparam(f"v_{name}", type_=_CASE.c[name].type) for name in columns})
        )
        _statements["case", columns] = stmt
    return stmt


def _task_update(columns: frozenset[str]) -> Any:
    stmt = _statements.get(("task", columns))
    if stmt is None:
        stmt = (
            update(_TASK)
            .where(_TASK.c.id == bindparam("w_id"))
            .values({name: bindparam(f"v_{name}", type_=_TASK.c[name].type) for name in columns})
        )
        _statements["task", columns] = stmt
    return stmt


def update_case(session: Session, case: Case, values: dict[str, Any]) -> None:
    """UPDATE the case row under its optimistic lock (``lock_version``), as the ORM would.

    Also writes the head of its event chain (see ``audit.append_event``). Raises
    StaleDataError when another transaction changed the row since it was read.
    """
    (session.info.get(UNSAVED_HEADS) or {}).pop(case.id, None)
    old = case.lock_version
    values = {
        **values,
        "event_count": case.event_count,
        "last_event_hash": case.last_event_hash,
        "lock_version": old + 1,
    }
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(w_id=case.id, w_version=old)
    result = session.connection().execute(_case_update(frozenset(values)), params)
    if result.rowcount != 1:
        raise StaleDataError(f"case {case.reference} was changed by another transaction")
    for key, value in values.items():
        set_committed_value(case, key, value)


def update_tasks(session: Session, task_ids: list[str], values: dict[str, Any]) -> None:
    """UPDATE ``human_task`` rows by id, and the session's objects for them."""
    if not task_ids:
        return
    params = {f"v_{name}": value for name, value in values.items()}
    rows = [{**params, "w_id": task_id} for task_id in task_ids]
    session.connection().execute(_task_update(frozenset(values)), rows[0] if len(rows) == 1 else rows)
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
        session.connection().execute(_INSERTS[model], rows)
