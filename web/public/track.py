"""Tracking: reference + tracking code → status, missing documents, uploads, resubmission."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for

from engine import intake
from engine.assignment import assigned_companion
from engine.audit import APPLICANT
from engine.cases import check_tracking_code, get_case
from engine.clock import utcnow
from engine.companions import SHORT_ROLES, phone_display, tel_link, whatsapp_link
from engine.documents import (
    DocumentTooLarge,
    UnsupportedDocumentType,
    add_document,
    case_documents,
    get_document,
    missing_documents_status,
)
from engine.errors import EngineError, InvalidSubmission, NotFound, NotWaiting
from engine.inbox import STATUS_TEXT, public_timeline
from engine.models import Case
from engine.resubmission import resubmit
from engine.text import N_
from letters.issue import pdf_of

from ..api.letters import letter_filename, pdf_response
from ..extensions import db
from ..i18n import gettext as _
from ..letters import applicant_may_download, case_letter
from ..limits import limited
from ..navigation import refuse_with_redirect, take_refused
from ..sealing import seal, unseal
from . import bp
from .documents import document_response, document_settings, read_upload

NOT_MATCHING = N_("Nomor permohonan atau kode pelacakan tidak cocok. Periksa kembali lalu coba lagi.")


def remember_tracking(reference: str, code: str) -> None:
    """Keep the verified code in the (signed, HttpOnly) session so the applicant need not retype
    it — sealed, as the cookie itself is readable (web/sealing.py)."""
    known = dict(session.get("tracking") or {})
    known[reference] = seal(code)
    session["tracking"] = dict(list(known.items())[-5:])


def known_tracking_code(reference: str) -> str | None:
    """The code this browser proved (or was given) for ``reference``, if any."""
    return unseal((session.get("tracking") or {}).get(reference.strip().upper()))


def case_for(reference: str, code: str | None) -> Case | None:
    """The case ``reference`` if ``code`` is its tracking code."""
    try:
        case = get_case(db.session, reference.strip().upper())
    except NotFound:
        return None
    return case if check_tracking_code(case, code) else None


def _tracked(reference: str) -> tuple[Case | None, str | None]:
    """The case if the request proves the code; a POST must carry it in the form itself."""
    code = request.values.get("tracking_code")
    if not code and request.method == "GET":
        code = known_tracking_code(reference)
    return case_for(reference, code), code


@bp.get("/track")
def track_form() -> Any:
    refused = take_refused("track")
    if refused is not None:
        return render_template("public/track_form.html", values=refused[0], error=NOT_MATCHING), refused[2]
    return render_template("public/track_form.html", values={}, error=None)


@bp.post("/track")
@limited("RATELIMIT_TRACK", scope="track")
def track_lookup() -> Any:
    values = {k: request.form.get(k, "").strip() for k in ("reference", "tracking_code")}
    case = case_for(values["reference"], values["tracking_code"])
    if case is None:
        kept = {"reference": values["reference"][:32]}
        errors = {"tracking_code": NOT_MATCHING}
        return refuse_with_redirect("track", url_for("public.track_form"), kept, errors, 404)
    remember_tracking(case.reference, values["tracking_code"].upper())
    return redirect(url_for("public.track_status", reference=case.reference))


def _status_page(case: Case, code: str, errors: dict[str, str] | None = None, status: int = 200, note: str = "") -> Any:
    missing = missing_documents_status(db.session, case)
    # what the operator asked for and is not uploaded yet comes first in the upload list
    first = [
        (m["kind"], m["label"]) for m in missing if not m["uploaded"] and m["kind"] in intake.APPLICANT_DOCUMENT_KINDS
    ]
    rest = [(k, v) for k, v in intake.APPLICANT_DOCUMENT_KINDS.items() if (k, v) not in first]
    letter = case_letter(case)
    page = render_template(
        "public/track_status.html",
        case=case,
        code=code,
        status_text=STATUS_TEXT.get(case.status, case.status),
        timeline=public_timeline(db.session, case),
        missing=missing,
        documents=case_documents(db.session, case, applicant_view=True),
        kinds=intake.DOCUMENT_KINDS,
        kind_options=first + rest,
        required=intake.REQUIRED_DOCUMENTS.get(case.service or "", ()),
        services=intake.SERVICES,
        errors=errors or {},
        note=note,
        max_mb=current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024),
        max_bytes=current_app.config["MAX_DOCUMENT_BYTES"],
        notice=session.pop("track_notice", None),
        companion=assigned_companion(db.session, case),
        roles=SHORT_ROLES,
        phone_display=phone_display,
        tel_link=tel_link,
        whatsapp_link=whatsapp_link,
        letter=letter,
        letter_downloadable=applicant_may_download(case, letter),
    )
    return page, status


@bp.get("/track/<reference>")
@limited("RATELIMIT_TRACK", scope="track")
def track_status(reference: str) -> Any:
    case, code = _tracked(reference)
    if case is None or code is None:
        return render_template("public/track_form.html", values={"reference": reference}, error=NOT_MATCHING), 404
    remember_tracking(case.reference, code.upper())
    refused = take_refused(f"track:{case.reference}")
    if refused is not None:
        values, errors, status = refused
        return _status_page(case, code, errors, status, values.get("note", ""))
    return _status_page(case, code)


def _refuse(case: Case, code: str, errors: dict[str, str], status: int, note: str = "") -> Any:
    """A refused upload or resubmission: its messages on the status page, reached by GET."""
    db.session.rollback()
    remember_tracking(case.reference, code.upper())  # the status page (a GET) proves it from the session
    location = url_for("public.track_status", reference=case.reference)
    return refuse_with_redirect(f"track:{case.reference}", location, {"note": note}, errors, status) or _status_page(
        case, code, errors, status, note
    )


@bp.post("/track/<reference>/documents")
@limited("RATELIMIT_TRACK", scope="track")
def track_upload(reference: str) -> Any:
    case, code = _tracked(reference)
    if case is None or code is None:
        return render_template("public/track_form.html", values={"reference": reference}, error=NOT_MATCHING), 404
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    if kind not in intake.APPLICANT_DOCUMENT_KINDS:
        return _refuse(case, code, {"kind": N_("Pilih jenis dokumen.")}, 422)
    if upload is None or not upload.filename:
        return _refuse(case, code, {"file": N_("Pilih berkas yang akan diunggah.")}, 422)
    try:
        add_document(
            db.session, case, read_upload(upload), kind, APPLICANT, utcnow(), document_settings(), upload.filename
        )
    except (DocumentTooLarge, UnsupportedDocumentType, NotWaiting) as exc:
        return _refuse(case, code, {"file": exc.message}, 422)
    session["track_notice"] = _("%(kind)s berhasil diunggah.", kind=_(intake.DOCUMENT_KINDS[kind]))
    return redirect(url_for("public.track_status", reference=case.reference))


@bp.post("/track/<reference>/resubmit")
@limited("RATELIMIT_TRACK", scope="track")
def track_resubmit(reference: str) -> Any:
    case, code = _tracked(reference)
    if case is None or code is None:
        return render_template("public/track_form.html", values={"reference": reference}, error=NOT_MATCHING), 404
    note = request.form.get("note", "")
    try:
        resubmit(db.session, case, note, APPLICANT, utcnow())
    except InvalidSubmission as invalid:
        return _refuse(case, code, {"note": str((invalid.details or {}).get("note", invalid.message))}, 422, note)
    except EngineError as exc:
        return _refuse(case, code, {"resubmit": exc.message}, 409, note)
    session["track_notice"] = _("Kelengkapan berkas sudah dikirim. Petugas akan memeriksanya kembali.")
    return redirect(url_for("public.track_status", reference=case.reference))


@bp.get("/track/<reference>/documents/<int:document_id>")
@limited("RATELIMIT_TRACK", scope="track")
def track_document(reference: str, document_id: int) -> Any:
    case, _code = _tracked(reference)
    document = get_document(db.session, case, document_id, applicant_view=True) if case is not None else None
    if document is None:
        raise NotFound("Dokumen tidak ditemukan")
    return document_response(document)


@bp.get("/track/<reference>/letter")
@limited("RATELIMIT_TRACK", scope="track")
def track_letter(reference: str) -> Any:
    """The applicant's letter, once handed over (a rejection notice at once)."""
    case, _code = _tracked(reference)
    letter = case_letter(case) if case is not None else None
    if case is None or not applicant_may_download(case, letter):
        raise NotFound("Surat belum tersedia")
    assert letter is not None
    return pdf_response(letter, pdf_of(db.session, letter), letter_filename(letter, case))
