"""The auditors' pages under ``/audit/`` (read-only) and the ``audit`` command group."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("audit", __name__, url_prefix="/audit")


def init_app(app: Flask) -> None:
    from . import exports, pages  # noqa: F401  (views register on bp)
    from .cli import audit_cli

    app.register_blueprint(bp)
    app.cli.add_command(audit_cli)
