"""What administrators did that concerns no case: an append-only log beside the case events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import Actor
from .models import AdminEvent


def record_admin_event(
    session: Session, actor: Actor, action: str, target: str, now: datetime, payload: dict[str, Any] | None = None
) -> AdminEvent:
    """Append one event (``user_created``, ``password_reset``, ``service_saved``…); flushes."""
    event = AdminEvent(at=now, actor=actor.username, action=action, target=target[:128], payload=payload or {})
    session.add(event)
    session.flush()
    return event


def admin_events(session: Session, limit: int = 100) -> list[AdminEvent]:
    """The newest events first."""
    return list(session.scalars(select(AdminEvent).order_by(AdminEvent.id.desc()).limit(limit)))
