"""The forecast cache shared by every worker, and the rules for asking BMKG again.

Two stores with one interface: the database (``weather_forecast`` table, the default) and
Redis (``WEATHER_CACHE_URL=redis://…``). Either way:

- a desa's forecast is asked for at most once per ``refresh_after`` (BMKG updates twice a day);
- after a failure nobody asks again for ``retry_after`` (no internet must not make pages slow);
- one worker at a time refreshes a desa: it holds a lease (a row update that only one worker
  wins, or Redis ``SET NX``), the others serve what is cached (single flight);
- all workers together start at most ``per_minute`` fetches a minute (BMKG allows 60 per IP).

The database store writes in its own short transactions on the engine, not in the request's
unit of work: a cache entry is not part of any case change and must be visible to the other
workers at once, and no transaction may stay open while BMKG is asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from .clock import aware
from .models import WeatherForecast
from .weather import WeatherUnavailable

log = logging.getLogger(__name__)
_TABLE = cast(Table, WeatherForecast.__table__)


@dataclass
class Entry:
    """What the cache holds for one desa."""

    forecast: dict[str, Any] | None = None
    fetched_at: datetime | None = None
    attempted_at: datetime | None = None
    last_error: str | None = None


class ForecastCache(Protocol):
    def read(self, adm4: str) -> Entry | None: ...

    def take_lease(self, adm4: str, now: datetime, until: datetime, per_minute: int) -> bool:
        """True for the one caller that may fetch ``adm4`` now."""

    def store(self, adm4: str, forecast: dict[str, Any], now: datetime) -> None: ...

    def fail(self, adm4: str, error: str, now: datetime) -> None: ...


class DatabaseCache:
    """The ``weather_forecast`` table, written in short transactions of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self, adm4: str) -> Entry | None:
        table = _TABLE
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.adm4 == adm4)).mappings().first()
        if row is None:
            return None
        return Entry(row["forecast"], row["fetched_at"], row["attempted_at"], row["last_error"])

    def take_lease(self, adm4: str, now: datetime, until: datetime, per_minute: int) -> bool:
        table = _TABLE
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        with self.engine.begin() as conn:
            conn.execute(insert(table).values(adm4=adm4).on_conflict_do_nothing(index_elements=["adm4"]))
            started = conn.execute(
                select(func.count()).select_from(table).where(table.c.attempted_at > now - timedelta(minutes=1))
            ).scalar_one()
            if started >= per_minute:
                return False
            won = conn.execute(
                update(table)
                .where(table.c.adm4 == adm4, or_(table.c.lease_until.is_(None), table.c.lease_until < now))
                .values(lease_until=until, attempted_at=now)
            )
            return won.rowcount == 1

    def store(self, adm4: str, forecast: dict[str, Any], now: datetime) -> None:
        table = _TABLE
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.adm4 == adm4)
                .values(forecast=forecast, fetched_at=now, last_error=None, lease_until=None)
            )

    def fail(self, adm4: str, error: str, now: datetime) -> None:
        table = _TABLE
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.adm4 == adm4).values(last_error=error[:300], lease_until=None))


class RedisCache:
    """Redis: one JSON value per desa, ``SET NX PX`` leases, a per-minute counter for the budget."""

    def __init__(self, client: Any, prefix: str = "sibalang:weather:") -> None:
        self.client, self.prefix = client, prefix

    def _get(self, adm4: str) -> dict[str, Any] | None:
        raw = self.client.get(self.prefix + adm4)
        return json.loads(raw) if raw else None

    def read(self, adm4: str) -> Entry | None:
        value = self._get(adm4)
        if value is None:
            return None
        moments = {
            k: datetime.fromisoformat(value[k]) if value.get(k) else None for k in ("fetched_at", "attempted_at")
        }
        return Entry(value.get("forecast"), moments["fetched_at"], moments["attempted_at"], value.get("last_error"))

    def take_lease(self, adm4: str, now: datetime, until: datetime, per_minute: int) -> bool:
        budget = f"{self.prefix}budget:{now:%Y%m%d%H%M}"
        started = int(self.client.get(budget) or 0)
        if started >= per_minute:
            return False
        ms = max(int((until - now).total_seconds() * 1000), 1)
        if not self.client.set(f"{self.prefix}lease:{adm4}", now.isoformat(), nx=True, px=ms):
            return False
        pipe = self.client.pipeline()
        pipe.incr(budget)
        pipe.expire(budget, 120)
        pipe.execute()
        self._put(adm4, {"attempted_at": now.isoformat()})
        return True

    def _put(self, adm4: str, changes: dict[str, Any]) -> None:
        value = self._get(adm4) or {}
        value.update(changes)
        self.client.set(self.prefix + adm4, json.dumps(value, ensure_ascii=False))

    def store(self, adm4: str, forecast: dict[str, Any], now: datetime) -> None:
        self._put(adm4, {"forecast": forecast, "fetched_at": now.isoformat(), "last_error": None})
        self.client.delete(f"{self.prefix}lease:{adm4}")

    def fail(self, adm4: str, error: str, now: datetime) -> None:
        self._put(adm4, {"last_error": error[:300]})
        self.client.delete(f"{self.prefix}lease:{adm4}")


@dataclass
class Reading:
    """What a page can show for one desa: the forecast (maybe stale) or nothing yet."""

    adm4: str
    forecast: dict[str, Any] | None
    fetched_at: datetime | None
    error: str | None = None
    due: bool = False  # older than the refresh interval and not failed just now


@dataclass
class WeatherService:
    cache: ForecastCache
    fetch: Callable[[str], dict[str, Any]]  # adm4 → forecast; raises WeatherUnavailable
    refresh_after: timedelta = timedelta(hours=3)
    retry_after: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=30)
    per_minute: int = 30
    errors: tuple[type[Exception], ...] = field(default=(OSError,))  # the cache store's own failures

    def cached(self, adm4: str, now: datetime) -> Reading:
        """The cache only, never BMKG: for pages that must not wait (a cache failure reads as empty)."""
        try:
            entry = self.cache.read(adm4)
        except self.errors as exc:
            log.warning("weather cache unreadable: %s", exc)
            return Reading(adm4, None, None, "cache unavailable")
        if entry is None:
            return Reading(adm4, None, None, due=True)
        now = aware(now)
        fresh = entry.fetched_at is not None and now - aware(entry.fetched_at) < self.refresh_after
        tried = entry.attempted_at is not None and now - aware(entry.attempted_at) < self.retry_after
        return Reading(adm4, entry.forecast, entry.fetched_at, entry.last_error, due=not fresh and not tried)

    def refresh(self, adm4: str, now: datetime) -> Reading:
        """Ask BMKG if this caller wins the desa's lease and the minute's budget allows."""
        now = aware(now)
        try:
            if not self.cache.take_lease(adm4, now, now + self.lease, self.per_minute):
                return self.cached(adm4, now)
        except self.errors as exc:
            log.warning("weather cache unwritable: %s", exc)
            return Reading(adm4, None, None, "cache unavailable")
        try:
            try:
                forecast = self.fetch(adm4)
            except WeatherUnavailable as exc:
                log.info("BMKG forecast for %s unavailable: %s", adm4, exc)
                self.cache.fail(adm4, str(exc), now)
            else:
                self.cache.store(adm4, forecast, now)
        except self.errors as exc:  # the lease runs out by itself
            log.warning("weather cache unwritable: %s", exc)
        return self.cached(adm4, now)

    def forecast(self, adm4: str, now: datetime) -> Reading:
        """Cached if fresh; otherwise one short attempt at BMKG (or the stale forecast)."""
        reading = self.cached(adm4, now)
        return self.refresh(adm4, now) if reading.due else reading


def upcoming(forecast: dict[str, Any] | None, local_now: datetime, days: int = 3) -> list[dict[str, Any]]:
    """The days of a forecast from the current three-hour step on (``local_now`` in the desa's time)."""
    if not forecast:
        return []
    start = (local_now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    result = []
    for day in forecast.get("days") or []:
        slots = [s for s in day["slots"] if s["time"] >= start]
        if slots:
            result.append({"date": day["date"], "slots": slots})
    return result[:days]
