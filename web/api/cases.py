"""Staff case endpoints: detail, history, replay."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine import audit, replay
from engine.case_search import cases_of_same_person
from engine.cases import get_case
from engine.clock import utcnow
from engine.errors import Forbidden
from engine.inbox import case_summary, log_access, may_view_case, start_data, task_title
from engine.models import Case, HumanTask

from ..auth import current_actor, staff_required
from ..disclosure import applicant_for
from ..extensions import db
from ..letters import case_letter, letter_ref
from . import bp, doc
from .schemas import CaseSchema, HistorySchema, ReplaySchema


def viewable_case(reference: str, action: str) -> Case:
    case = get_case(db.session, reference)
    actor = current_actor()
    if not may_view_case(case, actor):
        raise Forbidden("Kasus ini di luar wewenang Anda")
    log_access(db.session, case, actor, action, utcnow())
    return case


def case_view(case: Case) -> dict[str, Any]:
    tasks = (
        db.session.query(HumanTask)
        .filter(HumanTask.case_id == case.id)
        .order_by(HumanTask.created_at, HumanTask.id)
        .all()
    )
    start = start_data(db.session, case)
    view = case_summary(case, start)
    view["applicant"] = applicant_for(case, start)
    view["duplicates"] = [
        {"reference": c.reference, "service": c.service, "status": c.status}
        for c in cases_of_same_person(db.session, case, current_actor())
    ]
    view.update(
        definition_key=case.definition.key,
        definition_version=case.definition.version,
        outcome=case.outcome,
        outcome_reason=case.outcome_reason,
        current_step=case.current_step,
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        lock_version=case.lock_version,
        tasks=[
            {
                "id": t.id,
                "name": t.spec_name,
                "title": task_title(t),
                "role": t.role,
                "bidang": t.bidang,
                "state": t.state,
                "claimed_by": t.claimed_by,
                "due_at": t.due_at,
            }
            for t in tasks
        ],
        letter=letter_ref(case_letter(case)),
    )
    return view


@bp.get("/cases/<reference>")
@doc("A case: status, summary, tasks", response=CaseSchema, tags=("cases",))
@staff_required()
def get_case_view(reference: str) -> Any:
    case = viewable_case(reference, "view")
    answer = CaseSchema().dump(case_view(case))
    return jsonify(answer)


EVENT_FIELDS = ("seq", "kind", "actor", "role", "at", "task_id", "task_spec", "payload", "hash")


@bp.get("/cases/<reference>/history")
@doc("Every event of a case, with the hash chain's verdict", response=HistorySchema, tags=("cases",))
@staff_required()
def get_history(reference: str) -> Any:
    case = viewable_case(reference, "history")
    events = [
        {**{name: getattr(event, name) for name in EVENT_FIELDS}, "prev_hash": prev}
        for event, prev in audit.chained(audit.case_events(db.session, case))
    ]
    answer = HistorySchema().dump(
        {"reference": case.reference, "chain_valid": not audit.verify_chain(db.session, case), "events": events}
    )
    return jsonify(answer)


@bp.post("/cases/<reference>/replay")
@doc("Replay a case's history on its procedure version and compare", response=ReplaySchema, tags=("audit",))
@staff_required("auditor", "admin")
def replay_case(reference: str) -> Any:
    case = viewable_case(reference, "replay")
    result = replay.replay_case(db.session, case)
    return jsonify(ReplaySchema().dump(result))


@bp.get("/documents/<int:document_id>")
@doc(
    "A case document as stored (JPEG/PNG inline, PDF as a download; access is logged)",
    tags=("cases",),
    produces=("image/jpeg", "image/png", "application/pdf"),
)
@staff_required()
def get_document(document_id: int) -> Any:
    from ..public.documents import staff_document_response

    return staff_document_response(document_id)
