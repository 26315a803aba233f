"""The auditors' pages: an auditor lands on /audit/, finds cases, steps back in time, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.models import AccessLog, Case, CaseEvent
from tests.conftest import PASSWORD, app_on
from tests.tampering import guards_dropped, signing_pair
from tests.test_rujukan import HAPPY
from web.extensions import db


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    key, cert = signing_pair(tmp_path / "keys")
    with app_on(tmp_path, SIGNING_KEY_FILE=key, SIGNING_CERT_FILE=cert, WTF_CSRF_ENABLED=False) as app:
        yield app


@pytest.fixture
def cases(app: Flask, driver: Any) -> dict[str, Any]:
    done = driver().apply(index=0)
    for name in HAPPY:
        done.do(name)
    waiting = driver().apply(index=1).do("verifikasi")
    assert app.test_cli_runner().invoke(args=["audit", "anchor", "create"]).exit_code == 0
    return {"done": done.case.reference, "waiting": waiting.case.reference}


def login(client: Any, username: str) -> Any:
    return client.post("/login", data={"username": username, "password": PASSWORD})


def test_an_auditor_lands_on_the_audit_pages_not_an_empty_inbox(client: Any, cases: dict[str, Any]) -> None:
    answer = login(client, "auditor")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"], follow_redirects=True)
    assert page.request.path == "/audit/"
    assert cases["done"] in page.text and cases["waiting"] in page.text


def test_the_case_list_filters_by_status_actor_and_outcome(client: Any, cases: dict[str, Any]) -> None:
    login(client, "auditor")
    closed = client.get("/audit/?status=completed").text
    assert cases["done"] in closed and cases["waiting"] not in closed
    by_actor = client.get("/audit/?actor=kadis").text  # only the finished case reached the kadis
    assert cases["done"] in by_actor and cases["waiting"] not in by_actor
    assert cases["waiting"] not in client.get("/audit/?outcome=selesai").text
    bad = client.get("/audit/?date_from=kemarin")
    assert bad.status_code == 400 and "date_from" in bad.text


def test_other_roles_may_not_open_the_audit_pages(client: Any, cases: dict[str, Any]) -> None:
    login(client, "operator")
    assert client.get("/audit/").status_code == 403
    assert client.get(f"/audit/cases/{cases['done']}").status_code == 403


def test_time_travel_shows_the_case_as_it_was_after_the_chosen_event(client: Any, cases: dict[str, Any]) -> None:
    login(client, "auditor")
    page = client.get(f"/audit/cases/{cases['done']}?event=2")
    assert page.status_code == 200
    assert "Keadaan setelah peristiwa 2 dari 11" in page.text
    # after the verification (event 2) the verification is done and the visit is active
    completed = json.loads(page.text.split("data-completed='")[1].split("'")[0])
    current = json.loads(page.text.split("data-current='")[1].split("'")[0])
    assert any("verifikasi" in c for c in completed) and not any("kunjungan" in c for c in completed)
    assert any("kunjungan" in c for c in current)
    assert "status_dtsen" in page.text and "kondisi_rumah" not in page.text  # data as it was then
    last = client.get(f"/audit/cases/{cases['done']}").text
    assert "Keadaan setelah peristiwa 11 dari 11" in last and "kondisi_rumah" in last
    with client.application.app_context():
        logged = db.session.scalars(select(AccessLog.action).where(AccessLog.username == "auditor")).all()
    assert "audit" in logged


def test_verify_now_reports_a_tampered_case_with_where_it_happened(
    app: Flask, client: Any, cases: dict[str, Any]
) -> None:
    login(client, "auditor")
    answer = client.post(f"/audit/cases/{cases['done']}/verify")
    assert answer.status_code == 302
    assert "Rantai hash utuh" in client.get(answer.headers["Location"]).text
    with app.app_context(), guards_dropped():
        case = db.session.scalars(select(Case).where(Case.reference == cases["done"])).one()
        event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 5)).one()
        event.actor = "penyusup"
        db.session.commit()
    client.post(f"/audit/cases/{cases['done']}/verify")
    page = client.get(f"/audit/cases/{cases['done']}").text
    assert "Ditemukan ketidaksesuaian" in page and "RUSAK" in page
    assert f"/audit/cases/{cases['done']}?event=5#keadaan" in page


def test_a_case_history_exports_as_json_csv_and_pdf(client: Any, cases: dict[str, Any]) -> None:
    login(client, "auditor")
    reference = cases["done"]
    document = client.get(f"/audit/cases/{reference}/history.json").get_json()
    assert document["reference"] == reference and len(document["events"]) == 11
    assert document["events"][1]["prev_hash"] == document["events"][0]["hash"]
    assert document["verification"]["consistent"] is True
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/audit/cases/{reference}/history.csv").data.decode("utf-8-sig")))
    )
    assert [r["seq"] for r in rows] == [str(n) for n in range(1, 12)] and rows[-1]["kind"] == "case_closed"
    pdf = client.get(f"/audit/cases/{reference}/summary.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"


def test_the_access_log_answers_whose_data_a_user_touched_and_who_touched_a_person(
    app: Flask, client: Any, cases: dict[str, Any], actor: Any
) -> None:
    from engine.cases import get_case
    from engine.clock import utcnow
    from engine.inbox import log_access
    from web.demo import sample_application

    # the operator opened the waiting case (as the case page logs it)
    log_access(db.session, get_case(db.session, cases["waiting"]), actor("operator"), "view", utcnow())
    db.session.commit()
    login(client, "auditor")
    by_user = client.get("/audit/access?username=operator").text
    assert cases["waiting"] in by_user and cases["done"] not in by_user
    nik = sample_application(1)["applicant"]["nik"]
    by_person = client.get(f"/audit/access?nik={nik}", follow_redirects=True).text
    assert "operator" in by_person and cases["waiting"] in by_person
    assert client.get("/audit/access?nik=123", follow_redirects=True).status_code == 400


def test_anchors_page_exports_and_checks_an_auditors_copy(app: Flask, client: Any, cases: dict[str, Any]) -> None:
    login(client, "auditor")
    page = client.get("/audit/anchors").text
    assert "Rantai jangkar utuh" in page and "1 jangkar" in page
    copy = client.get("/audit/anchors/export.json").data
    assert json.loads(copy)["anchor_count"] == 1
    ok = client.post("/audit/anchors/check", data={"anchors": (io.BytesIO(copy), "jangkar.json")})
    assert "masih memuat semua" in ok.text
    with app.app_context(), guards_dropped():
        case = db.session.scalars(select(Case).where(Case.reference == cases["waiting"])).one()
        for model in (CaseEvent,):
            db.session.execute(model.__table__.delete().where(model.case_id == case.id))
        db.session.commit()
    bad = client.post("/audit/anchors/check", data={"anchors": (io.BytesIO(copy), "jangkar.json")})
    assert "TIDAK lagi memuat" in bad.text and cases["waiting"] in bad.text
    junk = client.post("/audit/anchors/check", data={"anchors": (io.BytesIO(b"{}"), "x.json")})
    assert junk.status_code == 422
