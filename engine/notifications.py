"""Notifications to applicants: an outbox written with the case change, sent later with retries.

``on_case_saved`` is called by ``engine.cases.save_workflow`` inside the unit of work that changed the
case, so a message is queued if and only if the change commits. A worker (``flask --app web
notifications send``) delivers pending rows through a :class:`Channel` and backs off on failure.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from .audit import NewEvent
from .clock import aware
from .document_kinds import DOCUMENT_KINDS
from .inbox import start_data
from .models import Case, Notification

# Plain Indonesian, short enough for one or two SMS. ``str.format`` fields come from the context;
# ``{agency}`` is the sender, the agency profile's ``short_name`` (e.g. "Dinsos Balangan").
TEMPLATES: dict[str, str] = {
    "received": (
        "{agency}: Permohonan {reference} sudah kami terima. Kode pelacakan: {tracking_code}. Simpan "
        "nomor dan kode ini untuk melihat perkembangan di halaman Lacak."
    ),
    "complaint_received": (
        "{agency}: Aduan {reference} sudah kami terima dan akan diperiksa petugas. Kode pelacakan: "
        "{tracking_code}. Simpan nomor dan kode ini."
    ),
    # the applicant asked for their code again (NIK + phone): a new code, the old one is void
    "tracking_code_reissued": (
        "{agency}: Kode pelacakan baru untuk {reference}: {tracking_code}. Kode lama tidak berlaku lagi. "
        "Abaikan pesan ini bila Anda tidak memintanya."
    ),
    "incomplete": (
        "{agency}: Berkas permohonan {reference} belum lengkap. Mohon lengkapi: {missing}.{note} "
        "Unggah melalui halaman Lacak dengan nomor permohonan dan kode pelacakan Anda."
    ),
    "visit_planned": (
        "{agency}: Berkas permohonan {reference} lengkap. Petugas akan berkunjung ke rumah Anda; "
        "mohon siapkan KTP dan KK asli."
    ),
    "approved": "{agency}: Permohonan {reference} disetujui. Surat rekomendasi sedang disiapkan.",
    "letter_ready": (
        "{agency}: Surat rekomendasi untuk permohonan {reference} sudah terbit. Petugas akan "
        "menyerahkannya kepada Anda."
    ),
    "rejected": "{agency}: Mohon maaf, permohonan {reference} tidak dapat dilanjutkan. Alasan: {reason}",
    "expired": (
        "{agency}: Permohonan {reference} ditutup karena berkas tidak dilengkapi sampai batas waktu. "
        "Anda dapat mengajukan permohonan baru."
    ),
    "complaint_answered": "{agency}: Jawaban atas aduan {reference}: {answer}",
    # to the companion a case is assigned to, and to the applicant about their companion
    "companion_assigned": (
        "{agency}: Anda ditugaskan sebagai pendamping untuk permohonan {reference} ({service}) "
        "atas nama {applicant}, desa {desa}. Rincian ada pada petugas Dinas Sosial."
    ),
    "companion_for_applicant": (
        "{agency}: Pendamping untuk permohonan {reference}: {companion} ({role}), telepon {phone}."
    ),
}


# The tracking code is in the outbox only until the message left: then it is replaced by this
# (and a row queued before codes were sent shows it too).
HIDDEN_CODE = "********"
CARRIES_CODE = frozenset({"received", "complaint_received", "tracking_code_reissued"})


def render_message(kind: str, agency: str, **context: Any) -> str:
    """The message text of ``kind`` sent by ``agency``; raises KeyError for an unknown kind."""
    if kind in CARRIES_CODE:
        context.setdefault("tracking_code", HIDDEN_CODE)
    return TEMPLATES[kind].format(agency=agency, **context)


def _forget_code(row: Notification) -> None:
    if row.context and "tracking_code" in row.context:
        row.context = {**row.context, "tracking_code": HIDDEN_CODE}


def _recipient(session: Session, case: Case) -> str | None:
    # the applicant comes with the case (engine.cases reads it with the task; intake stores it)
    if case.person is not None and case.person.phone:
        return cast(str, case.person.phone)
    complainant = start_data(session, case).get("complainant") or {}
    phone = complainant.get("phone")
    return phone if isinstance(phone, str) and phone else None


def outbox_row(
    case: Case, kind: str, recipient: str, now: datetime, *, event_seq: int | None, **context: Any
) -> dict[str, Any]:
    """The outbox row of message ``kind`` about ``case`` to ``recipient`` (writes nothing)."""
    render_message(kind, "", reference=case.reference, **context)  # fails here, not when sending
    return {
        "case_id": case.id,
        "event_seq": event_seq,
        "kind": kind,
        "recipient": recipient,
        "context": context or None,
        "message": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": aware(now),
        "created_at": aware(now),
    }


_OUTBOX_INSERT = insert(cast(Table, Notification.__table__))


def queue_notifications(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT outbox rows, one statement for all."""
    if rows:
        session.connection().execute(_OUTBOX_INSERT, rows)  # Core DML: see engine.audit.write_events


def queue_to(
    session: Session, case: Case, kind: str, recipient: str, now: datetime, *, event_seq: int | None, **context: Any
) -> dict[str, Any]:
    """Queue message ``kind`` about ``case`` to ``recipient`` (a phone number); returns the row's values."""
    row = outbox_row(case, kind, recipient, now, event_seq=event_seq, **context)
    queue_notifications(session, [row])
    return row


def queue_for_case_change(
    session: Session, case: Case, kind: str, now: datetime, *, event_seq: int | None = None, **context: Any
) -> dict[str, Any] | None:
    """Queue message ``kind`` to the case's applicant; ``None`` when there is no phone number.

    The row is written at once; returns its column values.
    """
    recipient = _recipient(session, case)
    if recipient is None:
        return None
    return queue_to(session, case, kind, recipient, now, event_seq=event_seq, **context)


def message_of(session: Session, row: Notification, agency: str) -> str:
    """The text of a queued notification sent by ``agency``: its template filled in, or the text stored with it."""
    if row.message is not None or row.case_id is None:
        return row.message or ""
    reference = session.connection().execute(_REFERENCE, {"case_id": row.case_id}).scalar_one()
    return render_message(row.kind, agency, reference=reference, **(row.context or {}))


_REFERENCE = select(Case.reference).where(Case.id == bindparam("case_id"))


def _clip(text: Any, limit: int = 300) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kinds_for_event(case: Case, event: NewEvent) -> list[tuple[str, dict[str, Any]]]:
    """Which messages one audit event calls for, with their template context."""
    data = (event.payload or {}).get("data") or {}
    if event.kind == "case_started":
        return [("complaint_received" if case.kind == "aduan" else "received", {})]
    if event.kind == "case_closed":
        status = (event.payload or {}).get("status")
        if status == "rejected":
            return [("rejected", {"reason": _clip(case.outcome_reason or "tidak memenuhi syarat")})]
        if status == "expired":
            return [("expired", {})]
        return []
    if event.kind == "letter_issued":
        # "letter ready" only once a recommendation letter exists (issued in this unit of work)
        letter = (event.payload or {}).get("letter") or {}
        return [("letter_ready", {})] if letter.get("series") == "rekomendasi" else []
    if event.kind != "task_completed":
        return []
    decision = data.get("decision")
    if event.task_spec == "verifikasi" and decision == "tidak_lengkap":
        missing = ", ".join(DOCUMENT_KINDS.get(k, k) for k in data.get("dokumen_kurang") or [])
        note = _clip(data.get("catatan_kekurangan"), 200)
        return [("incomplete", {"missing": missing or "dokumen", "note": f" Keterangan: {note}" if note else ""})]
    if event.task_spec == "verifikasi" and decision == "lengkap":
        return [("visit_planned", {})]
    if event.task_spec == "keputusan_kabid" and decision == "setuju":
        return [("approved", {})]
    if event.task_spec == "balas_pengadu":
        return [("complaint_answered", {"answer": _clip(data.get("balasan"))})]
    return []


def on_case_saved(
    session: Session, case: Case, events: list[NewEvent], now: datetime, *, tracking_code: str | None = None
) -> list[dict[str, Any]]:
    """Queue the messages the case's new ``events`` call for (called by ``cases.save_workflow``
    in the same unit of work, so a message is queued if and only if the change commits).
    A new case's ``tracking_code`` goes into its "received" message; it stays in the outbox only
    until the message is sent or given up."""
    queued = []
    for event in events:
        for kind, context in _kinds_for_event(case, event):
            if tracking_code is not None and kind in ("received", "complaint_received"):
                context = {**context, "tracking_code": tracking_code}
            recipient = _recipient(session, case)
            if recipient is not None:
                queued.append(outbox_row(case, kind, recipient, now, event_seq=event.seq, **context))
    queue_notifications(session, queued)
    return queued


# --- delivery -----------------------------------------------------------------------------


class DeliveryError(Exception):
    """A channel could not deliver a message (retried later)."""


class Channel(Protocol):
    name: str

    def send(self, to: str, message: str) -> None:
        """Deliver or raise DeliveryError."""


@dataclass
class LogFileChannel:
    """Development default: append each message as a JSON line to a file."""

    path: Path
    name: str = "log"

    def send(self, to: str, message: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"to": to, "message": message}, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc}") from exc


@dataclass
class HttpGatewayChannel:
    """An SMS/WhatsApp HTTP gateway: ``POST {to, message}`` as JSON with a bearer token."""

    url: str
    token: str = ""
    timeout: float = 10.0
    name: str = "gateway"

    def send(self, to: str, message: str) -> None:
        body = json.dumps({"to": to, "message": message}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"gateway answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"gateway answered HTTP {status}")


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: int = 60
    max_seconds: int = 6 * 3600

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds))


def due_notification_ids(session: Session, now: datetime, limit: int = 50) -> list[int]:
    """Pending notifications due at ``now``; PostgreSQL workers skip rows others hold."""
    stmt = (
        select(Notification.id)
        .where(
            Notification.sent_at.is_(None),  # the unsent-queue index
            Notification.status == "pending",
            Notification.next_attempt_at <= aware(now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def deliver_notification(
    session: Session, notification_id: int, channel: Channel, now: datetime, policy: RetryPolicy, *, agency: str
) -> bool:
    """Try to send one notification signed by ``agency``; on failure schedule the next attempt. Returns success."""
    stmt = select(Notification).where(Notification.id == notification_id).with_for_update()
    row = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if row is None or row.status != "pending":
        return False
    row.attempts += 1
    row.channel = channel.name
    try:
        channel.send(row.recipient, message_of(session, row, agency))
    except DeliveryError as exc:
        row.last_error = str(exc)[:1000]
        if row.attempts >= policy.max_attempts:
            row.status = "failed"
            _forget_code(row)
        else:
            row.next_attempt_at = aware(now) + policy.delay(row.attempts)
        session.flush()
        return False
    row.status = "sent"
    row.sent_at = aware(now)
    row.last_error = None
    _forget_code(row)
    session.flush()
    return True
