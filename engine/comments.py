"""Internal staff comments on a case: appended to the case's audit chain, never shown to applicants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .audit import Actor, NewEvent, append_event
from .cases import lock_case
from .errors import InvalidSubmission
from .models import Case
from .roles import require_writer

MAX_COMMENT_LENGTH = 2000


def add_comment(session: Session, case: Case, actor: Actor, text: str, now: datetime) -> NewEvent:
    """Append an internal comment to ``case``. Raises Forbidden (read-only role), InvalidSubmission, NotFound."""
    require_writer(actor)
    body = (text or "").strip()
    if not body:
        raise InvalidSubmission("Komentar kosong", {"comment": "Wajib diisi."})
    if len(body) > MAX_COMMENT_LENGTH:
        raise InvalidSubmission("Komentar terlalu panjang", {"comment": f"Maksimal {MAX_COMMENT_LENGTH} karakter."})
    locked = lock_case(session, case.id)
    return append_event(session, locked, "comment", actor, now, payload={"text": body}, case_values={"updated_at": now})
