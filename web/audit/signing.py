"""The agency's signing key and certificate, as configured (``SIGNING_KEY_FILE``, ``SIGNING_CERT_FILE``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from engine import anchors
from engine.errors import Conflict
from engine.models import AuditAnchor
from letters.signing import KeyPair, SigningKeyError

from ..extensions import db
from ..signing import key_pair


class SigningUnavailable(Conflict):
    code = "signing_unavailable"


def agency_signer() -> KeyPair:
    """The key pair anchors are signed with (the letters'). Raises SigningUnavailable."""
    try:
        return key_pair()
    except SigningKeyError as exc:
        raise SigningUnavailable(f"Kunci penandatanganan tidak tersedia: {exc}") from None


def agency_certificate() -> Any:
    """The certificate anchors are checked with, or None when none is configured."""
    path = current_app.config["SIGNING_CERT_FILE"]
    try:
        return anchors.load_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def anchor_if_due(now: datetime) -> AuditAnchor | None:
    """Sign an anchor when the last is older than ``ANCHOR_INTERVAL_MINUTES`` (the timer worker)."""
    minutes = current_app.config.get("ANCHOR_INTERVAL_MINUTES", 0)
    if not minutes:
        return None
    last = anchors.latest_anchor(db.session)
    if last is not None and last.created_at > now - timedelta(minutes=minutes):
        return None
    return anchors.create_anchor(db.session, agency_signer(), now)
