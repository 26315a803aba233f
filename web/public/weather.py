"""``/cuaca``: BMKG's forecast for a desa, chosen kecamatan → desa with plain links (no JS needed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import flask_babel
from babel.dates import format_date as babel_date
from flask import render_template

from engine import regions
from engine.weather import icon_for, wind_text

from ..i18n import gettext as _
from ..limits import limited
from ..weather import days_ahead, forecast_now, local_now
from . import bp
from .areas import area_from_args


def day_label(iso: str, _index: int = 0) -> str:
    """``Hari ini, 2 Desember`` / ``Besok, …`` / ``Jumat, 4 Desember`` against the agency's local date."""
    day = date.fromisoformat(iso)
    offset = (day - local_now().date()).days
    when = babel_date(day, "d MMMM", locale=flask_babel.get_locale())
    if offset == 0:
        return _("Hari ini, %(date)s", date=when)
    if offset == 1:
        return _("Besok, %(date)s", date=when)
    return babel_date(day, "EEEE, d MMMM", locale=flask_babel.get_locale())


def weather_context(adm4: str, reading: Any) -> dict[str, Any]:
    """What the weather partial shows (shared with the supervisor's visit task)."""
    return {
        "adm4": adm4,
        "reading": reading,
        "days": days_ahead(reading),
        "day_label": day_label,
        "icon_for": icon_for,
        "wind_text": wind_text,
    }


@bp.get("/cuaca")
@limited("RATELIMIT_WEATHER", scope="weather")
def weather_page() -> Any:
    area = area_from_args()
    kecamatan, village = area.kecamatan, area.village
    context: dict[str, Any] = {}
    if village is not None:
        context = weather_context(village.code, forecast_now(village.code))
    return render_template(
        "public/cuaca.html",
        kecamatan_list=regions.kecamatan_list(),
        kecamatan=kecamatan,
        desa_list=area.desa_list,
        village=village,
        **context,
    )
