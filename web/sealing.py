"""Tracking codes kept only sealed: encrypted and authenticated with a key derived from the app's
SECRET_KEY (``cryptography``'s Fernet, the key by HKDF-SHA256).

A case stores its tracking code as a hash (it is only ever compared). Two places must give the
code back later and so cannot hash it: the answer a resent request replays (``Idempotency-Key``,
a public form's token), stored in ``idempotency_record``, and the applicant's session, whose
cookie Flask signs but does not encrypt (anyone holding the cookie could read it). Both hold it
sealed; a sealed value is marked by its prefix, so a record written before sealing still reads.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "sealed:"
_INFO = b"layar-sibalang tracking code seal v1"


def _fernet() -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    return PREFIX + _fernet().encrypt(text.encode()).decode()


def unseal(value: Any) -> str | None:
    """The sealed text; a value without the prefix as it is; None if it cannot be opened (sealed
    under another key, or tampered with)."""
    if not isinstance(value, str):
        return None
    if not value.startswith(PREFIX):
        return value
    try:
        return _fernet().decrypt(value.removeprefix(PREFIX).encode()).decode()
    except (InvalidToken, ValueError):
        return None


def looks_like_nik(term: str) -> bool:
    """16 digits once spaces and dashes are gone: a search term that must not travel in a URL."""
    digits = "".join(c for c in term if c not in " -.()+\t")
    return len(digits) == 16 and digits.isascii() and digits.isdigit()


def sealed_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` with its ``tracking_code`` sealed (what is stored or put in the session)."""
    if isinstance(answer.get("tracking_code"), str):
        return {**answer, "tracking_code": seal(answer["tracking_code"])}
    return dict(answer)


def opened_answer(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored answer with its ``tracking_code`` opened again."""
    if "tracking_code" in stored:
        return {**stored, "tracking_code": unseal(stored["tracking_code"])}
    return dict(stored)
