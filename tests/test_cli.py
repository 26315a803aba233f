"""The command line of DESIGN.md, and the Alembic migrations matching the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from config import BASE_DIR
from engine.models import Case, HumanTask, User
from tests.conftest import make_config
from tests.tampering import guards_dropped
from web import create_app
from web.extensions import db


def test_migrations_build_the_schema_of_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}"))
    with app.app_context():
        upgrade(directory=str(BASE_DIR / "web" / "migrations"))
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        engine = db.engine
    engine.dispose()
    assert diff == []


def test_migrations_carry_cases_down_and_up_again_intact(tmp_path: Path) -> None:
    """Data in the older formats (text ids, stored prev_hash, rendered messages) and back."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app(make_config(tmp_path, DEMO_MODE=True, ENV_NAME="development", SQLALCHEMY_DATABASE_URI=url))
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["processes", "deploy", str(BASE_DIR / "bpmn")], ["demo", "load"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        task_ids = sorted(db.session.scalars(select(HumanTask.id)))
        engine = db.engine
    result = runner.invoke(args=["db", "downgrade", "b7c41d2e9a10"])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        old_ids = sorted(connection.exec_driver_sql("SELECT id FROM human_task").scalars())
        messages = connection.exec_driver_sql("SELECT message FROM notification").scalars().all()
        first = connection.exec_driver_sql("SELECT prev_hash FROM case_event WHERE seq = 1 LIMIT 1").scalar()
    assert old_ids == task_ids  # text again
    assert messages and all(m.startswith("Dinsos Balangan: ") for m in messages)
    assert first == bytes(32)
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(HumanTask.id))) == task_ids
        assert all(db.session.get(HumanTask, task_id) is not None for task_id in task_ids)  # 16-byte keys
    verify = runner.invoke(args=["audit", "verify", "--all", "--json"])
    report = json.loads(verify.stdout)
    # going below the letters migration drops the letter table: the two demo cases that issued a
    # letter still record it in their chain, and the replay says the stored letter is gone
    bad = [c for c in report["cases"] if not c["consistent"]]
    assert report["summary"]["consistent"] == 10 and len(bad) == 2, verify.output
    for case in bad:
        assert case["chain_valid"]
        assert [(d["field"].split("[")[0], d["expected"], d["found"]) for d in case["differences"]] == [
            ("letter", "the stored letter", None)
        ]
    engine.dispose()


def test_deploy_users_timers_and_audit_commands(app: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["processes", "deploy", str(BASE_DIR / "bpmn")])
    assert result.exit_code == 0, result.output
    assert "rujukan version 1" in result.output  # unchanged: no new version
    result = runner.invoke(
        args=["users", "create", "budi", "--role", "operator", "--name", "Budi"], input="sandi-budi-1\nsandi-budi-1\n"
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "k", "--role", "kabid"], input="x\nx\n")
    assert result.exit_code != 0 and "bidang" in result.output
    with app.app_context():
        assert db.session.scalars(select(User).where(User.username == "budi")).one().roles == ["operator"]
    result = runner.invoke(args=["timers", "run", "--once"])
    assert result.exit_code == 0 and "fired timers in 0 case(s)" in result.output


def test_demo_data_is_refused_outside_development_mode(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "development" in result.output


def test_demo_load_creates_a_dozen_cases_spread_over_the_steps(tmp_path: Path) -> None:
    from tests.conftest import reset_schema

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    app = create_app(make_config(tmp_path, DEMO_MODE=True, ENV_NAME="development", SQLALCHEMY_DATABASE_URI=url))
    runner = app.test_cli_runner()
    with app.app_context():
        reset_schema()
        db.session.commit()
    assert runner.invoke(args=["processes", "deploy", str(BASE_DIR / "bpmn")]).exit_code == 0
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        cases = db.session.scalars(select(Case)).all()
        steps = {c.current_step for c in cases}
        assert len(cases) == 12 and len(steps) >= 7
        assert db.session.scalars(select(User)).all()
    verify = runner.invoke(args=["audit", "verify", "--all"])
    assert verify.exit_code == 0, verify.output
    assert "12 consistent, 0 inconsistent" in verify.output
    again = runner.invoke(args=["demo", "load"])  # not a new database: nothing added
    assert again.exit_code == 0
    with app.app_context():
        assert len(db.session.scalars(select(Case)).all()) == 12
        engine = db.engine
    engine.dispose()


def test_audit_verify_exits_non_zero_on_a_tampered_history(tmp_path: Path, app: Any, client: Any) -> None:
    from engine.models import CaseEvent
    from web.demo import sample_application

    reference = client.post("/api/v1/applications", json=sample_application(0)).get_json()["reference"]
    with app.app_context():
        event = db.session.scalars(select(CaseEvent)).first()
        event.payload = {**event.payload, "data": {"service": "sandang"}}
        with pytest.raises(IntegrityError, match="append-only"):  # the database refuses the edit
            db.session.commit()
        db.session.rollback()
        with guards_dropped():  # as someone with full database access can
            event = db.session.scalars(select(CaseEvent)).first()
            event.payload = {**event.payload, "data": {"service": "sandang"}}
            db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify", reference])
    assert result.exit_code == 1
    assert f"{reference}" in result.output and "event 1: hash: expected" in result.output
