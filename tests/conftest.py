"""Shared fixtures: an app on a fresh database (SQLite in memory, or TEST_DATABASE_URL), with
the bundled procedures deployed and one user per demo login."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from config import BASE_DIR, TestConfig
from engine.audit import Actor
from engine.definitions import deploy_directory
from engine.models import User
from web import create_app
from web.auth import actor_for, hash_password
from web.demo import DEMO_USERS
from web.extensions import db
from web.letters import letter_service

PASSWORD = "rahasia-uji-123"
_HASH: dict[str, str] = {}
ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


# PostgreSQL connections that were garbage-collected without being closed, by the test that
# opened them (psycopg reports such a connection at whatever test runs when it is collected; seen
# once in CI and not reproduced in two full PostgreSQL runs since, so the next sighting names its
# origin in the run's summary). sqlite3 connections cannot be weakly referenced and are not tracked.
_RUNNING = ["(collection)"]
_UNCLOSED: dict[int, str] = {}
_COLLECTED_UNCLOSED: list[str] = []
_REFERENCES: set[weakref.ref] = set()


def _track_connection(dbapi_connection: Any, _record: Any) -> None:
    if "psycopg" not in type(dbapi_connection).__module__:
        return
    key, opened_in = id(dbapi_connection), _RUNNING[0]
    _UNCLOSED[key] = opened_in

    def collected(reference: weakref.ref) -> None:
        _REFERENCES.discard(reference)
        if _UNCLOSED.pop(key, None) is not None:
            _COLLECTED_UNCLOSED.append(f"opened in {opened_in}, collected during {_RUNNING[0]}")

    _REFERENCES.add(weakref.ref(dbapi_connection, collected))


def _forget_connection(dbapi_connection: Any, _record: Any) -> None:
    _UNCLOSED.pop(id(dbapi_connection), None)


if ON_POSTGRES:
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    event.listen(Pool, "connect", _track_connection)
    event.listen(Pool, "close", _forget_connection)
    event.listen(Pool, "close_detached", _forget_connection)


def pytest_runtest_setup(item: pytest.Item) -> None:
    _RUNNING[0] = item.nodeid


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _COLLECTED_UNCLOSED:
        terminalreporter.section("PostgreSQL connections collected unclosed")
        for line in _COLLECTED_UNCLOSED:
            terminalreporter.write_line(line)


_SIGNING: dict[str, Path] = {}


def signing_files() -> dict[str, Path]:
    """One demo signing certificate and key for the whole test run (made on first use)."""
    if not _SIGNING:
        import tempfile

        from letters.signing import create_demo_key_pair

        folder = Path(tempfile.mkdtemp(prefix="sibalang-signing-"))
        cert, key = folder / "certificate.pem", folder / "private-key.pem"
        create_demo_key_pair(cert, key, "Dinas Sosial Kabupaten Balangan", datetime.now(UTC))
        _SIGNING.update(SIGNING_CERT_FILE=cert, SIGNING_KEY_FILE=key)
    return dict(_SIGNING)


def make_config(tmp_path: Path, **overrides: Any) -> type:
    attrs = {"DOCUMENT_DIR": tmp_path / "documents", **signing_files(), **overrides}
    return type("Cfg", (TestConfig,), attrs)


def reset_schema() -> None:
    if ON_POSTGRES:
        db.drop_all()
    db.create_all()


def seed(app: Flask) -> None:
    """Deploy the bundled procedures and create the demo users (one argon2 hash for all)."""
    if "hash" not in _HASH:
        _HASH["hash"] = hash_password(PASSWORD)
    deploy_directory(db.session, BASE_DIR / "bpmn", Actor("setup", ("admin",)), datetime.now(UTC))
    for username, full_name, roles, bidang in DEMO_USERS:
        db.session.add(
            User(
                username=username,
                full_name=full_name,
                password_hash=_HASH["hash"],
                roles=roles,
                bidang=bidang,
                active=True,
                created_at=datetime.now(UTC),
            )
        )
    db.session.commit()


@contextlib.contextmanager
def app_on(tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """An app on a fresh schema, seeded; dropped and disposed afterwards."""
    app = create_app(make_config(tmp_path, **overrides))
    with app.app_context():
        reset_schema()
        seed(app)
    try:
        yield app
    finally:
        from web.weather import drain

        drain()  # background weather refreshes use the engine too
        with app.app_context():
            db.session.remove()
            if ON_POSTGRES:
                db.drop_all()
            engine = db.engine
        engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_on(tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def actor() -> Any:
    """actor("operator") → the engine Actor of that demo user."""

    def make(username: str) -> Actor:
        user = db.session.scalars(select(User).where(User.username == username)).one()
        return actor_for(user)

    return make


@pytest.fixture
def token(client: Any) -> Any:
    """token("operator") → headers with a bearer token for that demo user."""
    cache: dict[str, dict[str, str]] = {}

    def make(username: str) -> dict[str, str]:
        if username not in cache:
            answer = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert answer.status_code == 200, answer.get_json()
            cache[username] = {"Authorization": f"Bearer {answer.get_json()['token']}"}
        return cache[username]

    return make


T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> Any:
    """A movable clock for engine tests: clock.now, clock.advance(days=...)."""

    class Clock:
        def __init__(self) -> None:
            self.now = T0

        def advance(self, **delta: float) -> datetime:
            self.now += timedelta(**delta)
            return self.now

    return Clock()


class CaseDriver:
    """Walks one case through its procedure via the engine, as the staff would.

    After every step it commits, then checks that the stored state survives a
    serialization round trip unchanged and that the audit chain is intact.
    """

    def __init__(self, actor: Any, clock: Any) -> None:
        self.actor, self.clock = actor, clock
        self.case: Any = None
        self.tracking_code = ""

    def apply(self, index: int = 0, **changes: Any) -> CaseDriver:
        from engine import intake
        from web.demo import sample_application

        payload = sample_application(index)
        payload.update(changes)
        data = intake.ApplicationSchema().load(payload)
        self.case, self.tracking_code, _ = intake.submit_application(
            db.session, data, self.actor("front_office"), self.clock.now, "P14D"
        )
        return self._commit()

    def complain(self, **changes: Any) -> CaseDriver:
        from engine import intake

        payload = {
            "category": "bansos_tidak_tepat_sasaran",
            "description": "Bantuan diterima keluarga mampu di desa kami.",
            "phone": "081234567890",
            "village_code": "63.11.06.1019",
        }
        payload.update(changes)
        self.case, self.tracking_code = intake.submit_complaint(
            db.session, intake.ComplaintSchema().load(payload), self.actor("operator"), self.clock.now
        )
        return self._commit()

    def open_tasks(self) -> list[Any]:
        from engine.models import HumanTask

        return list(
            db.session.scalars(
                select(HumanTask).where(HumanTask.case_id == self.case.id, HumanTask.state.in_(("ready", "claimed")))
            )
        )

    def step_names(self) -> list[str]:
        return sorted(t.spec_name for t in self.open_tasks())

    def do(self, name: str, user: str | None = None, **data: Any) -> CaseDriver:
        from engine.cases import complete_task
        from web.demo import SAMPLE_DATA

        tasks = [t for t in self.open_tasks() if t.spec_name == name]
        assert tasks, f"{name} is not open; open: {self.step_names()}"
        task = tasks[0]
        username = user or (f"kabid_{task.bidang}" if task.role == "kabid" else task.role)
        submission = {**SAMPLE_DATA[name], **data}
        submission = {k: v for k, v in submission.items() if v is not None}
        self.clock.advance(hours=1)
        complete_task(db.session, task.id, self.actor(username), submission, self.clock.now, letters=letter_service())
        return self._commit()

    def resubmit(self) -> CaseDriver:
        from engine.audit import APPLICANT
        from engine.cases import deliver_message

        self.clock.advance(hours=1)
        deliver_message(
            db.session, self.case, "pengajuan_ulang", {"note": "sudah dilengkapi"}, APPLICANT, self.clock.now
        )
        return self._commit()

    def wait(self, **delta: float) -> list[str]:
        from engine.audit import SYSTEM
        from engine.timers import due_timer_case_ids, fire_due_timers

        self.clock.advance(**delta)
        fired: list[str] = []
        for case_id in due_timer_case_ids(db.session, self.clock.now):
            fired += fire_due_timers(db.session, case_id, SYSTEM, self.clock.now)
        self._commit()
        return fired

    def _commit(self) -> CaseDriver:
        from engine.audit import verify_chain
        from engine.cases import restore_workflow
        from engine.serialization import dump_instance, state_dict

        db.session.commit()
        db.session.refresh(self.case)
        _, workflow = restore_workflow(self.case)
        again = dump_instance(workflow)
        assert state_dict(again) == state_dict(self.case.state)
        assert verify_chain(db.session, self.case) == []
        return self

    @property
    def status(self) -> str:
        return self.case.status


@pytest.fixture
def driver(ctx: None, actor: Any, clock: Any) -> Any:
    return lambda: CaseDriver(actor, clock)
