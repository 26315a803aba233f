"""One place that maps errors to HTTP: ``{error: {code, message, details}}`` and honest statuses."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from engine import errors as e
from engine.documents import DocumentTooLarge, UnsupportedDocumentType
from engine.text import N_

from .i18n import gettext
from .unit_of_work import discard

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (DocumentTooLarge, 413),
    (UnsupportedDocumentType, 415),
    (e.NotFound, 404),
    (e.Forbidden, 403),
    (e.Conflict, 409),
    (e.InvalidSubmission, 422),
    (e.DeploymentInvalid, 422),
    (e.UnsafeExpression, 422),
    (e.ExpressionFailed, 503),
]

HTTP_MESSAGES = {
    400: "Permintaan tidak valid",
    401: "Silakan masuk (login) terlebih dahulu",
    403: "Anda tidak berhak mengakses ini",
    404: "Tidak ditemukan",
    405: "Metode tidak diizinkan",
    413: "Data yang dikirim terlalu besar",
    415: "Jenis konten tidak didukung",
    422: "Data tidak valid",
    429: "Terlalu banyak permintaan, coba lagi nanti",
}


TOO_LARGE_PAGE = N_(
    "Data atau berkas yang dikirim terlalu besar. Kecilkan foto (maksimal 5 MB per berkas) lalu coba lagi."
)


class ApiError(Exception):
    """An HTTP error raised by a view with its own code and message."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: Any = None) -> Any:
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def status_for(exc: Exception) -> int:
    from .auth import NotAuthenticated

    if isinstance(exc, NotAuthenticated):
        return 401
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


CONFLICT_MESSAGE = "Kasus sedang diubah oleh orang lain; muat ulang dan coba lagi"
BUSY_MESSAGE = "Basis data sedang sibuk; coba lagi sebentar lagi"
UNAVAILABLE_MESSAGE = "Basis data sedang tidak tersedia"
# PostgreSQL SQLSTATEs: a race another attempt can win (409) vs. a database that is slow or gone (503)
_PG_CONFLICT = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_PG_BUSY = {"55P03", "57014"}  # lock_not_available (lock_timeout), query_canceled (statement_timeout)
_SQLITE_BUSY_SNAPSHOT = 517  # another writer committed since this transaction read: a race


def database_error(exc: Exception) -> tuple[int, str, str]:
    """(status, code, message) for a database error, decided by its type and SQLSTATE or SQLite
    error code; never by its text, which quotes the SQL (a column named ``locked_…`` is no lock)."""
    if isinstance(exc, StaleDataError | IntegrityError):
        return 409, "conflict", CONFLICT_MESSAGE
    if isinstance(exc, PoolTimeout):  # every pooled connection in use for longer than the pool waits
        return 503, "database_busy", BUSY_MESSAGE
    if isinstance(exc, DBAPIError) and not exc.connection_invalidated:
        if isinstance(exc, ProgrammingError):
            return 500, "internal_error", "Terjadi kesalahan pada server"  # a bug in a statement
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        sqlite_code = getattr(orig, "sqlite_errorcode", None)
        if sqlstate in _PG_CONFLICT or sqlite_code == _SQLITE_BUSY_SNAPSHOT:
            return 409, "conflict", CONFLICT_MESSAGE
        if sqlstate in _PG_BUSY or getattr(orig, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return 503, "database_busy", BUSY_MESSAGE
    return 503, "database_unavailable", UNAVAILABLE_MESSAGE


def html_error(exc: HTTPException, status: int, message: str | None = None) -> Any:
    """The site's own Indonesian page for an HTTP error, keeping the exception's headers
    (``Allow`` on a 405, ``Retry-After`` on a 429)."""
    response = make_response(render_template("error.html", status=status, message=message), status)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        discard()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(e.EngineError)
    def _engine_error(exc: e.EngineError) -> Any:
        discard()
        status = status_for(exc)
        if not wants_json():
            return render_template("error.html", status=status, message=exc.message), status
        return error_response(status, exc.code, exc.message, exc.details)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(DBAPIError)
    def _database(exc: Exception) -> Any:
        discard()
        status, code, message = database_error(exc)
        # the class and SQLSTATE/constraint only: PostgreSQL's message quotes the conflicting values
        orig = getattr(exc, "orig", None)
        detail = getattr(getattr(orig, "diag", None), "constraint_name", None) or getattr(orig, "sqlstate", None)
        if status == 409:
            app.logger.info("conflict: %s%s", type(exc).__name__, f" ({detail})" if detail else "")
        elif status == 500:
            app.logger.exception("database error")
        else:
            app.logger.warning("database error: %s%s", type(exc).__name__, f" ({detail})" if detail else "")
        if not wants_json():
            return render_template("error.html", status=status, message=message), status
        response = error_response(status, code, message)
        if status == 503:
            response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        discard()
        status = exc.code or 500
        if not wants_json():
            if status == 413:
                return html_error(exc, status, gettext(TOO_LARGE_PAGE))
            return html_error(exc, status)
        response = error_response(
            status, exc.name.lower().replace(" ", "_"), HTTP_MESSAGES.get(status, exc.description or "")
        )
        # the exception's own headers: Allow on a 405, Retry-After, WWW-Authenticate
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        discard()
        app.logger.exception("unexpected error")
        if not wants_json():
            return render_template("error.html", status=500, message="Terjadi kesalahan pada server"), 500
        return error_response(500, "internal_error", "Terjadi kesalahan pada server")
