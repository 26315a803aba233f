"""Languages through Flask-Babel: Bahasa Indonesia is the source and default, English is a catalogue.

Every UI string is written in Indonesian and marked: ``_("…")`` in templates and in Python
(``from ..i18n import gettext as _``), ``N_("…")`` for module-level constants translated when shown
(the engine marks its labels with ``engine.text.N_``). ``make messages`` extracts them into
``web/translations/messages.pot`` and updates ``web/translations/en/LC_MESSAGES/messages.po``;
``make install`` compiles the catalogue. A string missing from the catalogue shows in Indonesian.

Dates, times and numbers are formatted with Babel's locale data (CLDR) in the agency's time zone,
amounts of money as Rupiah.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import flask_babel
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, format_decimal

from engine.text import N_

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
# CLDR names these zones "Waktu Indonesia Tengah" etc.; people write the abbreviation in any language.
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}

babel = Babel()

EVENT_TEXT = {
    "case_started": N_("Kasus dimulai"),
    "task_claimed": N_("Tugas diambil"),
    "task_released": N_("Tugas dilepas"),
    "task_completed": N_("Tugas diselesaikan"),
    "message_received": N_("Pemohon mengirim kelengkapan"),
    "timer_fired": N_("Batas waktu tercapai"),
    "case_closed": N_("Kasus ditutup"),
    "comment": N_("Komentar"),
    "letter_issued": N_("Surat diterbitkan"),
    "letter_revoked": N_("Surat dicabut"),
    "document_added": N_("Dokumen ditambahkan"),
    "companion_assigned": N_("Pendamping ditugaskan"),
}


def current_language() -> str:
    """The visitor's choice (the ``lang`` cookie), Indonesian otherwise."""
    lang = request.cookies.get(COOKIE, "id") if has_request_context() else "id"
    return lang if lang in LANGUAGES else "id"


def gettext(text: str, **values: Any) -> str:
    """Translate ``text`` (Indonesian) to the request's language, then fill ``%(name)s`` values."""
    return flask_babel.gettext(text, **values)


def error_text(exc: Any) -> str:
    """An engine error's message in the request's language, its values filled in after the
    template is translated (see ``engine.errors.EngineError``)."""
    return gettext(exc.text, **exc.params) if exc.params else gettext(exc.message)


def _zone_name() -> str:
    zone = current_app.config.get("TIMEZONE", "Asia/Makassar")
    return ZONE_NAMES.get(zone, zone)


def format_datetime(moment: datetime | None, with_time: bool = True) -> str:
    """``28 November 2026 09.15 WITA`` (English: ``November 28, 2026 9:15 AM WITA``), agency time."""
    if moment is None:
        return "–"
    text = flask_babel.format_date(moment, "long")
    if not with_time:
        return text
    return f"{text} {flask_babel.format_time(moment, 'short')} {_zone_name()}"


def format_date(value: date | datetime | str | None) -> str:
    """A calendar date (``2026-11-20``) as ``20 November 2026``; a moment as its agency-time date."""
    if value is None or value == "":
        return "–"
    if isinstance(value, datetime):
        return flask_babel.format_date(value, "long")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    # a plain date has no time zone: format it as it is (Babel's own format_date would shift a datetime)
    from babel.dates import format_date as babel_date

    return babel_date(value, "long", locale=flask_babel.get_locale())


def format_rupiah(value: Any) -> str:
    """``Rp900.000`` with the locale's grouping; anything that is not a number as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return flask_babel.format_currency(value, "IDR", format="¤#,##0", currency_digits=False)


def format_number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return format_decimal(value)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "id")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("TIMEZONE", "Asia/Makassar"))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=current_language)
    app.jinja_env.globals.update(_=gettext, LANGUAGES=LANGUAGES, current_language=current_language)
    app.jinja_env.filters.update(datetime=format_datetime, date=format_date, rupiah=format_rupiah, number=format_number)
