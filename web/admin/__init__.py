"""The administrators' pages under /admin/: procedures (versions, editor, migration), users, catalogue."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from engine import errors as e

from ..auth import NotAuthenticated, current_staff
from ..extensions import db
from ..i18n import gettext as _

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Administrators only: anonymous visitors go to the login page, other staff get 403."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_staff()
        if user is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        if "admin" not in (user.roles or ()):
            raise e.Forbidden(_("Halaman ini hanya untuk administrator."))
        return view(*args, **kwargs)

    return wrapper


def wants_json() -> bool:
    return request.path.startswith("/admin/api/")


@bp.errorhandler(e.Forbidden)
@bp.errorhandler(e.NotFound)
def _refused(exc: e.EngineError) -> Any:
    db.session.rollback()
    status = 403 if isinstance(exc, e.Forbidden) else 404
    if wants_json():
        from ..errors import error_response

        return error_response(status, exc.code, exc.message)
    return render_template("staff/error.html", status=status, message=exc.message), status


@bp.errorhandler(NotAuthenticated)
def _anonymous(exc: NotAuthenticated) -> Any:
    if wants_json():
        from ..errors import error_response

        return error_response(401, exc.code, exc.message)
    return redirect(url_for("staff.login", next=request.path))


@bp.errorhandler(e.Conflict)
def _conflict(exc: e.Conflict) -> Any:
    db.session.rollback()
    if wants_json():
        from ..errors import error_response

        return error_response(409, exc.code, exc.message, exc.details)
    flash(exc.message, "error")
    return redirect(request.referrer or url_for("admin.index"))


def init_app(app: Flask) -> None:
    from . import migrations, procedures, services, users  # noqa: F401  (views register on bp)

    app.register_blueprint(bp)
