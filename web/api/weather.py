"""``GET /api/v1/weather?adm4=``: BMKG's forecast for one desa of the regency, from the shared cache."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from marshmallow import Schema, fields

from engine import regions
from engine.weather import ADM4_PATTERN

from ..errors import ApiError
from ..limits import limited
from ..weather import days_ahead, forecast_now
from . import bp, doc


class WeatherSlotSchema(Schema):
    time = fields.String(metadata={"description": "local time (WITA), YYYY-MM-DDTHH:MM"})
    t = fields.Integer(metadata={"description": "temperature, °C"})
    hu = fields.Integer(allow_none=True, metadata={"description": "relative humidity, %"})
    code = fields.Integer(allow_none=True, metadata={"description": "BMKG weather code"})
    desc = fields.String(metadata={"description": "BMKG's description in Indonesian"})
    desc_en = fields.String(allow_none=True)
    ws = fields.Float(allow_none=True, metadata={"description": "wind speed, km/h"})
    wd = fields.String(allow_none=True, metadata={"description": "wind from: N, NE, E, SE, S, SW, W, NW"})
    tp = fields.Float(allow_none=True, metadata={"description": "precipitation, mm"})


class WeatherDaySchema(Schema):
    date = fields.String()
    slots = fields.List(fields.Nested(WeatherSlotSchema))


class WeatherSchema(Schema):
    adm4 = fields.String()
    desa = fields.String()
    kecamatan = fields.String()
    available = fields.Boolean(metadata={"description": "false: BMKG not reached and nothing cached yet"})
    fetched_at = fields.DateTime(allow_none=True)
    source = fields.String(metadata={"description": "credit the source as BMKG's terms ask"})
    days = fields.List(fields.Nested(WeatherDaySchema))


@bp.get("/weather")
@limited("RATELIMIT_WEATHER", scope="weather")
@doc(
    "BMKG's three-day forecast (three-hour steps) for one desa of the regency",
    response=WeatherSchema,
    tags=("public",),
    auth=False,
    params=(("adm4", "query", "desa code, e.g. 63.11.02.2005"),),
    errors=(400, 404),
)
def weather() -> Any:
    adm4 = request.args.get("adm4", "").strip()
    if not ADM4_PATTERN.match(adm4):
        raise ApiError(400, "invalid_adm4", "Parameter adm4 harus kode desa, contoh 63.11.02.2005")
    village = regions.village(adm4)
    if village is None:
        raise ApiError(404, "unknown_desa", f"Desa {adm4} tidak ada di wilayah layanan ini")
    kecamatan = regions.kecamatan_of(adm4)
    reading = forecast_now(adm4)
    days = days_ahead(reading)
    return jsonify(
        WeatherSchema().dump(
            {
                "adm4": adm4,
                "desa": village.name,
                "kecamatan": kecamatan.name if kecamatan else "",
                "available": bool(days),
                "fetched_at": reading.fetched_at,
                "source": "BMKG (Badan Meteorologi, Klimatologi, dan Geofisika)",
                "days": days,
            }
        )
    )
