"""The staff web UI: login, inbox, task forms and case pages (Bahasa Indonesia, English selectable)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from engine import errors as e
from engine.models import User

from ..auth import NotAuthenticated, current_staff
from ..extensions import db
from ..i18n import gettext as _

bp = Blueprint("staff", __name__)

CONFLICT_TEXT = {
    e.TaskNotActive: "Tugas ini sudah diselesaikan oleh petugas lain atau tidak lagi aktif.",
    e.StaleCase: "Kasus ini baru saja diubah oleh petugas lain. Silakan buka kembali dan coba lagi.",
}
BUSY_TEXT = "Kasus ini sedang diubah oleh petugas lain pada saat yang sama. Silakan coba lagi."


def page_user() -> User:
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
    db.session.rollback()
    flash(message, "error")
    return redirect(url_for("staff.inbox"))


@bp.errorhandler(e.Conflict)
def _conflict(exc: e.Conflict) -> Any:
    text = next((t for cls, t in CONFLICT_TEXT.items() if isinstance(exc, cls)), exc.message)
    return _back_to_inbox(_(text))


@bp.errorhandler(StaleDataError)
@bp.errorhandler(IntegrityError)
def _stale(_exc: Exception) -> Any:
    return _back_to_inbox(_(BUSY_TEXT))


@bp.errorhandler(OperationalError)
def _operational(exc: OperationalError) -> Any:
    if "locked" in str(exc).lower() or "could not serialize" in str(exc).lower():
        return _back_to_inbox(_(BUSY_TEXT))
    db.session.rollback()
    return render_template("staff/error.html", status=503, message=_("Basis data sedang tidak tersedia.")), 503


@bp.errorhandler(NotAuthenticated)
def _anonymous(_exc: NotAuthenticated) -> Any:
    return redirect(url_for("staff.login", next=request.path))


@bp.errorhandler(e.Forbidden)
@bp.errorhandler(e.NotFound)
def _refused(exc: e.EngineError) -> Any:
    db.session.rollback()
    status = 403 if isinstance(exc, e.Forbidden) else 404
    return render_template("staff/error.html", status=status, message=exc.message), status


@bp.errorhandler(CSRFError)
def _csrf(_exc: CSRFError) -> Any:
    """400: the form is not ours (forged) or its session expired; nothing was changed."""
    db.session.rollback()
    message = _("Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.")
    return render_template("staff/error.html", status=400, message=message), 400


def init_app(app: Flask) -> None:
    """CSRF on every form (the bearer-token JSON API is exempt), i18n, then the staff pages."""
    from .. import i18n
    from ..api import bp as api_bp
    from ..extensions import csrf, login_manager
    from . import assets, cases, inbox, login, tasks  # noqa: F401  (views register on bp)

    csrf.init_app(app)
    csrf.exempt(api_bp)
    i18n.init_app(app)
    login_manager.login_view = "staff.login"
    app.register_blueprint(bp)
