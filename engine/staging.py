"""Staged uploads: a resident's files sent one at a time, before the form they belong to.

On a 3G phone a form with three photos is one long request that a dropped connection loses
whole. With staging, each (already shrunk) file is sent on its own as soon as it is chosen,
checked and cleaned exactly as a form's file is (``documents.clean_content``), and kept here;
the form then sends only the staged ids, and ``take_staged`` hands their contents to the case
being created in the same unit of work (and deletes them there, so a rolled-back submission
keeps them for the next try).

A staged upload belongs to one browser session (``owner``: the web layer's digest of a random
key kept in the signed session cookie); its id is 256 random bits. The bytes sit in the row, not
in the document store, so an expired or abandoned upload leaves nothing behind once its row is
deleted. Expired rows are deleted on the next staging write (``discard_expired``) and by the
timer worker on each pass (``flask timers run``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .clock import aware
from .documents import CleanContent, DocumentTooLarge, safe_filename
from .errors import Forbidden, NotFound
from .models import StagedUpload
from .text import N_

NOT_YOURS = N_(
    "Berkas ini diunggah dari perangkat atau sesi lain dan tidak dapat dipakai di sini. Pilih berkasnya lagi."
)
GONE = N_("Berkas yang diunggah tadi sudah kedaluwarsa atau dihapus. Pilih berkasnya lagi.")
TOO_MANY = N_("Sudah terlalu banyak berkas diunggah dari perangkat ini (maksimal %(count)s). Hapus yang tidak perlu.")
TOO_MUCH = N_("Jumlah ukuran berkas yang diunggah dari perangkat ini melebihi %(mb)s MB.")


class StagedUploadNotYours(Forbidden):
    """The id names a staged upload of another browser session."""


class StagedUploadGone(NotFound):
    """The id names no staged upload (expired, already attached, or never made)."""


class StagingFull(DocumentTooLarge):
    """The session's count or total size of staged uploads is used up."""


@dataclass(frozen=True)
class StagingLimits:
    max_files: int = 12
    max_bytes: int = 30 * 1024 * 1024
    max_age: timedelta = timedelta(hours=6)


def discard_expired(session: Session, now: datetime, max_age: timedelta) -> int:
    """Delete every staged upload older than ``max_age``; returns how many."""
    result = session.execute(delete(StagedUpload).where(StagedUpload.created_at < aware(now) - max_age))
    return int(getattr(result, "rowcount", 0) or 0)


def stage_upload(
    session: Session,
    owner: str,
    form: str,
    kind: str,
    content: CleanContent,
    filename: str | None,
    now: datetime,
    limits: StagingLimits,
    replaces: str | None = None,
) -> StagedUpload:
    """Keep ``content`` (checked and cleaned by the caller) for ``owner``'s form ``form``.

    ``replaces``: an earlier staged id of the same owner that this file takes the place of (the
    resident chose another photo); it is deleted first. Raises StagingFull.
    """
    discard_expired(session, now, limits.max_age)
    if replaces:
        session.execute(delete(StagedUpload).where(StagedUpload.id == replaces, StagedUpload.owner == owner))
    count, total = session.execute(
        select(func.count(StagedUpload.id), func.coalesce(func.sum(StagedUpload.size), 0)).where(
            StagedUpload.owner == owner
        )
    ).one()
    if count >= limits.max_files:
        raise StagingFull(TOO_MANY, params={"count": limits.max_files})
    if total + len(content.data) > limits.max_bytes:
        raise StagingFull(TOO_MUCH, params={"mb": limits.max_bytes // (1024 * 1024)})
    row = StagedUpload(
        id=secrets.token_urlsafe(32),
        owner=owner,
        form=form,
        kind=kind,
        filename=safe_filename(filename, kind, content.mime),
        mime_type=content.mime,
        size=len(content.data),
        content=content.data,
        created_at=aware(now),
    )
    session.add(row)
    session.flush()
    return row


def staged_of(session: Session, owner: str, form: str, now: datetime, max_age: timedelta) -> list[StagedUpload]:
    """``owner``'s unexpired staged uploads for ``form``, oldest first (the form page shows them)."""
    query = select(StagedUpload).where(
        StagedUpload.owner == owner, StagedUpload.form == form, StagedUpload.created_at >= aware(now) - max_age
    )
    return list(session.scalars(query.order_by(StagedUpload.created_at)))


def check_staged(
    session: Session, owner: str, ids: dict[str, str], now: datetime, max_age: timedelta
) -> dict[str, StagedUpload]:
    """The staged uploads named by ``ids`` (kind → id), each checked to be ``owner``'s, of that
    kind and not expired. Raises StagedUploadNotYours, StagedUploadGone."""
    found: dict[str, StagedUpload] = {}
    for kind, staged_id in ids.items():
        row = session.get(StagedUpload, staged_id[:43])
        if row is None or aware(row.created_at) < aware(now) - max_age:
            raise StagedUploadGone(GONE, {f"doc_{kind}": GONE})
        if not secrets.compare_digest(row.owner, owner):
            raise StagedUploadNotYours(NOT_YOURS, {f"doc_{kind}": NOT_YOURS})
        if row.kind != kind:
            raise StagedUploadGone(GONE, {f"doc_{kind}": GONE})
        found[kind] = row
    return found


def take_staged(session: Session, rows: Iterable[StagedUpload]) -> dict[str, tuple[CleanContent, str]]:
    """The contents (kind → (cleaned content, file name)) of ``rows``, deleted from staging in the
    caller's unit of work: they become the case's documents in the same transaction."""
    taken = {}
    for row in rows:
        taken[row.kind] = (CleanContent(row.content, row.mime_type, keep_gps=False), row.filename)
        session.delete(row)
    session.flush()
    return taken


def remove_staged(session: Session, owner: str, staged_id: str) -> bool:
    """Delete ``owner``'s staged upload ``staged_id`` (the resident removed the file)."""
    result = session.execute(delete(StagedUpload).where(StagedUpload.id == staged_id[:43], StagedUpload.owner == owner))
    return bool(getattr(result, "rowcount", 0))
