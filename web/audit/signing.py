"""The agency's signing key and certificate, as configured (``SIGNING_KEY_FILE``, ``SIGNING_CERT_FILE``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from engine import anchors
from engine.errors import Conflict
from engine.key_history import KeyHistory, read_history_dir
from engine.models import AuditAnchor
from letters.signing import KeyPair, SigningKeyError, load_key_pair

from ..extensions import db


class SigningUnavailable(Conflict):
    code = "signing_unavailable"


def agency_signer() -> KeyPair:
    """The key pair anchors are signed with (the letters'). Raises SigningUnavailable.

    Read from the files each time (anchors are rare), not the letters' copy kept for the app's
    life: a timer worker running through a key rotation signs its next anchor with the new key,
    never with the retired one after its retirement (which would not verify).
    """
    config = current_app.config
    try:
        return load_key_pair(config["SIGNING_CERT_FILE"], config["SIGNING_KEY_FILE"], config["SIGNING_KEY_PASSPHRASE"])
    except SigningKeyError as exc:
        raise SigningUnavailable(f"Kunci penandatanganan tidak tersedia: {exc}") from None


def agency_certificate() -> Any:
    """The certificate anchors are checked with, or None when none is configured."""
    path = current_app.config["SIGNING_CERT_FILE"]
    try:
        return anchors.load_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def history_dir() -> Path:
    """Where retired certificates and their handovers are kept."""
    configured = current_app.config.get("SIGNING_HISTORY_DIR")
    return Path(configured) if configured else Path(current_app.config["SIGNING_CERT_FILE"]).parent / "history"


def agency_keys() -> KeyHistory | None:
    """The keys anchors are checked with: the configured certificate and the retired keys that
    handed over to it (engine.key_history), or None when no certificate is configured."""
    current = agency_certificate()
    if current is None:
        return None
    return KeyHistory.local(current, read_history_dir(history_dir()))


def anchor_if_due(now: datetime) -> AuditAnchor | None:
    """Sign an anchor when the last is older than ``ANCHOR_INTERVAL_MINUTES`` (the timer worker)."""
    minutes = current_app.config.get("ANCHOR_INTERVAL_MINUTES", 0)
    if not minutes:
        return None
    last = anchors.latest_anchor(db.session)
    if last is not None and last.created_at > now - timedelta(minutes=minutes):
        return None
    return anchors.create_anchor(db.session, agency_signer(), now)
