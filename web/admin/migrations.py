"""Moving running cases to a newer version: a dry run first, then the cases the admin picks."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from engine.clock import utcnow
from engine.migration import dry_run, migrate_cases

from ..auth import current_actor
from ..extensions import db
from ..i18n import gettext as _
from . import admin_required, bp


@bp.get("/prosedur/<key>/migrasi")
@admin_required
def migrate(key: str) -> Any:
    target, checks = dry_run(db.session, key)
    return render_template("admin/migrate.html", key=key, target=target, checks=checks)


@bp.post("/prosedur/<key>/migrasi")
@admin_required
def migrate_submit(key: str) -> Any:
    references = [r[:32] for r in request.form.getlist("reference")][:1000]
    version = request.form.get("version", type=int)
    moved, refused = migrate_cases(db.session, key, references, current_actor(), utcnow(), version)
    if moved:
        flash(_("%(n)s kasus dipindahkan ke versi terbaru.", n=len(moved)), "success")
    for reference, reasons in refused.items():
        flash(_("%(ref)s tidak dipindahkan: %(why)s", ref=reference, why="; ".join(reasons)), "error")
    return redirect(url_for("admin.migrate", key=key))
