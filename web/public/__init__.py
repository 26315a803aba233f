"""Public pages (no login): home, apply, complaint, track, verify a letter, documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from werkzeug.exceptions import RequestEntityTooLarge

bp = Blueprint("public", __name__)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: Exception) -> Any:
    return (
        render_template(
            "public/message.html",
            title="Berkas terlalu besar",
            message="Data atau berkas yang dikirim terlalu besar. Kecilkan foto (maksimal 5 MB per berkas) lalu coba lagi.",
        ),
        413,
    )


def init_app(app: Flask) -> None:
    from . import documents, pages, ratelimit, track, verify  # noqa: F401  (registers the views)
    from .formatting import init_filters

    init_filters(bp)
    app.register_blueprint(bp)
    ratelimit.init_app(app)
