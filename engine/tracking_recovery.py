"""A lost tracking code: the applicant proves NIK + phone number and gets a new code by SMS.

Codes are stored hashed, so the old one cannot be sent again: a new code replaces it (the old
one stops working) and goes out through the notification outbox to the phone number on file,
never on screen. The caller answers the same whether or not anything matched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import APPLICANT
from .cases import hash_tracking_code, new_tracking_code
from .inbox import log_access
from .models import AccessLog, Case, Person
from .notifications import queue_to
from .validation import normalize_phone

ACTION = "tracking_code_reissued"
# Per application: at most this many new codes a day, so nobody can flood a phone with SMS
# (per-address limits of the web layer come on top).
PER_CASE_PER_DAY = 3
# The applicant's most recent applications that get a new code.
MAX_CASES = 3


def reissue_tracking_codes(session: Session, nik: str, phone: str, now: datetime) -> int:
    """Give each recent application of ``nik`` whose phone on file is ``phone`` a new tracking
    code, queued by SMS to that phone, and log it. Returns how many codes were queued (0 when
    nothing matched or the daily cap was reached). Never raises for data that does not match."""
    try:
        number = normalize_phone(phone)
    except ValueError:
        return 0
    nik = (nik or "").strip()
    if len(nik) != 16 or not nik.isdigit():
        return 0
    cases = session.scalars(
        select(Case)
        .join(Person, Case.person_id == Person.id)
        .where(Person.nik == nik, Person.phone == number)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(MAX_CASES)
    ).all()
    since = now - timedelta(days=1)
    queued = 0
    for case in cases:
        recent = session.scalar(
            select(func.count())
            .select_from(AccessLog)
            .where(AccessLog.case_id == case.id, AccessLog.action == ACTION, AccessLog.at >= since)
        )
        if (recent or 0) >= PER_CASE_PER_DAY:
            continue
        code = new_tracking_code()
        case.tracking_code_hash = hash_tracking_code(case.reference, code)
        log_access(session, case, APPLICANT, ACTION, now)
        queue_to(session, case, "tracking_code_reissued", number, now, event_seq=None, tracking_code=code)
        queued += 1
    session.flush()
    return queued
