"""The companion on the staff case page and the applicant's tracking page; the forecast on the visit task."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.models import Case, CaseEvent, Notification, User
from tests.conftest import app_on
from tests.fake_bmkg import FakeBMKG
from web.auth import actor_for
from web.demo import load_demo_companions, sample_application
from web.extensions import db

from .test_staff_pages import csrf, login, open_task

UDIN = 9  # demo applicant in Hamarung, Kecamatan Juai


def _setup(app: Any, client: Any) -> tuple[str, str]:
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        load_demo_companions(actor_for(admin))
        db.session.commit()
    answer = client.post("/api/v1/applications", json={**sample_application(UDIN), "service": "pendamping"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["reference"], answer.get_json()["tracking_code"]


def test_the_manager_assigns_the_proposed_tksk_and_the_applicant_sees_pendamping_anda(app: Any) -> None:
    applicant, staff = app.test_client(), app.test_client()
    reference, code = _setup(app, applicant)
    login(staff, "manager")
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Usulan: Rahmadi (TKSK)" in page and "pemohon meminta pendamping" in page
    chosen = re.search(r'<option value="(\d+)" selected>Rahmadi', page)
    assert chosen, "the proposed TKSK is preselected"
    token = csrf(staff, f"/cases/{reference}")
    answer = staff.post(
        f"/cases/{reference}/pendamping",
        data={"companion_id": chosen.group(1), "note": "Mohon dampingi", "csrf_token": token},
    )
    assert answer.status_code == 302
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Pendamping ditugaskan" in page and "Rahmadi (tksk). Mohon dampingi" in page
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        kinds = db.session.scalars(select(Notification.kind).where(Notification.case_id == case.id)).all()
        assert {"companion_assigned", "companion_for_applicant"} <= set(kinds)
    tracking = applicant.post("/track", data={"reference": reference, "tracking_code": code})
    assert tracking.status_code == 302
    status = applicant.get(tracking.headers["Location"]).get_data(as_text=True)
    assert "Pendamping Anda" in status and "Rahmadi" in status
    assert 'href="tel:+6281200000101"' in status and "Pendamping sosial ditugaskan untuk Anda." in status


def test_staff_who_may_not_assign_see_no_form_and_are_refused(app: Any) -> None:
    applicant, staff = app.test_client(), app.test_client()
    reference, _code = _setup(app, applicant)
    login(staff, "kadis")
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Pendamping sosial" in page and "Tugaskan pendamping" not in page
    token = csrf(staff, f"/cases/{reference}")
    answer = staff.post(f"/cases/{reference}/pendamping", data={"companion_id": "1", "csrf_token": token})
    assert answer.status_code == 302
    follow = staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Hanya manajer, operator, atau supervisor" in follow
    with app.app_context():
        events = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.kind == "companion_assigned")).all()
        assert events == []


def _to_visit(app: Any, client: Any, reference: str) -> str:
    """Complete the operator's check so the supervisor's home visit is open; return its task id."""
    login(client, "operator")
    task = open_task(app, reference)
    token = csrf(client, f"/tasks/{task.id}")
    form = {"status_dtsen": "terdaftar", "desil": "2", "nik_kk_sesuai": "true", "decision": "lengkap"}
    answer = client.post(f"/tasks/{task.id}", data={**form, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    client.post("/logout", data={"csrf_token": csrf(client, "/inbox")})
    visit = open_task(app, reference)
    assert visit.spec_name == "kunjungan"
    return visit.id


def test_the_supervisor_sees_the_forecast_of_the_applicants_desa_on_the_home_visit(tmp_path: Path) -> None:
    with FakeBMKG() as bmkg, app_on(tmp_path, BMKG_FORECAST_URL=bmkg.url, BMKG_TIMEOUT=3.0) as app:
        client = app.test_client()
        reference, _code = _setup(app, client)
        task_id = _to_visit(app, client, reference)
        assert client.get("/cuaca?desa=63.11.01.2002").status_code == 200  # someone looked: now cached
        assert bmkg.requests == ["63.11.01.2002"]
        login(client, "supervisor")
        page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        assert "Prakiraan cuaca desa pemohon" in page and "Sumber data:" in page and "Hari ini" in page
        assert bmkg.requests == ["63.11.01.2002"]  # the task page read the cache


def test_the_visit_task_never_waits_for_bmkg_and_says_when_there_is_no_forecast_yet(tmp_path: Path) -> None:
    with FakeBMKG(delay=2) as bmkg, app_on(tmp_path, BMKG_FORECAST_URL=bmkg.url, BMKG_TIMEOUT=3.0) as app:
        client = app.test_client()
        reference, _code = _setup(app, client)
        task_id = _to_visit(app, client, reference)
        login(client, "supervisor")
        page = client.get(f"/tasks/{task_id}")  # would take 2 s if it waited for the slow BMKG
        assert page.status_code == 200
        assert "Data cuaca belum tersedia" in page.get_data(as_text=True)


def test_administrators_import_a_csv_page_and_see_each_bad_line(app: Any) -> None:
    import io

    client = app.test_client()
    login(client, "admin")
    token = csrf(client, "/admin/pendamping/")
    bad = b"nama,peran,kode_kecamatan,telepon\nRahmadi,tksk,63.11.01,0812-0000-0101\nX,tksk,63.11.01,0812\n"
    answer = client.post(
        "/admin/pendamping/impor", data={"csrf_token": token, "file": (io.BytesIO(bad), "p.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Baris 3: nama: Panjang nama 2–200 karakter." in page and "Berkas CSV tidak diimpor" in page
    good = bad.split(b"\nX")[0] + b"\n"
    answer = client.post(
        "/admin/pendamping/impor", data={"csrf_token": token, "file": (io.BytesIO(good), "p.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 302
    listing = client.get("/admin/pendamping/?kecamatan=63.11.01").get_data(as_text=True)
    assert "Rahmadi" in listing and "0812-0000-0101" in listing
    with app.app_context():
        from engine.models import Companion

        companion = db.session.scalars(select(Companion)).one()
    edit = client.post(
        f"/admin/pendamping/{companion.id}",
        data={"csrf_token": token, "name": "Rahmadi", "role": "tksk", "kecamatan_code": "63.11.01",
              "phone": "0812-0000-0111", "active": "1"},
    )  # fmt: skip
    assert edit.status_code == 302
    history = client.get(f"/admin/pendamping/{companion.id}").get_data(as_text=True)
    assert "Riwayat perubahan" in history and "+6281200000101 → +6281200000111" in history


def test_the_directory_pages_are_for_administrators_only(app: Any) -> None:
    client = app.test_client()
    assert client.get("/admin/pendamping/").status_code == 302  # to the login
    login(client, "manager")
    assert client.get("/admin/pendamping/").status_code == 403
    assert client.post("/admin/pendamping/baru", data={"csrf_token": csrf(client, "/inbox")}).status_code == 403
