"""One authenticate() for the web login and the API: throttled by account and client with growing
delays (never a lock), every attempt recorded; tokens and sessions listed, revoked at logout, at a
password change and by an administrator (issue 10, item 2)."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from engine.clock import utcnow
from engine.models import AdminEvent, ApiToken, LoginAttempt
from web.extensions import db
from web.throttle import delay_after

from .conftest import PASSWORD
from .test_staff_pages import csrf, login, text

API = "/api/v1"


def token_request(client: Any, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return client.post(
        f"{API}/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def age_attempts(app: Flask, seconds: float) -> None:
    """Move every recorded attempt ``seconds`` into the past (the waits run out)."""
    with app.app_context():
        for row in db.session.scalars(select(LoginAttempt)):
            row.at = row.at - timedelta(seconds=seconds)
        db.session.commit()


def just_failed(app: Flask) -> None:
    """Date every recorded failure to this instant, so the check that follows does not depend on
    how long the requests before it took (the first wait is only 1 s)."""
    with app.app_context():
        now = utcnow()
        for row in db.session.scalars(select(LoginAttempt).where(LoginAttempt.outcome == "failure")):
            row.at = now
        db.session.commit()


def attempts(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))
        return [(row.username, row.client, row.outcome) for row in rows]


def bearer(answer: Any) -> dict[str, str]:
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_the_delays_double_after_the_free_failures_up_to_a_cap() -> None:
    assert [delay_after(n, 3, 300) for n in range(9)] == [0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert delay_after(40, 3, 300) == 300 and delay_after(10_000, 3, 300) == 300


def test_forty_wrong_passwords_in_fifteen_seconds_check_only_a_few(app: Flask, client: Any) -> None:
    """Probe reproduction (issue 10, item 5), with the rate limiter off: the throttle alone holds."""
    started = time.monotonic()
    statuses = [token_request(client, "admin", f"tebakan-{i}").status_code for i in range(40)]
    elapsed = time.monotonic() - started
    # 3 free tries, then waits of 1, 2, 4 … s: within `elapsed` only k more, with 2**k - 1 <= elapsed
    checked_at_most = 3 + int(math.log2(elapsed + 1)) + 1
    assert statuses[:3] == [401, 401, 401] and 429 in statuses
    assert statuses.count(401) <= checked_at_most and set(statuses) == {401, 429}
    outcomes = [outcome for _, _, outcome in attempts(app)]
    assert outcomes.count("failure") == statuses.count(401) and outcomes.count("throttled") == statuses.count(429)
    throttled = token_request(client, "admin", "tebakan-41")
    assert throttled.get_json()["error"]["code"] == "login_throttled"
    assert int(throttled.headers["Retry-After"]) == throttled.get_json()["error"]["details"]["retry_after"] >= 1


def test_no_token_while_throttled_and_one_once_the_wait_is_over(app: Flask, client: Any) -> None:
    for _ in range(3):
        assert token_request(client, "operator", "salah").status_code == 401
    just_failed(app)
    refused = token_request(client, "operator", PASSWORD)
    assert refused.status_code == 429 and "token" not in refused.get_json()
    assert "Coba lagi dalam 1 detik" in refused.get_json()["error"]["message"]
    age_attempts(app, 2)
    assert token_request(client, "operator", PASSWORD).status_code == 200
    # a success starts the count again
    assert token_request(client, "operator", "salah").status_code == 401


def test_the_web_login_and_the_api_share_one_throttle(app: Flask, client: Any) -> None:
    for _ in range(3):
        assert token_request(client, "supervisor", "salah").status_code == 401
    just_failed(app)
    page = login(client, "supervisor")
    assert page.status_code == 429 and "Terlalu banyak percobaan masuk" in text(page)
    assert attempts(app)[-1] == ("supervisor", "127.0.0.1", "throttled")


def test_five_wrong_passwords_do_not_lock_the_real_admin_out(app: Flask, client: Any) -> None:
    """Probe reproduction (issue 10, item 12): an attacker's failures never lock the account."""
    for _ in range(5):
        token_request(client, "admin", "tebakan", address="203.0.113.66")
    just_failed(app)
    assert token_request(client, "admin", PASSWORD, address="203.0.113.66").status_code == 429
    # the real admin elsewhere logs in at once
    assert token_request(client, "admin", PASSWORD, address="10.1.1.5").status_code == 200
    page_client = app.test_client()
    page_client.environ_base["REMOTE_ADDR"] = "10.1.1.6"
    assert login(page_client, "admin").status_code == 302


def test_many_clients_on_one_account_slow_new_clients_but_not_known_ones(app: Flask, client: Any) -> None:
    assert token_request(client, "kadis", PASSWORD, address="10.2.2.2").status_code == 200  # a known client
    for i in range(20):
        assert token_request(client, "kadis", "tebakan", address=f"198.51.100.{i}").status_code == 401
    just_failed(app)
    fresh = token_request(client, "kadis", PASSWORD, address="192.0.2.1")
    assert fresh.status_code == 429 and 1 <= int(fresh.headers["Retry-After"]) <= 60
    assert token_request(client, "kadis", PASSWORD, address="10.2.2.2").status_code == 200


def test_one_client_spraying_many_accounts_is_slowed(app: Flask, client: Any) -> None:
    names = ["operator", "supervisor", "manager", "kadis", "admin", "auditor", "front_office", "kabid_rehsos"]
    for i in range(10):
        assert token_request(client, names[i % len(names)], "tebakan", address="203.0.113.9").status_code == 401
    just_failed(app)
    assert token_request(client, "kabid_dayasos", PASSWORD, address="203.0.113.9").status_code == 429


def test_unknown_usernames_are_answered_and_recorded_like_known_ones(app: Flask, client: Any) -> None:
    unknown, known = token_request(client, "tidakada", "x"), token_request(client, "operator", "x")
    assert unknown.status_code == known.status_code == 401
    assert unknown.get_json() == known.get_json()
    assert attempts(app) == [("tidakada", "127.0.0.1", "failure"), ("operator", "127.0.0.1", "failure")]
    with app.app_context():
        columns = set(LoginAttempt.__table__.columns.keys())
    assert columns == {"id", "at", "username", "client", "outcome"}  # no password, ever


def test_logout_kills_the_session_even_for_a_copied_cookie(app: Flask, client: Any) -> None:
    """Probe reproduction (issue 10, item 12): sessions survived logout."""
    login(client, "operator")
    stolen = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf(client, "/inbox")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/inbox").status_code == 302
    assert thief.get(f"{API}/tasks").status_code == 401


def test_a_password_change_ends_every_other_session_and_token(app: Flask, client: Any) -> None:
    """Probe reproduction (issue 10, item 12): sessions and tokens survived a password change."""
    other_browser = app.test_client()
    login(other_browser, "operator")
    headers = bearer(token_request(client, "operator", PASSWORD))
    login(client, "operator")
    answer = client.post(
        "/password",
        data={
            "csrf_token": csrf(client, "/password"),
            "current": PASSWORD,
            "new": "kata-sandi-baru-1",
            "repeat": "kata-sandi-baru-1",
        },
    )
    assert answer.status_code == 302
    assert client.get("/inbox").status_code == 200  # this browser goes on, on a new session
    assert other_browser.get("/inbox").status_code == 302
    assert client.get(f"{API}/tasks", headers=headers).status_code == 401


def test_tokens_are_listed_and_revoked_by_their_owner(app: Flask, client: Any) -> None:
    first = bearer(token_request(client, "operator", PASSWORD))
    second = bearer(token_request(client, "operator", PASSWORD))
    mine = client.get(f"{API}/auth/tokens", headers=first).get_json()["items"]
    assert [row["kind"] for row in mine] == ["api", "api"]
    assert [row["current"] for row in mine] == [False, True]  # newest first; this request's is marked
    assert mine[0]["client_address"] == "127.0.0.1" and "token" not in mine[0]
    assert client.delete(f"{API}/auth/tokens/{mine[0]['id']}", headers=first).status_code == 204
    assert client.get(f"{API}/tasks", headers=second).status_code == 401
    # someone else's token is not found, not revoked
    supervisor = bearer(token_request(client, "supervisor", PASSWORD))
    theirs = client.get(f"{API}/auth/tokens", headers=supervisor).get_json()["items"][0]["id"]
    assert client.delete(f"{API}/auth/tokens/{theirs}", headers=first).status_code == 404
    assert client.get(f"{API}/tasks", headers=supervisor).status_code == 200
    # logging out a bearer client: DELETE /auth/token
    assert client.delete(f"{API}/auth/token", headers=first).status_code == 204
    assert client.get(f"{API}/tasks", headers=first).status_code == 401


def test_an_auditor_may_revoke_their_own_token(client: Any) -> None:
    headers = bearer(token_request(client, "auditor", PASSWORD))
    assert client.delete(f"{API}/auth/token", headers=headers).status_code == 204
    assert client.get(f"{API}/auth/tokens", headers=headers).status_code == 401


def test_the_sessions_page_lists_and_revokes(app: Flask, client: Any) -> None:
    headers = bearer(token_request(client, "operator", PASSWORD))
    login(client, "operator")
    page = text(client.get("/sesi"))
    assert "Sesi peramban" in page and "sesi ini" in page and "Token API" in page
    with app.app_context():
        api_id = db.session.scalars(select(ApiToken.id).where(ApiToken.kind == "api")).one()
        session_id = db.session.scalars(select(ApiToken.id).where(ApiToken.kind == "session")).one()
    token = csrf(client, "/sesi")
    assert client.post(f"/sesi/{api_id}/cabut", data={"csrf_token": token}).location == "/sesi"
    assert client.get(f"{API}/tasks", headers=headers).status_code == 401
    answer = client.post(f"/sesi/{session_id}/cabut", data={"csrf_token": token})
    assert answer.location == "/login" and client.get("/inbox").status_code == 302


def test_an_admin_revokes_a_users_sessions_and_tokens(app: Flask, client: Any) -> None:
    victim = app.test_client()
    login(victim, "operator")
    headers = bearer(token_request(client, "operator", PASSWORD))
    login(client, "admin")
    with app.app_context():
        from engine.models import User

        user_id = db.session.scalars(select(User.id).where(User.username == "operator")).one()
    page = text(client.get(f"/admin/pengguna/{user_id}"))
    assert "Cabut semua sesi dan token" in page and "2 sesi masuk dan token API aktif" in page
    assert "Percobaan masuk terakhir" in page and "berhasil" in page  # the record of attempts
    answer = client.post(f"/admin/pengguna/{user_id}/sesi/cabut", data={"csrf_token": csrf(client, "/admin/")})
    assert answer.status_code == 302
    assert victim.get("/inbox").status_code == 302
    assert client.get(f"{API}/tasks", headers=headers).status_code == 401
    with app.app_context():
        event = db.session.scalars(select(AdminEvent).where(AdminEvent.action == "credentials_revoked")).one()
        assert event.target == "operator" and event.payload == {"count": 2}


def test_an_admin_password_reset_ends_the_users_tokens(app: Flask, client: Any) -> None:
    headers = bearer(token_request(client, "operator", PASSWORD))
    login(client, "admin")
    with app.app_context():
        from engine.models import User

        user_id = db.session.scalars(select(User.id).where(User.username == "operator")).one()
    answer = client.post(
        f"/admin/pengguna/{user_id}/sandi",
        data={"csrf_token": csrf(client, "/admin/"), "password": "sandi-baru-panjang"},
    )
    assert answer.status_code == 302
    assert client.get(f"{API}/tasks", headers=headers).status_code == 401


def test_a_credentials_last_use_is_recorded_at_most_every_ten_minutes(app: Flask, client: Any) -> None:
    headers = bearer(token_request(client, "operator", PASSWORD))

    def last_used() -> Any:
        with app.app_context():
            return db.session.scalars(select(ApiToken.last_used_at).where(ApiToken.kind == "api")).one()

    issued = last_used()
    assert client.get(f"{API}/tasks", headers=headers).status_code == 200
    assert last_used() == issued  # used again within ten minutes: not written
    with app.app_context():
        row = db.session.scalars(select(ApiToken).where(ApiToken.kind == "api")).one()
        row.last_used_at = row.last_used_at - timedelta(minutes=11)
        db.session.commit()
    assert client.get(f"{API}/tasks", headers=headers).status_code == 200
    assert last_used() > issued - timedelta(minutes=1)  # written by the request's unit of work


def test_a_deactivated_users_token_and_session_stop_working_at_once(app: Flask, client: Any) -> None:
    from engine.models import User

    headers = bearer(token_request(client, "operator", PASSWORD))
    browser = app.test_client()
    login(browser, "operator")
    assert browser.get("/inbox").status_code == 200
    with app.app_context():
        db.session.scalars(select(User).where(User.username == "operator")).one().active = False
        db.session.commit()
    assert client.get(f"{API}/tasks", headers=headers).status_code == 401
    assert browser.get("/inbox").status_code == 302
