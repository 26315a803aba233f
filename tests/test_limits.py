"""Rate limits (web/limits.py, Flask-Limiter): 429 with Retry-After, shared Redis storage, ProxyFix."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import PASSWORD, app_on, make_config
from tests.test_staff_pages import csrf
from web import create_app
from web.demo import sample_application
from web.extensions import db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def _redis_or_skip() -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (.ci/run starts one)")


@contextlib.contextmanager
def bare_app(tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """An app whose requests below never reach the database (bad input answered before it)."""
    app = create_app(make_config(tmp_path, **{**LIMITED, **overrides}))
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def weather(client: Any, **environ: str) -> int:
    # a malformed desa code: 400 from the view, after the limiter counted the request
    answer = client.get("/api/v1/weather", query_string={"adm4": "x"}, environ_base=environ)
    return int(answer.status_code)


def test_public_pages_and_api_answer_429_with_retry_after(tmp_path: Path) -> None:
    limits = {"RATELIMIT_VERIFY": "3/minute", "RATELIMIT_SUBMIT": "1/minute"}
    with app_on(tmp_path, **LIMITED, **limits) as app:
        client = app.test_client()
        assert [client.get("/verify/ABCDEFG").status_code for _ in range(3)] == [404, 404, 404]
        page = client.get("/verify/ABCDEFG")
        assert page.status_code == 429 and page.mimetype == "text/html"
        assert "Terlalu banyak permintaan" in page.get_data(as_text=True)
        assert 1 <= int(page.headers["Retry-After"]) <= 60
        # the API's verification shares the counter (scope "verify") and answers JSON
        api = client.get("/api/v1/letters/verify/ABCDEFG")
        assert api.status_code == 429 and api.get_json()["error"]["code"] == "rate_limited"
        assert 1 <= int(api.headers["Retry-After"]) <= 60
        # another client is not affected; a blank form is never limited
        assert client.get("/verify/ABCDEFG", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404
        assert [client.get("/apply").status_code for _ in range(3)] == [200, 200, 200]
        # applications: their own limit, per view
        assert client.post("/api/v1/applications", json=sample_application(0)).status_code == 201
        second = client.post("/api/v1/applications", json=sample_application(1))
        assert second.status_code == 429 and second.get_json()["error"]["message"].startswith("Terlalu banyak")


def test_tracking_code_guesses_share_one_counter_across_pages_and_api(tmp_path: Path) -> None:
    with app_on(tmp_path, **LIMITED, RATELIMIT_TRACK="4/minute") as app:
        client = app.test_client()
        guess = {"reference": "PM-2026-000001", "tracking_code": "AAAA-BBBB"}
        assert client.post("/track", data=guess).status_code != 429
        assert client.get("/api/v1/applications/PM-2026-000001", headers={"X-Tracking-Code": "X"}).status_code != 429
        assert client.post("/track", data=guess).status_code != 429
        assert client.get("/api/v1/complaints/AD-2026-000001").status_code != 429
        assert client.post("/track", data=guess).status_code == 429
        assert client.get("/api/v1/applications/PM-2026-000001").status_code == 429


def test_forty_wrong_passwords_on_the_token_endpoint_are_throttled(tmp_path: Path) -> None:
    """Probe reproduction (issue 10, item 5): 40 wrong passwords in 15 s on /auth/token."""
    with app_on(tmp_path, **LIMITED, RATELIMIT_LOGIN="10/minute") as app:
        client = app.test_client()
        statuses = [
            client.post("/api/v1/auth/token", json={"username": "admin", "password": f"salah-{i}"}).status_code
            for i in range(40)
        ]
        assert 429 in statuses and statuses.count(401) <= 10
        assert statuses[-1] == 429
        # the right password from the same client is refused as well while the limit holds
        right = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        assert right.status_code == 429 and "token" not in right.get_json()
        # the login page shares the counter: only its POST counts, and it answers a page
        page = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf(client)})
        assert page.status_code == 429 and "Terlalu banyak permintaan" in page.get_data(as_text=True)


def test_two_apps_on_the_same_redis_count_together(tmp_path: Path) -> None:
    _redis_or_skip()
    shared = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",  # this test's own counters
        "RATELIMIT_WEATHER": "3/minute",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,  # a Redis failure must fail this test
    }
    with bare_app(tmp_path / "a", **shared) as one, bare_app(tmp_path / "b", **shared) as two:
        first, second = one.test_client(), two.test_client()
        assert [weather(first), weather(second), weather(first)] == [400, 400, 400]
        assert weather(second) == 429 and weather(first) == 429


def test_two_apps_on_memory_storage_count_apart(tmp_path: Path) -> None:
    """The control of the Redis test: per-process storage is not shared."""
    with (
        bare_app(tmp_path / "a", RATELIMIT_WEATHER="2/minute") as one,
        bare_app(tmp_path / "b", RATELIMIT_WEATHER="2/minute") as two,
    ):
        first, second = one.test_client(), two.test_client()
        assert [weather(first), weather(first), weather(first)] == [400, 400, 429]
        assert [weather(second), weather(second)] == [400, 400]


def test_an_unreachable_redis_falls_back_to_memory_not_to_errors(tmp_path: Path) -> None:
    with bare_app(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0", RATELIMIT_WEATHER="2/minute") as app:
        client = app.test_client()
        assert [weather(client), weather(client), weather(client)] == [400, 400, 429]


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(tmp_path: Path) -> None:
    spoofed = [{"HTTP_X_FORWARDED_FOR": f"203.0.113.{i}"} for i in range(4)]
    with bare_app(tmp_path / "direct", RATELIMIT_WEATHER="2/minute") as app:
        client = app.test_client()
        # TRUSTED_PROXIES=0: a client changing X-Forwarded-For is still the same client
        assert [weather(client, **env) for env in spoofed[:3]] == [400, 400, 429]
    with bare_app(tmp_path / "proxied", RATELIMIT_WEATHER="2/minute", TRUSTED_PROXIES=1) as app:
        client = app.test_client()
        # behind one proxy (every request from its address): the forwarded client is counted
        assert [weather(client, **env) for env in spoofed] == [400, 400, 400, 400]
        same = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
        assert [weather(client, **same) for _ in range(3)] == [400, 400, 429]
        # only the address the trusted proxy appended counts, not what the client put before it
        chained = [{"HTTP_X_FORWARDED_FOR": f"10.9.9.{i}, 198.51.100.7"} for i in range(2)]
        assert [weather(client, **env) for env in chained] == [429, 429]


def test_trusted_proxies_must_be_a_count(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        create_app(make_config(tmp_path, TRUSTED_PROXIES=-1))


def test_the_lost_code_page_shares_the_tracking_limit(tmp_path: Path) -> None:
    """Guessing NIK + phone on /kode-hilang counts with every other try of a tracking code."""
    with app_on(tmp_path, **LIMITED, RATELIMIT_TRACK="3/minute") as app:
        client = app.test_client()
        asked = {"nik": "6311065403520001", "phone": "081234567800"}
        answers = [client.post("/kode-hilang", data=asked).status_code for _ in range(2)]
        assert all(status in (302, 303) for status in answers), answers
        assert client.post("/track", data={"reference": "RJK-2026-000001", "tracking_code": "SALAH123"}).status_code != 429
        refused = client.post("/kode-hilang", data=asked)
        assert refused.status_code == 429 and refused.mimetype == "text/html"
        assert int(refused.headers["Retry-After"]) >= 1
        other = app.test_client()  # another address is not held back
        assert other.post("/kode-hilang", data=asked, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code in (302, 303)
