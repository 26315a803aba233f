"""The applicant's resubmission of an incomplete application (PROCEDURE: verifikasi → pemohon).

A resubmission is accepted when every document the operator asked for has been uploaded since
the request, or the applicant explains why not (so "Kirim kelengkapan" never succeeds empty, and
the history shows the documents before the resubmission).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .audit import Actor
from .cases import deliver_message
from .documents import missing_documents_status
from .errors import InvalidSubmission
from .models import Case
from .text import N_

MESSAGE = "pengajuan_ulang"
MIN_EXPLANATION = 10
MAX_NOTE = 2000
STILL_MISSING = N_(
    "Dokumen yang diminta belum semuanya diunggah (lihat daftar di atas). Unggah dulu dokumennya, "
    "atau tulis di sini mengapa belum bisa (minimal 10 karakter)."
)
NOTE_TOO_LONG = N_("Pesan maksimal 2000 karakter.")


def still_missing(session: Session, case: Case) -> list[str]:
    """The kinds the operator asked for that the applicant has not uploaded since."""
    return [m["kind"] for m in missing_documents_status(session, case) if not m["uploaded"]]


def resubmit(session: Session, case: Case, note: str, actor: Actor, now: datetime) -> Case:
    """Send the applicant's completed documents back to the operator.

    Raises InvalidSubmission (documents still missing without an explanation, note too long),
    NotWaiting (the case is not waiting for the applicant).
    """
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidSubmission(NOTE_TOO_LONG, {"note": NOTE_TOO_LONG})
    missing = still_missing(session, case)
    if missing and len(note) < MIN_EXPLANATION:
        raise InvalidSubmission(STILL_MISSING, {"note": STILL_MISSING, "missing": missing})
    return deliver_message(session, case, MESSAGE, {"note": note}, actor, now)
