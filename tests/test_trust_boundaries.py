"""The security probe's reproductions (issue 10): leaks and escalations that must not reproduce."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import func, select

from engine.models import AccessLog, Case, CaseEvent, Document, HumanTask
from web.demo import SAMPLE_DATA, sample_application
from web.extensions import db

from .test_api import HAPPY_BY_USER, open_task, submit
from .test_documents import photo
from .test_public_pages import apply_form
from .test_staff_pages import csrf, login

API = "/api/v1"
EVIL = "https://evil.example"


def events(app: Any, reference: str) -> list[str]:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        return [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]


def task_state(app: Any, task_id: str) -> str:
    with app.app_context():
        row = db.session.get(HumanTask, task_id)
        assert row is not None
        return row.state


# --- cross-site request forgery on the JSON API -----------------------------------------------


def test_another_site_cannot_make_a_logged_in_supervisor_claim_a_task(app: Any, client: Any, token: Any) -> None:
    created = submit(client)
    task = open_task(client, token("operator"), created["reference"])
    login(client, "operator")
    forged = client.post(f"{API}/tasks/{task['id']}/claim", headers={"Origin": EVIL})
    assert forged.status_code == 400 and forged.get_json()["error"]["code"] == "bad_request"
    no_origin = client.post(f"{API}/tasks/{task['id']}/claim")
    assert no_origin.status_code == 400
    assert task_state(app, task["id"]) == "ready"
    planted = client.post(
        f"{API}/applications/{created['reference']}/documents",
        data={"file": (io.BytesIO(photo()), "x.jpg"), "kind": "ktp"},
        content_type="multipart/form-data",
        headers={"Origin": EVIL},
    )
    assert planted.status_code == 400 and "document_added" not in events(app, created["reference"])
    # our own pages may call it: same Origin, or the session's CSRF token in a header
    same = client.post(f"{API}/tasks/{task['id']}/claim", headers={"Origin": "http://localhost"})
    assert same.status_code == 200 and task_state(app, task["id"]) == "claimed"
    with_token = client.post(f"{API}/tasks/{task['id']}/release", headers={"X-CSRFToken": csrf(client, "/inbox")})
    assert with_token.status_code == 200 and task_state(app, task["id"]) == "ready"


def test_bearer_token_clients_need_no_csrf_token(client: Any, token: Any) -> None:
    created = submit(client)
    task = open_task(client, token("operator"), created["reference"])
    answer = client.post(f"{API}/tasks/{task['id']}/claim", headers={**token("operator"), "Origin": EVIL})
    assert answer.status_code == 200


def test_the_session_cookie_is_samesite_lax_and_httponly(client: Any) -> None:
    answer = login(client, "operator")
    cookie = next(v for v in answer.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


# --- auditors read, never write ---------------------------------------------------------------


def test_an_auditor_cannot_upload_comment_claim_or_complete(app: Any, client: Any, token: Any) -> None:
    created = submit(client)
    reference = created["reference"]
    task = open_task(client, token("operator"), reference)
    before = events(app, reference)
    auditor = token("auditor")
    upload = client.post(
        f"{API}/applications/{reference}/documents",
        data={"file": (io.BytesIO(photo()), "x.jpg"), "kind": "ktp"},
        content_type="multipart/form-data",
        headers=auditor,
    )
    assert upload.status_code == 403
    assert client.post(f"{API}/tasks/{task['id']}/claim", headers=auditor).status_code == 403
    done = client.post(f"{API}/tasks/{task['id']}/complete", json={"data": SAMPLE_DATA["verifikasi"]}, headers=auditor)
    assert done.status_code == 403
    assert client.post(f"{API}/applications", json=sample_application(3), headers=auditor).status_code == 403
    login(client, "auditor")
    page_token = csrf(client, f"/cases/{reference}")
    comment = client.post(f"/cases/{reference}/comments", data={"csrf_token": page_token, "comment": "Catatan"})
    assert comment.status_code == 403
    claim = client.post(f"/tasks/{task['id']}/claim", data={"csrf_token": page_token})
    assert claim.status_code == 403
    assert events(app, reference) == before
    # reading stays open to them
    assert client.get(f"/cases/{reference}").status_code == 200
    assert client.post(f"{API}/cases/{reference}/replay", headers=auditor).status_code == 200


# --- document kinds: owner role and visibility ------------------------------------------------


def _upload(client: Any, reference: str, kind: str, headers: dict[str, str]) -> Any:
    return client.post(
        f"{API}/applications/{reference}/documents",
        data={"file": (io.BytesIO(photo()), "rumah.jpg"), "kind": kind},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_only_the_supervisor_uploads_the_home_visit_photo(client: Any, token: Any) -> None:
    created = submit(client)
    for user in ("operator", "manager", "kadis", "front_office", "admin"):
        assert _upload(client, created["reference"], "foto_kunjungan", token(user)).status_code == 403, user
    assert _upload(client, created["reference"], "foto_kunjungan", token("supervisor")).status_code == 201
    assert _upload(client, created["reference"], "ktp", token("operator")).status_code == 201


def test_staff_only_documents_never_reach_the_applicant(client: Any, token: Any) -> None:
    created = submit(client)
    reference, code = created["reference"], created["tracking_code"]
    visit = _upload(client, reference, "foto_kunjungan", token("supervisor")).get_json()["id"]
    ktp = _upload(client, reference, "ktp", token("operator")).get_json()["id"]
    tracking = client.get(f"{API}/applications/{reference}", query_string={"tracking_code": code}).get_json()
    assert [d["id"] for d in tracking["documents"]] == [ktp]
    page = client.get(f"/track/{reference}", query_string={"tracking_code": code}).get_data(as_text=True)
    assert f"/documents/{ktp}" in page and f"/documents/{visit}" not in page
    hidden = client.get(f"/track/{reference}/documents/{visit}", query_string={"tracking_code": code})
    assert hidden.status_code == 404
    assert client.get(f"/track/{reference}/documents/{ktp}", query_string={"tracking_code": code}).status_code == 200
    assert client.get(f"/documents/{visit}", headers=token("supervisor")).status_code == 200


# --- public form tokens -------------------------------------------------------------------------


def test_replaying_another_submissions_form_token_never_shows_its_receipt(app: Any, client: Any) -> None:
    first = client.post("/apply", data=apply_form(0, form_token="shared-token"), content_type="multipart/form-data")
    assert first.status_code == 303
    receipt = client.get(first.headers["Location"]).get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', receipt).group(1)  # type: ignore[union-attr]
    attacker = app.test_client()
    replay = attacker.post(
        "/apply",
        data=apply_form(1, form_token="shared-token"),
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = replay.get_data(as_text=True)
    assert replay.status_code == 409 and reference not in text and "sudah pernah dikirim" in text
    assert attacker.get("/terkirim").status_code == 302  # no receipt in the attacker's session
    # the receipt's address names the reference only: without the code in one's own session it shows nothing
    assert attacker.get(first.headers["Location"]).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    # the same form sent again (the second tap) still answers with its own receipt
    again = client.post("/apply", data=apply_form(0, form_token="shared-token"), content_type="multipart/form-data")
    assert again.status_code == 303 and reference in client.get(again.headers["Location"]).get_data(as_text=True)


# --- access log and duplicates ------------------------------------------------------------------


def access_log(app: Any, reference: str) -> list[tuple[str, str]]:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        rows = db.session.scalars(select(AccessLog).where(AccessLog.case_id == case.id).order_by(AccessLog.id))
        return [(r.username, r.action) for r in rows]


def test_reading_a_task_through_the_api_is_logged(app: Any, client: Any, token: Any) -> None:
    created = submit(client)
    task = open_task(client, token("operator"), created["reference"])
    assert client.get(f"{API}/tasks/{task['id']}", headers=token("operator")).status_code == 200
    assert ("operator", "task") in access_log(app, created["reference"])


def test_a_kabid_sees_duplicates_only_of_cases_they_may_open(client: Any, token: Any) -> None:
    created = submit(client)
    reference = created["reference"]
    for user, step in HAPPY_BY_USER[:5]:
        item = open_task(client, token(user), reference)
        done = client.post(f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA[step]}, headers=token(user))
        assert done.status_code == 200, done.get_json()
    other = sample_application(0)
    other["service"] = "sandang"
    second = client.post(f"{API}/applications", json=other).get_json()  # same NIK, not yet routed
    kabid_task = open_task(client, token("kabid_rehsos"), reference)
    detail = client.get(f"{API}/tasks/{kabid_task['id']}", headers=token("kabid_rehsos")).get_json()
    assert detail["case"]["duplicates"] == []
    assert client.get(f"{API}/cases/{second['reference']}", headers=token("kabid_rehsos")).status_code == 403
    second_task = open_task(client, token("operator"), second["reference"])
    as_operator = client.get(f"{API}/tasks/{second_task['id']}", headers=token("operator")).get_json()
    assert [d["reference"] for d in as_operator["case"]["duplicates"]] == [reference]


# --- the deployed diagram is served inert -------------------------------------------------------


def test_the_diagram_is_a_download_that_can_run_no_script(client: Any) -> None:
    reference = submit(client)["reference"]
    login(client, "manager")
    answer = client.get(f"/cases/{reference}/diagram.bpmn")
    assert answer.status_code == 200 and b"<bpmn:definitions" in answer.data
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_document_listing_for_staff_still_shows_every_kind(app: Any, client: Any, token: Any) -> None:
    created = submit(client)
    _upload(client, created["reference"], "foto_kunjungan", token("supervisor"))
    with app.app_context():
        assert [d.kind for d in db.session.scalars(select(Document))] == ["foto_kunjungan"]
    login(client, "manager")
    page = client.get(f"/cases/{created['reference']}").get_data(as_text=True)
    assert "Foto kunjungan rumah" in page  # the kind by its label (issue 12: no raw codes)
