"""The task page: case summary, documents, earlier decisions and the task's form; claim/release/complete."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from engine import cases as case_ops
from engine.clock import utcnow
from engine.definitions import load_definition
from engine.documents import DocumentTooLarge, UnsupportedDocumentType, add_document
from engine.errors import InvalidSubmission
from engine.inbox import log_access, task_title
from engine.intake import DOCUMENT_KIND_OWNERS

from ..api.tasks import task_detail, visible_task
from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from ..labels import kind_label, service_label
from ..letters import case_letter, letter_service
from ..navigation import refuse_with_redirect, take_refused
from ..unit_of_work import discard
from . import bp, login_required, page_user
from .companion import visit_weather
from .forms import build_fields, parse_submission, typed_back
from .letters import letter_preview
from .present import documents, timeline


def _render(
    task_id: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    submitted: dict[str, Any] | None = None,
) -> Any:
    row = visible_task(task_id)
    detail = task_detail(row)
    schema = detail["form_schema"]
    if values is None:
        values = detail["form_defaults"]
    preview = letter_preview(row, submitted if submitted is not None else values)
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
        upload_kinds=uploadable_kinds(current_actor()) if row.state in ("ready", "claimed") else [],
        max_bytes=current_app.config["MAX_DOCUMENT_BYTES"],
        decisions=timeline(row.case, ("task_completed",)),
        service_label=service_label,
        weather=visit_weather(row.spec_name, row.case),
        preview=preview,
        letter=case_letter(row.case),
    )


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    kept = take_refused(f"task:{task_id}")
    if kept is None:
        return _render(task_id)
    values, errors, status = kept
    if errors:
        return _render(task_id, values, errors), status
    return _render(task_id, values.get("typed"), submitted=values.get("submitted"))  # the letter preview


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Any:
    row = visible_task(task_id)
    schema = load_definition(row.case.definition).form_schema(row.spec_name)
    data = parse_submission(schema, request.form)
    # Post/Redirect/Get for the preview and a refused form too (web/navigation.py)
    location = url_for("staff.task", task_id=task_id)
    if request.form.get("action") == "preview":  # show the letter these values issue; complete nothing
        typed = typed_back(schema, request.form)
        kept = {"typed": typed, "submitted": data}
        return refuse_with_redirect(f"task:{task_id}", location, kept, {}, 200) or _render(
            task_id, typed, submitted=data
        )
    try:
        done = case_ops.complete_task(db.session, task_id, current_actor(), data, utcnow(), letters=letter_service())
    except InvalidSubmission as invalid:
        db.session.rollback()
        typed, errors = typed_back(schema, request.form), dict(invalid.details or {})
        refused = refuse_with_redirect(f"task:{task_id}", location, typed, errors)
        return refused or (_render(task_id, typed, errors), 422)
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


@bp.post("/tasks/<task_id>/documents")
@login_required
def upload(task_id: str) -> Any:
    """A document of the task's case from the staff page (the supervisor's visit photo): one file,
    then back to the task (Post/Redirect/Get). The photo keeps its GPS position (engine.documents)."""
    from ..public.documents import document_settings, read_upload

    row = visible_task(task_id)
    kind = request.form.get("kind", "")
    file = request.files.get("file")
    if kind not in uploadable_kinds(current_actor()):
        flash(_("Jenis dokumen ini tidak dapat Anda unggah."), "error")
    elif file is None or not file.filename:
        flash(_("Pilih atau ambil foto terlebih dahulu."), "error")
    else:
        try:
            add_document(
                db.session,
                row.case,
                read_upload(file),
                kind,
                current_actor(),
                utcnow(),
                document_settings(),
                file.filename,
            )
        except (DocumentTooLarge, UnsupportedDocumentType) as exc:
            discard()
            flash(_(exc.message), "error")
        else:
            flash(_("%(kind)s tersimpan.", kind=kind_label(kind)), "success")
    return redirect(url_for("staff.task", task_id=task_id) + "#foto")


def uploadable_kinds(actor: Any) -> list[str]:
    """The kinds only some roles may upload, that this actor's roles own (the visit photo)."""
    return [kind for kind, owners in DOCUMENT_KIND_OWNERS.items() if owners & set(actor.roles)]
