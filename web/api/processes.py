"""Admin endpoints: list and deploy procedures."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from sqlalchemy import select

from engine.clock import utcnow
from engine.definitions import deploy
from engine.models import ProcessDefinition

from ..auth import current_actor, staff_required
from ..errors import ApiError
from ..extensions import db
from . import bp, doc
from .schemas import ProcessListSchema, ProcessSchema


def process_item(definition: ProcessDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "sha256": definition.sha256,
        "files": sorted(definition.files),
        "deployed_by": definition.deployed_by,
        "deployed_at": definition.deployed_at,
    }


@bp.get("/processes")
@doc("Deployed procedure versions, newest first", response=ProcessListSchema, tags=("admin",))
@staff_required("admin", "auditor")
def list_processes() -> Any:
    rows = db.session.scalars(
        select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ).all()
    return jsonify({"items": ProcessSchema(many=True).dump([process_item(r) for r in rows])})


@bp.post("/processes")
@doc(
    "Deploy BPMN/DMN/forms (multipart 'files', repeated); 422 lists every problem",
    response=ProcessListSchema,
    status=201,
    tags=("admin",),
    multipart={"files": "repeated: .bpmn, .dmn and forms named by their path under bpmn/ (forms/x.json)"},
)
@staff_required("admin")
def deploy_processes() -> Any:
    if not request.mimetype == "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "Unggah berkas sebagai multipart/form-data (kolom 'files')")
    uploads = request.files.getlist("files")
    if not uploads:
        raise ApiError(422, "invalid_deployment", "Tidak ada berkas pada kolom 'files'", [])
    files = {(u.filename or "").strip(): u.read() for u in uploads}
    rows = deploy(db.session, files, current_actor(), utcnow(), current_app.config["STAFF_ROLES"])
    answer = {"items": ProcessSchema(many=True).dump([process_item(r) for r in rows])}
    return jsonify(answer), 201
