"""A real server on loopback (SQLite file, bundled procedures, demo users) and Debian's Chromium."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from config import BASE_DIR, TestConfig
from engine.audit import Actor
from engine.clock import utcnow
from engine.definitions import deploy_directory
from tests.conftest import signing_files
from web import create_app
from web.demo import load_demo
from web.extensions import db

PASSWORD = "sibalang-demo"
ARTIFACTS = BASE_DIR / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    def __init__(self, app: Flask, url: str) -> None:
        self.app, self.url = app, url

    def new_case(self, index: int = 0) -> str:
        """Start a referral as the front office would; return its reference."""
        from engine import intake
        from engine.models import User
        from web.auth import actor_for
        from web.demo import sample_application

        with self.app.app_context():
            user = db.session.query(User).filter_by(username="front_office").one()
            data = intake.ApplicationSchema().load(sample_application(index))
            case, _code, _warnings = intake.submit_application(db.session, data, actor_for(user), utcnow(), "P14D")
            db.session.commit()
            return case.reference

    def open_task_id(self, reference: str) -> str:
        from engine.models import Case, HumanTask

        with self.app.app_context():
            case = db.session.query(Case).filter_by(reference=reference).one()
            row = (
                db.session.query(HumanTask)
                .filter(HumanTask.case_id == case.id, HumanTask.state.in_(("ready", "claimed")))
                .one()
            )
            return row.id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    config = type(
        "LiveConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'live.db'}", "DOCUMENT_DIR": tmp / "documents", **signing_files()},
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()
        deploy_directory(db.session, BASE_DIR / "bpmn", Actor("setup", ("admin",)), utcnow())
        load_demo(PASSWORD, with_cases=False)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """new_page(width=1280) → a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live.url)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
