"""Page-weight budget, counted by Chromium itself (CDP ``Network.loadingFinished``
``encodedDataLength``: bytes on the wire, headers and compression included) on a first visit with
an empty cache: every public page ≤ 60 KB with all its subresources; the staff case page ≤ 120 KB
before its diagram is asked for. Prints the figures; 360-px screenshots go to tests/artifacts/.

Rerun: .venv/bin/python -m pytest -q -s -p no:cacheprovider tests/browser/test_page_weight.py
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from .conftest import ARTIFACTS, LiveServer
from .test_staff_ui import login

pytestmark = pytest.mark.browser

PUBLIC_BUDGET = 60 * 1024
CASE_BUDGET = 120 * 1024
PUBLIC_PAGES = ("/", "/apply", "/complaint", "/track", "/verify", "/pendamping", "/cuaca", "/no-such-page")
# the throttled phone of issue 12: 400 ms latency, 50 KB/s down, 25 KB/s up, CPU 4× slower
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 25 * 1024}


class Meter:
    """Bytes received per request, as Chromium counts them, from a clean cache."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.loadingFinished", lambda e: self.sizes.__setitem__(e["requestId"], e["encodedDataLength"]))

    def fresh(self) -> None:
        self.cdp.send("Network.clearBrowserCache")
        self.urls.clear()
        self.sizes.clear()

    def throttle(self) -> None:
        self.cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})

    def total(self) -> int:
        return sum(self.sizes.values())

    def report(self, label: str) -> str:
        parts = sorted(((self.urls.get(k, k), v) for k, v in self.sizes.items()), key=lambda p: -p[1])
        detail = ", ".join(f"{url.split('/', 3)[-1][:48]} {size / 1024:.1f}" for url, size in parts)
        return f"{label}: {self.total() / 1024:.1f} KB in {len(parts)} requests ({detail})"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"weight-{name}-360.png"), full_page=True)


def test_every_public_page_is_at_most_60_kb_on_a_first_visit(new_page: Any, live: LiveServer) -> None:
    page = new_page(360, 740)
    meter = Meter(page)
    heavy = []
    for path in PUBLIC_PAGES:
        meter.fresh()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        print(meter.report(path))
        if meter.total() > PUBLIC_BUDGET:
            heavy.append((path, meter.total()))
        if path in ("/", "/apply", "/no-such-page"):
            shot(page, {"/": "home", "/apply": "apply", "/no-such-page": "404"}[path])
    assert not heavy, heavy


def test_the_refused_apply_form_lists_its_errors_at_360_px(new_page: Any, live: LiveServer) -> None:
    page = new_page(360, 740)
    page.goto("/apply")
    page.click("button[type=submit]")
    page.wait_for_selector("#ringkasan-kesalahan")
    assert page.evaluate("document.activeElement.id") == "ringkasan-kesalahan"
    page.click("#ringkasan-kesalahan a[href='#nik']")
    assert page.evaluate("location.hash") == "#nik"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto("/apply")
    page.click("button[type=submit]")
    page.wait_for_selector("#ringkasan-kesalahan")
    shot(page, "apply-errors")


def test_the_case_page_is_at_most_120_kb_before_the_diagram(new_page: Any, live: LiveServer) -> None:
    reference = live.new_case(2)
    task_id = live.open_task_id(reference)
    page = new_page(360, 740)
    login(page, "operator")
    meter = Meter(page)
    meter.fresh()
    page.goto(f"/cases/{reference}")
    page.wait_for_load_state("networkidle")
    print(meter.report("case page"))
    before = meter.total()
    assert not any("bpmn" in url for url in meter.urls.values()), "the viewer loaded before it was asked for"
    shot(page, "case")
    page.click("#diagram-panel summary")
    page.wait_for_selector("#diagram[data-ready='1']")
    print(meter.report("case page with its diagram"))
    assert before <= CASE_BUDGET, before
    page.emulate_media(media="print")
    shot(page, "case-print")
    page.emulate_media(media="screen")

    meter.fresh()
    page.goto(f"/tasks/{task_id}")
    page.wait_for_load_state("networkidle")
    print(meter.report("task page"))
    shot(page, "task")
    page.emulate_media(media="print")
    shot(page, "task-print")
    assert page.locator(".topbar").is_hidden() and page.locator("button[type=submit]").first.is_hidden()


def test_on_a_throttled_phone(new_page: Any, live: LiveServer) -> None:
    """Figures only (no timing target): how long the home page and the case page take on slow 3G."""
    reference = live.new_case(3)
    page = new_page(360, 740)
    login(page, "operator")
    meter = Meter(page)
    meter.throttle()
    for label, path in (("home", "/"), ("case", f"/cases/{reference}")):
        meter.fresh()
        started = time.monotonic()
        page.goto(path)
        page.wait_for_load_state("load")
        print(f"slow 3G, 4x CPU: {label} loaded in {time.monotonic() - started:.1f} s, {meter.total() / 1024:.1f} KB")
