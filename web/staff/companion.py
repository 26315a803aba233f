"""Assigning a social companion from the case page; the forecast on the home-visit task."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, request, url_for

from engine import regions
from engine.assignment import ASSIGNERS, assign_companion, assigned_companion
from engine.clock import utcnow
from engine.companions import SHORT_ROLES, list_companions, phone_display, proposed_companion
from engine.errors import EngineError
from engine.models import Case

from ..api.cases import viewable_case
from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from . import bp, login_required


def companion_panel(case: Case) -> dict[str, Any]:
    """The case page's companion card: who is assigned, whom to propose, whom one may choose."""
    actor = current_actor()
    kecamatan = case.kecamatan_code or (case.village_code or "")[:8] or None
    proposed = proposed_companion(db.session, case.village_code)
    choices = list_companions(db.session, kecamatan) if kecamatan else []
    return {
        "current": assigned_companion(db.session, case),
        "proposed": proposed,
        "emphasise": case.service == "pendamping",
        "choices": choices,
        "may_assign": bool(set(actor.roles) & ASSIGNERS) and case.status == "active",
        "roles": SHORT_ROLES,
        "phone_display": phone_display,
        "desa_name": lambda code: regions.village(code).name if code and regions.village(code) else "",
    }


@bp.post("/cases/<reference>/pendamping")
@login_required
def assign(reference: str) -> Any:
    case = viewable_case(reference, "assign_companion")
    try:
        companion_id = int(request.form.get("companion_id", ""))
    except ValueError:
        flash(_("Pilih pendamping yang akan ditugaskan."), "error")
        return redirect(url_for("staff.case", reference=reference) + "#pendamping")
    try:
        assign_companion(db.session, case, companion_id, current_actor(), utcnow(), request.form.get("note", ""))
    except EngineError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("staff.case", reference=reference) + "#pendamping")
    flash(_("Pendamping ditugaskan; pendamping dan pemohon diberi tahu."), "success")
    return redirect(url_for("staff.case", reference=reference) + "#pendamping")


def visit_weather(task_name: str, case: Case) -> dict[str, Any] | None:
    """On the home visit: the forecast of the applicant's desa, from the cache only (never waits)."""
    if task_name not in current_app.config["WEATHER_TASKS"] or not case.village_code:
        return None
    if regions.village(case.village_code) is None:
        return None
    from ..public.weather import weather_context
    from ..weather import forecast_cached

    return weather_context(case.village_code, forecast_cached(case.village_code))
