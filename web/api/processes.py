"""Admin endpoints: list, validate, deploy and compare procedure versions."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from engine.clock import utcnow
from engine.definitions import check_deployment, deploy_bundle
from engine.models import ProcessDefinition
from engine.versions import diff_versions, get_version, list_procedures

from ..auth import current_actor, staff_required
from ..errors import ApiError
from ..extensions import db
from ..procedures import deploy_options
from . import bp, doc
from .schemas import DeploymentSchema, ProcessDiffSchema, ProcessListSchema, ProcessSchema, ValidationReportSchema


def process_item(definition: ProcessDefinition, open_cases: int | None = None) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "sha256": definition.sha256,
        "files": sorted(definition.files),
        "deployed_by": definition.deployed_by,
        "deployed_at": definition.deployed_at,
        "open_cases": open_cases,
    }


def _uploaded_files() -> dict[str, bytes]:
    if not request.mimetype == "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "Unggah berkas sebagai multipart/form-data (kolom 'files')")
    uploads = request.files.getlist("files")
    if not uploads:
        raise ApiError(422, "invalid_deployment", "Tidak ada berkas pada kolom 'files'", [])
    return {(u.filename or "").strip(): u.read() for u in uploads}


def _flag(name: str) -> bool:
    value = request.args.get(name) or request.form.get(name) or ""
    return value.strip().lower() in {"1", "true", "yes", "on"}


@bp.get("/processes")
@doc(
    "Deployed procedure versions, newest first, with open cases per version",
    response=ProcessListSchema,
    tags=("admin",),
)
@staff_required("admin", "auditor")
def list_processes() -> Any:
    items = [process_item(v.definition, v.open_cases) for p in list_procedures(db.session) for v in p.versions]
    return jsonify({"items": ProcessSchema(many=True).dump(items)})


@bp.post("/processes/validate")
@doc(
    "Check BPMN/DMN/forms without deploying: every error and warning with its element id and line",
    response=ValidationReportSchema,
    tags=("admin",),
    multipart={"files": "repeated: .bpmn, .dmn and forms named by their path under bpmn/ (forms/x.json)"},
)
@staff_required("admin")
def validate_processes() -> Any:
    options = deploy_options()
    procedures, found = check_deployment(db.session, _uploaded_files(), options["roles"], options["bidang"])
    errors = [p for p in found if p["severity"] == "error"]
    report = {
        "valid": not errors and bool(procedures),
        "procedures": sorted(procedures),
        "errors": errors,
        "warnings": [p for p in found if p["severity"] != "error"],
    }
    return jsonify(ValidationReportSchema().dump(report))


@bp.post("/processes")
@doc(
    "Deploy BPMN/DMN/forms (multipart 'files', repeated); 422 lists every problem; 409 unless confirm=true "
    "when it replaces a live procedure or one deployed from another file",
    response=DeploymentSchema,
    status=201,
    tags=("admin",),
    params=(("confirm", "query", "true to replace a live procedure or one deployed from another file"),),
    multipart={"files": "repeated: .bpmn, .dmn and forms named by their path under bpmn/ (forms/x.json)"},
    errors=(409,),
)
@staff_required("admin")
def deploy_processes() -> Any:
    files = _uploaded_files()
    done = deploy_bundle(db.session, files, current_actor(), utcnow(), **deploy_options(), confirm=_flag("confirm"))
    answer = {
        "items": [process_item(r) for r in done.versions],
        "unchanged": done.unchanged,
        "warnings": done.warnings,
    }
    answer = DeploymentSchema().dump(answer)
    return jsonify(answer), 201


def _version_arg(name: str) -> int | None:
    """A version number from the query string: absent → None, not a positive integer → 400."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
        raise ApiError(400, "invalid_parameter", f"Parameter {name} harus nomor versi (bilangan bulat positif)")
    return int(raw)


@bp.get("/processes/<key>/diff")
@doc(
    "Elements added, removed and changed between two versions (?from=1&to=2; default: the two newest)",
    response=ProcessDiffSchema,
    tags=("admin",),
    params=(("from", "query", "older version"), ("to", "query", "newer version")),
    errors=(400,),
)
@staff_required("admin", "auditor")
def diff_processes(key: str) -> Any:
    versions = [v.definition.version for p in list_procedures(db.session) if p.key == key for v in p.versions]
    if not versions:
        raise ApiError(404, "not_found", f"Prosedur '{key}' belum dipasang")
    newer = _version_arg("to") or versions[0]
    older = _version_arg("from") or (versions[1] if len(versions) > 1 else versions[0])
    diff = diff_versions(get_version(db.session, key, older), get_version(db.session, key, newer))
    return jsonify(ProcessDiffSchema().dump(diff))
