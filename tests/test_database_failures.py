"""A slow, locked or vanished database: a JSON 503 within the configured timeouts, never a hang,
an HTML 500, or a 409 that blames a colleague. Runs on a SQLite file, and on PostgreSQL when
TEST_DATABASE_URL points there; the blackholed server is a local socket that never answers."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from tests.conftest import ON_POSTGRES, PASSWORD, app_on
from tests.test_unit_of_work import _kill_on
from web import create_app
from web.demo import sample_application
from web.extensions import db

API = "/api/v1"
LOCK_TIMEOUT_MS = 400


@pytest.fixture
def real_app(tmp_path: Path) -> Iterator[Flask]:
    overrides: dict[str, Any] = {"DB_LOCK_TIMEOUT_MS": LOCK_TIMEOUT_MS}
    if not ON_POSTGRES:
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'failures.db'}"
    with app_on(tmp_path, **overrides) as app:
        yield app


def _answer_within(seconds: float, call: Any) -> Any:
    """``call()``'s result, or fail if it has not come back after ``seconds`` (a hang)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"no answer within {seconds} s"
    return result[0]


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_database_that_accepts_but_never_answers_gets_a_json_503_within_the_connect_timeout(
    tmp_path: Path, blackhole: int
) -> None:
    from tests.conftest import make_config

    url = f"postgresql+psycopg://sibalang@127.0.0.1:{blackhole}/sibalang"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url, DB_CONNECT_TIMEOUT=1))
    client = app.test_client()
    answer = _answer_within(10, lambda: client.post(f"{API}/applications", json=sample_application(0)))
    assert answer.status_code == 503 and answer.is_json
    assert answer.get_json()["error"]["code"] == "database_unavailable"
    assert answer.headers["Retry-After"]
    page = _answer_within(10, lambda: client.get("/track/RJK-2026-000001"))
    assert page.status_code in (404, 503) and not page.is_json  # a page, not a stack trace


def test_a_row_lock_held_elsewhere_answers_503_busy_within_the_lock_timeout(real_app: Flask) -> None:
    client = real_app.test_client()
    reference = client.post(f"{API}/applications", json=sample_application(0)).get_json()["reference"]
    token = client.post(f"{API}/auth/token", json={"username": "operator", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    task_id = client.get(f"{API}/tasks", query_string={"q": reference}, headers=headers).get_json()["items"][0]["id"]
    with real_app.app_context():
        url = db.engine.url
        holder = _hold_case_lock(url, reference)
    try:
        answer = _answer_within(10, lambda: client.post(f"{API}/tasks/{task_id}/claim", headers=headers))
    finally:
        holder()
    assert answer.status_code == 503, answer.get_json()
    assert answer.get_json()["error"]["code"] == "database_busy"
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=headers).status_code == 200  # once it is free


def _hold_case_lock(url: Any, reference: str) -> Any:
    """Lock the case's row (PostgreSQL) or the whole database (SQLite) from another connection."""
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        return lambda: (other.execute("ROLLBACK"), other.close())
    from sqlalchemy import create_engine

    engine = create_engine(url)
    conn = engine.connect()
    conn.execute(text("SELECT id FROM case_file WHERE reference = :r FOR UPDATE"), {"r": reference})
    return lambda: (conn.rollback(), conn.close(), engine.dispose())


def test_a_connection_lost_mid_statement_is_503_not_a_conflict(real_app: Flask) -> None:
    """The failing statement is the token lookup: a lost connection is 503, decided by type, not by text."""
    client = real_app.test_client()
    token = client.post(f"{API}/auth/token", json={"username": "operator", "password": PASSWORD}).get_json()["token"]
    disarm = _kill_on(real_app, "before_cursor_execute")
    answer = client.get(f"{API}/tasks", headers={"Authorization": f"Bearer {token}"})
    disarm()
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "database_unavailable"


def test_every_pooled_connection_busy_answers_503_not_500(tmp_path: Path) -> None:
    """Fifty clerks at once on a small pool: the ones who wait too long are told to retry."""
    database = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pool.db'}"}
    options = {"poolclass": QueuePool, "pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    with app_on(tmp_path, SQLALCHEMY_ENGINE_OPTIONS=options, **database) as app:
        client = app.test_client()
        with app.app_context():
            held = db.engine.connect()  # the pool's only connection, held by "another request"
            try:
                answer = client.post(f"{API}/applications", json=sample_application(0))
            finally:
                held.close()
            assert client.post(f"{API}/applications", json=sample_application(0)).status_code == 201
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "database_busy" and answer.headers["Retry-After"]
