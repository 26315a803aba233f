"""One file at a time (issue 12, item 5): the public forms' files staged before the form is sent.

``POST /unggahan`` takes one (already shrunk) file of the apply or complaint form, checks and
cleans it exactly as the form's own file fields are (``read_upload`` and ``clean_content``:
size, type by content, pixel budget, PDF checks, metadata stripped) and keeps it for this
browser session (engine/staging.py). It answers JSON: 201 ``{id, kind, filename, size}``, or
``{error: {code, message}}`` with 400/403/413/415/422/429. ``POST /unggahan/<id>/hapus`` removes
one. The form then sends ``staged_<kind>`` = id instead of the file; files chosen without
JavaScript still come in the form itself (``doc_<kind>``), as before.

These are page endpoints for web/static/js/upload.js, not part of the JSON API (the mobile app
uploads to ``/api/v1/applications/{reference}/documents`` after creating the application).
The owner of a staged upload is a random key in the signed session cookie; the row keeps only its
digest. Requests must carry ``X-Requested-With: XMLHttpRequest``: a cross-site page cannot add
that header without a CORS preflight we never answer, so it cannot slip a file into a
resident's form.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import request, session

from engine import intake, staging
from engine.clock import utcnow
from engine.documents import DocumentTooLarge, UnsupportedDocumentType, clean_content
from engine.models import StagedUpload
from engine.text import N_

from ..errors import error_response
from ..extensions import db
from ..i18n import error_text
from ..i18n import gettext as _
from ..limits import limited
from . import bp
from .documents import document_settings, read_upload, staging_limits

# the file fields of each public form that stages its files
FORM_KINDS: dict[str, tuple[str, ...]] = {
    "apply": tuple(k for k in intake.APPLICANT_DOCUMENT_KINDS if k != "lainnya"),
    "complaint": ("lainnya",),
}
_SESSION_KEY = "uploader"
SCRIPT_ONLY = N_("Unggahan satu per satu hanya lewat halaman formulir.")
CHOOSE_FILE = N_("Pilih berkas yang akan diunggah.")


def owner(create: bool = False) -> str | None:
    """This browser session's owner digest of staged uploads (made on its first upload)."""
    key = session.get(_SESSION_KEY)
    if not key:
        if not create:
            return None
        key = session[_SESSION_KEY] = secrets.token_urlsafe(24)
    return hashlib.sha256(f"staged-upload:{key}".encode()).hexdigest()


def staged_on_page(form: str) -> dict[str, StagedUpload]:
    """This session's staged uploads of ``form`` by kind (the page shows them as uploaded)."""
    who = owner()
    if who is None:
        return {}
    rows = staging.staged_of(db.session, who, form, utcnow(), staging_limits().max_age)
    return {row.kind: row for row in rows if row.kind in FORM_KINDS[form]}


def staged_ids(form: str) -> dict[str, str]:
    """``staged_<kind>`` ids the form sent, except where a file of that kind came with it
    (the no-JavaScript path wins: it is what the resident chose last)."""
    ids = {}
    for kind in FORM_KINDS[form]:
        value = request.form.get(f"staged_{kind}", "").strip()
        upload = request.files.get(f"doc_{kind}")
        if value and (upload is None or not upload.filename):
            ids[kind] = value
    return ids


def _refused(status: int, code: str, message: str, field: str = "file") -> Any:
    db.session.rollback()
    return error_response(status, code, _(message), {field: _(message)})


@bp.post("/unggahan")
@limited("RATELIMIT_STAGE")
def stage_upload() -> Any:
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        return _refused(400, "bad_request", SCRIPT_ONLY)
    form, kind = request.form.get("form", ""), request.form.get("kind", "")
    if kind not in FORM_KINDS.get(form, ()):
        return _refused(422, "invalid_data", N_("Pilih jenis dokumen."), "kind")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refused(422, "invalid_data", CHOOSE_FILE)
    try:
        cleaned = clean_content(read_upload(upload), document_settings())
        row = staging.stage_upload(
            db.session,
            owner(create=True) or "",
            form,
            kind,
            cleaned,
            upload.filename,
            utcnow(),
            staging_limits(),
            replaces=request.form.get("replaces") or None,
        )
    except UnsupportedDocumentType as exc:
        return _refused(415, exc.code, error_text(exc))
    except DocumentTooLarge as exc:  # the file, or this session's staging quota (StagingFull)
        return _refused(413, exc.code, error_text(exc))
    answer = {"id": row.id, "kind": row.kind, "filename": row.filename, "size": row.size, "mime_type": row.mime_type}
    return answer, 201


@bp.post("/unggahan/<staged_id>/hapus")
@limited("RATELIMIT_STAGE")
def unstage_upload(staged_id: str) -> Any:
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        return _refused(400, "bad_request", SCRIPT_ONLY)
    who = owner()
    if who is None or not staging.remove_staged(db.session, who, staged_id):
        return _refused(404, "not_found", staging.GONE)
    return "", 204
