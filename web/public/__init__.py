"""Public pages (no login): home, apply, complaint, track, verify a letter, documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from werkzeug.exceptions import RequestEntityTooLarge

from engine.text import N_

bp = Blueprint("public", __name__)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: Exception) -> Any:
    return (
        render_template(
            "public/message.html",
            title=N_("Berkas terlalu besar"),
            message=N_(
                "Data atau berkas yang dikirim terlalu besar. Kecilkan foto (maksimal 5 MB per berkas) lalu coba lagi."
            ),
        ),
        413,
    )


def init_app(app: Flask) -> None:
    # No CSRF token on public forms: they act for nobody logged in, a token's time limit would
    # throw away a form an elderly applicant filled in slowly, and the tracking actions carry the
    # tracking code in the form itself (see track._tracked) — a forged form cannot know it.
    from ..extensions import csrf
    from . import (  # noqa: F401  (views)
        companions,
        documents,
        formatting,
        installable,
        pages,
        recover,
        staging,
        track,
        verify,
        weather,
    )

    csrf.exempt(bp)
    app.register_blueprint(bp)
