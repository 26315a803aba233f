"""Documents: checked by content, cleaned of metadata, stored by sha256, served only to who may see them."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from engine.documents import GPS_IFD, DocumentSettings, document_path, prepare_content, sniff_type
from engine.models import CaseEvent, Document
from web.demo import sample_application
from web.extensions import db

API = "/api/v1"
# the smallest PDF a reader opens: a catalog, a page tree and one page (no cross-reference table)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def photo(fmt: str = "JPEG", gps: bool = True, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "KameraHP"  # Make
    exif[0x0131] = "Editor Rahasia"  # Software
    if gps:
        exif[GPS_IFD] = {1: "S", 2: (2.0, 19.0, 30.0), 3: "E", 4: (115.0, 28.0, 10.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def submit(client: Any) -> dict[str, Any]:
    answer = client.post(f"{API}/applications", json=sample_application(0))
    assert answer.status_code == 201
    return answer.get_json()


def upload(
    client: Any, created: dict[str, Any], content: bytes, name: str = "ktp.jpg", kind: str = "ktp", **kw: Any
) -> Any:
    data = {"file": (io.BytesIO(content), name), "kind": kind, "tracking_code": created["tracking_code"]}
    return client.post(
        f"{API}/applications/{created['reference']}/documents", data=data, content_type="multipart/form-data", **kw
    )


def count(app: Any, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_types_are_recognised_by_content_not_by_name() -> None:
    assert sniff_type(photo()) == "image/jpeg"
    assert sniff_type(photo("PNG")) == "image/png"
    assert sniff_type(PDF) == "application/pdf"
    assert sniff_type(b"MZ\x90\x00\x03 this is a windows program") is None


def test_applicant_photos_lose_exif_and_gps(tmp_path: Any) -> None:
    cleaned, mime = prepare_content(photo(), DocumentSettings(tmp_path))
    assert mime == "image/jpeg"
    exif = Image.open(io.BytesIO(cleaned)).getexif()
    assert dict(exif) == {} and b"KameraHP" not in cleaned


def test_home_visit_photos_keep_only_gps(tmp_path: Any) -> None:
    cleaned, _ = prepare_content(photo(), DocumentSettings(tmp_path), keep_gps=True)
    exif = Image.open(io.BytesIO(cleaned)).getexif()
    assert exif.get_ifd(GPS_IFD)[1] == "S"
    assert b"KameraHP" not in cleaned and b"Editor Rahasia" not in cleaned


def test_an_upload_is_stored_by_hash_and_logged_in_the_case_chain(client: Any, app: Any, token: Any) -> None:
    created = submit(client)
    answer = upload(client, created, photo())
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["kind"] == "ktp" and body["mime_type"] == "image/jpeg"
    with app.app_context():
        document = db.session.get(Document, body["id"])
        assert document is not None
        path = document_path(app.config["DOCUMENT_DIR"], document.sha256)
        assert path.exists() and b"KameraHP" not in path.read_bytes()
        event = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "document_added")).one()
        assert event.payload["document_id"] == document.id and event.actor == "applicant"
    history = client.get(
        f"{API}/applications/{created['reference']}", query_string={"tracking_code": created["tracking_code"]}
    )
    assert history.status_code == 200
    assert [d["kind"] for d in history.get_json()["documents"]] == ["ktp"]
    replay = client.post(f"{API}/cases/{created['reference']}/replay", headers=token("auditor")).get_json()
    assert replay["consistent"] and replay["chain_valid"]


def test_a_renamed_program_is_415_and_nothing_is_stored(client: Any, app: Any) -> None:
    created = submit(client)
    answer = upload(client, created, b"MZ\x90\x00" + b"\x00" * 2000, name="foto.jpg")
    assert answer.status_code == 415 and answer.get_json()["error"]["code"] == "unsupported_media_type"
    assert count(app, Document) == 0
    assert not list((app.config["DOCUMENT_DIR"]).rglob("*")) if app.config["DOCUMENT_DIR"].exists() else True


def test_a_broken_jpeg_is_415(client: Any, app: Any) -> None:
    created = submit(client)
    answer = upload(client, created, b"\xff\xd8\xff\xe0" + b"garbage" * 100)
    assert answer.status_code == 415
    assert count(app, Document) == 0


def test_a_20_mb_upload_is_413(client: Any, app: Any) -> None:
    created = submit(client)
    # a hand-built body: the test client's own multipart encoder would spool 20 MB to a temp file
    boundary = "batas"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nktp\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="besar.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"\xff\xd8\xff"
        + b"\x00" * (20 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = client.post(
        f"{API}/applications/{created['reference']}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"]
    assert count(app, Document) == 0


def test_a_document_over_the_document_limit_is_413(client: Any, app: Any) -> None:
    app.config["MAX_DOCUMENT_BYTES"] = 1024
    created = submit(client)
    answer = upload(client, created, PDF + b"x" * 2048, name="surat.pdf")
    assert answer.status_code == 413 and answer.get_json()["error"]["message"] == "Ukuran berkas maksimal 1 KB."


def test_wrong_tracking_code_and_unknown_kind(client: Any, app: Any) -> None:
    created = submit(client)
    wrong = dict(created, tracking_code="AAAAAAAA")
    assert upload(client, wrong, PDF).status_code == 404
    assert upload(client, created, PDF, kind="paspor").status_code == 422
    assert upload(client, created, PDF, kind="foto_kunjungan").status_code == 403
    assert count(app, Document) == 0


def test_staff_upload_a_home_visit_photo_with_gps(client: Any, app: Any, token: Any) -> None:
    created = submit(client)
    data = {"file": (io.BytesIO(photo()), "rumah.jpg"), "kind": "foto_kunjungan"}
    answer = client.post(
        f"{API}/applications/{created['reference']}/documents",
        data=data,
        content_type="multipart/form-data",
        headers=token("supervisor"),
    )
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        document = db.session.get(Document, answer.get_json()["id"])
        assert document is not None and document.uploaded_by == "supervisor"
        stored = document_path(app.config["DOCUMENT_DIR"], document.sha256).read_bytes()
        assert Image.open(io.BytesIO(stored)).getexif().get_ifd(GPS_IFD)


def test_documents_are_served_to_the_applicant_and_to_staff_who_may_see_the_case(client: Any, token: Any) -> None:
    created = submit(client)
    image_id = upload(client, created, photo()).get_json()["id"]
    pdf_id = upload(client, created, PDF, name="surat.pdf", kind="surat_keterangan_dokter").get_json()["id"]
    own = f"/track/{created['reference']}/documents/{image_id}"
    answer = client.get(own, query_string={"tracking_code": created["tracking_code"]})
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Disposition"].startswith("inline")
    assert client.get(own, query_string={"tracking_code": "SALAHKODE"}).status_code == 404
    pdf = client.get(f"/documents/{pdf_id}", headers=token("operator"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == PDF
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/documents/{pdf_id}", headers=token("kabid_dayasos")).status_code == 403
    fresh = client.application.test_client()
    assert fresh.get(f"/documents/{pdf_id}").status_code == 401
    assert client.get("/documents/99999", headers=token("operator")).status_code == 404
