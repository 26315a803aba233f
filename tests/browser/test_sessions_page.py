"""The staff's own sessions and tokens page at 360 px: listed, revoked, and a revoked token is dead."""

from __future__ import annotations

from typing import Any

from .conftest import ARTIFACTS, PASSWORD, LiveServer


def test_the_sessions_page_at_360_px_revokes_a_token(live: LiveServer, new_page: Any) -> None:
    page = new_page(360, 740)
    answer = page.request.post(
        f"{live.url}/api/v1/auth/token",
        data={"username": "supervisor", "password": PASSWORD},
        headers={"User-Agent": "sibalang-field-app/1.0 (Android 12; a long user agent of a field phone)"},
    )
    token = answer.json()["token"]
    page.goto("/login")
    page.fill("#username", "supervisor")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/inbox")
    page.click("summary")
    page.click("text=Sesi dan token")
    page.wait_for_url("**/sesi")
    assert page.locator(".credential").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sessions-360.png"), full_page=True)
    page.locator(".credential", has_text="Token API").get_by_role("button", name="Cabut").click()
    page.wait_for_url("**/sesi")
    assert page.locator(".credential").count() == 1 and "sesi ini" in page.inner_text(".credential")
    dead = page.request.get(f"{live.url}/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert dead.status == 401
