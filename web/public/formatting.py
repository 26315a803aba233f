"""Indonesian dates for the public pages."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from . import bp

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


@bp.app_template_filter("public_tanggal")
def tanggal(value: date | datetime | None, with_time: bool = True) -> str:
    """``28 November 2026, 09.15 WITA`` in the agency's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        text = f"{local.day} {MONTHS[local.month - 1]} {local.year}"
        return f"{text}, {local:%H.%M} {local.tzname() or ''}".strip() if with_time else text
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
