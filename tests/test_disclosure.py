"""Each role sees what its step needs of the applicant, and every view is in the access log."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from babel.dates import format_date
from sqlalchemy import select

from engine.models import AccessLog, Case, Document
from web.demo import _users_by_role, advance, sample_application
from web.extensions import db

from .test_documents import photo
from .test_staff_pages import login, open_task, text

APPLICATION = sample_application(0)
PERSON = APPLICATION["applicant"]
LOCAL_PHONE = PERSON["phone"]  # 08…, as submitted


def _submit(client: Any, index: int = 0, **changes: Any) -> str:
    body = sample_application(index)
    body["applicant"].update(changes)
    answer = client.post("/api/v1/applications", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["reference"]


def _advance(app: Any, reference: str, steps: int) -> None:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        advance(case, steps, _users_by_role())
        db.session.commit()


def test_the_operator_sees_full_nik_kk_birth_date_and_sex_but_not_where_the_applicant_lives(
    app: Any, client: Any
) -> None:
    reference = _submit(client)
    login(client, "operator")
    page = text(client.get(f"/tasks/{open_task(app, reference).id}"))
    assert PERSON["nik"] in page and PERSON["kk_number"] in page
    born = format_date(date.fromisoformat(PERSON["birth_date"]), "long", locale="id")
    assert f"<dt>Tanggal lahir</dt><dd>{born}</dd>" in page
    assert "<dt>Jenis kelamin</dt><dd>" + {"L": "Laki-laki", "P": "Perempuan"}[PERSON["gender"]] in page
    assert PERSON["address"] not in page and "tel:" not in page


def test_the_supervisor_sees_address_a_phone_to_call_and_a_map_but_not_the_full_nik(app: Any, client: Any) -> None:
    reference = _submit(client)
    _advance(app, reference, 1)  # verification done: the home visit waits
    login(client, "supervisor")
    page = text(client.get(f"/tasks/{open_task(app, reference).id}"))
    assert PERSON["address"] in page and f'href="tel:{LOCAL_PHONE}"' in page
    assert "openstreetmap.org/search?query=" in page
    assert PERSON["nik"] not in page and PERSON["kk_number"] not in page


def test_the_head_of_agency_sees_neither_identity_numbers_nor_documents(app: Any, client: Any, token: Any) -> None:
    reference = _submit(client)
    headers = token("kadis")  # before the browser login (a cookie session must pass the CSRF check)
    login(client, "kadis")
    page = text(client.get(f"/cases/{reference}"))
    assert PERSON["nik"] not in page and PERSON["address"] not in page and "tel:" not in page
    assert "Dokumen tidak ditampilkan untuk peran Anda." in page
    answer = client.get(f"/api/v1/cases/{reference}", headers=headers).get_json()
    assert answer["applicant"]["disclosed"] == [] and answer["applicant"]["documents"] is False
    assert "phone" not in answer["applicant"] and answer["applicant"]["nik"].count("*") == 8


def test_the_api_case_view_discloses_per_role_and_is_access_logged(app: Any, client: Any, token: Any) -> None:
    reference = _submit(client)
    operator = client.get(f"/api/v1/cases/{reference}", headers=token("operator")).get_json()["applicant"]
    assert operator["nik"] == PERSON["nik"] and operator["kk_number"] == PERSON["kk_number"]
    assert operator["birth_date"] == PERSON["birth_date"] and "phone" not in operator
    supervisor = client.get(f"/api/v1/cases/{reference}", headers=token("supervisor")).get_json()["applicant"]
    assert supervisor["address"] == PERSON["address"] and supervisor["phone"].startswith("+62")
    assert "kk_number" not in supervisor and "*" in supervisor["nik"] and supervisor["map_url"]
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        logged = db.session.scalars(select(AccessLog).where(AccessLog.case_id == case.id))
        who = {(r.username, r.action) for r in logged}
    assert {("operator", "view"), ("supervisor", "view")} <= who


def test_documents_are_refused_to_a_role_that_does_not_need_them(app: Any, client: Any, token: Any) -> None:
    reference = _submit(client)
    answer = client.post(
        f"/api/v1/applications/{reference}/documents",
        data={"file": (io.BytesIO(photo()), "ktp.jpg"), "kind": "ktp"},
        content_type="multipart/form-data",
        headers=token("operator"),
    )
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        document_id = db.session.scalars(select(Document.id)).one()
    login(client, "kadis")
    assert client.get(f"/documents/{document_id}").status_code == 403
    operator = app.test_client()
    login(operator, "operator")
    assert operator.get(f"/documents/{document_id}").status_code == 200
