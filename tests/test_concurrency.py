"""Two people completing one task at once: exactly one wins, the others get 409, nothing doubles.

Runs on a SQLite file, and on PostgreSQL when TEST_DATABASE_URL points there (.ci/run does).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.models import CaseEvent, HumanTask
from tests.conftest import ON_POSTGRES, PASSWORD, app_on
from web.demo import SAMPLE_DATA, sample_application
from web.extensions import db

THREADS = 4


@pytest.fixture
def real_app(tmp_path: Path) -> Iterator[Flask]:
    overrides = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'race.db'}"}
    with app_on(tmp_path, **overrides) as app:
        yield app


def _token(client: Any, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _race(app: Flask, url: str, body: dict[str, Any] | None, headers: list[dict[str, str]]) -> list[int]:
    barrier = threading.Barrier(len(headers))
    results: list[int] = []
    lock = threading.Lock()

    def worker(h: dict[str, str]) -> None:
        client = app.test_client()
        barrier.wait()
        answer = client.post(url, json=body, headers=h)
        with lock:
            results.append(answer.status_code)

    threads = [threading.Thread(target=worker, args=(h,)) for h in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)


def _first_task(app: Flask, client: Any) -> str:
    reference = client.post("/api/v1/applications", json=sample_application(0)).get_json()["reference"]
    listing = client.get("/api/v1/tasks", query_string={"q": reference}, headers=_token(client, "operator"))
    return listing.get_json()["items"][0]["id"]


def test_concurrent_completions_of_one_task_one_wins(real_app: Flask) -> None:
    client = real_app.test_client()
    task_id = _first_task(real_app, client)
    headers = [_token(client, "operator") for _ in range(THREADS)]
    results = _race(real_app, f"/api/v1/tasks/{task_id}/complete", {"data": SAMPLE_DATA["verifikasi"]}, headers)
    assert results == [200] + [409] * (THREADS - 1)
    with real_app.app_context():
        completed = db.session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "task_completed")
        )
        visits = db.session.scalar(
            select(func.count()).select_from(HumanTask).where(HumanTask.spec_name == "kunjungan")
        )
    assert (completed, visits) == (1, 1)


def test_concurrent_claims_of_one_task_one_wins(real_app: Flask) -> None:
    from web.auth import create_user

    with real_app.app_context():
        for index in range(THREADS):
            create_user(f"op{index}", "kata-sandi-op", f"Operator {index}", ["operator"])
        db.session.commit()
    client = real_app.test_client()
    task_id = _first_task(real_app, client)
    headers = []
    for index in range(THREADS):
        answer = client.post("/api/v1/auth/token", json={"username": f"op{index}", "password": "kata-sandi-op"})
        headers.append({"Authorization": f"Bearer {answer.get_json()['token']}"})
    results = _race(real_app, f"/api/v1/tasks/{task_id}/claim", None, headers)
    assert results == [200] + [409] * (THREADS - 1)
    with real_app.app_context():
        claims = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "task_claimed"))
    assert claims == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks are PostgreSQL's (SQLite has one writer)")
def test_completions_of_different_cases_do_not_wait_for_each_other(real_app: Flask) -> None:
    """The task's row lock covers its task and case, not the procedure version all cases share."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from engine.audit import Actor
    from engine.cases import complete_task, open_tasks

    client = real_app.test_client()
    first, second = _first_task(real_app, client), _first_task(real_app, client)
    operator, now = Actor("operator", ("operator",)), datetime.now(UTC)
    with real_app.app_context():
        holding = Session(bind=db.engine)
        try:
            complete_task(holding, first, operator, SAMPLE_DATA["verifikasi"], now)  # locks held, not committed
            db.session.execute(text("SET LOCAL lock_timeout = '3s'"))
            complete_task(db.session, second, operator, SAMPLE_DATA["verifikasi"], now)
            db.session.commit()
        finally:
            holding.rollback()
            holding.close()
        case_id = db.session.scalar(select(HumanTask.case_id).where(HumanTask.id == second))
        assert [spec for _, _, spec in open_tasks(db.session, case_id)] == ["kunjungan"]
