"""Staff letter pages: the PDF to print at the hand-over, the manager's revocation, the task's preview."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, request, url_for

from engine import cases as case_ops
from engine.clock import utcnow
from engine.definitions import load_definition
from engine.errors import InvalidSubmission, NotFound
from engine.models import HumanTask
from letters.issue import pdf_of, revoke_letter

from ..api.cases import viewable_case
from ..api.letters import letter_filename, pdf_response
from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from ..letters import case_letter, letter_service
from . import bp, login_required


@bp.get("/cases/<reference>/letter.pdf")
@login_required
def letter_pdf(reference: str) -> Any:
    case = viewable_case(reference, "letter")
    letter = case_letter(case)
    if letter is None:
        raise NotFound(_("Kasus ini belum memiliki surat."))
    pdf = pdf_of(db.session, letter)
    return pdf_response(letter, pdf, letter_filename(letter, case))


@bp.post("/cases/<reference>/letter/revoke")
@login_required
def letter_revoke(reference: str) -> Any:
    actor = current_actor()
    if "manager" not in actor.roles:
        from engine.errors import Forbidden

        raise Forbidden(_("Hanya manajer yang dapat mencabut surat."))
    case = viewable_case(reference, "letter_revoke")
    letter = case_letter(case)
    if letter is None:
        raise NotFound(_("Kasus ini belum memiliki surat."))
    try:
        revoke_letter(db.session, letter, request.form.get("reason", ""), actor, utcnow())
    except InvalidSubmission as invalid:
        db.session.rollback()
        flash(invalid.message, "error")
        return redirect(url_for("staff.case", reference=reference) + "#surat")
    flash(_("Surat %(number)s dicabut.", number=letter.number), "success")
    return redirect(url_for("staff.case", reference=reference) + "#surat")


def letter_preview(row: HumanTask, submitted: dict[str, Any] | None) -> str | None:
    """The HTML of the letter completing ``row`` would issue (``None`` if it issues none)."""
    meta = load_definition(row.case.definition).tasks.get(row.spec_name)
    if meta is None or not meta.letter or row.state not in case_ops.OPEN_STATES:
        return None
    _loaded, workflow = case_ops.restore_workflow(row.case)
    task = workflow.get_task_from_id(UUID(row.id))
    schema = load_definition(row.case.definition).form_schema(row.spec_name) or {}
    # what the form shows before anything is typed: the schema's defaults
    defaults = {k: p["default"] for k, p in (schema.get("properties") or {}).items() if "default" in p}
    data = {**(task.data if task is not None else {}), **defaults, **(submitted or {})}
    return letter_service().preview_html(db.session, row.case, meta.letter, row.spec_name, data, utcnow())
