"""Password logins with a lockout after repeated failures, and changing one's own password."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from engine.clock import aware
from engine.models import User

from ..auth import hash_password, verify_password
from ..extensions import db

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10


class LoginRefused(Exception):
    """Why a login failed, in words the user may see (never whether the username exists)."""


def authenticate(username: str, password: str, now: datetime) -> User:
    """The user with these credentials; raises LoginRefused. Flushes the failure counter."""
    user = db.session.scalars(select(User).where(User.username == username.strip())).first()
    if user is not None and user.locked_until is not None and aware(user.locked_until) > aware(now):
        raise LoginRefused(_locked_text(user, now))
    if not verify_password(user, password):
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILURES:
                user.failed_logins = 0
                user.locked_until = aware(now) + timedelta(minutes=LOCK_MINUTES)
                db.session.flush()
                raise LoginRefused(_locked_text(user, now))
            db.session.flush()
        raise LoginRefused("Nama pengguna atau kata sandi salah.")
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    return user


def _locked_text(user: User, now: datetime) -> str:
    assert user.locked_until is not None
    minutes = max(1, int((aware(user.locked_until) - aware(now)).total_seconds() + 59) // 60)
    return (
        f"Akun dikunci sementara karena {MAX_FAILURES} kali gagal masuk. "
        f"Coba lagi dalam {minutes} menit atau hubungi administrator."
    )


def change_password(user: User, current: str, new: str, repeat: str) -> dict[str, str]:
    """Set a new password; return field errors instead when the request is not acceptable."""
    errors = {}
    if not verify_password(user, current):
        errors["current"] = "Kata sandi lama salah."
    if len(new) < MIN_PASSWORD_LENGTH:
        errors["new"] = f"Minimal {MIN_PASSWORD_LENGTH} karakter."
    elif new == current:
        errors["new"] = "Kata sandi baru harus berbeda dari yang lama."
    if new != repeat:
        errors["repeat"] = "Kata sandi baru tidak sama."
    if not errors:
        user.password_hash = hash_password(new)
        db.session.flush()
    return errors
