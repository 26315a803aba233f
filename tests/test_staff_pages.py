"""The staff pages without a browser: login and its delays, inbox, task forms, case page, CSRF, language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from engine.audit import verify_chain
from engine.clock import utcnow
from engine.models import AccessLog, Case, CaseEvent, HumanTask, LoginAttempt, User
from web.demo import sample_application
from web.extensions import db

from .conftest import PASSWORD


def csrf(client: Any, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, path
    return found.group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)})


def new_case(client: Any, index: int = 0) -> str:
    answer = client.post("/api/v1/applications", json=sample_application(index))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["reference"]


def open_task(app: Any, reference: str) -> HumanTask:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        return db.session.scalars(
            select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state.in_(("ready", "claimed")))
        ).one()


def text(answer: Any) -> str:
    return answer.get_data(as_text=True)


def test_pages_need_a_login_and_come_back_after_it(client: Any) -> None:
    answer = client.get("/inbox?queue=mine")
    assert answer.status_code == 302 and "/login?next=" in answer.location
    token = csrf(client)
    answer = client.post(
        "/login", data={"username": "operator", "password": PASSWORD, "csrf_token": token, "next": "/inbox?queue=mine"}
    )
    assert answer.location == "/inbox?queue=mine"


def test_login_never_redirects_to_another_site(app: Any) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client = app.test_client()
        token = csrf(client)
        answer = client.post(
            "/login", data={"username": "operator", "password": PASSWORD, "csrf_token": token, "next": target}
        )
        assert answer.location == "/inbox"


def test_a_form_without_its_csrf_token_is_refused(client: Any) -> None:
    answer = client.post("/login", data={"username": "operator", "password": PASSWORD})
    assert answer.status_code == 400 and "tidak sah" in text(answer)
    assert client.get("/inbox").status_code == 302  # still anonymous


def test_wrong_passwords_cost_growing_delays_never_a_lock(app: Any, client: Any) -> None:
    for _ in range(3):
        answer = login(client, "operator", "salah")
        assert answer.status_code == 401 and "Nama pengguna atau kata sandi salah" in text(answer)
    with app.app_context():
        for row in db.session.scalars(select(LoginAttempt)):
            row.at = utcnow()  # the failures just happened, however long the requests took
        db.session.commit()
    answer = login(client, "operator")  # right away: the right password waits its turn too
    assert answer.status_code == 429 and "Coba lagi dalam 1 detik" in text(answer)
    assert answer.headers["Retry-After"] == "1" and "dikunci" not in text(answer)
    with app.app_context():
        for row in db.session.scalars(select(LoginAttempt)):
            row.at = row.at.replace(year=2020)  # the wait is over
        db.session.commit()
    assert login(client, "operator").status_code == 302


def test_the_user_menu_shows_name_and_roles_and_logout_ends_the_session(client: Any) -> None:
    login(client, "kabid_rehsos")
    page = text(client.get("/inbox"))
    assert "Dewi Lestari (Kabid Rehsos)" in page and "Kepala Bidang (Bidang Rehabilitasi Sosial)" in page
    assert "(rehsos)" not in page
    answer = client.post("/logout", data={"csrf_token": csrf(client, "/inbox")})
    assert answer.location == "/login"
    assert client.get("/inbox").status_code == 302


def test_staff_change_their_own_password(client: Any) -> None:
    login(client, "operator")
    token = csrf(client, "/password")
    answer = client.post("/password", data={"csrf_token": token, "current": "salah", "new": "pendek", "repeat": "x"})
    # Post/Redirect/Get: the refusal is a 303 to the page, which shows the messages once (422)
    assert answer.status_code == 303 and answer.location == "/password"
    with client.session_transaction() as kept:  # only the messages are kept, never what was typed
        assert kept["refused"]["values"] == {} and "pendek" not in str(dict(kept))
    shown = client.get("/password")
    page = text(shown)
    assert shown.status_code == 422
    assert "Kata sandi lama salah" in page and "Minimal 10 karakter" in page and "tidak sama" in page
    again = client.get("/password")  # a reload: the form afresh, nothing resent
    assert again.status_code == 200 and "Kata sandi lama salah" not in text(again)
    answer = client.post(
        "/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "kata-sandi-baru-1", "repeat": "kata-sandi-baru-1"},
    )
    assert answer.status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client, "/inbox")})
    assert login(client, "operator").status_code == 401
    assert login(client, "operator", "kata-sandi-baru-1").status_code == 302


def test_the_inbox_lists_my_roles_tasks_with_masked_nik_and_filters(app: Any, client: Any) -> None:
    first, second = new_case(client, 0), new_case(client, 1)
    login(client, "operator")
    page = text(client.get("/inbox"))
    assert first in page and second in page
    assert re.search(r"6311\*{8}\d{4}", page)
    assert "Verifikasi kelengkapan" in page and "WITA" in page
    fragment = text(client.get("/inbox", query_string={"q": "Rusdi"}, headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<div id="task-table"') and second in fragment and first not in fragment
    assert 'hx-swap-oob="true"' in fragment
    assert first not in text(client.get("/inbox", query_string={"service": "sandang"}))
    assert "Tidak ada tugas." in text(client.get("/inbox", query_string={"overdue": "1"}))
    assert "Tidak ada tugas." in text(client.get("/inbox", query_string={"queue": "mine"}))


def test_a_nik_searched_in_the_inbox_never_sits_in_a_url(app: Any, client: Any) -> None:
    from web.demo import sample_application

    first, second = new_case(client, 0), new_case(client, 1)
    nik = sample_application(1)["applicant"]["nik"]
    login(client, "operator")
    token = csrf(client, "/inbox")
    answer = client.post("/inbox", data={"csrf_token": token, "q": nik, "queue": "available"})
    assert answer.status_code == 303 and nik not in answer.headers["Location"] and "qs=" in answer.headers["Location"]
    page = text(client.get(answer.headers["Location"]))
    assert second in page and first not in page and nik not in page.replace(f'value="{nik}"', "")
    fragment = client.post("/inbox", data={"csrf_token": token, "q": nik}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and second in text(fragment) and first not in text(fragment)
    pushed = fragment.headers["HX-Push-Url"]
    assert nik not in pushed and "qs=" in pushed
    assert nik not in text(fragment).replace(f'value="{nik}"', "")  # polling and paging links sealed too
    by_name = client.post("/inbox", data={"csrf_token": token, "q": "Rusdi"})
    assert "q=Rusdi" in by_name.headers["Location"]  # a name is no NIK: readable, bookmarkable


def test_a_role_without_the_task_neither_sees_nor_opens_it(app: Any, client: Any) -> None:
    reference = new_case(client)
    task = open_task(app, reference)
    login(client, "supervisor")
    assert reference not in text(client.get("/inbox"))
    answer = client.get(f"/tasks/{task.id}")
    assert answer.status_code == 403 and "bukan untuk peran" in text(answer)
    assert client.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_take_next_claims_the_oldest_task_i_may_do(app: Any, client: Any) -> None:
    oldest = new_case(client, 0)
    new_case(client, 1)
    login(client, "operator")
    answer = client.post("/inbox/next", data={"csrf_token": csrf(client, "/inbox")})
    task = open_task(app, oldest)
    assert answer.location == f"/tasks/{task.id}"
    assert task.state == "claimed" and task.claimed_by == "operator"
    assert oldest in text(client.get("/inbox?queue=mine"))


def test_a_task_form_shows_errors_next_to_fields_and_keeps_what_was_typed(app: Any, client: Any) -> None:
    task = open_task(app, new_case(client))
    login(client, "operator")
    token = csrf(client, f"/tasks/{task.id}")
    answer = client.post(
        f"/tasks/{task.id}",
        data={"csrf_token": token, "decision": "ditolak", "desil": "dua", "catatan": "Cek <b>KTP</b>"},
        follow_redirects=True,
    )
    assert answer.status_code == 422 and [r.status_code for r in answer.history] == [303]
    page = text(answer)
    assert re.search(r'data-field="alasan">.*?class="error"[^>]*>Wajib diisi\.', page, re.S)
    assert re.search(r'data-field="desil">.*?Harus berupa bilangan bulat', page, re.S)
    assert 'value="ditolak" checked' in page
    assert "Cek &lt;b&gt;KTP&lt;/b&gt;" in page  # kept, and escaped
    assert open_task(app, _reference(app, task)).state == "ready"


def _reference(app: Any, task: HumanTask) -> str:
    with app.app_context():
        return db.session.get(Case, task.case_id).reference  # type: ignore[union-attr]


def test_completing_a_task_converts_form_values_to_json_types(app: Any, client: Any) -> None:
    reference = new_case(client)
    task = open_task(app, reference)
    login(client, "operator")
    token = csrf(client, f"/tasks/{task.id}")
    answer = client.post(
        f"/tasks/{task.id}",
        data={
            "csrf_token": token,
            "status_dtsen": "terdaftar",
            "desil": "3",
            "nik_kk_sesuai": "1",
            "decision": "lengkap",
            "catatan": "",
        },
    )
    assert answer.status_code == 302 and answer.location == "/inbox"
    assert "selesai" in text(client.get("/inbox"))
    with app.app_context():
        event = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "task_completed")).one()
        assert event.payload["data"] == {
            "status_dtsen": "terdaftar",
            "desil": 3,
            "nik_kk_sesuai": True,
            "decision": "lengkap",
        }
    # the same form sent again: the task is done, so a clear message and back to the inbox
    again = client.post(
        f"/tasks/{task.id}", data={"csrf_token": token, "status_dtsen": "terdaftar", "decision": "lengkap"}
    )
    assert again.location == "/inbox"
    assert "sudah diselesaikan" in text(client.get("/inbox"))


def test_a_task_claimed_by_a_colleague_is_shown_without_its_form(app: Any, client: Any) -> None:
    task = open_task(app, new_case(client))
    login(client, "operator")
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf(client, f"/tasks/{task.id}")})
    with app.app_context():
        db.session.add(
            User(
                username="operator2",
                full_name="Operator Dua",
                password_hash=db.session.scalars(select(User.password_hash).where(User.username == "operator")).one(),
                roles=["operator"],
                active=True,
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()
    other = app.test_client()
    login(other, "operator2")
    page = text(other.get(f"/tasks/{task.id}"))
    assert "sedang dikerjakan oleh" in page and "task-form" not in page
    answer = other.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf(other, "/inbox")})
    assert answer.location == "/inbox" and "sudah diambil oleh operator" in text(other.get("/inbox"))
    released = client.post(f"/tasks/{task.id}/release", data={"csrf_token": csrf(client, "/inbox")})
    assert released.location == "/inbox" and open_task(app, _reference(app, task)).state == "ready"


def test_the_case_page_shows_timeline_tasks_comments_and_logs_the_view(app: Any, client: Any) -> None:
    reference = new_case(client)
    login(client, "manager")
    page = text(client.get(f"/cases/{reference}"))
    assert "Kasus dimulai" in page and "Verifikasi kelengkapan" in page and "Belum diambil" in page
    assert "data-current='[\"verifikasi\"]'" in page
    assert "bpmn-navigated-viewer" in page
    token = csrf(client, f"/cases/{reference}")
    empty = client.post(f"/cases/{reference}/comments", data={"csrf_token": token, "comment": "  "})
    assert empty.status_code == 303 and client.get(empty.headers["Location"]).status_code == 422
    answer = client.post(
        f"/cases/{reference}/comments", data={"csrf_token": token, "comment": "Cek <script>x</script>"}
    )
    assert answer.status_code == 302
    page = text(client.get(f"/cases/{reference}"))
    assert "Cek &lt;script&gt;x&lt;/script&gt;" in page
    diagram = client.get(f"/cases/{reference}/diagram.bpmn")
    assert diagram.mimetype == "application/xml" and b'id="verifikasi"' in diagram.data
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert kinds[-1] == "comment" and verify_chain(db.session, case) == []
        assert db.session.scalars(select(AccessLog).where(AccessLog.case_id == case.id)).first() is not None


def test_a_kabid_sees_only_cases_of_their_bidang(app: Any, client: Any) -> None:
    reference = new_case(client)
    login(client, "kabid_linjamsos")
    assert client.get(f"/cases/{reference}").status_code == 403


def test_the_inbox_page_loads_htmx_only_and_the_vendor_route_is_closed_to_other_packages(client: Any) -> None:
    login(client, "operator")
    page = text(client.get("/inbox"))
    assert "/vendor/htmx.org/htmx.min.js" in page and "bpmn" not in page
    assert client.get("/vendor/left-pad/index.js").status_code == 404
    assert client.get("/vendor/htmx.org/../package.json").status_code == 404


def test_english_is_selectable_and_dates_are_indonesian_by_default(app: Any, client: Any) -> None:
    from web.i18n import format_date, format_datetime

    with app.test_request_context("/"):
        assert format_datetime(datetime(2026, 11, 28, 1, 15, tzinfo=UTC)) == "28 November 2026 09.15 WITA"
        assert format_date("2026-08-17") == "17 Agustus 2026"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert format_datetime(datetime(2026, 11, 28, 1, 15, tzinfo=UTC)) == "November 28, 2026 9:15 AM WITA"
        assert format_date("2026-08-17") == "August 17, 2026"
    login(client, "operator")
    client.get("/language/en?next=/inbox")
    page = text(client.get("/inbox"))
    assert "Take next task" in page and 'lang="en"' in page
