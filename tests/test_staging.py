"""One file at a time (issue 12, item 5): a resident's files staged one by one before the form,
checked like the form's own files, bound to the browser session, attached to the case in the
same transaction, refused from another session, expired and cleaned up."""

from __future__ import annotations

import io
import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, select, update

from engine.clock import utcnow
from engine.models import Case, CaseEvent, Document, Person, StagedUpload
from tests.conftest import app_on
from web.extensions import db

from .test_documents import PDF, photo
from .test_public_pages import apply_form, cases

XHR = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}


def stage(client: Any, kind: str, content: bytes, name: str = "foto.jpg", form: str = "apply", **extra: str) -> Any:
    return client.post(
        "/unggahan",
        data={"form": form, "kind": kind, "file": (io.BytesIO(content), name), **extra},
        content_type="multipart/form-data",
        headers=XHR,
    )


def noisy(side: int) -> bytes:
    """A photo whose cleaned size stays big (noise does not compress)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(out, "JPEG")
    return out.getvalue()


def staged_rows(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StagedUpload)) or 0


def submit_staged(client: Any, ids: dict[str, str], index: int = 0, **changes: Any) -> Any:
    form = apply_form(index, **{f"staged_{kind}": staged_id for kind, staged_id in ids.items()}, **changes)
    return client.post("/apply", data=form, content_type="multipart/form-data")


def test_files_staged_one_by_one_become_the_new_cases_documents(app: Any, client: Any) -> None:
    ktp = stage(client, "ktp", photo(gps=True), "IMG_2026 ktp.jpg")
    kk = stage(client, "kk", PDF, "kk.pdf")
    assert ktp.status_code == 201 and kk.status_code == 201, (ktp.get_json(), kk.get_json())
    body = ktp.get_json()
    assert body["kind"] == "ktp" and body["filename"] == "IMG_2026ktp.jpg" and len(body["id"]) >= 43
    # cleaned on arrival, exactly as a form's file: the camera's EXIF (GPS, make) is gone
    with app.app_context():
        row = db.session.get(StagedUpload, body["id"])
        assert row is not None and not Image.open(io.BytesIO(row.content)).getexif()
    # a reload of the form shows the uploaded file and sends its id (nothing to choose again)
    page = client.get("/apply")
    html = page.get_data(as_text=True)
    assert f'name="staged_ktp" value="{body["id"]}"' in html and "Sudah terunggah: IMG_2026ktp.jpg" in html
    assert page.headers["Cache-Control"] == "private, no-cache"

    answer = submit_staged(client, {"ktp": body["id"], "kk": kk.get_json()["id"]})
    assert answer.status_code == 303 and answer.location.startswith("/terkirim/RJK-")
    assert "2 dokumen" in client.get(answer.location).get_data(as_text=True)
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        documents = {d.kind: d for d in db.session.scalars(select(Document).where(Document.case_id == case.id))}
        assert set(documents) == {"ktp", "kk"} and documents["kk"].mime_type == "application/pdf"
        events = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert events.count("document_added") == 2
    assert staged_rows(app) == 0
    # a second tap of the same form answers with the same receipt and no second case
    again = submit_staged(client, {"ktp": body["id"], "kk": kk.get_json()["id"]})
    assert again.status_code == 303 and again.location == answer.location and cases(app) == 1


def test_a_bad_file_is_refused_on_its_own_with_the_forms_checks(app: Any, client: Any) -> None:
    text = stage(client, "ktp", b"bukan gambar", "ktp.jpg")
    assert text.status_code == 415 and "Jenis berkas tidak didukung" in text.get_json()["error"]["message"]
    broken = stage(client, "ktp", photo()[:200], "ktp.jpg")
    assert broken.status_code == 415 and "rusak" in broken.get_json()["error"]["message"]
    app.config["MAX_DOCUMENT_BYTES"] = 100_000  # (a 5 MB body would make the test client spool it to a file)
    huge = stage(client, "ktp", b"%PDF-1.4\n" + b"0" * 100_000, "besar.pdf")
    assert huge.status_code == 413 and "Ukuran berkas maksimal" in huge.get_json()["error"]["message"]
    app.config["MAX_DOCUMENT_BYTES"] = 5 * 1024 * 1024
    wide = io.BytesIO()
    Image.new("L", (6000, 6000)).save(wide, "PNG")
    assert stage(client, "ktp", wide.getvalue(), "lebar.png").status_code == 415  # over the pixel budget
    assert stage(client, "lainnya", photo(), form="apply").status_code == 422  # not a field of that form
    assert stage(client, "ktp", photo(), form="complaint").status_code == 422
    no_script = client.post("/unggahan", data={"form": "apply", "kind": "ktp", "file": (io.BytesIO(photo()), "a.jpg")})
    assert no_script.status_code == 400  # only the page's script stages (a cross-site form cannot)
    assert staged_rows(app) == 0


def test_a_sessions_staged_files_are_capped_in_count_and_size(tmp_path: Path) -> None:
    with app_on(tmp_path, STAGED_UPLOAD_MAX_FILES=2, STAGED_UPLOAD_MAX_BYTES=len(noisy(200)) * 2) as app:
        client = app.test_client()
        first = stage(client, "ktp", photo())
        assert first.status_code == 201 and stage(client, "kk", photo()).status_code == 201
        third = stage(client, "foto", photo())
        assert third.status_code == 413 and "maksimal 2" in third.get_json()["error"]["message"]
        # choosing another photo for the same field replaces the first: it does not count twice
        replaced = stage(client, "ktp", photo(size=(60, 40)), replaces=first.get_json()["id"])
        assert replaced.status_code == 201 and staged_rows(app) == 2
        other = app.test_client()  # another browser has its own quota
        assert stage(other, "ktp", photo()).status_code == 201
        big = stage(other, "kk", noisy(300))
        assert big.status_code == 413 and "melebihi" in big.get_json()["error"]["message"]
        # on the English pages the same refusals are in English, their numbers filled in
        english = app.test_client()
        english.set_cookie("lang", "en")
        assert stage(english, "ktp", photo()).status_code == 201 and stage(english, "kk", photo()).status_code == 201
        full = stage(english, "foto", photo()).get_json()["error"]["message"]
        assert full == "Too many files uploaded from this device (at most 2). Remove those not needed."
        app.config["MAX_DOCUMENT_BYTES"] = 100_000
        huge = stage(app.test_client(), "ktp", b"%PDF-1.4\n" + b"0" * 100_000, "besar.pdf")
        assert huge.get_json()["error"]["message"] == "Ukuran berkas maksimal 97 KB."
        english_huge = app.test_client()
        english_huge.set_cookie("lang", "en")
        answer = stage(english_huge, "ktp", b"%PDF-1.4\n" + b"0" * 100_000, "besar.pdf").get_json()
        assert answer["error"]["message"] == "Files may be at most 97 KB."


def test_staging_is_rate_limited(tmp_path: Path) -> None:
    with app_on(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STAGE="2/minute") as app:
        client = app.test_client()
        assert [stage(client, "ktp", photo()).status_code for _ in range(2)] == [201, 201]
        limited = stage(client, "ktp", photo())
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        assert limited.get_json()["error"]["code"] == "rate_limited"


def test_a_staged_id_from_another_session_is_refused_and_nothing_is_written(app: Any, client: Any) -> None:
    stolen = stage(client, "ktp", photo()).get_json()["id"]
    thief = app.test_client()
    answer = submit_staged(thief, {"ktp": stolen}, index=1)
    assert answer.status_code == 303 and answer.location == "/apply"
    page = thief.get("/apply")
    assert page.status_code == 403
    assert "diunggah dari perangkat atau sesi lain" in page.get_data(as_text=True)
    assert cases(app) == 0 and staged_rows(app) == 1  # the owner's file is still there for them
    assert thief.post(f"/unggahan/{stolen}/hapus", headers=XHR).status_code == 404  # nor removed by another
    assert client.post(f"/unggahan/{stolen}/hapus", headers=XHR).status_code == 204
    assert staged_rows(app) == 0


def test_an_expired_staged_file_is_asked_for_again_and_cleaned_up(app: Any, client: Any) -> None:
    old = stage(client, "ktp", photo()).get_json()["id"]
    with app.app_context():
        db.session.execute(update(StagedUpload).values(created_at=utcnow() - timedelta(hours=7)))
        db.session.commit()
    assert "Sudah terunggah" not in client.get("/apply").get_data(as_text=True)
    answer = submit_staged(client, {"ktp": old})
    assert answer.status_code == 303 and answer.location == "/apply"
    page = client.get("/apply")
    assert page.status_code == 422 and "sudah kedaluwarsa" in page.get_data(as_text=True)
    assert cases(app) == 0 and people(app) == 0
    stage(client, "kk", photo())  # the next staging write deletes what expired
    with app.app_context():
        assert [r.kind for r in db.session.scalars(select(StagedUpload))] == ["kk"]


def test_the_timer_worker_deletes_expired_staged_files(app: Any, client: Any) -> None:
    stage(client, "ktp", photo())
    with app.app_context():
        db.session.execute(update(StagedUpload).values(created_at=utcnow() - timedelta(hours=7)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["timers", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "discarded 1 expired staged upload(s)" in result.output and staged_rows(app) == 0


def people(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person)) or 0


def test_no_half_written_case_when_attaching_fails(app: Any, client: Any, tmp_path: Path) -> None:
    ids = {kind: stage(client, kind, photo(size=(50 + i, 40))).get_json()["id"] for i, kind in enumerate(("ktp", "kk"))}
    store = app.config["DOCUMENT_DIR"]
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    app.config["DOCUMENT_DIR"] = blocked / "documents"  # the store cannot be written (a lost disk)
    try:
        failed = submit_staged(client, ids)
        assert failed.status_code == 500 and "tidak ada data yang tersimpan setengah jadi" in failed.get_data(
            as_text=True
        )
    finally:
        app.config["DOCUMENT_DIR"] = store
    assert cases(app) == 0 and people(app) == 0 and staged_rows(app) == 2  # all or nothing
    answer = submit_staged(client, ids)  # the disk is back: the same form goes through
    assert answer.status_code == 303 and cases(app) == 1 and staged_rows(app) == 0


def test_a_file_chosen_without_javascript_wins_over_a_staged_one(app: Any, client: Any) -> None:
    staged = stage(client, "ktp", photo()).get_json()["id"]
    answer = submit_staged(client, {"ktp": staged}, doc_ktp=(io.BytesIO(PDF), "ktp.pdf"))
    assert answer.status_code == 303
    with app.app_context():
        assert [d.mime_type for d in db.session.scalars(select(Document))] == ["application/pdf"]
    assert staged_rows(app) == 1  # unused: it expires


def test_a_complaint_takes_its_staged_attachment(app: Any, client: Any) -> None:
    staged = stage(client, "lainnya", photo(), "bukti.jpg", form="complaint").get_json()["id"]
    assert "Sudah terunggah: bukti.jpg" in client.get("/complaint").get_data(as_text=True)
    assert "Sudah terunggah" not in client.get("/apply").get_data(as_text=True)  # another form's file
    form = {
        "category": "pelayanan",
        "description": "Petugas tidak datang pada jadwal kunjungan.",
        "phone": "081234567890",
        "village_code": "63.11.06.1019",
        "form_token": "aduan-1",
        "staged_lainnya": staged,
    }
    answer = client.post("/complaint", data=form)
    assert answer.status_code == 303 and re.match(r"/terkirim/ADU-", answer.location), answer.location
    with app.app_context():
        assert [(d.kind, d.filename) for d in db.session.scalars(select(Document))] == [("lainnya", "bukti.jpg")]
    assert staged_rows(app) == 0


def test_a_refused_form_keeps_its_staged_files(app: Any, client: Any) -> None:
    staged = stage(client, "ktp", photo()).get_json()["id"]
    answer = submit_staged(client, {"ktp": staged}, consent="")
    assert answer.status_code == 303
    page = client.get("/apply").get_data(as_text=True)
    assert "Centang persetujuan" in page and f'value="{staged}"' in page
    assert "Berkas yang sudah dipilih perlu dipilih ulang" not in page and staged_rows(app) == 1


def test_the_form_pages_give_the_session_its_uploader_key_before_any_file_is_sent(client: Any) -> None:
    """Files chosen together are sent in parallel: were the key made by the first upload, each
    answer would set a different one and all but the last file would belong to a lost session."""
    for page in ("/apply", "/complaint"):
        client.delete_cookie("session")
        assert client.get(page).status_code == 200
        with client.session_transaction() as kept:
            assert kept.get("uploader")
