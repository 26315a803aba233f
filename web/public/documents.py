"""Documents: settings from config, safe responses, and the staff download route."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from werkzeug.datastructures import FileStorage

from engine import disclosure
from engine.clock import utcnow
from engine.documents import DocumentSettings, DocumentTooLarge, get_document, read_document
from engine.errors import Forbidden, NotFound
from engine.inbox import log_access, may_view_case
from engine.models import Case, Document

from ..auth import current_actor
from ..extensions import db
from . import bp


def document_settings() -> DocumentSettings:
    return DocumentSettings(current_app.config["DOCUMENT_DIR"], current_app.config["MAX_DOCUMENT_BYTES"])


def read_upload(upload: FileStorage) -> bytes:
    """The uploaded bytes, reading at most one byte past the limit; raises DocumentTooLarge."""
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise DocumentTooLarge(f"Ukuran berkas maksimal {limit // (1024 * 1024)} MB.")
    return content


def document_response(document: Document) -> Response:
    """The stored bytes with a type the browser must not second-guess."""
    response = Response(read_document(document_settings(), document), mimetype=document.mime_type)
    disposition = "attachment" if document.mime_type == "application/pdf" else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.filename or "dokumen"}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@bp.get("/documents/<int:document_id>")
def staff_document(document_id: int) -> Any:
    """A case document for staff whose role may view the case (access is logged)."""
    actor = current_actor()
    document = get_document(db.session, None, document_id)
    if document is None:
        raise NotFound("Dokumen tidak ditemukan")
    case = db.session.get(Case, document.case_id)
    if case is None or not may_view_case(case, actor) or not disclosure.may_see(actor, disclosure.DOCUMENTS):
        raise Forbidden("Anda tidak berhak melihat dokumen ini")
    log_access(db.session, case, actor, "document_viewed", utcnow())
    return document_response(document)
