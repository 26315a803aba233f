"""Read side: inbox queries over ``human_task`` and plain views of cases (never the state blob)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, object_session

from . import regions
from .audit import Actor
from .clock import aware
from .definitions import definition_in_session
from .models import AccessLog, Case, CaseEvent, HumanTask, Person, ProcessDefinition, UTCDateTime
from .text import N_
from .validation import mask_nik

SORTS = {
    "created": HumanTask.created_at,
    "due": HumanTask.due_at,
    "reference": Case.reference,
}


@dataclass
class TaskFilter:
    queue: str = "available"  # available | mine | all
    service: str | None = None
    kecamatan: str | None = None
    step: str | None = None
    overdue: bool = False
    search: str | None = None
    sort: str = "created"
    descending: bool = False
    page: int = 1
    per_page: int = 25


def _visible(actor: Actor) -> Any:
    """Tasks whose lane is one of the actor's roles (a kabid: only their bidang)."""
    clauses = []
    for role in actor.roles:
        if role == "kabid":
            clauses.append(and_(HumanTask.role == "kabid", HumanTask.bidang == bindparam("bidang")))
        else:
            clauses.append(HumanTask.role == role)
    return or_(*clauses) if clauses else HumanTask.id.is_(None)


def task_query(actor: Actor, flt: TaskFilter, *columns: Any) -> Any:
    """The actor's open tasks matching ``flt``, selecting ``columns`` (default: the task ids).

    The values are bound parameters (see :func:`task_params`), so one statement serves every
    request of the same shape (roles, queue, which filters are set).
    """
    stmt = (
        select(*(columns or (HumanTask.id,)))
        .select_from(HumanTask)
        .join(Case, HumanTask.case_id == Case.id)
        .outerjoin(Person, Case.person_id == Person.id)
    )
    stmt = stmt.where(_visible(actor), HumanTask.completed_at.is_(None))  # the open-task index
    if flt.queue == "mine":
        stmt = stmt.where(HumanTask.state == "claimed", HumanTask.claimed_by == bindparam("username"))
    elif flt.queue == "available":
        stmt = stmt.where(HumanTask.state == "ready")
    else:
        stmt = stmt.where(HumanTask.state.in_(("ready", "claimed")))
    if flt.service:
        stmt = stmt.where(Case.service == bindparam("service"))
    if flt.kecamatan:
        stmt = stmt.where(Case.kecamatan_code == bindparam("kecamatan"))
    if flt.step:
        stmt = stmt.where(HumanTask.spec_name == bindparam("step"))
    if flt.overdue:
        stmt = stmt.where(HumanTask.due_at.is_not(None), HumanTask.due_at < bindparam("now", type_=UTCDateTime()))
    if flt.search:
        stmt = stmt.where(
            or_(
                func.lower(Case.reference).like(bindparam("like"), escape="\\"),
                func.lower(Case.applicant_name).like(bindparam("like"), escape="\\"),
                Person.nik == bindparam("term"),
            )
        )
    return stmt


def task_params(actor: Actor, flt: TaskFilter, now: datetime) -> dict[str, Any]:
    """The values of :func:`task_query`'s parameters (those it does not use are ignored)."""
    term = (flt.search or "").strip()
    return {
        "bidang": actor.bidang,
        "username": actor.username,
        "service": flt.service,
        "kecamatan": flt.kecamatan,
        "step": flt.step,
        "now": aware(now),
        # the term's own % and _ are literal characters, not wildcards (``q=%`` matches no more than any other text)
        "like": "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
        "term": term,
    }


# What an inbox row shows, read in the list's one query (no ORM objects are built for a page).
_ITEM_COLUMNS = (
    HumanTask.id,
    HumanTask.spec_name,
    HumanTask.role,
    HumanTask.bidang,
    HumanTask.state,
    HumanTask.claimed_by,
    HumanTask.created_at,
    HumanTask.due_at,
    Case.reference,
    Case.service,
    Case.applicant_name,
    Case.village_code,
    Case.definition_id,
    Person.nik,
    ProcessDefinition.sha256,
)


class _ItemRow(NamedTuple):
    """A row of the list query: ``_ITEM_COLUMNS`` and the window count, in that order."""

    id: str
    spec_name: str
    role: str
    bidang: str | None
    state: str
    claimed_by: str | None
    created_at: datetime
    due_at: datetime | None
    reference: str
    service: str | None
    applicant_name: str | None
    village_code: str | None
    definition_id: int
    nik: str | None
    sha256: str
    total: int


assert list(_ItemRow._fields[:-1]) == [c.key for c in _ITEM_COLUMNS]


def _list_statement(actor: Actor, flt: TaskFilter) -> Any:
    """The page query (values bound at execution: SQLAlchemy caches its compilation per shape)."""
    return _list_statement_of_shape(
        tuple(actor.roles),
        flt.queue,
        bool(flt.service),
        bool(flt.kecamatan),
        bool(flt.step),
        flt.overdue,
        bool(flt.search),
        flt.sort,
        flt.descending,
    )


@functools.lru_cache(maxsize=256)
def _list_statement_of_shape(
    roles: tuple[str, ...],
    queue: str,
    service: bool,
    kecamatan: bool,
    step: bool,
    overdue: bool,
    search: bool,
    sort: str,
    descending: bool,
) -> Any:
    """Building the statement costs more than running it on an indexed page; one per shape
    (roles, queue, which filters are set, sort) serves every request of that shape."""
    shape = TaskFilter(
        queue=queue,
        service="x" if service else None,
        kecamatan="x" if kecamatan else None,
        step="x" if step else None,
        overdue=overdue,
        search="x" if search else None,
        sort=sort,
        descending=descending,
    )
    column = SORTS.get(sort, HumanTask.created_at)
    order = column.desc() if descending else column.asc()
    query = task_query(Actor("", roles), shape, *_ITEM_COLUMNS, func.count().over().label("total"))
    return (
        query.join(ProcessDefinition, Case.definition_id == ProcessDefinition.id)
        .order_by(order.nulls_last(), HumanTask.created_at, HumanTask.id)
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )


def list_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """One page of task items (see :func:`task_item`) and the total, in one query (a window count)."""
    params = task_params(actor, flt, now)
    params.update(limit=flt.per_page, offset=(flt.page - 1) * flt.per_page)
    result = [_ItemRow(*values) for values in session.execute(_list_statement(actor, flt), params)]
    if result:
        items = []
        for r in result:
            meta = definition_in_session(session, r.definition_id, r.sha256).tasks.get(r.spec_name)
            items.append(_item(r, r, meta.title if meta else r.spec_name, r.nik, now))
        return items, int(result[0].total)
    if flt.page == 1:
        return [], 0
    total = session.scalar(select(func.count()).select_from(task_query(actor, flt).subquery()), params) or 0
    return [], total


def count_queues(session: Session, actor: Actor, now: datetime) -> dict[str, int]:
    counts = {}
    for queue in ("available", "mine"):
        flt = TaskFilter(queue=queue)
        stmt = select(func.count()).select_from(task_query(actor, flt).subquery())
        counts[queue] = session.scalar(stmt, task_params(actor, flt, now)) or 0
    return counts


def next_task(session: Session, actor: Actor, now: datetime) -> str | None:
    """The id of the oldest unclaimed task the actor may do."""
    flt = TaskFilter(queue="available")
    stmt = task_query(actor, flt).order_by(HumanTask.created_at, HumanTask.id).limit(1)
    return session.scalars(stmt, task_params(actor, flt, now)).first()


def may_view_case(case: Case, actor: Actor) -> bool:
    """Staff see cases of their work; a kabid only those of their bidang; auditors see all."""
    roles = set(actor.roles)
    if roles & {"operator", "supervisor", "manager", "kadis", "front_office", "auditor", "admin"}:
        return True
    return "kabid" in roles and case.bidang is not None and case.bidang == actor.bidang


def log_access(session: Session, case: Case, actor: Actor, action: str, now: datetime) -> None:
    session.add(AccessLog(case_id=case.id, username=actor.username, action=action, at=now))


def case_summary(case: Case, start_data: dict[str, Any] | None = None) -> dict[str, Any]:
    village = regions.village(case.village_code) if case.village_code else None
    kecamatan = regions.kecamatan_of(case.village_code) if case.village_code else None
    data = start_data or {}
    return {
        "reference": case.reference,
        "kind": case.kind,
        "status": case.status,
        "service": case.service,
        "ppks_category": case.ppks_category,
        "applicant_name": case.applicant_name,
        "nik_masked": mask_nik(case.person.nik) if case.person else None,
        "village_code": case.village_code,
        "desa": village.name if village else None,
        "kecamatan": kecamatan.name if kecamatan else None,
        "bidang": case.bidang,
        "description": data.get("description"),
        "warnings": list(data.get("nik_warnings") or []),
    }


def start_data(session: Session, case: Case) -> dict[str, Any]:
    payload = session.scalar(
        select(CaseEvent.payload).where(CaseEvent.case_id == case.id, CaseEvent.kind == "case_started")
    )
    return dict((payload or {}).get("data") or {})


def task_title(row: HumanTask) -> str:
    """The task's name in its procedure version (the diagram holds it, not the row)."""
    session = object_session(row)
    if session is None:
        return row.spec_name
    meta = definition_in_session(session, row.case.definition_id).tasks.get(row.spec_name)
    return meta.title if meta else row.spec_name


def task_item(row: HumanTask, now: datetime) -> dict[str, Any]:
    """A task as lists and answers show it."""
    return _item(row, row.case, task_title(row), _nik(row, row.case), now)


def _item(task: Any, case: Any, title: str, nik: str | None, now: datetime) -> dict[str, Any]:
    village = regions.village(case.village_code) if case.village_code else None
    kecamatan = regions.kecamatan_of(case.village_code) if case.village_code else None
    return {
        "id": task.id,
        "case_reference": case.reference,
        "name": task.spec_name,
        "title": title,
        "role": task.role,
        "bidang": task.bidang,
        "state": task.state,
        "claimed_by": task.claimed_by,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "overdue": task.due_at is not None and aware(task.due_at) < aware(now) and task.state in ("ready", "claimed"),
        "service": case.service,
        "applicant_name": case.applicant_name,
        "nik_masked": mask_nik(nik) if nik else None,
        "kecamatan": kecamatan.name if kecamatan else None,
        "desa": village.name if village else None,
    }


def _nik(row: HumanTask, case: Case) -> str | None:
    # the applicant usually comes with the task (engine.cases reads them together)
    return case.person.nik if case.person is not None else None


STATUS_TEXT = {
    "active": N_("Sedang diproses"),
    "completed": N_("Selesai"),
    "rejected": N_("Ditolak"),
    "expired": N_("Kedaluwarsa"),
}

# Plain-language lines for the applicant's timeline: no internal notes, no staff names.
PUBLIC_STEP_TEXT = {
    "verifikasi": N_("Kelengkapan berkas diperiksa petugas."),
    "kunjungan": N_("Kunjungan rumah oleh pendamping/supervisor."),
    "reviu_manager": N_("Permohonan ditinjau oleh manajer layanan."),
    "mengetahui_kadis": N_("Permohonan diketahui Kepala Dinas."),
    "teruskan_kabid": N_("Permohonan diteruskan ke bidang terkait."),
    "keputusan_kabid": N_("Bidang menentukan bantuan yang diberikan."),
    "terbitkan_surat": N_("Surat rekomendasi diterbitkan."),
    "serah_terima": N_("Surat rekomendasi diserahkan kepada pemohon."),
    "triase": N_("Aduan diperiksa petugas."),
    "tindak_lanjut": N_("Aduan ditindaklanjuti bidang terkait."),
    "eskalasi": N_("Tindak lanjut aduan dipercepat oleh manajer."),
    "verifikasi_aduan": N_("Hasil tindak lanjut diperiksa manajer."),
    "balas_pengadu": N_("Jawaban aduan dikirim kepada pelapor."),
}


def public_timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).all()
    lines = []
    for event in events:
        text = None
        if event.kind == "case_started":
            text = N_("Permohonan diterima.") if case.kind != "aduan" else N_("Aduan diterima.")
        elif event.kind == "task_completed" and event.task_spec:
            text = PUBLIC_STEP_TEXT.get(event.task_spec, N_("Satu tahap selesai diproses."))
            if event.task_spec == "verifikasi":
                decision = (event.payload.get("data") or {}).get("decision")
                if decision == "tidak_lengkap":
                    text = N_("Berkas belum lengkap; pemohon diminta melengkapi.")
        elif event.kind == "message_received":
            text = N_("Pemohon mengirim kelengkapan berkas.")
        elif event.kind == "companion_assigned":
            text = N_("Pendamping sosial ditugaskan untuk Anda.")
        elif event.kind == "timer_fired" and case.status == "expired":
            text = N_("Batas waktu melengkapi berkas terlewati.")
        elif event.kind == "letter_issued":
            series = ((event.payload or {}).get("letter") or {}).get("series")
            text = N_("Surat rekomendasi terbit.") if series == "rekomendasi" else N_("Surat pemberitahuan terbit.")
        elif event.kind == "letter_revoked":
            text = N_("Surat dicabut.")
        elif event.kind == "case_closed":
            text = f"Status akhir: {STATUS_TEXT.get(str(event.payload.get('status')), '')}."
        if text:
            lines.append({"at": event.at, "text": text})
    return lines


def missing_documents(session: Session, case: Case) -> list[str]:
    """What the operator said is missing, when the case waits for the applicant."""
    if case.status != "active":
        return []
    last = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(("task_completed", "message_received")))
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    if last is None or last.kind != "task_completed" or last.task_spec != "verifikasi":
        return []
    data = last.payload.get("data") or {}
    if data.get("decision") != "tidak_lengkap":
        return []
    return list(data.get("dokumen_kurang") or [])
