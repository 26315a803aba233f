"""Timers: find cases whose timers are due and fire them, one unit of work per case.

The timer worker (``flask --app web timers run``) calls these; on PostgreSQL several workers
share the work, skipping rows another worker holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import Actor
from .cases import begin_change, lock_case, next_timer_at, restore_workflow, save_workflow, settle_due_timers
from .clock import aware
from .models import Case


def due_timer_case_ids(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Active cases with a timer due at ``now``; PostgreSQL workers skip rows others hold."""
    stmt = (
        select(Case.id)
        .where(Case.status == "active", Case.next_timer_at.is_not(None), Case.next_timer_at <= aware(now))
        .order_by(Case.next_timer_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def fire_due_timers(session: Session, case_id: int, actor: Actor, now: datetime) -> list[str]:
    """Fire the case's expired timers and advance it; return the names of the timers fired."""
    case = lock_case(session, case_id)
    if case.status != "active":
        return []
    loaded, workflow = restore_workflow(case, for_update=True)
    change = begin_change(case, workflow)
    fired = settle_due_timers(change, workflow, now)
    if not fired:
        case.next_timer_at = next_timer_at(workflow)
        session.flush()
        return []
    save_workflow(session, change, loaded, workflow, actor, now)
    return fired
