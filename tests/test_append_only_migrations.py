"""The append-only triggers survive the migrations: up, down below them, up again, and a later
migration that rebuilds a guarded table (SQLite's batch mode copies a table without its triggers).

Each test runs on a SQLite file and, when ``TEST_DATABASE_URL`` names a PostgreSQL server, on a
database of its own created there for the test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from config import BASE_DIR
from engine import intake
from engine.append_only import APPEND_ONLY_TABLES, missing_guards, trigger_names
from engine.audit import Actor
from engine.inbox import log_access
from engine.models import AuditAnchor
from tests.conftest import make_config
from web import create_app
from web.demo import sample_application
from web.extensions import db

MIGRATIONS = BASE_DIR / "web" / "migrations"
BELOW_GUARDS = "b7c41d2e9a10"  # below the triggers' revision, through the batch-mode migrations
NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    server = os.environ.get("TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL names no PostgreSQL server")
    name = f"{make_url(server).database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _rows_in_every_guarded_table() -> None:
    """A case with its events, an access-log entry and an anchor row (what the triggers guard)."""
    from engine.definitions import deploy_directory

    deploy_directory(db.session, BASE_DIR / "bpmn", Actor("setup", ("admin",)), NOW)
    payload = intake.ApplicationSchema().load(sample_application(0))
    case, _, _ = intake.submit_application(db.session, payload, Actor("fo", ("front_office",)), NOW, "P14D")
    log_access(db.session, case, Actor("operator", ("operator",)), "view", NOW)
    db.session.add(_anchor())
    db.session.commit()


def _anchor() -> AuditAnchor:
    return AuditAnchor(
        seq=1,
        created_at=NOW,
        case_count=1,
        event_total=1,
        heads=[],
        hash="0" * 64,
        signature=b"-",
        certificate_sha256="0" * 64,
    )


def _assert_guarded() -> None:
    assert missing_guards(db.session) == []
    for table in APPEND_ONLY_TABLES:
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(text(f"SELECT count(*) FROM {table}")) == 1, table


def test_triggers_are_in_place_after_upgrading_down_below_them_and_up_again(database_url: str, tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=database_url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        _rows_in_every_guarded_table()
        _assert_guarded()
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision=BELOW_GUARDS)  # rewrites case_event rows on its way
        present = set(trigger_names("case_event")) - set(missing_guards(db.session))
        assert present == set()  # below their revision the triggers are gone, as that migration says
        db.session.remove()
        upgrade(directory=str(MIGRATIONS))
        db.session.add(_anchor())  # the anchors' table went with its revision and is new again
        db.session.commit()
        _assert_guarded()
        db.session.remove()
        engine = db.engine
    engine.dispose()


REBUILD = '''"""a later migration that rebuilds the guarded tables (as batch mode does on SQLite)"""
from alembic import op

revision = "ffffffffffff"
down_revision = {head!r}
branch_labels = None
depends_on = None

TABLES = ("case_event", "audit_anchor", "access_log")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always"):
            pass


def downgrade():
    upgrade()
'''


def test_a_later_migration_that_rebuilds_a_guarded_table_leaves_its_triggers(database_url: str, tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=database_url))
    with app.app_context():
        script = ScriptDirectory(str(copy))
        (head,) = script.get_heads()  # one head (checked here as well)
        (copy / "versions" / "ffffffffffff_rebuild_guarded_tables.py").write_text(REBUILD.format(head=head))
        upgrade(directory=str(MIGRATIONS))
        _rows_in_every_guarded_table()
        db.session.remove()
        upgrade(directory=str(copy))  # the three tables copied into new ones
        _assert_guarded()
        db.session.remove()
        downgrade(directory=str(copy), revision=head)  # and again on the way down
        _assert_guarded()
        db.session.remove()
        engine = db.engine
    engine.dispose()
