"""Drafts: an administrator's unfinished edit of a procedure's files, kept until deployed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .audit import Actor
from .errors import InvalidSubmission
from .models import ProcedureDraft

MAX_DRAFT_BYTES = 4 * 1024 * 1024


def save_draft(session: Session, key: str, files: dict[str, str], actor: Actor, now: datetime) -> ProcedureDraft:
    """Keep the editor's files for ``key`` (one draft per procedure). Raises InvalidSubmission."""
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise InvalidSubmission("Draf tidak valid", {"files": "Harus berupa objek nama berkas → teks."})
    if sum(len(v) for v in files.values()) > MAX_DRAFT_BYTES:
        raise InvalidSubmission("Draf terlalu besar", {"files": "Maksimal 4 MB."})
    draft = session.get(ProcedureDraft, key)
    if draft is None:
        draft = ProcedureDraft(key=key)
        session.add(draft)
    draft.files, draft.updated_by, draft.updated_at = dict(files), actor.username, now
    session.flush()
    return draft


def get_draft(session: Session, key: str) -> ProcedureDraft | None:
    return session.get(ProcedureDraft, key)


def discard_draft(session: Session, key: str) -> None:
    draft = session.get(ProcedureDraft, key)
    if draft is not None:
        session.delete(draft)
        session.flush()
