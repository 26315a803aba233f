"""Assigning a social companion to a case: one audited case event, and two messages queued.

The companion hears whom to accompany; the applicant hears who their companion is. Both go
through the notification outbox in the same transaction as the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import regions
from .audit import Actor, NewEvent, append_event
from .cases import lock_case
from .companions import SHORT_ROLES, get_companion, phone_display
from .errors import Conflict, Forbidden, InvalidSubmission
from .intake import SERVICES
from .models import Case, CaseEvent, Companion
from .notifications import queue_for_case_change, queue_to

ASSIGNERS = {"manager", "operator", "supervisor"}
EVENT_KIND = "companion_assigned"
MAX_NOTE_LENGTH = 500


def assign_companion(
    session: Session, case: Case, companion_id: int, actor: Actor, now: datetime, note: str = ""
) -> NewEvent:
    """Assign a companion of the directory to ``case``.

    Raises Forbidden (not manager/operator/supervisor), NotFound, Conflict (case closed,
    companion inactive or already assigned), InvalidSubmission (note too long).
    """
    if not set(actor.roles) & ASSIGNERS:
        raise Forbidden("Hanya manajer, operator, atau supervisor yang dapat menugaskan pendamping")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidSubmission("Catatan terlalu panjang", {"note": f"Maksimal {MAX_NOTE_LENGTH} karakter."})
    companion = get_companion(session, companion_id)
    if not companion.active:
        raise Conflict("Pendamping ini tidak aktif lagi; pilih pendamping lain")
    locked = lock_case(session, case.id)
    if locked.status != "active":
        raise Conflict("Kasus ini sudah ditutup")
    current = assigned_companion_id(session, locked)
    if current == companion.id:
        raise Conflict("Pendamping ini sudah ditugaskan pada kasus ini")
    payload: dict[str, Any] = {
        "companion_id": companion.id,
        "name": companion.name,
        "role": companion.role,
        "kecamatan_code": companion.kecamatan_code,
    }
    if note:
        payload["note"] = note
    if current is not None:
        payload["replaces"] = current
    event = append_event(session, locked, EVENT_KIND, actor, now, payload=payload, case_values={"updated_at": now})
    village = regions.village(locked.village_code) if locked.village_code else None
    service = SERVICES.get(locked.service or "", (locked.kind,))[0]
    queue_to(
        session,
        locked,
        "companion_assigned",
        companion.whatsapp or companion.phone,
        now,
        event_seq=event.seq,
        service=service,
        applicant=locked.applicant_name or "-",
        desa=village.name if village else "-",
    )
    queue_for_case_change(
        session,
        locked,
        "companion_for_applicant",
        now,
        event_seq=event.seq,
        companion=companion.name,
        role=SHORT_ROLES.get(companion.role, companion.role),
        phone=phone_display(companion.phone),
    )
    return event


def assigned_companion_id(session: Session, case: Case) -> int | None:
    """The companion of the case's latest assignment event, if any."""
    payload = session.scalar(
        select(CaseEvent.payload)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == EVENT_KIND)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    return int(payload["companion_id"]) if payload else None


def assigned_companion(session: Session, case: Case) -> Companion | None:
    """The case's companion as the directory has them now (phone numbers change)."""
    companion_id = assigned_companion_id(session, case)
    return session.get(Companion, companion_id) if companion_id is not None else None
