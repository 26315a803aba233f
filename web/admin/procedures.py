"""Procedure pages: every procedure with its versions, any version's diagram, the editor."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, jsonify, render_template, request, url_for

from engine.clock import utcnow
from engine.definitions import DeploymentNeedsConfirmation, check_deployment, deploy_bundle, diagram_of
from engine.drafts import discard_draft, get_draft, save_draft
from engine.errors import DeploymentInvalid, InvalidSubmission
from engine.forms import apply_ui_schema
from engine.versions import diff_versions, get_version, list_procedures

from ..auth import current_actor
from ..catalogue import catalogue
from ..errors import error_response
from ..extensions import db
from ..i18n import gettext as _
from ..procedures import deploy_options
from ..staff.forms import build_fields
from . import admin_required, bp

WORKING_ROLES = ("operator", "supervisor", "manager", "kadis", "kabid", "front_office")


@bp.get("/")
@admin_required
def index() -> Any:
    procedures = list_procedures(db.session)
    used_by: dict[str, list[str]] = {}
    current = catalogue()
    for service in current.services.values():
        if service.active:
            used_by.setdefault(service.process, []).append(service.label)
    used_by.setdefault(current.complaint.process, []).append(current.complaint.label)
    return render_template("admin/index.html", procedures=procedures, used_by=used_by)


def _procedure(key: str) -> Any:
    found = next((p for p in list_procedures(db.session) if p.key == key), None)
    if found is None:
        from engine.errors import NotFound

        raise NotFound(_("Prosedur belum dipasang"))
    return found


@bp.post("/unggah")
@admin_required
def upload() -> Any:
    """Deploy uploaded files (a new procedure's diagram, DMN and forms) from the procedure list."""
    from flask import flash, redirect

    files = {(f.filename or "").strip(): f.read() for f in request.files.getlist("files") if f.filename}
    if not files:
        flash(_("Pilih berkas .bpmn, .dmn atau formulir .json untuk diunggah."), "error")
        return redirect(url_for("admin.index"))
    confirm = request.form.get("confirm") == "1"
    try:
        done = deploy_bundle(db.session, files, current_actor(), utcnow(), **deploy_options(), confirm=confirm)
    except (DeploymentInvalid, DeploymentNeedsConfirmation) as exc:
        db.session.rollback()
        problems = [p for p in exc.details or [] if p.get("severity", "error") == "error"]
        return render_template(
            "admin/upload_refused.html",
            message=exc.message,
            problems=problems or exc.details or [],
            needs_confirmation=isinstance(exc, DeploymentNeedsConfirmation),
        ), (409 if isinstance(exc, DeploymentNeedsConfirmation) else 422)
    versions = ", ".join(f"{v.key} v{v.version}" for v in done.versions)
    flash(_("Terpasang: %(versions)s", versions=versions), "success")
    return redirect(url_for("admin.index"))


@bp.get("/prosedur/<key>")
@admin_required
def procedure(key: str) -> Any:
    found = _procedure(key)
    diff = None
    if len(found.versions) > 1:
        diff = diff_versions(found.versions[1].definition, found.versions[0].definition)
    return render_template("admin/procedure.html", procedure=found, diff=diff, draft=get_draft(db.session, key))


@bp.get("/prosedur/<key>/v<int:version>")
@admin_required
def version(key: str, version: int) -> Any:
    definition = get_version(db.session, key, version)
    diagram = diagram_of(definition)
    data = {"xml": definition.files.get(diagram or "", ""), "highlight": []}
    compare = request.args.get("banding", type=int)
    diff = None
    if compare:
        diff = diff_versions(get_version(db.session, key, compare), definition)
        data["highlight"] = [c["id"] for c in diff["added"] + diff["changed"]]
    return render_template(
        "admin/version.html",
        definition=definition,
        diagram=diagram,
        data=data,
        files=sorted(definition.files),
        diff=diff,
    )


@bp.get("/prosedur/<key>/v<int:version>/berkas/<path:name>")
@admin_required
def version_file(key: str, version: int, name: str) -> Any:
    definition = get_version(db.session, key, version)
    if name not in definition.files:
        from engine.errors import NotFound

        raise NotFound(_("Berkas tidak ada dalam versi ini"))
    return Response(definition.files[name], mimetype="text/plain; charset=utf-8")


def _labels() -> dict[str, str]:
    return {
        "no_problems": _("Tidak ada masalah."),
        "line": _("baris"),
        "error": _("Galat"),
        "warning": _("Peringatan"),
        "validation": _("Hasil pemeriksaan"),
        "valid": _("Siap dipasang"),
        "invalid": _("Belum dapat dipasang"),
        "deployed": _("Terpasang"),
        "refused": _("Ditolak"),
        "draft_saved": _("Draf tersimpan"),
        "draft_failed": _("Draf gagal disimpan"),
        "new_form_prompt": _("Nama berkas formulir (mis. cek_dtsen.json)"),
        "role": _("Peran (nama lajur)"),
        "form": _("Formulir (JSON Schema)"),
        "ui": _("UI schema (opsional)"),
        "sla": _("SLA (hari kerja)"),
        "due": _("Batas waktu dari variabel"),
        "condition": _('Kondisi (Python), mis. decision == "lengkap"'),
        "script": _("Skrip (Python)"),
        "timer": _('Timer (ekspresi Python): "P14D", "PT2H" atau nama variabel'),
        "outcome": _("Hasil kasus: completed / rejected / expired"),
        "group": "Layar Sibalang",
    }


@bp.get("/prosedur/<key>/ubah")
@admin_required
def editor(key: str) -> Any:
    found = _procedure(key)
    latest = found.latest.definition
    draft = get_draft(db.session, key) if request.args.get("dari") != "versi" else None
    files = dict(draft.files) if draft else dict(latest.files)
    data = {
        "key": key,
        "files": files,
        "diagram": diagram_of(latest) or next((n for n in sorted(files) if n.endswith(".bpmn")), ""),
        "roles": list(WORKING_ROLES),
        "labels": _labels(),
        "urls": {
            "validate": url_for("admin.api_validate"),
            "deploy": url_for("admin.api_deploy", key=key),
            "draft": url_for("admin.api_draft", key=key),
            "preview": url_for("admin.api_form_preview"),
        },
    }
    return render_template("admin/editor.html", procedure=found, data=data, draft=draft)


def _json_files() -> dict[str, bytes]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("files"), dict):
        raise InvalidSubmission(_("Kirim {files: {nama: teks}}"), {"files": _("Wajib diisi.")})
    files = body["files"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise InvalidSubmission(_("Berkas harus berupa teks"), {"files": _("Nama dan isi berkas harus teks.")})
    return {name: text.encode("utf-8") for name, text in files.items()}


@bp.post("/api/validate")
@admin_required
def api_validate() -> Any:
    try:
        files = _json_files()
    except InvalidSubmission as exc:
        return error_response(422, exc.code, exc.message, exc.details)
    options = deploy_options()
    procedures, found = check_deployment(db.session, files, options["roles"], options["bidang"])
    errors = [p for p in found if p["severity"] == "error"]
    return jsonify(
        {
            "valid": not errors and bool(procedures),
            "procedures": sorted(procedures),
            "errors": errors,
            "warnings": [p for p in found if p["severity"] != "error"],
        }
    )


@bp.post("/api/prosedur/<key>/deploy")
@admin_required
def api_deploy(key: str) -> Any:
    try:
        files = _json_files()
    except InvalidSubmission as exc:
        return error_response(422, exc.code, exc.message, exc.details)
    confirm = bool((request.get_json(silent=True) or {}).get("confirm"))
    try:
        done = deploy_bundle(db.session, files, current_actor(), utcnow(), **deploy_options(), confirm=confirm)
    except DeploymentNeedsConfirmation as exc:
        db.session.rollback()
        return error_response(409, exc.code, exc.message, exc.details)
    except DeploymentInvalid as exc:
        db.session.rollback()
        return error_response(422, exc.code, exc.message, exc.details)
    if any(v.key == key for v in done.versions):
        discard_draft(db.session, key)
    answer = {
        "items": [{"key": v.key, "version": v.version} for v in done.versions],
        "unchanged": done.unchanged,
        "warnings": done.warnings,
    }
    return jsonify(answer), 201


@bp.post("/api/prosedur/<key>/draft")
@admin_required
def api_draft(key: str) -> Any:
    body = request.get_json(silent=True) or {}
    try:
        draft = save_draft(db.session, key[:64], body.get("files"), current_actor(), utcnow())
    except InvalidSubmission as exc:
        return error_response(422, exc.code, exc.message, exc.details)
    answer = {"key": draft.key, "updated_at": draft.updated_at.isoformat()}
    return jsonify(answer)


@bp.post("/api/form-preview")
@admin_required
def api_form_preview() -> Any:
    """The form as a staff member will see it, rendered by the same macros, from the editor's text."""
    body = request.get_json(silent=True) or {}
    try:
        schema = json.loads(body.get("schema") or "")
        ui = json.loads(body["ui_schema"]) if body.get("ui_schema") else None
    except (ValueError, TypeError) as exc:
        return jsonify({"html": "", "error": _("JSON tidak valid: %(error)s", error=str(exc)[:200])})
    if not isinstance(schema, dict):
        return jsonify({"html": "", "error": _("Formulir harus berupa objek JSON Schema")})
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return jsonify({"html": "", "error": _("JSON Schema tidak valid: %(error)s", error=exc.message[:200])})
    if isinstance(ui, dict):
        schema = apply_ui_schema(schema, ui)
    html = render_template("admin/_form_preview.html", schema=schema, fields=build_fields(schema, {}))
    return jsonify({"html": html, "error": ""})


@bp.get("/api/config")
@admin_required
def api_config() -> Any:
    return jsonify({"roles": list(WORKING_ROLES), "bidang": list(current_app.config["AGENCY"].bidang)})
