"""One place that maps errors to HTTP: ``{error: {code, message, details}}`` and honest statuses."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from engine import errors as e
from engine.documents import DocumentTooLarge, UnsupportedDocumentType

from .extensions import db

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (DocumentTooLarge, 413),
    (UnsupportedDocumentType, 415),
    (e.NotFound, 404),
    (e.Forbidden, 403),
    (e.Conflict, 409),
    (e.InvalidSubmission, 422),
    (e.DeploymentInvalid, 422),
    (e.UnsafeExpression, 422),
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


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(e.EngineError)
    def _engine_error(exc: e.EngineError) -> Any:
        db.session.rollback()
        status = status_for(exc)
        if not wants_json():
            return render_template("error.html", status=status, message=exc.message), status
        return error_response(status, exc.code, exc.message, exc.details)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def _conflict(exc: Exception) -> Any:
        db.session.rollback()
        # the class and constraint only: PostgreSQL's message quotes the conflicting values
        constraint = getattr(getattr(getattr(exc, "orig", None), "diag", None), "constraint_name", None)
        app.logger.info("conflict: %s%s", type(exc).__name__, f" on {constraint}" if constraint else "")
        return error_response(409, "conflict", "Kasus sedang diubah oleh orang lain; muat ulang dan coba lagi")

    @app.errorhandler(OperationalError)
    def _operational(exc: OperationalError) -> Any:
        db.session.rollback()
        if "locked" in str(exc).lower() or "could not serialize" in str(exc).lower():
            return error_response(409, "conflict", "Kasus sedang diubah oleh orang lain; coba lagi")
        app.logger.exception("database error")
        return error_response(503, "database_unavailable", "Basis data sedang tidak tersedia")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        db.session.rollback()
        status = exc.code or 500
        if not wants_json():
            return exc
        return error_response(
            status, exc.name.lower().replace(" ", "_"), HTTP_MESSAGES.get(status, exc.description or "")
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", "Terjadi kesalahan pada server")
