"""The case page: status, timeline, open tasks, documents, internal comments and the live diagram."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for

from engine.clock import utcnow
from engine.comments import add_comment
from engine.errors import InvalidSubmission
from engine.inbox import STATUS_TEXT
from letters.issue import letters_of

from ..api.cases import case_view, viewable_case
from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from ..labels import service_label
from ..navigation import refuse_with_redirect, take_refused
from . import bp, login_required
from .companion import companion_panel
from .present import documents, timeline


def _render(reference: str, comment: str = "", error: str | None = None) -> Any:
    case = viewable_case(reference, "view")
    view = case_view(case)
    entries = timeline(case)
    open_tasks = [t for t in view["tasks"] if t["state"] in ("ready", "claimed")]
    return render_template(
        "staff/case.html",
        case=view,
        status_text=STATUS_TEXT.get(case.status, case.status),
        entries=entries,
        open_tasks=open_tasks,
        documents=documents(case),
        completed_steps=sorted({e.event.task_spec for e in entries if e.event.kind == "task_completed"}),
        current_steps=sorted({t["name"] for t in open_tasks}),
        comment=comment,
        comment_error=error,
        service_label=service_label,
        companion=companion_panel(case),
        letters=letters_of(db.session, case),
    )


@bp.get("/cases/<reference>")
@login_required
def case(reference: str) -> Any:
    kept = take_refused(f"comment:{reference}")
    if kept is not None:
        values, errors, status = kept
        return _render(reference, values.get("comment", ""), errors.get("comment")), status
    return _render(reference)


@bp.post("/cases/<reference>/comments")
@login_required
def comment(reference: str) -> Any:
    case = viewable_case(reference, "comment")
    text = request.form.get("comment", "")
    try:
        add_comment(db.session, case, current_actor(), text, utcnow())
    except InvalidSubmission as invalid:
        db.session.rollback()
        error = str((invalid.details or {}).get("comment") or invalid.message)
        location = url_for("staff.case", reference=reference) + "#komentar"
        refused = refuse_with_redirect(f"comment:{reference}", location, {"comment": text}, {"comment": error})
        return refused or (_render(reference, text, error), 422)
    flash(_("Komentar disimpan."), "success")
    return redirect(url_for("staff.case", reference=reference) + "#komentar")


@bp.get("/cases/<reference>/diagram.bpmn")
@login_required
def diagram(reference: str) -> Any:
    case = viewable_case(reference, "diagram")
    files = case.definition.files or {}
    name = f"{case.definition.key}.bpmn"
    if name not in files:
        name = next((n for n in sorted(files) if n.endswith(".bpmn")), "")
    if not name:
        abort(404)
    xml = files[name]
    # A deployed file is untrusted markup: a download, never a document that runs its scripts
    # (bpmn-js reads it with fetch, which ignores the disposition).
    headers = {
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'attachment; filename="{case.definition.key}.bpmn"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(xml, mimetype="application/xml", headers=headers)
