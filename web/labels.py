"""Every code staff or residents could see, shown by its label in the request's language.

Roles, bidang, statuses, services, categories and document kinds are stored as codes
(``rehsos``, ``penyandang_disabilitas``); templates show them through these filters.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from engine.inbox import STATUS_TEXT
from engine.intake import COMPLAINT_CATEGORIES, DOCUMENT_KINDS, PPKS_CATEGORIES, SERVICES
from engine.text import N_

from .i18n import gettext as _

ROLE_TEXT = {
    "operator": N_("Operator"),
    "supervisor": N_("Supervisor"),
    "manager": N_("Manajer layanan"),
    "kadis": N_("Kepala Dinas"),
    "kabid": N_("Kepala Bidang"),
    "front_office": N_("Petugas loket"),
    "admin": N_("Administrator"),
    "auditor": N_("Auditor"),
    "applicant": N_("Pemohon"),
    "system": N_("Sistem"),
}
GENDER_TEXT = {"L": N_("Laki-laki"), "P": N_("Perempuan")}


def _known(table: dict[str, Any], code: Any) -> str:
    if code is None or code == "":
        return "–"
    value = table.get(str(code))
    if value is None:
        return str(code)
    return _(value[0] if isinstance(value, tuple) else value)


def role_label(code: Any) -> str:
    return _known(ROLE_TEXT, code)


def bidang_label(code: Any) -> str:
    """The bidang's name from the agency profile (the agency's own words, not translated)."""
    if not code:
        return "–"
    return str(current_app.config["AGENCY"].bidang_name(str(code)))


def status_label(code: Any) -> str:
    return _known(STATUS_TEXT, code)


def category_label(code: Any) -> str:
    return _known({**PPKS_CATEGORIES, **COMPLAINT_CATEGORIES}, code)


def kind_label(code: Any) -> str:
    return _known(DOCUMENT_KINDS, code)


def gender_label(code: Any) -> str:
    return _known(GENDER_TEXT, code)


def service_label(service: str | None, kind: str | None = None) -> str:
    """A public service or complaint category by its name; a complaint without one is "Aduan"."""
    if service in SERVICES or service in COMPLAINT_CATEGORIES:
        return _known({**SERVICES, **COMPLAINT_CATEGORIES}, service)
    if service == "aduan" or (not service and kind == "aduan"):
        return _("Aduan")
    return service or "–"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        role=role_label,
        bidang=bidang_label,
        status=status_label,
        category=category_label,
        doc_kind=kind_label,
        gender=gender_label,
        service=service_label,
    )
