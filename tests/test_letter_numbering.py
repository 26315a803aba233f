"""Fifty letters issued at the same moment get the numbers 1…50: no gap, no duplicate.

Each request completes its own case's verification with a rejection, which issues the notice in
the same transaction. A request that meets a busy database is answered 409 or 503 and retried,
as a user would; a rolled-back attempt must not leave a gap. Runs on a SQLite file, and on PostgreSQL
when TEST_DATABASE_URL points there (.ci/run does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from engine.models import Counter, Letter
from tests.conftest import ON_POSTGRES, PASSWORD, app_on
from web.demo import sample_application
from web.extensions import db

ISSUES = 50
REJECTION = {"status_dtsen": "terdaftar", "decision": "ditolak", "kategori_penolakan": "lainnya", "alasan": "Uji serentak"}


@pytest.fixture
def real_app(tmp_path: Path) -> Iterator[Flask]:
    overrides = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'letters.db'}"}
    with app_on(tmp_path, **overrides) as app:
        yield app


def test_fifty_concurrent_issues_are_numbered_without_gaps_or_duplicates(real_app: Flask) -> None:
    client = real_app.test_client()
    answer = client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    task_ids = []
    for index in range(ISSUES):
        reference = client.post("/api/v1/applications", json=sample_application(index)).get_json()["reference"]
        listing = client.get("/api/v1/tasks", query_string={"q": reference}, headers=headers).get_json()
        task_ids.append(listing["items"][0]["id"])
    barrier = threading.Barrier(ISSUES)
    outcomes: list[tuple[int, int]] = []
    lock = threading.Lock()

    def issue(task_id: str) -> None:
        worker = real_app.test_client()
        barrier.wait()
        for attempt in range(1, 401):
            status = worker.post(f"/api/v1/tasks/{task_id}/complete", json={"data": REJECTION}, headers=headers).status_code
            if status not in (409, 503):  # busy (409) or locked past the busy timeout (503)
                break
            time.sleep(min(0.05 * attempt, 0.5))  # busy: try again, as the clerk would
        with lock:
            outcomes.append((status, attempt))

    threads = [threading.Thread(target=issue, args=(task_id,)) for task_id in task_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert sorted(status for status, _ in outcomes) == [200] * ISSUES, outcomes
    with real_app.app_context():
        letters = db.session.execute(select(Letter.seq, Letter.number, Letter.case_id, Letter.sha256)).all()
        counters = db.session.scalars(select(Counter.value).where(Counter.name.like("letter:pemberitahuan:%"))).all()
    assert sorted(seq for seq, *_ in letters) == list(range(1, ISSUES + 1))
    assert len({number for _, number, *_ in letters}) == ISSUES
    assert len({case_id for _, _, case_id, _ in letters}) == ISSUES  # one notice per case
    assert len({digest for *_, digest in letters}) == ISSUES
    assert counters == [ISSUES]
    retried = sum(1 for _, attempts in outcomes if attempts > 1)
    print(f"{ISSUES} concurrent issues, {retried} retried after a busy database")
