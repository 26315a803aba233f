"""What auditors look up: cases by period, service, status, kecamatan, actor and outcome, and
the personal-data access log by person (NIK), by user or by case. Read-only queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from .clock import aware
from .models import AccessLog, Case, CaseEvent, Person


@dataclass
class CaseQuery:
    """Filters of the auditors' case list (empty: no filter); dates are whole days, UTC."""

    date_from: date | None = None
    date_to: date | None = None
    service: str | None = None
    status: str | None = None
    kecamatan: str | None = None
    actor: str | None = None
    outcome: str | None = None
    reference: str | None = None


def _day(value: date, end: bool = False) -> datetime:
    moment = aware(datetime.combine(value, time.min))
    return moment + timedelta(days=1) if end else moment


def _filtered(query: CaseQuery, stmt: Select[Any]) -> Select[Any]:
    if query.date_from:
        stmt = stmt.where(Case.created_at >= _day(query.date_from))
    if query.date_to:
        stmt = stmt.where(Case.created_at < _day(query.date_to, end=True))
    if query.service:
        stmt = stmt.where(Case.service == query.service)
    if query.status:
        stmt = stmt.where(Case.status == query.status)
    if query.kecamatan:
        stmt = stmt.where(Case.kecamatan_code == query.kecamatan)
    if query.outcome:
        stmt = stmt.where(Case.outcome == query.outcome)
    if query.reference:
        stmt = stmt.where(Case.reference.contains(query.reference.upper(), autoescape=True))
    if query.actor:
        stmt = stmt.where(exists().where(CaseEvent.case_id == Case.id, CaseEvent.actor == query.actor))
    return stmt


def find_cases(session: Session, query: CaseQuery, page: int, per_page: int) -> tuple[list[Case], int]:
    """One page of matching cases (active and closed), newest first, and how many match."""
    total = session.scalar(_filtered(query, select(func.count(Case.id)))) or 0
    rows = session.scalars(
        _filtered(query, select(Case))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), int(total)


def case_outcomes(session: Session) -> list[str]:
    return sorted(o for o in session.scalars(select(Case.outcome).distinct()) if o)


@dataclass
class AccessQuery:
    nik: str | None = None
    username: str | None = None
    reference: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AccessEntry:
    at: datetime
    username: str
    action: str
    reference: str
    applicant_name: str | None
    nik: str | None


def find_access(session: Session, query: AccessQuery, page: int, per_page: int) -> tuple[list[AccessEntry], int]:
    """Who opened whose case when: newest first, one page, and how many entries match."""
    base = select(AccessLog.at, AccessLog.username, AccessLog.action, Case.reference, Case.applicant_name, Person.nik)
    base = base.join(Case, Case.id == AccessLog.case_id).outerjoin(Person, Person.id == Case.person_id)
    conditions = []
    if query.nik:
        conditions.append(Person.nik == query.nik)
    if query.username:
        conditions.append(AccessLog.username == query.username)
    if query.reference:
        conditions.append(Case.reference == query.reference.upper())
    if query.date_from:
        conditions.append(AccessLog.at >= _day(query.date_from))
    if query.date_to:
        conditions.append(AccessLog.at < _day(query.date_to, end=True))
    stmt = base.where(*conditions)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(AccessLog.at.desc(), AccessLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return [AccessEntry(*row) for row in rows], int(total)
