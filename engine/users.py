"""Staff accounts as administrators manage them: every change an audited admin event.

Password hashing stays in the web layer (argon2, ``web/auth.py``): these take the hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .admin_log import record_admin_event
from .audit import Actor
from .errors import Conflict, InvalidSubmission, NotFound
from .models import ApiToken, User

USERNAME_PATTERN = r"^[a-z][a-z0-9_.-]{2,63}$"


def _check_roles(
    roles: list[str], bidang: str | None, known_roles: Iterable[str], known_bidang: Iterable[str]
) -> dict[str, str]:
    problems = {}
    unknown = sorted(set(roles) - set(known_roles))
    if not roles:
        problems["roles"] = "Pilih sedikitnya satu peran."
    elif unknown:
        problems["roles"] = f"Peran tidak dikenal: {', '.join(unknown)}"
    if "kabid" in roles and bidang not in set(known_bidang):
        problems["bidang"] = "Kepala bidang harus memilih bidangnya."
    return problems


def create_staff_user(
    session: Session,
    values: dict[str, Any],
    password_hash: str,
    actor: Actor,
    now: datetime,
    known_roles: Iterable[str],
    known_bidang: Iterable[str],
) -> User:
    """Create an account. Raises InvalidSubmission (per field) or Conflict (username taken)."""
    import re

    username = str(values.get("username") or "").strip().lower()
    full_name = str(values.get("full_name") or "").strip()
    roles = sorted({str(r) for r in values.get("roles") or []})
    bidang = values.get("bidang") or None
    problems = _check_roles(roles, bidang, known_roles, known_bidang)
    if not re.match(USERNAME_PATTERN, username):
        problems["username"] = "Nama pengguna 3–64 karakter: huruf kecil, angka, titik, garis bawah."
    if not 2 <= len(full_name) <= 200:
        problems["full_name"] = "Nama lengkap 2–200 karakter."
    if problems:
        raise InvalidSubmission("Akun tidak dapat dibuat", details=problems)
    if session.scalars(select(User.id).where(User.username == username)).first():
        raise Conflict(f"Nama pengguna {username} sudah dipakai")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=password_hash,
        roles=roles,
        bidang=bidang if "kabid" in roles else None,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record_admin_event(
        session, actor, "user_created", username, now, {"roles": roles, "bidang": user.bidang, "full_name": full_name}
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Akun tidak ditemukan")
    return user


def update_staff_user(
    session: Session,
    user: User,
    values: dict[str, Any],
    actor: Actor,
    now: datetime,
    known_roles: Iterable[str],
    known_bidang: Iterable[str],
) -> User:
    """Change roles, bidang, name or active flag (audited). An admin cannot lock themself out."""
    roles = sorted({str(r) for r in values.get("roles") or []})
    bidang = values.get("bidang") or None
    active = bool(values.get("active"))
    problems = _check_roles(roles, bidang, known_roles, known_bidang)
    full_name = str(values.get("full_name") or user.full_name).strip()[:200]
    if user.username == actor.username and ("admin" not in roles or not active):
        problems["roles"] = "Anda tidak dapat mencabut peran admin atau menonaktifkan akun Anda sendiri."
    if problems:
        raise InvalidSubmission("Akun tidak dapat diubah", details=problems)
    before = {
        "roles": list(user.roles or []),
        "bidang": user.bidang,
        "active": user.active,
        "full_name": user.full_name,
    }
    user.roles, user.bidang, user.active, user.full_name = (
        roles,
        (bidang if "kabid" in roles else None),
        active,
        full_name,
    )
    after = {"roles": roles, "bidang": user.bidang, "active": active, "full_name": full_name}
    if not active:
        revoke_credentials(session, user)  # a deactivated account's tokens and sessions stop at once
    session.flush()
    action = "user_deactivated" if before["active"] and not active else "user_updated"
    record_admin_event(session, actor, action, user.username, now, {"before": before, "after": after})
    return user


def revoke_credentials(session: Session, user: User) -> int:
    """Delete every bearer token and login session of ``user`` (they stop working at once)."""
    rows = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def reset_password(session: Session, user: User, password_hash: str, actor: Actor, now: datetime) -> None:
    """Set a new password chosen by the administrator (audited; the password is not logged).
    Every token and session of the account ends with the old password."""
    user.password_hash = password_hash
    revoked = revoke_credentials(session, user)
    session.flush()
    record_admin_event(session, actor, "password_reset", user.username, now, {"credentials_revoked": revoked})


def revoke_user_credentials(session: Session, user: User, actor: Actor, now: datetime) -> int:
    """An administrator signs ``user`` out everywhere (audited): the number of credentials revoked."""
    revoked = revoke_credentials(session, user)
    record_admin_event(session, actor, "credentials_revoked", user.username, now, {"count": revoked})
    return revoked
