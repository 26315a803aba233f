"""What deploying needs from the configuration: working roles, the agency's bidang, live procedures."""

from __future__ import annotations

from typing import Any

from flask import current_app


def live_procedures() -> set[str]:
    """Procedures the public forms start (the service catalogue): replacing one needs a confirmation."""
    from engine.catalogue import catalogue_processes

    from .extensions import db

    return catalogue_processes(db.session, current_app.config["SERVICE_CATALOGUE"])


def deploy_options() -> dict[str, Any]:
    config = current_app.config
    return {"roles": config["STAFF_ROLES"], "bidang": list(config["AGENCY"].bidang), "live": live_procedures()}
