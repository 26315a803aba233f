"""The service catalogue as the pages and the API use it: configured file + administrators' entries."""

from __future__ import annotations

from flask import current_app

from engine.catalogue import Catalogue, Service, current_catalogue, offered_services

from .extensions import db

UNKNOWN_SERVICE = "Pilihan tidak valid. Pilih salah satu layanan yang ditawarkan."


def catalogue() -> Catalogue:
    return current_catalogue(db.session, current_app.config["SERVICE_CATALOGUE"])


def offered() -> dict[str, Service]:
    """Active services, in catalogue order: what the application form offers."""
    return offered_services(db.session, current_app.config["SERVICE_CATALOGUE"])


def process_of(service_key: str) -> str | None:
    """The procedure an application for ``service_key`` starts, or None if it is not offered."""
    service = offered().get(service_key)
    return service.process if service else None


def complaint_process() -> str:
    return catalogue().complaint.process
