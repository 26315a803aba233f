"""Cuaca and Pendamping on a phone (360 px) over a slow 3G link, as a resident would use them.

The live server asks a local fake BMKG (recorded answers); screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from config import BASE_DIR, TestConfig
from engine.audit import Actor
from engine.clock import utcnow
from engine.definitions import deploy_directory
from tests.fake_bmkg import FakeBMKG
from web import create_app
from web.demo import load_demo
from web.extensions import db

from .conftest import ARTIFACTS

PHONE = {"width": 360, "height": 740}
# Chrome DevTools' "Slow 3G": 400 ms × 5 latency, 500 kbit/s × 0.8 each way
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("cuaca")
    with FakeBMKG() as bmkg:
        config = type(
            "LiveConfig",
            (TestConfig,),
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'live.db'}",
                "DOCUMENT_DIR": tmp / "documents",
                "BMKG_FORECAST_URL": bmkg.url,
                "BMKG_TIMEOUT": 5.0,
            },
        )
        app = create_app(config)
        with app.app_context():
            db.create_all()
            deploy_directory(db.session, BASE_DIR / "bpmn", Actor("setup", ("admin",)), utcnow())
            load_demo("sibalang-demo", with_cases=False)  # users and the demo companions
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(5)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def phone(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, base_url=site)
    context.set_default_timeout(30000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    yield page
    context.close()


def _weight(page: Any) -> tuple[int, float]:
    """Bytes transferred for the page and its resources, and the load time in ms (Navigation Timing)."""
    return page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const res = performance.getEntriesByType('resource');
          return [nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0), nav.loadEventEnd];
        }"""
    )


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-360-slow3g.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_resident_checks_the_weather_of_a_desa_in_halong(phone: Any) -> None:
    phone.goto("/")
    assert phone.locator(".features a").count() == 8
    phone.get_by_role("link", name="Cuaca").click()
    phone.get_by_role("link", name="Halong").click()
    phone.get_by_role("link", name="Mantuyan").click()
    phone.wait_for_load_state("load")
    assert phone.get_by_role("heading", name="Prakiraan cuaca Mantuyan").is_visible()
    assert phone.get_by_text("Hari ini").first.is_visible() or phone.get_by_text("Besok").first.is_visible()
    assert phone.get_by_text("Sumber data:").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    size, load_ms = _weight(phone)
    print(f"\n/cuaca?desa=… at slow 3G: {size} bytes transferred, load event after {load_ms:.0f} ms")
    _shot(phone, "cuaca")


def test_a_resident_finds_the_tksk_of_juai_and_can_call_them(phone: Any) -> None:
    phone.goto("/")
    phone.get_by_role("link", name="pendamping sosial (TKSK/PSM) di kecamatan Anda").click()
    phone.get_by_role("link", name="Juai").click()
    phone.wait_for_load_state("load")
    card = phone.locator(".person", has_text="Rahmadi")
    assert card.get_by_text("TKSK Kecamatan Juai").is_visible()
    call = card.get_by_role("link", name="Telepon")
    assert call.is_visible() and call.get_attribute("href") == "tel:+6281200000101"
    assert card.get_by_role("link", name="WhatsApp").get_attribute("href") == "https://wa.me/6281200000101"
    box = call.bounding_box()
    assert box is not None and box["height"] >= 40  # a thumb-sized target
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    size, load_ms = _weight(phone)
    print(f"\n/pendamping?kecamatan=… at slow 3G: {size} bytes transferred, load event after {load_ms:.0f} ms")
    _shot(phone, "pendamping")
