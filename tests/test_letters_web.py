"""Letters as users meet them: the manager's preview, the print at the hand-over, the applicant's
download, the public verification page and API (by code and by uploaded bytes), revocation."""

from __future__ import annotations

import hashlib
import html
import io
import re
from pathlib import Path
from typing import Any

from config import BASE_DIR
from tests.conftest import app_on
from tests.test_api import API, HAPPY_BY_USER, open_task, submit
from tests.test_staff_pages import csrf, login
from web.demo import SAMPLE_DATA, sample_application


def walk(client: Any, token: Any, reference: str, until: str) -> None:
    """Complete the happy path through the JSON API from the open step up to and including ``until``."""
    case = client.get(f"{API}/cases/{reference}", headers=token("auditor")).get_json()
    [current] = [t["name"] for t in case["tasks"] if t["state"] in ("ready", "claimed")]
    steps = [name for _, name in HAPPY_BY_USER]
    for user, step in HAPPY_BY_USER[steps.index(current) :]:
        headers = token(user)
        item = open_task(client, headers, reference)
        assert item["name"] == step
        done = client.post(f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA[step]}, headers=headers)
        assert done.status_code == 200, done.get_json()
        if step == until:
            return


def test_the_case_answer_carries_its_letter_and_every_download_is_the_same_bytes(client: Any, token: Any) -> None:
    created = submit(client)
    reference, code = created["reference"], created["tracking_code"]
    walk(client, token, reference, "keputusan_kabid")
    assert client.get(f"{API}/cases/{reference}", headers=token("manager")).get_json()["letter"] is None
    assert client.get(f"{API}/cases/{reference}/letter", headers=token("manager")).status_code == 404
    walk(client, token, reference, "terbitkan_surat")
    letter = client.get(f"{API}/cases/{reference}", headers=token("front_office")).get_json()["letter"]
    assert letter["number"] == "400.9/001/Dinsos/XI/2026" or re.fullmatch(
        r"400\.9/001/Dinsos/[IVX]+/\d{4}", letter["number"]
    )
    assert (
        letter["status"] == "valid" and len(letter["sha256"]) == 64 and letter["verify_token"] and letter["issued_at"]
    )
    first = client.get(f"{API}/cases/{reference}/letter", headers=token("front_office"))
    second = client.get(f"{API}/cases/{reference}/letter", headers=token("auditor"))
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data and hashlib.sha256(first.data).hexdigest() == letter["sha256"]
    assert first.headers["ETag"] == f'"{letter["sha256"]}"'
    # the applicant sees that it exists, and may download it once it is handed over
    tracked = client.get(f"{API}/applications/{reference}", query_string={"tracking_code": code}).get_json()
    assert tracked["letter"]["number"] == letter["number"] and tracked["letter"]["download_url"] is None
    assert client.get(f"{API}/applications/{reference}/letter", query_string={"tracking_code": code}).status_code == 404
    walk(client, token, reference, "serah_terima")
    tracked = client.get(f"{API}/applications/{reference}", query_string={"tracking_code": code}).get_json()
    assert tracked["letter"]["download_url"] == f"{API}/applications/{reference}/letter"
    mine = client.get(f"{API}/applications/{reference}/letter", query_string={"tracking_code": code})
    assert mine.status_code == 200 and mine.data == first.data
    wrong = client.get(f"{API}/applications/{reference}/letter", query_string={"tracking_code": "SALAH123"})
    assert wrong.status_code == 404 and wrong.get_json()["error"]["code"] == "not_found"


def test_verification_by_code_and_by_bytes_and_after_revocation(client: Any, token: Any) -> None:
    reference = submit(client)["reference"]
    walk(client, token, reference, "terbitkan_surat")
    letter = client.get(f"{API}/cases/{reference}", headers=token("manager")).get_json()["letter"]
    pdf = client.get(f"{API}/cases/{reference}/letter", headers=token("manager")).data
    found = client.get(f"{API}/letters/verify/{letter['verify_token']}").get_json()
    assert found["number"] == letter["number"] and found["status"] == "valid" and found["applicant"] == "Ami***"
    assert found["sha256"] == letter["sha256"] and found["service"] == "alat_bantu" and found["revoked_at"] is None
    page = client.get(f"/verify/{letter['verify_token']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Surat ini asli dan berlaku" in text and letter["number"] in text
    assert "Aminah" not in text and "Ami***" in text and letter["sha256"] in text
    # anyone may check a PDF's bytes, through the page or the API
    same = client.post(
        f"/verify/{letter['verify_token']}", data={"file": (io.BytesIO(pdf), "surat.pdf")}, follow_redirects=True
    )
    assert same.status_code == 200 and "Berkas cocok" in same.get_data(as_text=True)
    altered = pdf.replace(b"WeasyPrint", b"WeasyPrinT", 1)
    other = client.post(
        f"/verify/{letter['verify_token']}", data={"file": (io.BytesIO(altered), "surat.pdf")}, follow_redirects=True
    )
    assert "Berkas tidak cocok" in other.get_data(as_text=True)
    empty = client.post(f"/verify/{letter['verify_token']}", data={})
    assert empty.status_code == 303 and client.get(empty.headers["Location"]).status_code == 422
    assert client.get(empty.headers["Location"]).status_code == 200  # shown once; a reload is the plain page
    raw = client.post(f"{API}/letters/verify/{letter['verify_token']}", data=pdf, content_type="application/pdf")
    assert raw.get_json()["matches"] is True
    multipart = client.post(
        f"{API}/letters/verify/{letter['verify_token']}", data={"file": (io.BytesIO(altered), "x.pdf")}
    )
    assert multipart.get_json()["matches"] is False
    assert client.post(f"{API}/letters/verify/{letter['verify_token']}", json={"a": 1}).status_code == 415
    # unknown or altered codes are simply not found
    for token_text in (
        "TIDAKADA123",
        letter["verify_token"][:-1] + ("A" if letter["verify_token"][-1] != "A" else "B"),
    ):
        assert client.get(f"/verify/{token_text}").status_code == 404
        missing = client.get(f"{API}/letters/verify/{token_text}")
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    # only a manager revokes, with a reason; then every view says so
    body = {"reason": "Surat diganti karena salah tulis nama lembaga."}
    assert (
        client.post(f"{API}/cases/{reference}/letter/revoke", json=body, headers=token("operator")).status_code == 403
    )
    short = client.post(f"{API}/cases/{reference}/letter/revoke", json={"reason": "x"}, headers=token("manager"))
    assert short.status_code == 422
    revoked = client.post(f"{API}/cases/{reference}/letter/revoke", json=body, headers=token("manager"))
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    again = client.post(f"{API}/cases/{reference}/letter/revoke", json=body, headers=token("manager"))
    assert again.status_code == 409
    now = client.get(f"{API}/letters/verify/{letter['verify_token']}").get_json()
    assert now["status"] == "revoked" and now["revoked_at"]
    assert "telah DICABUT" in client.get(f"/verify/{letter['verify_token']}").get_data(as_text=True)
    history = client.get(f"{API}/cases/{reference}/history", headers=token("auditor")).get_json()
    assert history["chain_valid"] and [e["kind"] for e in history["events"]][-1] == "letter_revoked"


def test_the_manager_previews_the_exact_letter_and_front_office_prints_it(app: Any, token: Any) -> None:
    client = app.test_client()
    reference = submit(client)["reference"]
    walk(client, token, reference, "keputusan_kabid")
    task_id = open_task(client, token("manager"), reference)["id"]
    login(client, "manager")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'class="letter-preview"' in page and "sandbox" in page
    preview = html.unescape(re.search(r'srcdoc="([^"]*)"', page, re.S).group(1))
    assert "Kursi roda standar dewasa" in preview and "(diberikan saat surat diterbitkan)" in preview
    assert "Aminah" in preview and "Drs. H. Ahmad Fauzi" in preview
    # the preview follows what the manager types, and completes nothing
    form = {
        "csrf_token": csrf(client, f"/tasks/{task_id}"),
        "perihal": "Rekomendasi kursi roda",
        "sifat": "segera",
        "isi_rekomendasi": "Mohon diserahkan sebelum akhir bulan.",
        "action": "preview",
    }
    again = client.post(f"/tasks/{task_id}", data=form, follow_redirects=True)
    assert again.status_code == 200 and [r.status_code for r in again.history] == [303]
    preview = html.unescape(re.search(r'srcdoc="([^"]*)"', again.get_data(as_text=True), re.S).group(1))
    assert (
        "Rekomendasi kursi roda" in preview
        and "Segera" in preview
        and "Mohon diserahkan sebelum akhir bulan." in preview
    )
    assert open_task(client, token("manager"), reference)["name"] == "terbitkan_surat"
    del form["action"]
    done = client.post(f"/tasks/{task_id}", data=form)
    assert done.status_code == 302
    letter = client.get(f"{API}/cases/{reference}", headers=token("manager")).get_json()["letter"]
    assert letter["number"]
    # front office sees the letter to print on the hand-over task
    desk = app.test_client()
    login(desk, "front_office")
    hand_over = open_task(desk, token("front_office"), reference)
    page = desk.get(f"/tasks/{hand_over['id']}").get_data(as_text=True)
    assert letter["number"] in page and f"/cases/{reference}/letter.pdf" in page
    printed = desk.get(f"/cases/{reference}/letter.pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert hashlib.sha256(printed.data).hexdigest() == letter["sha256"]
    assert "Cabut surat" not in page  # revoking is the manager's
    manager_case = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Cabut surat" in manager_case
    revoke = client.post(
        f"/cases/{reference}/letter/revoke",
        data={"csrf_token": csrf(client, f"/cases/{reference}"), "reason": "Salah nama lembaga tujuan"},
    )
    assert revoke.status_code == 302
    assert "Dicabut" in client.get(f"/cases/{reference}").get_data(as_text=True)
    refused = desk.post(
        f"/cases/{reference}/letter/revoke",
        data={"csrf_token": csrf(desk, f"/cases/{reference}"), "reason": "Coba cabut"},
    )
    assert refused.status_code == 403


def test_the_tracking_page_offers_the_letter_once_handed_over(client: Any, token: Any) -> None:
    created = submit(client)
    reference, code = created["reference"], created["tracking_code"]
    walk(client, token, reference, "terbitkan_surat")
    applicant = client
    page = applicant.post("/track", data={"reference": reference, "tracking_code": code})
    assert page.status_code == 302
    status = applicant.get(f"/track/{reference}").get_data(as_text=True)
    assert "sudah terbit" in status and "Unduh surat" not in status
    assert applicant.get(f"/track/{reference}/letter").status_code == 404
    walk(client, token, reference, "serah_terima")
    status = applicant.get(f"/track/{reference}").get_data(as_text=True)
    assert "Unduh surat (PDF)" in status
    download = applicant.get(f"/track/{reference}/letter")
    assert download.status_code == 200 and download.mimetype == "application/pdf"


def test_a_rejected_applicant_can_download_the_notice_at_once(client: Any, token: Any) -> None:
    created = submit(client)
    reference, code = created["reference"], created["tracking_code"]
    item = open_task(client, token("operator"), reference)
    data = {
        "status_dtsen": "terdaftar",
        "decision": "ditolak",
        "kategori_penolakan": "duplikat",
        "alasan": "Sudah pernah dibantu tahun ini",
    }
    assert (
        client.post(f"{API}/tasks/{item['id']}/complete", json={"data": data}, headers=token("operator")).status_code
        == 200
    )
    tracked = client.get(f"{API}/applications/{reference}", query_string={"tracking_code": code}).get_json()
    assert tracked["status"] == "rejected" and tracked["letter"]["series"] == "pemberitahuan"
    notice = client.get(tracked["letter"]["download_url"], query_string={"tracking_code": code})
    assert notice.status_code == 200 and notice.mimetype == "application/pdf"
    assert "Surat pemberitahuan terbit." in str(tracked["timeline"])


def test_a_whole_case_under_another_agency_profile(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from engine.agency import load_profile
    from letters.signing import create_demo_key_pair

    profile = load_profile(BASE_DIR / "tests" / "data" / "agency" / "contoh.toml")
    cert, key = tmp_path / "contoh-cert.pem", tmp_path / "contoh-key.pem"
    create_demo_key_pair(cert, key, profile.full_name, datetime.now(UTC), passphrase="rahasia-contoh")
    signing = {"SIGNING_CERT_FILE": cert, "SIGNING_KEY_FILE": key, "SIGNING_KEY_PASSPHRASE": "rahasia-contoh"}
    with app_on(tmp_path, AGENCY=profile, PUBLIC_BASE_URL="https://layanan.contoh.example", **signing) as app:
        client = app.test_client()
        application = sample_application(0)
        application["applicant"]["village_code"] = "63.99.01.2001"
        created = client.post(f"{API}/applications", json=application).get_json()
        reference = created["reference"]
        headers: dict[str, dict[str, str]] = {}

        def token(user: str) -> dict[str, str]:
            if user not in headers:
                from tests.conftest import PASSWORD

                answer = client.post(f"{API}/auth/token", json={"username": user, "password": PASSWORD}).get_json()
                headers[user] = {"Authorization": f"Bearer {answer['token']}"}
            return headers[user]

        walk(client, token, reference, "serah_terima")
        case = client.get(f"{API}/cases/{reference}", headers=token("manager")).get_json()
        assert case["desa"] == "Sungai Satu" and case["kecamatan"] == "Hulu Contoh"
        assert re.fullmatch(r"460/0001/REK-rehsos/\d{4}", case["letter"]["number"]), case["letter"]
        pdf = client.get(f"{API}/cases/{reference}/letter", headers=token("manager")).data
        path = tmp_path / "contoh.pdf"
        path.write_bytes(pdf)
        import subprocess

        text = " ".join(
            subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
        )
        for expected in (
            "PEMERINTAH KABUPATEN TANJUNG CONTOH",
            "Tanjung Elok,",
            "a.n. Kepala Dinas Sosial P3A",
            "Rina Percobaan",
            "layanan.contoh.example/verify/",
            "Camat setempat",
        ):
            assert expected in text, expected
        assert "Balangan" not in text
        with app.app_context():
            from sqlalchemy import select

            from engine.models import Notification
            from engine.notifications import message_of
            from web.extensions import db

            rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
            assert rows and all(
                message_of(db.session, n, profile.short_name).startswith("DinsosP3A Contoh: ") for n in rows
            )
        page = client.get(f"/verify/{case['letter']['verify_token']}").get_data(as_text=True)
        assert "Dinas Sosial P3A Kabupaten Tanjung Contoh" in page and "Balangan" not in page


def test_without_its_signing_certificate_the_server_refuses_to_issue_and_keeps_the_task_open(tmp_path: Path) -> None:
    missing = {"SIGNING_CERT_FILE": tmp_path / "none.pem", "SIGNING_KEY_FILE": tmp_path / "none.key"}
    with app_on(tmp_path, **missing) as app:
        client = app.test_client()
        from tests.conftest import PASSWORD

        tokens: dict[str, dict[str, str]] = {}

        def token(user: str) -> dict[str, str]:
            if user not in tokens:
                answer = client.post(f"{API}/auth/token", json={"username": user, "password": PASSWORD}).get_json()
                tokens[user] = {"Authorization": f"Bearer {answer['token']}"}
            return tokens[user]

        reference = submit(client)["reference"]
        walk(client, token, reference, "keputusan_kabid")
        item = open_task(client, token("manager"), reference)
        refused = client.post(
            f"{API}/tasks/{item['id']}/complete",
            json={"data": SAMPLE_DATA["terbitkan_surat"]},
            headers=token("manager"),
        )
        assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "letters_unavailable"
        assert open_task(client, token("manager"), reference)["name"] == "terbitkan_surat"
        assert client.get(f"{API}/cases/{reference}", headers=token("manager")).get_json()["letter"] is None
