"""The app's weather service (from the settings) and background refreshes for pages that must not wait."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from engine.clock import utcnow
from engine.weather import fetch_forecast
from engine.weather_cache import DatabaseCache, ForecastCache, Reading, RedisCache, WeatherService, upcoming

from .extensions import db

log = logging.getLogger(__name__)
_KEY = "sibalang.weather"
# a few threads per worker process: refreshes for pages that serve the cache and return at once
_background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="weather")
_pending: set[Future[None]] = set()


def _errors() -> tuple[type[Exception], ...]:
    import redis

    return (SQLAlchemyError, redis.RedisError, OSError, ValueError)


def _cache(url: str) -> ForecastCache:
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        return RedisCache(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1))
    return DatabaseCache(db.engine)


def weather_service() -> WeatherService:
    """One service per app, built from its settings."""
    service = current_app.extensions.get(_KEY)
    if service is None:
        cfg = current_app.config
        service = WeatherService(
            cache=_cache(cfg["WEATHER_CACHE_URL"]),
            fetch=functools.partial(fetch_forecast, cfg["BMKG_FORECAST_URL"], timeout=cfg["BMKG_TIMEOUT"]),
            refresh_after=timedelta(hours=cfg["WEATHER_REFRESH_HOURS"]),
            retry_after=timedelta(minutes=cfg["WEATHER_RETRY_MINUTES"]),
            lease=timedelta(seconds=max(10.0, 4 * cfg["BMKG_TIMEOUT"])),
            per_minute=cfg["WEATHER_FETCHES_PER_MINUTE"],
            errors=_errors(),
        )
        current_app.extensions[_KEY] = service
    return service


def forecast_now(adm4: str) -> Reading:
    """For the weather page: the cache, or one short attempt at BMKG when nothing fresh is cached.

    A stale forecast is shown at once and refreshed in the background.
    """
    service = weather_service()
    reading = service.cached(adm4, utcnow())
    if reading.due and reading.forecast is None:
        return service.refresh(adm4, utcnow())
    if reading.due:
        refresh_later(adm4)
    return reading


def forecast_cached(adm4: str) -> Reading:
    """For staff pages: never waits for BMKG; a due refresh runs in the background."""
    reading = weather_service().cached(adm4, utcnow())
    if reading.due:
        refresh_later(adm4)
    return reading


def refresh_later(adm4: str) -> None:
    service = weather_service()

    def run() -> None:
        try:
            service.refresh(adm4, utcnow())
        except Exception:  # a background refresh must never take the worker down
            log.exception("background weather refresh of %s failed", adm4)

    future = _background.submit(run)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def drain(timeout: float = 10.0) -> None:
    """Wait for the background refreshes started so far (tests, before they dispose the engine)."""
    wait(list(_pending), timeout=timeout)


def local_now() -> datetime:
    return utcnow().astimezone(ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Makassar"))).replace(tzinfo=None)


def days_ahead(reading: Reading, days: int = 3) -> list[dict[str, Any]]:
    return upcoming(reading.forecast, local_now(), days)
