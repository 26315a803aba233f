"""Users and roles: create, deactivate, assign roles and bidang, reset passwords (each audited)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.admin_log import admin_events
from engine.clock import utcnow
from engine.errors import InvalidSubmission
from engine.models import LoginAttempt, User
from engine.users import create_staff_user, get_user, reset_password, revoke_user_credentials, update_staff_user

from ..auth import credentials_of, current_actor, hash_password
from ..extensions import db
from ..i18n import gettext as _
from ..staff.accounts import MIN_PASSWORD_LENGTH
from . import admin_required, bp


def _choices() -> dict[str, Any]:
    return {"roles": current_app.config["STAFF_ROLES"], "bidang": current_app.config["AGENCY"].bidang}


def _values() -> dict[str, Any]:
    form = request.form
    return {
        "username": form.get("username", "")[:64],
        "full_name": form.get("full_name", "")[:200],
        "roles": form.getlist("roles"),
        "bidang": form.get("bidang") or None,
        "active": form.get("active") == "1",
    }


def _password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Kata sandi minimal %(n)s karakter.", n=MIN_PASSWORD_LENGTH)
    if len(password) > 1024:
        return _("Kata sandi terlalu panjang.")
    return None


@bp.get("/pengguna")
@admin_required
def users() -> Any:
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return render_template("admin/users.html", users=rows, **_choices())


@bp.route("/pengguna/baru", methods=["GET", "POST"])
@admin_required
def new_user() -> Any:
    values: dict[str, Any] = {"roles": [], "active": True}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _values()
        password = request.form.get("password", "")
        problem = _password_problem(password)
        try:
            if problem:
                errors["password"] = problem
            user = create_staff_user(
                db.session,
                values,
                hash_password(password) if not problem else "",
                current_actor(),
                utcnow(),
                current_app.config["STAFF_ROLES"],
                current_app.config["AGENCY"].bidang,
            )
        except InvalidSubmission as exc:
            db.session.rollback()
            errors.update(exc.details or {})
        else:
            if not errors:
                flash(_("Akun %(name)s dibuat.", name=user.username), "success")
                return redirect(url_for("admin.users"))
            db.session.rollback()
    return render_template("admin/user_form.html", user=None, values=values, errors=errors, **_choices()), (
        422 if errors else 200
    )


@bp.route("/pengguna/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int) -> Any:
    user = get_user(db.session, user_id)
    values: dict[str, Any] = {
        "username": user.username,
        "full_name": user.full_name,
        "roles": list(user.roles or []),
        "bidang": user.bidang,
        "active": user.active,
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {**_values(), "username": user.username}
        try:
            update_staff_user(
                db.session,
                user,
                values,
                current_actor(),
                utcnow(),
                current_app.config["STAFF_ROLES"],
                current_app.config["AGENCY"].bidang,
            )
        except InvalidSubmission as exc:
            db.session.rollback()
            errors = exc.details or {}
        else:
            flash(_("Akun %(name)s diperbarui.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    events = [ev for ev in admin_events(db.session, 500) if ev.target == user.username][:20]
    return render_template(
        "admin/user_form.html",
        user=user,
        values=values,
        errors=errors,
        events=events,
        credentials=credentials_of(user),
        attempts=db.session.scalars(
            select(LoginAttempt).where(LoginAttempt.username == user.username).order_by(LoginAttempt.id.desc()).limit(20)
        ).all(),
        **_choices(),
    ), (422 if errors else 200)


@bp.post("/pengguna/<int:user_id>/sandi")
@admin_required
def reset_user_password(user_id: int) -> Any:
    user = get_user(db.session, user_id)
    password = request.form.get("password", "")
    problem = _password_problem(password)
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    reset_password(db.session, user, hash_password(password), current_actor(), utcnow())
    flash(_("Kata sandi %(name)s diganti. Sampaikan kepada pemiliknya secara langsung.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/pengguna/<int:user_id>/sesi/cabut")
@admin_required
def revoke_user_sessions(user_id: int) -> Any:
    user = get_user(db.session, user_id)
    revoked = revoke_user_credentials(db.session, user, current_actor(), utcnow())
    flash(_("%(n)s sesi dan token %(name)s dicabut.", n=revoked, name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.get("/log")
@admin_required
def log() -> Any:
    return render_template("admin/log.html", events=admin_events(db.session, 200))
