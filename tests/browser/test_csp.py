"""Every staff, admin, auditor and public page under the real Content-Security-Policy in Chromium:
no CSP violation and no console error (web/security.py). The BPMN modeler and viewers included."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import LiveServer
from .test_staff_ui import login

pytestmark = pytest.mark.browser

# Recorded by the page itself: an init script is added by the browser, not by the page, so the
# CSP does not block it, and it sees every violation (script, style, image, font, connect).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


def watched(new_page: Any, width: int = 1280) -> tuple[Any, list[str]]:
    page = new_page(width)
    page.add_init_script(WATCH)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    return page, errors


def visit(page: Any, errors: list[str], path: str, ready: str | None = None) -> None:
    answer = page.goto(path)
    assert answer is not None and answer.status < 500, (path, answer and answer.status)
    assert "script-src 'self'" in (answer.headers.get("content-security-policy") or ""), path
    if ready:
        page.wait_for_selector(ready, state="attached")
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__violations")
    assert not violations, (path, violations)
    assert not errors, (path, errors)
    errors.clear()


def test_staff_pages_run_under_the_csp(new_page: Any, live: LiveServer) -> None:
    reference = live.new_case()
    task_id = live.open_task_id(reference)
    page, errors = watched(new_page)
    login(page, "operator")
    visit(page, errors, "/inbox")
    visit(page, errors, "/inbox?queue=mine")
    visit(page, errors, f"/tasks/{task_id}")
    visit(page, errors, f"/cases/{reference}")
    page.click("#diagram-panel summary")
    page.wait_for_selector("#diagram[data-ready='1']")
    page.click(".diagram-tools button[data-zoom='in']")
    page.click(".diagram-tools button[data-zoom='fit']")
    assert not page.evaluate("window.__violations"), "case diagram"
    visit(page, errors, "/cases")
    visit(page, errors, "/cases/overview")
    visit(page, errors, "/password")


def test_admin_pages_and_the_modeler_run_under_the_csp(new_page: Any, live: LiveServer) -> None:
    page, errors = watched(new_page)
    login(page, "admin", lands=r"/admin|/inbox")
    for path in (
        "/admin/",
        "/admin/pengguna",
        "/admin/pengguna/baru",
        "/admin/layanan",
        "/admin/log",
        "/admin/pendamping/",
        "/admin/prosedur/rujukan",
        "/admin/prosedur/rujukan/v1",
    ):
        visit(page, errors, path)
    visit(page, errors, "/admin/prosedur/rujukan/ubah", ready="#bpmn-canvas .djs-container")
    page.wait_for_selector("#bpmn-canvas .djs-element")
    page.wait_for_timeout(500)
    assert page.locator("#properties .bio-properties-panel").count() or page.locator("#properties *").count()
    # select an element so the properties panel (preact, FEEL editors) renders, then look again
    page.locator("#bpmn-canvas .djs-element.djs-shape").nth(1).click()
    page.wait_for_timeout(500)
    assert not page.evaluate("window.__violations"), "modeler after selecting an element"
    assert not errors, errors


def test_audit_pages_run_under_the_csp(new_page: Any, live: LiveServer) -> None:
    reference = live.new_case(1)
    page, errors = watched(new_page)
    login(page, "auditor", lands=r"/audit")
    visit(page, errors, "/audit/")
    visit(page, errors, f"/audit/cases/{reference}", ready="#diagram[data-ready='1']")
    visit(page, errors, "/audit/access")
    visit(page, errors, "/audit/anchors")


def test_public_pages_run_under_the_csp(new_page: Any, live: LiveServer) -> None:
    page, errors = watched(new_page, 360)
    for path in ("/", "/apply", "/complaint", "/track", "/verify", "/pendamping", "/cuaca", "/login"):
        visit(page, errors, path)
    answer = page.goto("/no-such-page")
    assert answer is not None and answer.status == 404
    assert re.search("Halaman tidak ditemukan", page.content())
    assert not page.evaluate("window.__violations")
