"""Field uploads and resubmission: the supervisor's visit photo from a staff page; "Kirim kelengkapan"
needs the documents asked for (or an explanation), so the history shows documents first."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from engine.models import Case, CaseEvent, Document
from web.demo import SAMPLE_DATA, sample_application

from .test_disclosure import _advance, _submit
from .test_documents import photo
from .test_staff_pages import login, open_task, text

API = "/api/v1"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_supervisor_takes_the_visit_photo_from_the_task_page(app: Any, client: Any) -> None:
    reference = _submit(client)
    _advance(app, reference, 1)
    login(client, "supervisor")
    task = open_task(app, reference)
    page = text(client.get(f"/tasks/{task.id}"))
    assert 'capture="environment"' in page and 'data-keep-gps="1"' in page and "browser-image-compression" in page
    answer = client.post(
        f"/tasks/{task.id}/documents",
        data={"csrf_token": _csrf(page), "kind": "foto_kunjungan", "file": (io.BytesIO(photo()), "rumah.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302 and answer.location.endswith(f"/tasks/{task.id}#foto")
    assert "Foto kunjungan rumah tersimpan." in text(client.get(f"/tasks/{task.id}"))
    with app.app_context():
        from web.extensions import db

        assert [d.kind for d in db.session.scalars(select(Document))] == ["foto_kunjungan"]


def test_an_operator_cannot_upload_the_visit_photo_and_sees_no_photo_form(app: Any, client: Any) -> None:
    reference = _submit(client)
    login(client, "operator")
    task = open_task(app, reference)
    page = text(client.get(f"/tasks/{task.id}"))
    assert "visit-photo" not in page
    client.post(
        f"/tasks/{task.id}/documents",
        data={"csrf_token": _csrf(page), "kind": "foto_kunjungan", "file": (io.BytesIO(photo()), "rumah.jpg")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        from web.extensions import db

        assert db.session.scalars(select(Document)).first() is None


def _incomplete(client: Any, token: Any) -> dict[str, Any]:
    body = client.post(f"{API}/applications", json=sample_application(0))
    created = body.get_json()
    items = client.get(f"{API}/tasks", query_string={"q": created["reference"]}, headers=token("operator")).get_json()
    data = {**SAMPLE_DATA["verifikasi"], "decision": "tidak_lengkap", "dokumen_kurang": ["kk"]}
    done = client.post(
        f"{API}/tasks/{items['items'][0]['id']}/complete", json={"data": data}, headers=token("operator")
    )
    assert done.status_code == 200, done.get_json()
    return created


def test_resubmitting_without_the_documents_asked_for_needs_an_explanation(app: Any, client: Any, token: Any) -> None:
    created = _incomplete(client, token)
    url = f"/track/{created['reference']}/resubmit"
    empty = client.post(url, data={"tracking_code": created["tracking_code"], "note": ""}, follow_redirects=True)
    assert (
        [r.status_code for r in empty.history] == [303]
        and empty.status_code == 422
        and "Dokumen yang diminta belum semuanya diunggah" in text(empty)
    )
    api = client.post(
        f"{API}/applications/{created['reference']}/resubmit", json={"tracking_code": created["tracking_code"]}
    )
    assert api.status_code == 422 and api.get_json()["error"]["details"]["missing"] == ["kk"]
    explained = client.post(
        url, data={"tracking_code": created["tracking_code"], "note": "KK hilang, sedang diurus di Disdukcapil"}
    )
    assert explained.status_code == 302


def test_documents_come_before_the_resubmission_in_the_history(app: Any, client: Any, token: Any) -> None:
    created = _incomplete(client, token)
    reference, code = created["reference"], created["tracking_code"]
    sent = client.post(
        f"/track/{reference}/documents",
        data={"kind": "kk", "tracking_code": code, "file": (io.BytesIO(photo()), "kk.jpg")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    assert client.post(f"/track/{reference}/resubmit", data={"tracking_code": code}).status_code == 302
    with app.app_context():
        from web.extensions import db

        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        kinds = [
            e.kind
            for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
        ]
    assert kinds.index("document_added") < kinds.index("message_received")
