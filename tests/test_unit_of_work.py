"""One unit of work per request: one commit after the view, nothing kept when it fails, JSON on
API routes even when the database connection dies while the request is being committed or
rolled back. Runs on a SQLite file, and on PostgreSQL when TEST_DATABASE_URL points there."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from engine.inbox import log_access
from engine.models import AccessLog, Case, HumanTask
from tests.conftest import ON_POSTGRES, PASSWORD, app_on
from tests.test_staff_pages import login
from web.demo import sample_application
from web.errors import ApiError
from web.extensions import db

API = "/api/v1"


@pytest.fixture
def real_app(tmp_path: Path) -> Iterator[Flask]:
    overrides = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'uow.db'}"}
    with app_on(tmp_path, **overrides) as app:
        yield app


def _token(client: Any, username: str) -> dict[str, str]:
    answer = client.post(f"{API}/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _new_case(client: Any) -> tuple[str, str, dict[str, str]]:
    reference = client.post(f"{API}/applications", json=sample_application(0)).get_json()["reference"]
    headers = _token(client, "operator")
    task_id = client.get(f"{API}/tasks", query_string={"q": reference}, headers=headers).get_json()["items"][0]["id"]
    return reference, task_id, headers


class Commits:
    """Counts the database commits the app's engine makes."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        with app.app_context():
            event.listen(db.engine, "commit", self._seen)

    def _seen(self, _connection: Any) -> None:
        self.count += 1


def _kill_on(app: Flask, moment: str) -> Callable[[], None]:
    """At the next ``moment`` ("commit" or "rollback") of a connection, cut that connection off
    from the database, as a restarted server or a dropped network would. Returns a disarm."""
    armed = [True]
    with app.app_context():
        engine = db.engine

    def kill(connection: Any, *_: Any) -> None:
        if not armed[0]:
            return
        armed[0] = False
        dbapi_connection = connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite":
            dbapi_connection.close()
        else:
            with engine.connect() as other:
                other.execute(
                    text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dbapi_connection.info.backend_pid}
                )

    event.listen(engine, moment, kill)
    return lambda: event.remove(engine, moment, kill)


def test_a_case_page_commits_once_with_its_access_log(real_app: Flask) -> None:
    client = real_app.test_client()
    reference, _task_id, headers = _new_case(client)
    commits = Commits(real_app)
    assert client.get(f"{API}/cases/{reference}", headers=headers).status_code == 200
    assert commits.count == 1
    assert _count(real_app, AccessLog, AccessLog.action == "view") == 1

    assert login(client, "operator").location == "/inbox"
    commits.count = 0
    assert client.get(f"/cases/{reference}").status_code == 200
    assert commits.count == 1  # the access log row goes with the page, not in the middle of it
    assert _count(real_app, AccessLog, AccessLog.action == "view") == 2


def test_a_view_that_fails_after_writing_keeps_nothing(real_app: Flask) -> None:
    def write_then_refuse(reference: str) -> Any:
        from web.auth import current_actor

        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        log_access(db.session, case, current_actor(), "view", case.created_at)
        db.session.flush()
        raise ApiError(422, "invalid_data", "refused after writing")

    real_app.add_url_rule(f"{API}/test/<reference>/write-then-refuse", view_func=write_then_refuse)
    client = real_app.test_client()
    reference, _task_id, headers = _new_case(client)
    answer = client.get(f"{API}/test/{reference}/write-then-refuse", headers=headers)
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_data"
    assert _count(real_app, AccessLog) == 0


def test_a_connection_lost_while_committing_answers_json_503_and_keeps_nothing(real_app: Flask) -> None:
    client = real_app.test_client()
    _reference, task_id, headers = _new_case(client)
    disarm = _kill_on(real_app, "commit")
    answer = client.post(f"{API}/tasks/{task_id}/claim", headers=headers)
    disarm()
    assert answer.status_code == 503, answer.data
    assert answer.get_json()["error"]["code"] == "database_unavailable"
    assert _count(real_app, HumanTask, HumanTask.id == task_id, HumanTask.claimed_by.is_(None)) == 1

    # the pool hands out a working connection to the next request
    again = client.post(f"{API}/tasks/{task_id}/claim", headers=headers)
    assert again.status_code == 200 and again.get_json()["claimed_by"] == "operator"


def test_a_connection_lost_while_rolling_back_still_answers_the_error_as_json(real_app: Flask) -> None:
    client = real_app.test_client()
    _reference, task_id, headers = _new_case(client)
    disarm = _kill_on(real_app, "rollback")
    answer = client.post(f"{API}/tasks/00000000-0000-0000-0000-000000000000/claim", headers=headers)
    disarm()
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=headers).status_code == 200


def test_the_same_application_sent_at_once_with_one_idempotency_key_makes_one_case(real_app: Flask) -> None:
    barrier = threading.Barrier(4)
    answers: list[Any] = []
    lock = threading.Lock()

    def send() -> None:
        client = real_app.test_client()
        barrier.wait()
        answer = client.post(f"{API}/applications", json=sample_application(0), headers={"Idempotency-Key": "k-1"})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    created = [a.get_json() for a in answers if a.status_code == 201]
    assert created and all(a.status_code in (201, 409, 503) for a in answers), [a.status_code for a in answers]
    assert all(a.get_json()["error"]["code"] in ("conflict", "database_busy") for a in answers if a.status_code != 201)
    assert len({c["reference"] for c in created}) == 1
    assert _count(real_app, Case) == 1
    if ON_POSTGRES:  # row locks make the losers wait and answer as the winner did
        assert len(created) == 4


def test_a_cli_command_is_one_unit_of_work(real_app: Flask) -> None:
    import click

    from engine.models import User
    from web.auth import create_user
    from web.unit_of_work import CommandGroup

    group = CommandGroup("probe")

    @group.command("write-then-fail")
    def write_then_fail() -> None:
        create_user("petugas3", "rahasia-uji-456", "Petugas Tiga", ["operator"])
        db.session.flush()
        raise click.ClickException("refused after writing")

    real_app.cli.add_command(group)
    runner = real_app.test_cli_runner()
    made = runner.invoke(args=["users", "create", "petugas2", "--role", "operator", "--password", "rahasia-uji-456"])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(args=["probe", "write-then-fail"])
    assert refused.exit_code == 1 and "refused after writing" in refused.output
    assert _count(real_app, User, User.username == "petugas2") == 1
    assert _count(real_app, User, User.username == "petugas3") == 0
