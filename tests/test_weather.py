"""Cuaca: BMKG's forecast through the adapter, the shared cache, the page and the API.

Every test talks to a local fake BMKG (tests/fake_bmkg.py, answers recorded in BMKG's format);
none reaches the real one.
"""

from __future__ import annotations

import functools
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.weather import WeatherUnavailable, fetch_forecast, icon_for, parse_forecast
from engine.weather_cache import DatabaseCache, RedisCache, WeatherService
from tests.conftest import ON_POSTGRES, app_on
from tests.fake_bmkg import FakeBMKG, closed_port_url, recorded
from web.extensions import db

HALONG = "63.11.02.2005"
JUAI = "63.11.01.2003"


def test_a_recorded_answer_becomes_three_days_of_three_hour_steps() -> None:
    with FakeBMKG() as bmkg:
        forecast = fetch_forecast(bmkg.url, HALONG, timeout=2)
    assert bmkg.requests == [HALONG]
    assert forecast["desa"] == "Halong" and forecast["kecamatan"] == "Halong"
    days = forecast["days"]
    assert len(days) >= 3
    first, second = days[0]["slots"], days[1]["slots"]
    assert len(second) == 8  # a whole day: 8 steps of 3 hours
    assert [s["time"][11:] for s in second] == ["02:00", "05:00", "08:00", "11:00", "14:00", "17:00", "20:00", "23:00"]
    assert all(s["desc"] and isinstance(s["t"], int) for s in first + second)
    raw = recorded(HALONG)
    assert raw is not None
    assert first[0]["desc"] == raw["data"][0]["cuaca"][0][0]["weather_desc"]
    assert set(forecast["days"][0]["slots"][0]) == {"time", "t", "hu", "code", "desc", "desc_en", "ws", "wd", "tp"}


def test_an_unknown_desa_a_failing_server_and_malformed_json_are_unavailable() -> None:
    with FakeBMKG() as bmkg:
        with pytest.raises(WeatherUnavailable, match="HTTP 404"):
            fetch_forecast(bmkg.url, "63.11.09.9999", timeout=2)
        bmkg.mode = "error"
        with pytest.raises(WeatherUnavailable, match="HTTP 503"):
            fetch_forecast(bmkg.url, HALONG, timeout=2)
        bmkg.mode = "malformed"
        with pytest.raises(WeatherUnavailable, match="malformed JSON"):
            fetch_forecast(bmkg.url, HALONG, timeout=2)


def test_a_slow_server_is_given_up_on_and_a_down_one_is_unreachable() -> None:
    with FakeBMKG(delay=3) as bmkg:
        with pytest.raises(WeatherUnavailable, match="did not answer within 0.3 s"):
            fetch_forecast(bmkg.url, HALONG, timeout=0.3)
    with pytest.raises(WeatherUnavailable, match="unreachable"):
        fetch_forecast(closed_port_url(), HALONG, timeout=1)


def test_answers_of_the_wrong_shape_or_for_another_desa_are_refused() -> None:
    answer = recorded(HALONG)
    assert answer is not None
    with pytest.raises(WeatherUnavailable, match="expected format: data"):
        parse_forecast({"lokasi": answer["lokasi"]}, HALONG)
    with pytest.raises(WeatherUnavailable, match="expected format"):
        parse_forecast([1, 2, 3], HALONG)
    broken = recorded(HALONG)
    assert broken is not None
    broken["data"][0]["cuaca"][0][0]["local_datetime"] = "besok pagi"
    with pytest.raises(WeatherUnavailable, match="local_datetime"):
        parse_forecast(broken, HALONG)
    with pytest.raises(WeatherUnavailable, match="not 63.11.01.2003"):
        parse_forecast(answer, JUAI)


def test_icons_follow_bmkg_weather_codes() -> None:
    assert icon_for(0, "Cerah") == "cerah"
    assert icon_for(1, "Cerah Berawan") == "cerah_berawan"
    assert icon_for(4, "Berawan Tebal") == "berawan"
    assert icon_for(61, "Hujan Ringan") == "hujan"
    assert icon_for(95, "Hujan Petir") == "petir"
    assert icon_for(45, "Kabut") == "kabut"
    assert icon_for(None, "Hujan Lebat") == "hujan"


@pytest.fixture
def cache_app(tmp_path: Path) -> Any:
    """On a database file (or PostgreSQL): the bursts below use it from eight threads at once, and
    an in-memory SQLite database is one connection shared by all of them."""
    database = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'weather.db'}"}
    with app_on(tmp_path, **database) as app:
        yield app


def _service(app: Any, url: str, **kwargs: Any) -> WeatherService:
    with app.app_context():
        engine = db.engine
    return WeatherService(DatabaseCache(engine), functools.partial(fetch_forecast, url, timeout=3), **kwargs)


T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_the_cache_asks_bmkg_once_per_refresh_interval(cache_app: Any) -> None:
    with FakeBMKG() as bmkg:
        service = _service(cache_app, bmkg.url, refresh_after=timedelta(hours=3))
        first = service.forecast(HALONG, T0)
        again = service.forecast(HALONG, T0 + timedelta(hours=2))
        assert first.forecast is not None and again.forecast == first.forecast
        assert bmkg.requests == [HALONG]
        later = service.forecast(HALONG, T0 + timedelta(hours=3, minutes=1))
        assert later.fetched_at == T0 + timedelta(hours=3, minutes=1)
        assert bmkg.requests == [HALONG, HALONG]


def test_when_bmkg_fails_the_stale_forecast_stays_and_nobody_retries_for_a_while(cache_app: Any) -> None:
    with FakeBMKG() as bmkg:
        service = _service(cache_app, bmkg.url, retry_after=timedelta(minutes=10))
        assert service.forecast(HALONG, T0).forecast is not None
        bmkg.mode = "error"
        stale = service.forecast(HALONG, T0 + timedelta(hours=4))
        assert stale.forecast is not None and stale.error == "BMKG answered HTTP 503"
        assert stale.fetched_at == T0
        for minutes in (1, 5, 9):
            service.forecast(HALONG, T0 + timedelta(hours=4, minutes=minutes))
        assert len(bmkg.requests) == 2  # no retry inside ten minutes
        bmkg.mode = "ok"
        fresh = service.forecast(HALONG, T0 + timedelta(hours=4, minutes=11))
        assert fresh.error is None and fresh.fetched_at == T0 + timedelta(hours=4, minutes=11)


def test_nothing_cached_and_bmkg_down_reads_as_not_available(cache_app: Any) -> None:
    service = _service(cache_app, closed_port_url())
    reading = service.forecast(HALONG, T0)
    assert reading.forecast is None and "unreachable" in (reading.error or "")


def _burst(service: WeatherService, adm4: str, n: int = 8) -> list[Any]:
    results: list[Any] = []
    barrier = threading.Barrier(n)

    def one() -> None:
        barrier.wait()
        results.append(service.forecast(adm4, datetime.now(UTC)))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_a_burst_for_one_desa_asks_bmkg_once(cache_app: Any) -> None:
    with FakeBMKG(delay=0.3) as bmkg:
        service = _service(cache_app, bmkg.url)
        _burst(service, HALONG)
        assert bmkg.requests == [HALONG]
        assert service.cached(HALONG, datetime.now(UTC)).forecast is not None


def test_all_workers_together_stay_under_the_per_minute_budget(cache_app: Any) -> None:
    with FakeBMKG() as bmkg:
        service = _service(cache_app, bmkg.url, per_minute=2)
        for adm4 in (HALONG, JUAI, "63.11.02.2001"):
            service.forecast(adm4, T0)
        assert len(bmkg.requests) == 2
        service.forecast("63.11.02.2001", T0 + timedelta(minutes=2))
        assert len(bmkg.requests) == 3


def _redis() -> Any:
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=15, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def test_the_redis_cache_shares_entries_leases_and_budget() -> None:
    client = _redis()
    prefix = f"test-sibalang:{datetime.now(UTC).timestamp()}:"
    try:
        with FakeBMKG(delay=0.3) as bmkg:
            fetch = functools.partial(fetch_forecast, bmkg.url, timeout=3)
            one = WeatherService(RedisCache(client, prefix), fetch)
            two = WeatherService(RedisCache(client, prefix), fetch, per_minute=2)
            _burst(one, HALONG)
            assert bmkg.requests == [HALONG]
            assert two.cached(HALONG, datetime.now(UTC)).forecast is not None  # the other worker sees it
            two.forecast(JUAI, datetime.now(UTC))
            assert two.forecast("63.11.02.2001", datetime.now(UTC)).forecast is None  # budget of 2 spent
            assert len(bmkg.requests) == 2
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)


# --- the page and the API --------------------------------------------------------------------


def test_the_weather_page_shows_today_and_the_next_days_and_credits_bmkg(tmp_path: Path) -> None:
    with FakeBMKG() as bmkg, app_on(tmp_path, BMKG_FORECAST_URL=bmkg.url, BMKG_TIMEOUT=3.0) as app:
        client = app.test_client()
        page = client.get(f"/cuaca?desa={HALONG}").get_data(as_text=True)
        assert "Prakiraan cuaca" in page and "Halong" in page
        assert "Hari ini" in page and "Besok" in page
        assert "Sumber data:" in page and "BMKG" in page
        assert "Hujan" in page or "Berawan" in page or "Cerah" in page
        client.get(f"/cuaca?desa={HALONG}")
        assert bmkg.requests == [HALONG]  # the second view came from the cache


def test_the_weather_page_lists_kecamatan_then_desa_without_javascript(client: Any) -> None:
    home = client.get("/cuaca").get_data(as_text=True)
    # no script but the installable app's service-worker registration, present on every public page
    scripts = re.findall(r"<script[^>]*>", home)
    assert 'href="/cuaca?kecamatan=63.11.02"' in home and len(scripts) == 1 and 'data-sw="/sw.js"' in scripts[0]
    halong = client.get("/cuaca?kecamatan=63.11.02").get_data(as_text=True)
    assert f'href="/cuaca?desa={HALONG}"' in halong
    assert client.get("/cuaca?desa=63.11.99.9999").status_code == 404
    assert client.get("/cuaca?kecamatan=xx").status_code == 404


def test_bmkg_down_and_nothing_cached_shows_an_honest_message(client: Any) -> None:
    answer = client.get(f"/cuaca?desa={HALONG}")  # the test settings point at a closed port
    assert answer.status_code == 200
    assert "Data cuaca belum tersedia" in answer.get_data(as_text=True)


def test_the_weather_api_answers_json_and_refuses_bad_codes(tmp_path: Path) -> None:
    with FakeBMKG() as bmkg, app_on(tmp_path, BMKG_FORECAST_URL=bmkg.url, BMKG_TIMEOUT=3.0) as app:
        client = app.test_client()
        answer = client.get(f"/api/v1/weather?adm4={HALONG}")
        assert answer.status_code == 200
        body = answer.get_json()
        assert body["available"] is True and body["desa"] == "Halong" and "BMKG" in body["source"]
        assert body["days"][0]["slots"][0]["desc"]
        assert client.get("/api/v1/weather?adm4=6311022005").status_code == 400
        assert client.get("/api/v1/weather").get_json()["error"]["code"] == "invalid_adm4"
        unknown = client.get("/api/v1/weather?adm4=31.71.03.1001")
        assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_desa"
        assert len(bmkg.requests) == 1  # bad codes never reach BMKG
        spec = client.get("/api/v1/openapi.json").get_json()
        assert "/api/v1/weather" in spec["paths"]


def test_the_weather_api_says_not_available_when_bmkg_is_down(client: Any) -> None:
    body = client.get(f"/api/v1/weather?adm4={HALONG}").get_json()
    assert body["available"] is False and body["days"] == []


def test_two_app_processes_share_one_cache_and_ask_bmkg_once(tmp_path: Path) -> None:
    """Two real server processes on one database: a burst on both asks BMKG once, both show it."""
    import json
    import os
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.conftest import ON_POSTGRES

    url = os.environ["TEST_DATABASE_URL"] if ON_POSTGRES else f"sqlite:///{tmp_path / 'shared.db'}"
    with FakeBMKG(delay=0.5) as bmkg, app_on(tmp_path, SQLALCHEMY_DATABASE_URI=url):
        settings = {"SQLALCHEMY_DATABASE_URI": url, "BMKG_FORECAST_URL": bmkg.url, "BMKG_TIMEOUT": 3.0}
        env = {**os.environ, "SERVE_APP_SETTINGS": json.dumps(settings)}
        script = Path(__file__).resolve().parent / "serve_app.py"
        servers = [
            subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        try:
            ports = [int(p.stdout.readline()) for p in servers if p.stdout is not None]
            assert len(ports) == 2 and ports[0] != ports[1]
            targets = [f"http://127.0.0.1:{port}/api/v1/weather?adm4={HALONG}" for port in ports] * 4
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda target: httpx.get(target, timeout=10).json(), targets))
            assert bmkg.requests == [HALONG]  # one fetch for the whole burst, across both processes
            # the process that lost the lease served the cache once the winner had stored it
            again = [httpx.get(target, timeout=10).json() for target in targets[:2]]
            assert all(a["available"] for a in again) and again[0]["days"] == again[1]["days"]
            assert any(a["available"] for a in answers)
            assert bmkg.requests == [HALONG]
        finally:
            for process in servers:
                process.terminate()
                process.wait(10)
                if process.stdout is not None:
                    process.stdout.close()


def test_the_weather_page_speaks_english_too(tmp_path: Path) -> None:
    with FakeBMKG() as bmkg, app_on(tmp_path, BMKG_FORECAST_URL=bmkg.url, BMKG_TIMEOUT=3.0) as app:
        client = app.test_client()
        client.set_cookie("lang", "en")
        page = client.get(f"/cuaca?desa={HALONG}").get_data(as_text=True)
        assert "Weather forecast" in page and "Today, " in page and "Tomorrow, " in page and "Source:" in page
        assert "Hari ini" not in page and "Humidity" in page and "Wind" in page
        assert any(word in page for word in ("Sunny", "Partly Cloudy", "Mostly Cloudy", "Light Rain"))
        home = client.get("/").get_data(as_text=True)
        assert ">Weather<" in home and "Social services without going to the office" in home
