"""Letter endpoints: a case's PDF and its revocation (staff), public verification by code and by bytes."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request

from engine.clock import utcnow
from engine.errors import NotFound
from engine.models import Case, Letter
from letters.issue import bytes_match, letter_by_token, pdf_of, revoke_letter, verification

from ..auth import current_actor, staff_required
from ..errors import ApiError
from ..extensions import db
from ..letters import applicant_may_download, case_letter, letter_ref
from ..limits import limited
from . import bp, doc, json_body, load
from .applications import _tracked_case
from .cases import viewable_case
from .schemas import LetterCheckSchema, LetterRefSchema, LetterVerificationSchema, RevokeLetterSchema


def pdf_response(letter: Letter, pdf: bytes, filename: str) -> Response:
    """The issued bytes, unchanged; the ETag is their SHA-256."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["ETag"] = f'"{letter.sha256}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def letter_filename(letter: Letter, case: Case) -> str:
    return f"{letter.series}-{case.reference}.pdf"


def _letter_of(case: Case) -> Letter:
    letter = case_letter(case)
    if letter is None:
        raise NotFound("Kasus ini belum memiliki surat")
    return letter


@bp.get("/cases/<reference>/letter")
@doc("The case's letter as issued (signed PDF/A)", tags=("letters",), produces="application/pdf")
@staff_required()
def get_case_letter(reference: str) -> Any:
    case = viewable_case(reference, "letter")
    letter = _letter_of(case)
    pdf = pdf_of(db.session, letter)
    return pdf_response(letter, pdf, letter_filename(letter, case))


@bp.post("/cases/<reference>/letter/revoke")
@doc(
    "Revoke the case's letter with a reason (manager)",
    body=RevokeLetterSchema,
    response=LetterRefSchema,
    tags=("letters",),
    errors=(409,),
)
@staff_required("manager")
def revoke_case_letter(reference: str) -> Any:
    body = load(RevokeLetterSchema(), json_body())
    case = viewable_case(reference, "letter_revoke")
    letter = revoke_letter(db.session, _letter_of(case), body["reason"], current_actor(), utcnow())
    answer = LetterRefSchema().dump(letter_ref(letter))
    return jsonify(answer)


def _verified(token: str) -> Letter:
    try:
        return letter_by_token(db.session, token)
    except NotFound:
        raise ApiError(404, "not_found", "Surat tidak ditemukan") from None


@bp.get("/letters/verify/<token>")
@limited("RATELIMIT_VERIFY", scope="verify")
@doc("Verify a letter by the code on it (public)", response=LetterVerificationSchema, tags=("letters",), auth=False)
def verify_letter(token: str) -> Any:
    return jsonify(LetterVerificationSchema().dump(verification(_verified(token))))


def uploaded_pdf() -> bytes:
    """The PDF to check: a multipart ``file`` or the raw body (application/pdf), size-limited."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    if request.content_length is not None and request.content_length > limit + 4096:
        raise ApiError(413, "payload_too_large", f"Berkas maksimal {limit // (1024 * 1024)} MB")
    upload = request.files.get("file")
    if upload is not None:
        content = upload.stream.read(limit + 1)
    elif request.mimetype == "application/pdf":
        content = request.get_data()
    else:
        raise ApiError(415, "unsupported_media_type", "Kirim berkas PDF (multipart 'file' atau application/pdf)")
    if len(content) > limit:
        raise ApiError(413, "payload_too_large", f"Berkas maksimal {limit // (1024 * 1024)} MB")
    if not content:
        raise ApiError(422, "invalid_data", "Berkas kosong", {"file": "Pilih berkas PDF surat."})
    return content


@bp.post("/letters/verify/<token>")
@limited("RATELIMIT_VERIFY", scope="verify")
@doc(
    "Check that a PDF is byte for byte the issued letter (public)",
    response=LetterCheckSchema,
    tags=("letters",),
    auth=False,
    multipart={"file": "the PDF to check"},
)
def check_letter_bytes(token: str) -> Any:
    letter = _verified(token)
    content = uploaded_pdf()
    return jsonify(LetterCheckSchema().dump({"matches": bytes_match(letter, content), **verification(letter)}))


@bp.get("/applications/<reference>/letter")
@limited("RATELIMIT_TRACK", scope="track")
@doc(
    "The applicant's letter once handed over (public, with the tracking code)",
    tags=("applicant",),
    auth=False,
    params=(("tracking_code", "query", "the code given at submission"),),
    produces="application/pdf",
)
def applicant_letter(reference: str) -> Any:
    case = _tracked_case(reference, request.args.get("tracking_code"))
    letter = case_letter(case)
    if not applicant_may_download(case, letter):
        raise ApiError(404, "not_found", "Surat belum tersedia untuk diunduh")
    assert letter is not None
    return pdf_response(letter, pdf_of(db.session, letter), letter_filename(letter, case))
