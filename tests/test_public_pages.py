"""Public pages: apply, complain, track, verify — bad input answered in Indonesian, nothing half-stored."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Case, Document, Person
from web.demo import SAMPLE_DATA, sample_application
from web.extensions import db

from .test_documents import PDF, photo

XSS = "<script>alert(1)</script>"


def apply_form(index: int = 0, **changes: str) -> dict[str, Any]:
    sample = sample_application(index)
    form = {k: v for k, v in sample.items() if k != "applicant"}
    form.update(sample["applicant"])
    form.update(consent="1", form_token=f"token-{index}")
    form.update(changes)
    return form


def cases(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case)) or 0


def people(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person)) or 0


@pytest.mark.parametrize("path", ["/", "/apply", "/complaint", "/track", "/verify"])
def test_every_public_page_answers_without_login(client: Any, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200 and b'lang="id"' in answer.data
    assert b'name="viewport"' in answer.data


def test_home_links_every_public_page(client: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    for path in ("/apply", "/complaint", "/track", "/verify"):
        assert f'href="{path}"' in page


def test_the_apply_page_explains_services_documents_regions_and_consent(client: Any) -> None:
    page = client.get("/apply").get_data(as_text=True)
    for service in ("panti_rehab", "sandang", "alat_bantu", "slrt", "berdaya", "pendamping"):
        assert f'value="{service}"' in page
    assert "Surat pengantar Dinas Sosial daerah asal" in page and "Surat keterangan dokter" in page
    assert page.count("<optgroup") == 8 and 'value="63.11.06.1019"' in page
    assert 'name="consent"' in page and "27 Tahun 2022" in page


def test_an_application_through_the_page_gives_a_reference_and_code(client: Any, app: Any) -> None:
    form = apply_form(0, doc_ktp=(io.BytesIO(photo()), "ktp.jpg"), doc_kk=(io.BytesIO(PDF), "kk.pdf"))
    answer = client.post("/apply", data=form, content_type="multipart/form-data")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/terkirim/RJK-")
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', receipt).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="tracking-code">([^<]+)<', receipt).group(1)  # type: ignore[union-attr]
    assert reference.startswith("RJK-") and len(code) == 8
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.person is not None and case.person.phone == "+6281234567800"
        assert sorted(d.kind for d in db.session.scalars(select(Document))) == ["kk", "ktp"]
    # the same form sent again (a second tap on a slow connection) makes no second case
    form = apply_form(0, doc_ktp=(io.BytesIO(photo()), "ktp.jpg"), doc_kk=(io.BytesIO(PDF), "kk.pdf"))
    again = client.post("/apply", data=form, content_type="multipart/form-data")
    assert again.status_code == 303 and again.headers["Location"] == answer.headers["Location"] and cases(app) == 1
    status = client.get(f"/track/{reference}")  # remembered in the session
    assert status.status_code == 200 and "Permohonan diterima." in status.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"nik": "1234"}, "nik", "NIK harus 16 digit angka."),
        ({"nik": "9911064403520001"}, "nik", "Kode provinsi pada NIK tidak dikenal."),
        ({"nik": "6311069903520001"}, "nik", "Tanggal lahir pada NIK tidak valid."),
        ({"birth_date": (date.today() + timedelta(days=3)).isoformat()}, "birth_date", "masa depan"),
        ({"village_code": "63.09.01.2001"}, "village_code", "tidak ditemukan di Kabupaten Balangan"),
        ({"phone": "12345"}, "phone", "Nomor telepon"),
        ({"kk_number": "abc"}, "kk_number", "Nomor KK harus 16 digit"),
        ({"consent": ""}, "consent", "Centang persetujuan"),
        ({"service": "jalan_tol"}, "service", "Pilihan tidak valid."),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_stored(
    client: Any, app: Any, change: dict[str, str], field: str, message: str
) -> None:
    answer = client.post(
        "/apply", data=apply_form(0, **change), content_type="multipart/form-data", follow_redirects=True
    )
    page = answer.get_data(as_text=True)
    # refused, then shown by GET (Post/Redirect/Get: Back and reload never resend the form)
    assert [r.status_code for r in answer.history] == [303] and answer.status_code == 422
    assert f'id="{field}-error"' in page and message in page
    assert 'value="Aminah"' in page  # typed values are kept
    assert cases(app) == 0 and people(app) == 0


def test_a_bad_file_rejects_the_whole_application(client: Any, app: Any) -> None:
    form = apply_form(0, doc_ktp=(io.BytesIO(b"MZ\x90\x00program"), "ktp.jpg"), doc_kk=(io.BytesIO(PDF), "kk.pdf"))
    answer = client.post("/apply", data=form, content_type="multipart/form-data", follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="doc_ktp-error"' in page and "Jenis berkas tidak didukung" in page
    assert cases(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_a_request_over_the_size_limit_gets_an_indonesian_page(client: Any, app: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    form = apply_form(0, doc_ktp=(io.BytesIO(b"\xff\xd8\xff" + b"0" * 60_000), "ktp.jpg"))
    answer = client.post("/apply", data=form, content_type="multipart/form-data")
    assert answer.status_code == 413 and "Berkas terlalu besar" in answer.get_data(as_text=True)
    assert cases(app) == 0


def test_script_in_every_text_field_is_shown_inert(client: Any, app: Any) -> None:
    form = apply_form(0, name=XSS, address=XSS, description=XSS, nik=XSS, phone=XSS, kk_number=XSS)
    page = client.post("/apply", data=form, content_type="multipart/form-data", follow_redirects=True).get_data(
        as_text=True
    )
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    ok = apply_form(1, name=f"Aminah {XSS}"[:200], address=XSS, description=XSS)
    client.post("/apply", data=ok, content_type="multipart/form-data")
    receipt = client.get("/terkirim", follow_redirects=True).get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', receipt).group(1)  # type: ignore[union-attr]
    status = client.get(f"/track/{reference}").get_data(as_text=True)
    assert XSS not in status
    complaint = {"category": "pelayanan", "description": XSS * 2, "phone": "0812", "village_code": XSS, "name": XSS}
    page = client.post("/complaint", data=complaint, follow_redirects=True).get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;" in page
    verify = client.get("/verify/%3Cscript%3Ealert(1)%3C%2Fscript%3E").get_data(as_text=True)
    assert XSS not in verify
    track = client.post("/track", data={"reference": XSS, "tracking_code": XSS}, follow_redirects=True).get_data(
        as_text=True
    )
    assert XSS not in track


def test_a_complaint_through_the_page(client: Any, app: Any) -> None:
    complaint = {
        "category": "bansos_tidak_tepat_sasaran",
        "description": "Bantuan sembako diterima keluarga mampu di RT 03.",
        "phone": "0812 9876 5432",
        "village_code": "63.11.06.1019",
        "name": "",
        "form_token": "abc",
        "doc_lainnya": (io.BytesIO(photo("PNG")), "bukti.png"),
    }
    answer = client.post("/complaint", data=complaint, content_type="multipart/form-data")
    assert answer.status_code == 303
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "ADU-" in receipt and "Aduan terkirim" in receipt
    bad = client.post(
        "/complaint",
        data={**complaint, "description": "pendek", "doc_lainnya": (io.BytesIO(b""), "")},
        follow_redirects=True,
    )
    assert bad.status_code == 422 and "paling sedikit 10 huruf" in bad.get_data(as_text=True)


def test_tracking_with_a_wrong_code_says_so_without_telling_which_part(client: Any) -> None:
    created = client.post("/api/v1/applications", json=sample_application(0)).get_json()
    wrong = client.post(
        "/track", data={"reference": created["reference"], "tracking_code": "ZZZZZZZZ"}, follow_redirects=True
    )
    unknown = client.post(
        "/track", data={"reference": "RJK-2026-999999", "tracking_code": "ZZZZZZZZ"}, follow_redirects=True
    )
    assert wrong.status_code == unknown.status_code == 404
    assert "tidak cocok" in wrong.get_data(as_text=True)
    right = client.post("/track", data={"reference": created["reference"], "tracking_code": created["tracking_code"]})
    assert right.status_code == 302
    assert client.get("/track/RJK-2026-999999").status_code == 404


def test_the_incomplete_documents_loop_from_the_applicants_side(client: Any, token: Any, app: Any) -> None:
    created = client.post("/api/v1/applications", json=sample_application(0)).get_json()
    reference, code = created["reference"], created["tracking_code"]
    headers = token("operator")
    [task] = client.get("/api/v1/tasks", query_string={"q": reference}, headers=headers).get_json()["items"]
    data = {
        **SAMPLE_DATA["verifikasi"],
        "decision": "tidak_lengkap",
        "dokumen_kurang": ["kk", "surat_keterangan_dokter"],
    }
    data["catatan"] = "RAHASIA-INTERNAL petugas Siti"
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers).status_code == 200

    applicant = app.test_client()
    assert applicant.post("/track", data={"reference": reference, "tracking_code": code}).status_code == 302
    page = applicant.get(f"/track/{reference}").get_data(as_text=True)
    assert "Berkas yang perlu dilengkapi" in page
    assert "Kartu Keluarga (KK)" in page and "Surat keterangan dokter" in page
    assert "RAHASIA-INTERNAL" not in page and "Siti" not in page and "operator" not in page.lower()

    bad = applicant.post(
        f"/track/{reference}/documents",
        data={"kind": "kk", "tracking_code": code, "file": (io.BytesIO(b"MZ\x90\x00"), "kk.jpg")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert bad.status_code == 422 and "Jenis berkas tidak didukung" in bad.get_data(as_text=True)
    for kind in ("kk", "surat_keterangan_dokter"):
        sent = applicant.post(
            f"/track/{reference}/documents",
            data={"kind": kind, "tracking_code": code, "file": (io.BytesIO(photo()), f"{kind}.jpg")},
            content_type="multipart/form-data",
        )
        assert sent.status_code == 302
    page = applicant.get(f"/track/{reference}").get_data(as_text=True)
    assert page.count("sudah diunggah") == 2
    # without the code in the form (a forged cross-site form) nothing happens
    assert applicant.post(f"/track/{reference}/resubmit", data={"note": "x"}).status_code == 404
    sent = applicant.post(f"/track/{reference}/resubmit", data={"note": "Sudah", "tracking_code": code})
    assert sent.status_code == 302
    page = applicant.get(f"/track/{reference}").get_data(as_text=True)
    assert "Berkas yang perlu dilengkapi" not in page and "Pemohon mengirim kelengkapan berkas." in page
    [again] = client.get("/api/v1/tasks", query_string={"q": reference}, headers=headers).get_json()["items"]
    assert again["name"] == "verifikasi" and again["id"] != task["id"]
    # a second resubmission is a clear conflict, not a crash
    again = applicant.post(f"/track/{reference}/resubmit", data={"tracking_code": code}, follow_redirects=True)
    assert [r.status_code for r in again.history] == [303] and again.status_code == 409


def test_verify_shows_not_found_for_unknown_tokens(client: Any) -> None:
    answer = client.get("/verify/TIDAKADA123")
    assert answer.status_code == 404 and "Surat tidak ditemukan" in answer.get_data(as_text=True)
    assert client.get("/verify", query_string={"token": "ABCDEF"}).headers["Location"].endswith("/verify/ABCDEF")


def test_a_resend_with_the_same_idempotency_key_makes_one_case(client: Any, app: Any) -> None:
    headers = {"Idempotency-Key": "hp-aminah-1"}
    first = client.post("/api/v1/applications", json=sample_application(0), headers=headers)
    second = client.post("/api/v1/applications", json=sample_application(0), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json() and cases(app) == 1
    complaint = {"category": "pelayanan", "description": "Antrian terlalu lama sekali.", "phone": "0812345678"}
    complaint["village_code"] = "63.11.06.1019"
    a = client.post("/api/v1/complaints", json=complaint, headers={"Idempotency-Key": "k2"})
    b = client.post("/api/v1/complaints", json=complaint, headers={"Idempotency-Key": "k2"})
    assert a.get_json()["reference"] == b.get_json()["reference"] and cases(app) == 2
    changed = client.post(
        "/api/v1/complaints", json={**complaint, "phone": "0812999999"}, headers={"Idempotency-Key": "k2"}
    )
    assert changed.status_code == 422


def test_the_operators_task_lists_other_open_cases_of_the_same_nik(client: Any, token: Any) -> None:
    first = client.post("/api/v1/applications", json=sample_application(0)).get_json()
    other = sample_application(0)
    other["service"] = "sandang"
    second = client.post("/api/v1/applications", json=other).get_json()
    client.post("/api/v1/applications", json=sample_application(1))  # someone else
    headers = token("operator")
    [task] = client.get("/api/v1/tasks", query_string={"q": second["reference"]}, headers=headers).get_json()["items"]
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=headers).get_json()
    assert detail["case"]["duplicates"] == [
        {"reference": first["reference"], "service": "alat_bantu", "status": "active"}
    ]


def test_the_migrations_create_the_notification_outbox(tmp_path: Any) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from config import TestConfig
    from web import create_app

    config = type("Mig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"})
    app = create_app(config)
    with app.app_context():
        upgrade()
        columns = {c["name"] for c in inspect(db.engine).get_columns("notification")}
        assert {"attempts", "next_attempt_at", "last_error", "recipient", "message", "status"} <= columns
        db.engine.dispose()
