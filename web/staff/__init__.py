"""The staff web UI: login, inbox, task forms and case pages (Bahasa Indonesia, English selectable)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from engine import errors as e

from ..auth import NotAuthenticated, Staff, current_staff
from ..errors import database_error
from ..i18n import gettext as _
from ..unit_of_work import discard

bp = Blueprint("staff", __name__)

CONFLICT_TEXT = {
    e.TaskNotActive: "Tugas ini sudah diselesaikan oleh petugas lain atau tidak lagi aktif.",
    e.StaleCase: "Kasus ini baru saja diubah oleh petugas lain. Silakan buka kembali dan coba lagi.",
}
BUSY_TEXT = "Kasus ini sedang diubah oleh petugas lain pada saat yang sama. Silakan coba lagi."


def page_user() -> Staff:
    """The logged-in staff user of a page view (the decorator guarantees one)."""
    user = current_staff()
    if user is None:
        raise NotAuthenticated("Silakan masuk (login) terlebih dahulu")
    return user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the login page, then back here."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def _back_to_inbox(message: str) -> Any:
    discard()
    flash(message, "error")
    return redirect(url_for("staff.inbox"))


@bp.errorhandler(e.Conflict)
def _conflict(exc: e.Conflict) -> Any:
    text = next((t for cls, t in CONFLICT_TEXT.items() if isinstance(exc, cls)), exc.message)
    return _back_to_inbox(_(text))


@bp.errorhandler(StaleDataError)
@bp.errorhandler(DBAPIError)
def _database(exc: Exception) -> Any:
    status, _code, message = database_error(exc)
    if status == 409:
        return _back_to_inbox(_(BUSY_TEXT))
    discard()
    text = _("Basis data sedang tidak tersedia.") if status == 503 else _(message)
    return render_template("staff/error.html", status=status, message=text), status


@bp.errorhandler(NotAuthenticated)
def _anonymous(_exc: NotAuthenticated) -> Any:
    return redirect(url_for("staff.login", next=request.path))


@bp.errorhandler(e.Forbidden)
@bp.errorhandler(e.NotFound)
def _refused(exc: e.EngineError) -> Any:
    discard()
    status = 403 if isinstance(exc, e.Forbidden) else 404
    return render_template("staff/error.html", status=status, message=exc.message), status


@bp.errorhandler(CSRFError)
def _csrf(_exc: CSRFError) -> Any:
    """400: the form is not ours (forged) or its session expired; nothing was changed."""
    discard()
    message = _("Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.")
    return render_template("staff/error.html", status=400, message=message), 400


def init_app(app: Flask) -> None:
    """CSRF on every form (the bearer-token JSON API is exempt), i18n, then the staff pages."""
    from ..api import bp as api_bp
    from ..extensions import csrf, login_manager
    from . import assets, case_list, cases, companion, inbox, letters, login, tasks  # noqa: F401  (views register on bp)

    csrf.init_app(app)
    csrf.exempt(api_bp)
    login_manager.login_view = "staff.login"
    app.register_blueprint(bp)
