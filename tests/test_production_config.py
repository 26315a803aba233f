"""A production start with a bad configuration is refused with a clear message (issue 10, items 7/12)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from config import BASE_DIR, DEFAULT_SECRET_KEY
from engine.models import User
from web import ConfigurationRefused, create_app
from web.extensions import db

from .conftest import PASSWORD, make_config, seed

GOOD_KEY = "k" * 48


_STARTED: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while _STARTED:
        with _STARTED.pop().app_context():
            db.engine.dispose()


def production(tmp_path: Path, **overrides: Any) -> Flask:
    app = create_app(make_config(tmp_path, **{"ENV_NAME": "production", "SECRET_KEY": GOOD_KEY, **overrides}))
    _STARTED.append(app)
    return app


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "SECRET_KEY is empty"),
        ("x", "SECRET_KEY is 1 bytes; production needs at least 32"),
        ("a-31-byte-key-is-still-too-shrt", "SECRET_KEY is 31 bytes"),
        (DEFAULT_SECRET_KEY, "SECRET_KEY is the development default"),
    ],
)
def test_production_refuses_an_empty_short_or_default_key(tmp_path: Path, key: str, message: str) -> None:
    with pytest.raises(ConfigurationRefused, match=message) as refused:
        production(tmp_path, SECRET_KEY=key)
    assert "secrets.token_urlsafe" in str(refused.value)  # and says how to make one


@pytest.mark.parametrize("name", ["prod", "production", "PRODUCTION "])
def test_prod_means_production(tmp_path: Path, name: str) -> None:
    """Probe reproduction (issue 10, item 12): `SIBALANG_ENV=prod` silently ran development mode."""
    with pytest.raises(ConfigurationRefused, match="development default"):
        production(tmp_path, ENV_NAME=name, SECRET_KEY=DEFAULT_SECRET_KEY)
    app = production(tmp_path, ENV_NAME=name)
    assert app.config["ENV_NAME"] == "production" and app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("name", ["staging", "prd", ""])
def test_an_unknown_environment_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationRefused, match="is not a known environment"):
        create_app(make_config(tmp_path, ENV_NAME=name))


def test_production_refuses_a_database_with_demo_logins(tmp_path: Path) -> None:
    """Probe reproduction (issue 10, item 12): demo logins worked in production on `make run`'s database."""
    url = f"sqlite:///{tmp_path / 'sibalang.db'}"
    development = create_app(make_config(tmp_path, ENV_NAME="development", SQLALCHEMY_DATABASE_URI=url))
    _STARTED.append(development)
    with development.app_context():
        db.create_all()
        seed(development)  # the demo users, with PASSWORD as their demo password
    with pytest.raises(ConfigurationRefused, match=r"demo accounts .*\(admin, auditor,.*users disable-demo"):
        production(tmp_path, SQLALCHEMY_DATABASE_URI=url, DEMO_PASSWORD=PASSWORD)
    # an account whose password was changed is no demo login; the command disables the rest
    with development.app_context():
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        admin.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
        db.session.commit()
    development.config["DEMO_PASSWORD"] = PASSWORD
    result = development.test_cli_runner().invoke(args=["users", "disable-demo"])
    assert result.exit_code == 0 and "deactivated auditor" in result.output and "admin," not in result.output
    app = production(tmp_path, SQLALCHEMY_DATABASE_URI=url, DEMO_PASSWORD=PASSWORD)
    with app.app_context():
        assert db.session.scalars(select(User.username).where(User.active.is_(True))).all() == ["admin"]


def test_a_database_without_tables_yet_starts_for_its_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = production(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    assert app.config["ENV_NAME"] == "production"


def test_the_cli_refuses_with_the_message_and_a_non_zero_exit(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SIBALANG_ENV": "prod",
        "SECRET_KEY": "pendek",
        "SIBALANG_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run(
        [str(flask), "--app", "web", "processes", "list"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY is 6 bytes; production needs at least 32" in result.stderr
