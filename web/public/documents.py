"""Documents: settings from config, safe responses, and the staff download route."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from engine import disclosure
from engine.clock import utcnow
from engine.documents import DocumentSettings, get_document, read_document, too_large
from engine.errors import Forbidden, NotFound
from engine.inbox import log_access, may_view_case
from engine.models import Case, Document
from engine.staging import StagingLimits

from ..auth import current_actor
from ..extensions import db
from . import bp


def document_settings() -> DocumentSettings:
    config = current_app.config
    return DocumentSettings(config["DOCUMENT_DIR"], config["MAX_DOCUMENT_BYTES"], config["MAX_IMAGE_PIXELS"])


def staging_limits() -> StagingLimits:
    config = current_app.config
    return StagingLimits(
        int(config["STAGED_UPLOAD_MAX_FILES"]),
        int(config["STAGED_UPLOAD_MAX_BYTES"]),
        timedelta(hours=float(config["STAGED_UPLOAD_HOURS"])),
    )


def read_upload(upload: FileStorage) -> bytes:
    """The uploaded bytes, reading at most one byte past the limit; raises DocumentTooLarge."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise too_large(limit)
    return content


def document_response(document: Document) -> Response:
    """The stored bytes with a type the browser must not second-guess. A PDF is only ever a
    download; the name goes out as RFC 6266/5987 ``filename*`` (UTF-8) with an ASCII fallback,
    so a name outside Latin-1 (``ŝŭ.jpg``) is a valid header (werkzeug's ``send_file``)."""
    is_pdf = document.mime_type == "application/pdf"
    response = send_file(
        io.BytesIO(read_document(document_settings(), document)),
        mimetype=document.mime_type,
        as_attachment=is_pdf,
        download_name=document.filename or f"dokumen.{'pdf' if is_pdf else 'jpg'}",
        conditional=False,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@bp.get("/documents/<int:document_id>")
def staff_document(document_id: int) -> Any:
    """A case document for staff whose role may view the case (access is logged)."""
    return staff_document_response(document_id)


def staff_document_response(document_id: int) -> Response:
    """The page's and the API's download (``GET /api/v1/documents/{id}``): 404 unknown, 403 not
    a role that may see the case's documents; the read is access-logged."""
    actor = current_actor()
    document = get_document(db.session, None, document_id)
    if document is None:
        raise NotFound("Dokumen tidak ditemukan")
    case = db.session.get(Case, document.case_id)
    if case is None or not may_view_case(case, actor) or not disclosure.may_see(actor, disclosure.DOCUMENTS):
        raise Forbidden("Anda tidak berhak melihat dokumen ini")
    log_access(db.session, case, actor, "document_viewed", utcnow())
    return document_response(document)
