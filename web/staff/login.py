"""Login, logout, own password and language: the pages around the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for

from engine.clock import utcnow
from engine.models import ApiToken

from ..auth import (
    LoginRefused,
    authenticate,
    credentials_of,
    current_credential,
    current_staff,
    end_session,
    revoke_all,
    start_session,
)
from ..extensions import db
from ..i18n import COOKIE, LANGUAGES
from ..i18n import gettext as _
from ..limits import limited
from ..navigation import refuse_with_redirect, take_refused
from . import bp, login_required, page_user
from .accounts import change_password


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
        # answered, not raised: the attempt's record is committed with this request
        flash(_(refused.text, **refused.params), "error")
        page = render_template("staff/login.html", username=username, next=request.form.get("next", ""))
        if refused.retry_after:
            return page, 429, {"Retry-After": str(refused.retry_after)}
        return page, 401
    start_session(user, utcnow())
    if not request.form.get("next") and "admin" in (user.roles or ()):
        return redirect(url_for("admin.index"))  # an administrator's work starts on /admin/
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    end_session()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Post/Redirect/Get both ways (web/navigation.py): a refusal keeps only its messages for the
    GET page (answered 422) — never a typed password in the session cookie."""
    if request.method == "GET":
        kept = take_refused("password")
        if kept is None:
            return render_template("staff/password.html", errors={})
        return render_template("staff/password.html", errors=kept[1]), kept[2]
    form = request.form
    user = page_user().account()
    errors = change_password(user, form.get("current", ""), form.get("new", ""), form.get("repeat", ""))
    if errors:
        refused = refuse_with_redirect("password", url_for("staff.password"), {}, errors)
        return refused or (render_template("staff/password.html", errors=errors), 422)
    # the old password's sessions and tokens end everywhere; this browser gets a new one
    revoke_all(user)
    start_session(user, utcnow())
    flash(_("Kata sandi berhasil diganti. Sesi dan token lain telah dicabut."), "success")
    return redirect(url_for("staff.inbox"))


@bp.get("/sesi")
@login_required
def credentials() -> Any:
    """The user's login sessions and API tokens, each revocable."""
    current = current_credential()
    rows = credentials_of(page_user())
    return render_template("staff/credentials.html", rows=rows, current_id=current.id if current else None)


@bp.post("/sesi/<int:credential_id>/cabut")
@login_required
def revoke_credential(credential_id: int) -> Any:
    row = db.session.get(ApiToken, credential_id)
    if row is None or row.user_id != page_user().id:
        flash(_("Sesi atau token itu tidak ada (mungkin sudah dicabut)."), "error")
        return redirect(url_for("staff.credentials"))
    current = current_credential()
    if current is not None and row.id == current.id:
        end_session()
        flash(_("Sesi ini dicabut; Anda telah keluar."), "info")
        return redirect(url_for("staff.login"))
    db.session.delete(row)
    flash(_("Dicabut."), "success")
    return redirect(url_for("staff.credentials"))


@bp.get("/language/<code>")
def language(code: str) -> Any:
    response = redirect(_safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
