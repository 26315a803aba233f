"""Finding cases for staff: every case (open or closed) a user may see, and counts for an overview.

Reads the ``case_file`` summary columns (and the person's NIK/phone), never the workflow state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from . import regions
from .audit import Actor
from .models import Case, Person
from .validation import normalize_phone

# roles that see every case; a kabid alone sees the cases of their bidang (see inbox.may_view_case)
_ALL_CASES_ROLES = frozenset({"operator", "supervisor", "manager", "kadis", "front_office", "auditor", "admin"})


@dataclass
class CaseFilter:
    search: str | None = None  # reference, name, NIK or phone
    service: str | None = None
    status: str | None = None  # active | completed | rejected | expired
    kecamatan: str | None = None
    village: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    page: int = 1
    per_page: int = 25


def visible_cases(actor: Actor) -> Any:
    """A WHERE clause: the cases ``actor`` may open."""
    roles = set(actor.roles)
    if roles & _ALL_CASES_ROLES:
        return Case.id.is_not(None)
    if "kabid" in roles and actor.bidang:
        return Case.bidang == actor.bidang
    return false()


def _search_clause(term: str) -> Any:
    term = term.strip()
    clauses: list[Any] = [
        # autoescape: the term's own % and _ are literal characters, never wildcards
        func.lower(Case.reference).contains(term.lower(), autoescape=True),
        func.lower(Case.applicant_name).contains(term.lower(), autoescape=True),
    ]
    digits = re.sub(r"[\s\-().+]", "", term)
    if digits.isdigit() and len(digits) == 16:
        clauses.append(Person.nik == digits)
    try:
        clauses.append(Person.phone == normalize_phone(term))
    except ValueError:
        pass
    return or_(*clauses)


def _where(actor: Actor, flt: CaseFilter, zone: Any) -> list[Any]:
    where = [visible_cases(actor)]
    if flt.search:
        where.append(_search_clause(flt.search))
    if flt.service:
        where.append(Case.service == flt.service)
    if flt.status:
        where.append(Case.status == flt.status)
    if flt.kecamatan:
        where.append(Case.kecamatan_code == flt.kecamatan)
    if flt.village:
        where.append(Case.village_code == flt.village)
    if flt.created_from:
        where.append(Case.created_at >= datetime.combine(flt.created_from, time(), zone))
    if flt.created_to:
        where.append(Case.created_at < datetime.combine(flt.created_to + timedelta(days=1), time(), zone))
    return where


_COLUMNS = (
    Case.reference,
    Case.kind,
    Case.status,
    Case.service,
    Case.applicant_name,
    Case.village_code,
    Case.current_step,
    Case.created_at,
    Case.closed_at,
    Person.nik,
    Person.phone,
)


def search_cases(session: Session, actor: Actor, flt: CaseFilter, zone: Any) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases ``actor`` may see matching ``flt`` (newest first) and the total.

    ``zone`` is the agency's time zone: a period is of local calendar days.
    """
    where = _where(actor, flt, zone)
    base = select(*_COLUMNS).outerjoin(Person, Case.person_id == Person.id).where(*where)
    total = session.scalar(
        select(func.count()).select_from(Case).outerjoin(Person, Case.person_id == Person.id).where(*where)
    )
    rows = session.execute(
        base.order_by(Case.created_at.desc(), Case.id.desc()).limit(flt.per_page).offset((flt.page - 1) * flt.per_page)
    )
    items = []
    for row in rows:
        village = regions.village(row.village_code) if row.village_code else None
        kecamatan = regions.kecamatan_of(row.village_code) if row.village_code else None
        items.append(
            {
                "reference": row.reference,
                "kind": row.kind,
                "status": row.status,
                "service": row.service,
                "applicant_name": row.applicant_name,
                "nik": row.nik,
                "phone": row.phone,
                "desa": village.name if village else None,
                "kecamatan": kecamatan.name if kecamatan else None,
                "current_step": row.current_step,
                "created_at": row.created_at,
                "closed_at": row.closed_at,
            }
        )
    return items, int(total or 0)


def count_cases(session: Session, actor: Actor, flt: CaseFilter, zone: Any) -> dict[str, list[tuple[str | None, int]]]:
    """Counts of the visible cases matching ``flt``: per status, stage (open cases), service, kecamatan."""
    where = _where(actor, flt, zone)

    def grouped(column: Any, *extra: Any) -> list[tuple[str | None, int]]:
        stmt = (
            select(column, func.count())
            .select_from(Case)
            .outerjoin(Person, Case.person_id == Person.id)
            .where(*where, *extra)
            .group_by(column)
            .order_by(func.count().desc(), column)
        )
        return [(key, int(n)) for key, n in session.execute(stmt)]

    return {
        "status": grouped(Case.status),
        "stage": grouped(Case.current_step, Case.status == "active"),
        "service": grouped(Case.service),
        "kecamatan": grouped(Case.kecamatan_code),
    }


def cases_of_same_person(session: Session, case: Case, actor: Actor, active_only: bool = False) -> list[Case]:
    """Other cases of the same applicant (by NIK) that ``actor`` may see, oldest first."""
    if case.person_id is None:
        return []
    nik = session.scalar(select(Person.nik).where(Person.id == case.person_id))
    stmt = (
        select(Case)
        .join(Person, Case.person_id == Person.id)
        .where(Person.nik == nik, Case.id != case.id, visible_cases(actor))
        .order_by(Case.created_at)
    )
    if active_only:
        stmt = stmt.where(Case.status == "active")
    return list(session.scalars(stmt))
