"""The service catalogue page: which procedure each public service and the complaint form start."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from engine.catalogue import save_service
from engine.clock import utcnow
from engine.errors import InvalidSubmission
from engine.intake import APPLICANT_DOCUMENT_KINDS
from engine.versions import list_procedures

from ..auth import current_actor
from ..catalogue import catalogue
from ..extensions import db
from ..i18n import gettext as _
from . import admin_required, bp


def _page(errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status: int = 200) -> Any:
    current = catalogue()
    return render_template(
        "admin/services.html",
        services=list(current.services.values()),
        complaint=current.complaint,
        procedures=[p.key for p in list_procedures(db.session)],
        kinds=APPLICANT_DOCUMENT_KINDS,
        errors=errors or {},
        values=values or {},
    ), status


@bp.get("/layanan")
@admin_required
def services() -> Any:
    return _page()


@bp.post("/layanan")
@admin_required
def save_services() -> Any:
    form = request.form
    values = {
        "key": form.get("key", "").strip()[:32],
        "label": form.get("label", "")[:100],
        "description": form.get("description", "")[:500],
        "process": form.get("process", "")[:64],
        "documents": form.getlist("documents"),
        "active": form.get("active") == "1",
    }
    try:
        save_service(
            db.session,
            current_app.config["SERVICE_CATALOGUE"],
            values,
            current_actor(),
            utcnow(),
            set(APPLICANT_DOCUMENT_KINDS),
        )
    except InvalidSubmission as exc:
        db.session.rollback()
        return _page(exc.details, values, 422)
    flash(_("Layanan %(key)s disimpan.", key=values["key"]), "success")
    return redirect(url_for("admin.services"))
