"""Changing one's own password (logging in is ``web.auth.authenticate``)."""

from __future__ import annotations

from engine.models import User

from ..auth import hash_password, verify_password
from ..extensions import db

MIN_PASSWORD_LENGTH = 10


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
