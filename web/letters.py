"""The app's letters service (agency profile, signing key, public URL) and how views present letters."""

from __future__ import annotations

import functools
import os
from typing import Any, cast

from flask import Flask, current_app

from engine.models import Case, Letter
from letters.issue import LetterService, current_letter
from letters.signing import SigningKeyError, load_key_pair

from .extensions import db


def _signing_files_stamp(config: Any) -> tuple[tuple[int, int, int] | None, ...]:
    """What identifies the signing files' current versions (``rotate-key`` replaces them)."""
    stamp = []
    for name in ("SIGNING_CERT_FILE", "SIGNING_KEY_FILE"):
        try:
            found = os.stat(config[name])
        except (OSError, TypeError):
            stamp.append(None)
            continue
        stamp.append((found.st_ino, found.st_mtime_ns, found.st_size))
    return tuple(stamp)


def letter_service() -> LetterService:
    """Built from the app's settings, again whenever the signing files were replaced (after
    ``letters rotate-key`` every worker signs with the new key from its next letter on, without
    a restart); the engine receives it as ``letters=``. A service an embedding program put in
    ``app.extensions["letter_service"]`` itself is used as it is."""
    extensions = current_app.extensions
    service = extensions.get("letter_service")
    stamp = _signing_files_stamp(current_app.config)
    if service is None or extensions.get("letter_service_stamp", stamp) != stamp:
        config = current_app.config
        keys = functools.partial(
            load_key_pair, config["SIGNING_CERT_FILE"], config["SIGNING_KEY_FILE"], config["SIGNING_KEY_PASSPHRASE"]
        )
        service = LetterService(config["AGENCY"], keys, config["PUBLIC_BASE_URL"], config["TIMEZONE"])
        extensions["letter_service"], extensions["letter_service_stamp"] = service, stamp
    return cast(LetterService, service)


def letter_ref(letter: Letter | None) -> dict[str, Any] | None:
    """A letter as case answers carry it."""
    if letter is None:
        return None
    return {
        "number": letter.number,
        "series": letter.series,
        "issued_at": letter.issued_at,
        "verify_token": letter.verify_token,
        "sha256": letter.sha256,
        "status": letter.status,
        "revoked_at": letter.revoked_at,
    }


def case_letter(case: Case) -> Letter | None:
    return current_letter(db.session, case)


def applicant_may_download(case: Case, letter: Letter | None) -> bool:
    """A rejection notice at once; a recommendation once handed over (or at issue, if configured)."""
    if letter is None or letter.status != "valid":
        return False
    if letter.series != "rekomendasi" or current_app.config["LETTER_AVAILABLE_TO_APPLICANT"] == "issued":
        return True
    return case.status == "completed"  # the hand-over is the step that completes the case


def init_app(app: Flask) -> None:
    if app.config["LETTER_AVAILABLE_TO_APPLICANT"] not in {"handed_over", "issued"}:
        raise RuntimeError("LETTER_AVAILABLE_TO_APPLICANT must be handed_over or issued")

    @app.errorhandler(SigningKeyError)
    def _no_signing_key(exc: SigningKeyError) -> Any:
        """A server without its signing certificate issues no letter: 503, nothing half-written."""
        from flask import render_template

        from .errors import error_response, wants_json

        db.session.rollback()
        app.logger.error("letters unavailable: %s", exc)
        message = "Surat belum dapat diterbitkan: sertifikat tanda tangan elektronik belum terpasang di server"
        if wants_json():
            return error_response(503, "letters_unavailable", message)
        return render_template("error.html", status=503, message=message), 503
