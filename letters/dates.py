"""Dates as letters print them: "28 November 2026" in the agency's time zone (Babel's Indonesian locale)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day of ``moment`` where the agency is."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def tanggal(day: date) -> str:
    """``28 November 2026``."""
    return format_date(day, "d MMMM y", locale="id")
