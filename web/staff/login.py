"""Login, logout, own password and language: the pages around the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from engine.clock import utcnow

from ..auth import LoginUser, current_staff
from ..i18n import COOKIE, LANGUAGES
from ..i18n import gettext as _
from ..limits import limited
from . import bp, login_required, page_user
from .accounts import LoginRefused, authenticate, change_password


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a fresh login to another host."""
    if not target:
        return url_for("staff.inbox")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("staff.inbox")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limited("RATELIMIT_LOGIN", scope="login", methods=("POST",))
def login() -> Any:
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(url_for("staff.inbox"))
        return render_template("staff/login.html", username="", next=request.args.get("next", ""))
    username = request.form.get("username", "")[:64]
    try:
        user = authenticate(username, request.form.get("password", "")[:1024], utcnow())
    except LoginRefused as refused:
        flash(_(str(refused)), "error")
        return render_template("staff/login.html", username=username, next=request.form.get("next", "")), 401
    session.clear()  # a fresh session for the new identity
    login_user(LoginUser(user))
    if not request.form.get("next") and "admin" in (user.roles or ()):
        return redirect(url_for("admin.index"))  # an administrator's work starts on /admin/
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        errors = change_password(page_user(), form.get("current", ""), form.get("new", ""), form.get("repeat", ""))
        if not errors:
            flash(_("Kata sandi berhasil diganti."), "success")
            return redirect(url_for("staff.inbox"))
    return render_template("staff/password.html", errors=errors), (422 if errors else 200)


@bp.get("/language/<code>")
def language(code: str) -> Any:
    response = redirect(_safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
