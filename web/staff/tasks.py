"""The task page: case summary, documents, earlier decisions and the task's form; claim/release/complete."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from engine import cases as case_ops
from engine.clock import utcnow
from engine.definitions import load_definition
from engine.errors import InvalidSubmission
from engine.inbox import log_access, task_title

from ..api.tasks import task_detail, visible_task
from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from ..labels import service_label
from . import bp, login_required, page_user
from .companion import visit_weather
from .forms import build_fields, parse_submission, typed_back
from .present import documents, timeline


def _render(task_id: str, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> Any:
    row = visible_task(task_id)
    detail = task_detail(row)
    schema = detail["form_schema"]
    if values is None:
        values = detail["form_defaults"]
    log_access(db.session, row.case, current_actor(), "task", utcnow())
    user = page_user()
    known = {name for name in (schema or {}).get("properties", {})}
    return render_template(
        "staff/task.html",
        task=detail,
        row=row,
        case=detail["case"],
        schema=schema,
        fields=build_fields(schema, values, errors),
        other_errors={k: v for k, v in (errors or {}).items() if k not in known},
        errors=errors or {},
        may_complete=row.state == "ready" or (row.state == "claimed" and row.claimed_by == user.username),
        documents=documents(row.case),
        decisions=timeline(row.case, ("task_completed",)),
        service_label=service_label,
        weather=visit_weather(row.spec_name, row.case),
    )


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return _render(task_id)


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Any:
    row = visible_task(task_id)
    schema = load_definition(row.case.definition).form_schema(row.spec_name)
    data = parse_submission(schema, request.form)
    try:
        done = case_ops.complete_task(db.session, task_id, current_actor(), data, utcnow())
    except InvalidSubmission as invalid:
        db.session.rollback()
        return _render(task_id, typed_back(schema, request.form), dict(invalid.details or {})), 422
    reference, title = done.case.reference, task_title(done)
    flash(_("Tugas “%(title)s” untuk kasus %(ref)s selesai.", title=title, ref=reference), "success")
    return redirect(url_for("staff.inbox"))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    case_ops.claim_task(db.session, task_id, current_actor(), utcnow())
    return redirect(url_for("staff.task", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
@login_required
def release(task_id: str) -> Any:
    case_ops.release_task(db.session, task_id, current_actor(), utcnow())
    flash(_("Tugas dikembalikan ke antrean."), "info")
    return redirect(url_for("staff.inbox"))
