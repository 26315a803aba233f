"""BMKG's public forecast for one desa: fetch it (short deadline) and check its shape.

``GET {BMKG_FORECAST_URL}?adm4={kode desa}`` answers three days in three-hour steps::

    {"lokasi": {"adm4": "63.11.02.2005", "desa": "Halong", "kecamatan": "Halong", ...},
     "data": [{"lokasi": {...}, "cuaca": [[{"local_datetime": "2026-12-01 14:00:00", "t": 31,
               "hu": 70, "weather": 3, "weather_desc": "Berawan", "weather_desc_en": "Mostly Cloudy",
               "ws": 5.2, "wd": "NE", "tp": 0.4, "image": "https://…svg", ...}, ...], [...]]}]}

The answer crosses a trust boundary: it is read with a size limit and a total deadline
(httpx), validated with marshmallow, and reduced to what we show (our own ``Forecast`` dict),
so nothing else of it is stored or rendered. Caching and single flight: ``engine.weather_cache``.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import httpx
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

DEFAULT_URL = "https://api.bmkg.go.id/publik/prakiraan-cuaca"
ADM4_PATTERN = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
MAX_BYTES = 1_000_000  # a real answer is ~40 KB
USER_AGENT = "LayarSibalang/1.0 (+Dinas Sosial; prakiraan BMKG)"

WIND = {
    "N": "Utara",
    "NE": "Timur Laut",
    "E": "Timur",
    "SE": "Tenggara",
    "S": "Selatan",
    "SW": "Barat Daya",
    "W": "Barat",
    "NW": "Barat Laut",
    "VARIABLE": "Berubah-ubah",
}
WIND_EN = {
    "N": "North",
    "NE": "Northeast",
    "E": "East",
    "SE": "Southeast",
    "S": "South",
    "SW": "Southwest",
    "W": "West",
    "NW": "Northwest",
    "VARIABLE": "Variable",
}


class WeatherUnavailable(Exception):
    """BMKG could not be reached in time, or answered something we cannot use."""


class _Slot(Schema):
    class Meta:
        unknown = EXCLUDE

    local_datetime = fields.DateTime(format="%Y-%m-%d %H:%M:%S", required=True)
    t = fields.Float(required=True, validate=validate.Range(-20, 60))
    hu = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 100))
    weather = fields.Integer(load_default=None, allow_none=True)
    weather_desc = fields.String(required=True, validate=validate.Length(1, 80))
    weather_desc_en = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    ws = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 500))
    wd = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    tp = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 1000))


class _Location(Schema):
    class Meta:
        unknown = EXCLUDE

    adm4 = fields.String(load_default=None)
    desa = fields.String(load_default=None)
    kecamatan = fields.String(load_default=None)
    kotkab = fields.String(load_default=None)
    timezone = fields.String(load_default=None)


class _Block(Schema):
    class Meta:
        unknown = EXCLUDE

    lokasi = fields.Nested(_Location, load_default=None)
    cuaca = fields.List(fields.List(fields.Nested(_Slot)), required=True)


class _Answer(Schema):
    class Meta:
        unknown = EXCLUDE

    lokasi = fields.Nested(_Location, required=True)
    data = fields.List(fields.Nested(_Block), required=True, validate=validate.Length(min=1))


_answer = _Answer()


def parse_forecast(raw: Any, adm4: str) -> dict[str, Any]:
    """BMKG's answer → our forecast dict (days of three-hour slots). Raises WeatherUnavailable."""
    try:
        answer = _answer.load(raw if isinstance(raw, dict) else {"_": raw})
    except ValidationError as exc:
        raise WeatherUnavailable(f"BMKG answer not in the expected format: {_first_problem(exc.messages)}") from None
    place = answer["lokasi"]
    if place.get("adm4") and place["adm4"] != adm4:
        raise WeatherUnavailable(f"BMKG answered for {place['adm4']}, not {adm4}")
    slots = sorted(
        (slot for block in answer["data"] for day in block["cuaca"] for slot in day),
        key=lambda s: s["local_datetime"],
    )
    if not slots:
        raise WeatherUnavailable("BMKG answer holds no forecast")
    days: dict[str, list[dict[str, Any]]] = {}
    for slot in slots:
        moment: datetime = slot["local_datetime"]
        wd = (slot.get("wd") or "").upper() or None
        days.setdefault(moment.date().isoformat(), []).append(
            {
                "time": moment.strftime("%Y-%m-%dT%H:%M"),
                "t": round(slot["t"]),
                "hu": None if slot.get("hu") is None else round(slot["hu"]),
                "code": slot.get("weather"),
                "desc": slot["weather_desc"],
                "desc_en": slot.get("weather_desc_en"),
                "ws": None if slot.get("ws") is None else round(slot["ws"], 1),
                "wd": wd if wd in WIND else None,
                "tp": slot.get("tp"),
            }
        )
    return {
        "adm4": adm4,
        "desa": place.get("desa"),
        "kecamatan": place.get("kecamatan"),
        "timezone": place.get("timezone"),
        "days": [{"date": day, "slots": items} for day, items in days.items()],
    }


def _first_problem(messages: Any, path: str = "") -> str:
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        return _first_problem(value, f"{path}.{key}" if path else str(key))
    if isinstance(messages, list) and messages:
        return _first_problem(messages[0], path)
    return f"{path}: {messages}"


def fetch_forecast(base_url: str, adm4: str, timeout: float, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Ask BMKG for one desa, giving up after ``timeout`` seconds. Raises WeatherUnavailable.

    httpx's timeouts bound each connect and each read; the loop below bounds the whole answer,
    so a server trickling bytes cannot hold a worker longer than about twice ``timeout``.
    """
    if not ADM4_PATTERN.match(adm4):
        raise ValueError(f"not an adm4 code: {adm4!r}")
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        ) as client:
            with client.stream("GET", base_url, params={"adm4": adm4}) as response:
                if response.status_code != 200:
                    raise WeatherUnavailable(f"BMKG answered HTTP {response.status_code}")
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise WeatherUnavailable(f"BMKG answer larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise WeatherUnavailable(f"BMKG did not answer within {timeout:g} s")
    except httpx.TimeoutException:
        raise WeatherUnavailable(f"BMKG did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise WeatherUnavailable(f"BMKG unreachable: {type(exc).__name__}") from None
    try:
        raw = json.loads(bytes(body))
    except ValueError:
        raise WeatherUnavailable("BMKG answered malformed JSON") from None
    return parse_forecast(raw, adm4)


def wind_text(code: str | None, lang: str = "id") -> str:
    return (WIND_EN if lang == "en" else WIND).get(code or "", "")


def icon_for(code: int | None, desc: str) -> str:
    """Which of our own icons shows a slot (BMKG's weather codes; the description as a fallback)."""
    text = desc.lower()
    if code in (95, 97) or "petir" in text:
        return "petir"
    if (code is not None and 60 <= code <= 80) or "hujan" in text:
        return "hujan"
    if code in (5, 10, 45) or "kabut" in text or "asap" in text or "kabur" in text:
        return "kabut"
    if code in (3, 4) or ("berawan" in text and not text.startswith("cerah")):
        return "berawan"
    if code in (1, 2) or "cerah berawan" in text:
        return "cerah_berawan"
    return "cerah"
