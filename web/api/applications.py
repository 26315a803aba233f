"""Applicant endpoints (no login): applications, complaints, tracking, resubmission, regions."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from engine import intake, regions
from engine.audit import APPLICANT
from engine.cases import check_tracking_code, get_case
from engine.clock import utcnow
from engine.documents import add_document, case_documents
from engine.errors import Forbidden, NotFound
from engine.inbox import STATUS_TEXT, may_view_case, missing_documents, public_timeline
from engine.models import IdempotencyRecord
from engine.resubmission import resubmit

from ..auth import actor_for, current_staff
from ..catalogue import UNKNOWN_SERVICE, complaint_process, process_of
from ..errors import ApiError
from ..extensions import db
from ..letters import applicant_may_download, case_letter
from ..limits import limited
from ..sealing import opened_answer, sealed_answer
from . import bp, doc, json_body, load
from .schemas import (
    ApplicationCreatedSchema,
    DocumentSchema,
    RegionListSchema,
    ResubmitSchema,
    TrackingSchema,
)

_application = intake.ApplicationSchema()
_complaint = intake.ComplaintSchema()
_resubmit = ResubmitSchema()


# visible ASCII, as the OpenAPI document says; 100 so that "applications:" + key fits the 128 of the column
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def _idempotent(endpoint: str, body: Any, create: Any) -> Any:
    """Answer a resend carrying the same ``Idempotency-Key`` with the first answer."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        status, answer = create()
        return jsonify(answer), status
    key = key.strip()
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(
            400, "invalid_idempotency_key", "Idempotency-Key: 1–100 karakter ASCII yang terlihat (tanpa spasi)"
        )
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    for _attempt in range(2):
        record = db.session.get(IdempotencyRecord, f"{endpoint}:{key}")
        if record is not None:
            if record.request_hash != digest:
                raise ApiError(422, "idempotency_mismatch", "Idempotency-Key ini sudah dipakai untuk data yang berbeda")
            return jsonify(opened_answer(record.response)), record.status_code
        status, answer = create()
        db.session.add(
            IdempotencyRecord(
                key=f"{endpoint}:{key}",
                endpoint=endpoint,
                request_hash=digest,
                status_code=status,
                response=sealed_answer(answer),  # the tracking code never stored readable
                created_at=utcnow(),
            )
        )
        if _recorded():
            return jsonify(answer), status
        # the same request arrived twice at once and the other one won: drop what this one
        # wrote (its case too) and answer as the other did
    raise ApiError(409, "conflict", "Permintaan yang sama sedang diproses; coba lagi")


def _recorded() -> bool:
    """Flush the idempotency record; False (and everything rolled back) if another request
    holding the same key has stored its record first."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _intake_actor() -> Any:
    user = current_staff()
    return actor_for(user) if user is not None else APPLICANT


@bp.post("/applications")
@limited("RATELIMIT_SUBMIT")
@doc(
    "Submit an application (public; honours Idempotency-Key)",
    body=intake.ApplicationSchema,
    response=ApplicationCreatedSchema,
    status=201,
    tags=("applicant",),
    auth=False,
    errors=(409,),
)
def create_application() -> Any:
    body = json_body()
    data = load(_application, body)
    process = process_of(data["service"])
    if process is None:
        raise ApiError(422, "invalid_data", "Data tidak valid", {"service": UNKNOWN_SERVICE})

    def create() -> tuple[int, dict[str, Any]]:
        case, code, warnings = intake.submit_application(
            db.session, data, _intake_actor(), utcnow(), current_app.config["RESUBMISSION_TIMEOUT"], process
        )
        return 201, {"reference": case.reference, "tracking_code": code, "status": case.status, "warnings": warnings}

    return _idempotent("applications", body, create)


@bp.post("/complaints")
@limited("RATELIMIT_SUBMIT")
@doc(
    "Submit a complaint (public; honours Idempotency-Key)",
    body=intake.ComplaintSchema,
    response=ApplicationCreatedSchema,
    status=201,
    tags=("applicant",),
    auth=False,
    errors=(409,),
)
def create_complaint() -> Any:
    body = json_body()
    data = load(_complaint, body)

    def create() -> tuple[int, dict[str, Any]]:
        case, code = intake.submit_complaint(db.session, data, _intake_actor(), utcnow(), complaint_process())
        return 201, {"reference": case.reference, "tracking_code": code, "status": case.status, "warnings": []}

    return _idempotent("complaints", body, create)


def _tracked_case(reference: str, code: str | None) -> Any:
    try:
        case = get_case(db.session, reference)
    except NotFound:
        case = None
    # the same answer for an unknown reference and a wrong code: no probing for references
    if case is None or not check_tracking_code(case, code):
        raise ApiError(404, "not_found", "Nomor permohonan atau kode pelacakan tidak cocok")
    return case


def tracking_view(case: Any) -> dict[str, Any]:
    missing = missing_documents(db.session, case)
    return TrackingSchema().dump(
        {
            "reference": case.reference,
            "status": case.status,
            "status_text": STATUS_TEXT.get(case.status, case.status),
            "step": case.current_step,
            "created_at": case.created_at,
            "closed_at": case.closed_at,
            "outcome_reason": case.outcome_reason,
            "missing_documents": missing,
            "can_resubmit": bool(missing),
            "timeline": public_timeline(db.session, case),
            "documents": case_documents(db.session, case, applicant_view=True),
            "letter": applicant_letter_view(case),
        }
    )


def applicant_letter_view(case: Any) -> dict[str, Any] | None:
    """The applicant's letter: number and status always; the download once it may be had."""
    letter = case_letter(case)
    if letter is None:
        return None
    url = None
    if applicant_may_download(case, letter):
        url = url_for("api.applicant_letter", reference=case.reference)
    return {
        "number": letter.number,
        "series": letter.series,
        "issued_at": letter.issued_at,
        "status": letter.status,
        "download_url": url,
    }


@bp.get("/applications/<reference>")
@limited("RATELIMIT_TRACK", scope="track")
@doc(
    "Track an application or complaint by reference and tracking code (public)",
    response=TrackingSchema,
    tags=("applicant",),
    auth=False,
    params=(("tracking_code", "query", "the code given at submission"),),
)
def track_application(reference: str) -> Any:
    case = _tracked_case(reference, request.args.get("tracking_code"))
    return jsonify(tracking_view(case))


@bp.get("/complaints/<reference>")
@limited("RATELIMIT_TRACK", scope="track")
@doc(
    "Track a complaint by reference and tracking code (public)",
    response=TrackingSchema,
    tags=("applicant",),
    auth=False,
    params=(("tracking_code", "query", "the code given at submission"),),
)
def track_complaint(reference: str) -> Any:
    return track_application(reference)


@bp.post("/applications/<reference>/resubmit")
@limited("RATELIMIT_TRACK", scope="track")
@doc(
    "Resubmit an incomplete application after adding the missing documents (public)",
    body=ResubmitSchema,
    response=TrackingSchema,
    tags=("applicant",),
    auth=False,
    errors=(409,),
)
def resubmit_application(reference: str) -> Any:
    data = load(_resubmit, json_body())
    case = _tracked_case(reference, data["tracking_code"])
    resubmit(db.session, case, data["note"], APPLICANT, utcnow())
    return jsonify(tracking_view(case))


@bp.post("/applications/<reference>/documents")
@limited("RATELIMIT_TRACK", scope="track", exempt_when=lambda: current_staff() is not None)
@doc(
    "Add a document (JPEG/PNG/PDF) to an application or complaint: applicants give tracking_code, staff their token",
    response=DocumentSchema,
    status=201,
    tags=("applicant",),
    auth=False,
    errors=(401, 403, 409),
    multipart={
        "file": "the document: JPEG, PNG or PDF (checked by content), at most MAX_DOCUMENT_BYTES",
        "kind": "ktp | kk | foto | surat_keterangan_desa | surat_keterangan_dokter | surat_pengantar_dinsos | lainnya (the supervisor also foto_kunjungan)",
        "tracking_code": "the applicant's tracking code (not needed with a staff token)",
    },
)
def upload_document(reference: str) -> Any:
    from ..public.documents import document_settings, read_upload

    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "Kirim berkas sebagai multipart/form-data (kolom file dan kind)")
    user = current_staff()
    if user is not None:
        case = get_case(db.session, reference)
        actor = actor_for(user)
        if not may_view_case(case, actor):
            raise Forbidden("Anda tidak berhak mengubah kasus ini")
    else:
        case = _tracked_case(reference, request.form.get("tracking_code"))
        actor = APPLICANT
    upload = request.files.get("file")
    kind = request.form.get("kind", "")
    problems = {}
    if upload is None or not upload.filename:
        problems["file"] = "Wajib diisi."
    if not kind:
        problems["kind"] = "Wajib diisi."
    if problems:
        raise ApiError(422, "invalid_data", "Data tidak valid", problems)
    assert upload is not None
    document = add_document(
        db.session, case, read_upload(upload), kind, actor, utcnow(), document_settings(), upload.filename
    )
    return jsonify(DocumentSchema().dump(document)), 201


@bp.get("/regions")
@doc("Kecamatan and desa/kelurahan of the regency", response=RegionListSchema, tags=("reference",), auth=False)
def list_regions() -> Any:
    return jsonify(
        {
            "kecamatan": [{"code": r.code, "name": r.name, "kind": "kecamatan"} for r in regions.kecamatan_list()],
            "desa": [{"code": r.code, "name": r.name, "kind": r.kind} for r in regions.desa_list()],
        }
    )
