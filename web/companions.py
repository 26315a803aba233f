"""``/admin/pendamping``: administrators keep the companion directory (one entry, or a CSV file).

Its own blueprint (the ``/admin/`` blueprint itself belongs to the administration pages).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from engine import regions
from engine.clock import utcnow
from engine.companions import (
    CSV_COLUMNS,
    FIELDS,
    KEEPERS,
    ROLES,
    changes_of,
    create_companion,
    get_companion,
    import_companions,
    list_companions,
    phone_display,
    update_companion,
)
from engine.errors import InvalidSubmission

from .auth import current_actor, current_staff
from .extensions import db
from .i18n import gettext as _

bp = Blueprint("companions", __name__, url_prefix="/admin/pendamping")
MAX_CSV_BYTES = 1024 * 1024
CSV_EXAMPLE = (
    ",".join(CSV_COLUMNS)
    + "\nRahmadi,tksk,63.11.01,,0812-0000-0101,,Kementerian Sosial,ya\n"
    + "Aliansyah,psm,63.11.01,63.11.01.2001,0812-0000-0102,,,ya\n"
)


@bp.before_request
def _keepers_only() -> Any:
    user = current_staff()
    if user is None:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    if not set(user.roles) & KEEPERS:
        return render_template("staff/error.html", status=403, message=_("Halaman ini khusus administrator.")), 403
    return None


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = {name: request.form.get(name, "") for name in FIELDS if name != "active"}
    values["active"] = request.form.get("active") == "1"
    return values


def _page(template: str, status: int = 200, **context: Any) -> Any:
    return (
        render_template(
            template,
            roles=ROLES,
            kecamatan_list=regions.kecamatan_list(),
            groups=[(k, sorted(regions.desa_list(k.code), key=lambda r: r.name)) for k in regions.kecamatan_list()],
            phone_display=phone_display,
            region_name=regions.region_name,
            csv_columns=CSV_COLUMNS,
            **context,
        ),
        status,
    )


@bp.get("/")
def index() -> Any:
    kecamatan = request.args.get("kecamatan") or None
    rows = list_companions(db.session, kecamatan, active_only=False)
    return _page("companions/index.html", companions=rows, kecamatan=kecamatan, problems=None)


@bp.route("/baru", methods=["GET", "POST"])
def new() -> Any:
    if request.method == "GET":
        return _page("companions/form.html", companion=None, values={"active": True}, errors={})
    values = _form_values()
    try:
        companion = create_companion(db.session, values, current_actor(), utcnow())
    except InvalidSubmission as invalid:
        db.session.rollback()
        return _page("companions/form.html", 422, companion=None, values=values, errors=invalid.details or {})
    flash(_("Pendamping %(name)s ditambahkan.", name=companion.name), "success")
    return redirect(url_for("companions.index", kecamatan=companion.kecamatan_code))


@bp.route("/<int:companion_id>", methods=["GET", "POST"])
def edit(companion_id: int) -> Any:
    companion = get_companion(db.session, companion_id)
    if request.method == "GET":
        values = {name: getattr(companion, name) or "" for name in FIELDS}
        values["phone"] = phone_display(companion.phone)
        values["whatsapp"] = phone_display(companion.whatsapp) if companion.whatsapp else ""
        return _page(
            "companions/form.html",
            companion=companion,
            values=values,
            errors={},
            history=changes_of(db.session, companion.id),
        )
    values = _form_values()
    try:
        update_companion(db.session, companion_id, values, current_actor(), utcnow())
    except InvalidSubmission as invalid:
        db.session.rollback()
        return _page(
            "companions/form.html",
            422,
            companion=companion,
            values=values,
            errors=invalid.details or {},
            history=changes_of(db.session, companion_id),
        )
    flash(_("Perubahan disimpan."), "success")
    return redirect(url_for("companions.edit", companion_id=companion_id))


@bp.post("/impor")
def import_csv() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        problems = [_("Pilih berkas CSV yang akan diimpor.")]
        return _page("companions/index.html", 422, companions=list_companions(db.session, None, active_only=False),
                     kecamatan=None, problems=problems)  # fmt: skip
    content = upload.stream.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        raise RequestEntityTooLarge()
    try:
        result = import_companions(db.session, content, current_actor(), utcnow())
    except InvalidSubmission as invalid:
        db.session.rollback()
        problems = list(invalid.details or [invalid.message])
        return _page("companions/index.html", 422, companions=list_companions(db.session, None, active_only=False),
                     kecamatan=None, problems=problems)  # fmt: skip
    flash(
        _(
            "Impor selesai: %(created)s baru, %(updated)s diubah, %(same)s tetap.",
            created=result.created,
            updated=result.updated,
            same=result.unchanged,
        ),
        "success",
    )
    return redirect(url_for("companions.index"))


@bp.get("/contoh.csv")
def example_csv() -> Any:
    return Response(
        CSV_EXAMPLE,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=pendamping-contoh.csv"},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
