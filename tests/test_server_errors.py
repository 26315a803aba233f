"""The security probe's server errors (issue 10, items 9–11), each reproduced against the app.

Each test sends what the probe sent; before the fix each answered 500 (or dropped the connection
under a real server). Images are counted as decoded through Pillow's public ``ImageFile.load``
(a spy that calls through, not a mock of our code).
"""

from __future__ import annotations

import http.client
import io
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server
from werkzeug.test import encode_multipart

from engine.models import Case, Document
from web.extensions import db

from .test_documents import PDF, submit, upload
from .test_public_pages import apply_form
from .test_staff_pages import csrf, login

API = "/api/v1"


def count(app: Any, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def jpeg(comment: bytes = b"", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "JPEG", comment=comment)
    return out.getvalue()


_PNGS: dict[tuple[int, int], bytes] = {}


def big_png(width: int, height: int) -> bytes:
    """A valid grey PNG of any size, built chunk by chunk (Pillow would take seconds to encode it)."""
    if (width, height) not in _PNGS:

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        packer = zlib.compressobj(1)
        row = b"\x00" + b"\x80" * width  # filter byte + one grey byte per pixel
        idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
        _PNGS[width, height] = (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
        )
    return _PNGS[width, height]


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes during the test."""
    seen: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def counting_load(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # a load that will decode pixels (not a repeated one)
            seen.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    return seen


@pytest.fixture
def served(app: Any) -> Iterator[int]:
    """The app behind a real HTTP server (werkzeug's, as strict about headers as gunicorn): a
    header that is not Latin-1 drops the connection there, which the test client never shows."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(5)


def post_form(client: Any, path: str, form: dict[str, Any]) -> Any:
    """POST multipart from memory (the test client spools big bodies to a file it never closes)."""
    values = {k: FileStorage(v[0], filename=v[1]) if isinstance(v, tuple) else v for k, v in form.items()}
    boundary, body = encode_multipart(values)
    # a refused form answers 303 to its page (Post/Redirect/Get), which shows the errors: followed
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}", follow_redirects=True)


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


# --- file names ----------------------------------------------------------------------------


def test_a_document_named_outside_latin1_downloads_with_an_rfc5987_name(client: Any, served: int) -> None:
    created = submit(client)
    answer = upload(client, created, jpeg(), name="ŝŭ.jpg")
    assert answer.status_code == 201, answer.get_json()
    path = f"/track/{created['reference']}/documents/{answer.get_json()['id']}?tracking_code={created['tracking_code']}"
    status, headers, body = fetch(served, path)
    assert status == 200 and body.startswith(b"\xff\xd8\xff")
    disposition = headers["Content-Disposition"]
    assert "filename*=UTF-8''%C5%9D%C5%AD.jpg" in disposition
    disposition.encode("latin-1")  # what a WSGI server must be able to send


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\boot.ini.jpg", "bootini.jpg"),
        ("\u202egpj.exe", "gpj.jpg"),  # right-to-left override: the name no longer lies
        ("ktp (1) [salinan].jpg", "ktp1salinan.jpg"),
        ("program.exe", "program.jpg"),  # the extension follows the content
        ("S\u0301.jpg", "Ś.jpg"),  # NFC
    ],
)
def test_the_stored_name_is_sanitised(client: Any, app: Any, given: str, stored: str) -> None:
    created = submit(client)
    answer = upload(client, created, jpeg(), name=given)
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        assert db.session.get(Document, answer.get_json()["id"]).filename == stored


# --- request bodies --------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("path", ["/auth/token", "/applications", "/complaints", "/tasks/x/complete"])
def test_json_nested_100000_deep_is_400_json(client: Any, token: Any, path: str) -> None:
    answer = client.post(API + path, data=DEEP, content_type="application/json", headers=token("operator"))
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "malformed_json"
    assert "bersarang terlalu dalam" in answer.get_json()["error"]["message"]


def test_json_under_orjsons_own_limit_but_over_ours_is_400(client: Any) -> None:
    body = '{"username": ' + "[" * 100 + "]" * 100 + ', "password": "x"}'
    answer = client.post(f"{API}/auth/token", data=body, content_type="application/json")
    assert answer.status_code == 400 and "maksimal 32" in answer.get_json()["error"]["message"]


def test_the_admin_editors_json_is_parsed_the_same_way(client: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/prosedur/rujukan/ubah").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    answer = client.post(
        "/admin/api/validate", data=DEEP, content_type="application/json", headers={"X-CSRFToken": token.group(1)}
    )
    assert answer.status_code in (400, 422)


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "operator", "password": "\\udfff"}',
    ],
)
def test_a_lone_surrogate_in_json_is_400_with_a_clear_message(client: Any, body: str) -> None:
    answer = client.post(f"{API}/auth/token", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert "surrogate" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("body", ['{"username": "a\\u0000b", "password": "x"}', '{"a\\u0000": 1}'])
def test_nul_in_json_text_is_400_on_every_database(client: Any, body: str) -> None:
    answer = client.post(f"{API}/auth/token", data=body, content_type="application/json")
    assert answer.status_code == 400 and "NUL" in answer.get_json()["error"]["message"]


def test_a_lone_surrogate_in_a_complaint_stores_nothing(client: Any, app: Any) -> None:
    body = (
        '{"category": "bansos_tidak_tepat_sasaran", "description": "Bantuan \\ud800 salah sasaran di desa kami.",'
        ' "phone": "081234567890", "village_code": "63.11.06.1019"}'
    )
    answer = client.post(f"{API}/complaints", data=body, content_type="application/json")
    assert answer.status_code == 400 and "surrogate" in answer.get_json()["error"]["message"]
    assert count(app, Case) == 0


def test_a_lone_surrogate_in_a_task_form_is_400(client: Any, token: Any) -> None:
    submit(client)
    tasks = client.get(f"{API}/tasks?queue=all", headers=token("operator")).get_json()["items"]
    task_id = tasks[0]["id"]
    client.post(f"{API}/tasks/{task_id}/claim", headers=token("operator"))
    body = '{"data": {"decision": "lengkap", "catatan": "\\ud800"}}'
    answer = client.post(
        f"{API}/tasks/{task_id}/complete", data=body, content_type="application/json", headers=token("operator")
    )
    assert answer.status_code == 400 and "surrogate" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/apply", "/complaint", "/track", "/login"])
def test_surrogate_bytes_in_a_form_are_never_a_500(client: Any, path: str) -> None:
    # %ED%A0%80 is U+D800 encoded as if it were a character; werkzeug decodes it as U+FFFD
    body = "name=%ED%A0%80&description=%ED%A0%80&username=%ED%A0%80&password=x&reference=%ED%A0%80"
    answer = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert answer.status_code < 500


def test_a_body_over_max_content_length_is_413_json_on_the_api(app: Any, client: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    created = submit(client)
    answer = upload(client, created, b"\xff\xd8\xff" + b"\x00" * 200_000)
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "request_entity_too_large"


def test_a_body_over_max_content_length_is_an_indonesian_page_on_staff_pages(app: Any, client: Any) -> None:
    login(client, "supervisor")
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    token = csrf(client, "/inbox")
    answer = client.post(
        "/tasks/x/documents",
        data={"csrf_token": token, "kind": "foto_kunjungan", "file": (io.BytesIO(b"\x00" * 200_000), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 413
    assert 'lang="id"' in answer.get_data(as_text=True) and "terlalu besar" in answer.get_data(as_text=True)


# --- ids out of range ----------------------------------------------------------------------


def test_every_integer_in_a_path_out_of_range_is_404(app: Any, client: Any) -> None:
    login(client, "admin")
    huge = 10**20
    tried = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule or "GET" not in (rule.methods or ()):
            continue
        path = re.sub(r"<int:[^>]+>", str(huge), rule.rule)
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "RJK-2026-000001", path)
        tried.append(path)
        assert client.get(path).status_code in (403, 404), path
    assert any(path.startswith("/documents/") for path in tried)


def test_a_20_digit_document_id_is_404(client: Any) -> None:
    created = submit(client)
    login(client, "operator")
    assert client.get("/documents/12345678901234567890").status_code == 404
    assert client.get(f"/documents/{2**31}").status_code == 404  # past PostgreSQL's integer: no query at all
    assert client.get(f"{API}/documents/{2**31}").status_code == 404
    path = f"/track/{created['reference']}/documents/12345678901234567890?tracking_code={created['tracking_code']}"
    assert client.get(path).status_code == 404


# --- images ---------------------------------------------------------------------------------


def test_an_image_over_the_pixel_budget_is_refused_from_its_header(client: Any, app: Any, decodes: list) -> None:
    created = submit(client)
    answer = upload(client, created, big_png(6000, 6000), name="besar.png")
    assert answer.status_code == 415
    assert "megapiksel" in answer.get_json()["error"]["message"]
    assert decodes == [] and count(app, Document) == 0


def test_an_invalid_apply_form_decodes_none_of_its_six_photos(client: Any, app: Any, decodes: list) -> None:
    form = apply_form(0, nik="123")  # invalid NIK
    for kind in ("ktp", "kk", "foto", "surat_keterangan_desa", "surat_keterangan_dokter", "surat_pengantar_dinsos"):
        form[f"doc_{kind}"] = (io.BytesIO(big_png(4000, 4000)), f"{kind}.png")
    answer = post_form(client, "/apply", form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "16 angka" in page and "Isian yang perlu diperbaiki: 1" in page
    assert decodes == []
    assert count(app, Case) == 0


def test_an_invalid_apply_form_with_six_oversized_photos_says_so_without_decoding(client: Any, decodes: list) -> None:
    form = apply_form(0, nik="123")
    for kind in ("ktp", "kk", "foto", "surat_keterangan_desa", "surat_keterangan_dokter", "surat_pengantar_dinsos"):
        form[f"doc_{kind}"] = (io.BytesIO(big_png(6000, 6000)), f"{kind}.png")
    page = post_form(client, "/apply", form).get_data(as_text=True)
    assert page.count("megapiksel") == 12 and decodes == []  # each at its field and in the summary


def test_a_valid_apply_form_decodes_each_photo_once(client: Any, app: Any, decodes: list) -> None:
    form = apply_form(0)
    form["doc_ktp"] = (io.BytesIO(big_png(4000, 3000)), "ktp.png")
    answer = client.post("/apply", data=form, content_type="multipart/form-data")
    assert answer.status_code == 303 and "/terkirim/" in answer.headers["Location"], answer.get_data(as_text=True)
    assert decodes == [(4000, 3000)]
    assert count(app, Document) == 1


def test_a_broken_image_in_a_valid_form_is_explained_and_nothing_is_stored(client: Any, app: Any) -> None:
    truncated = big_png(300, 300)[:-200]  # the header is fine, the pixels are not
    form = apply_form(0)
    form["doc_ktp"] = (io.BytesIO(truncated), "ktp.png")
    answer = client.post("/apply", data=form, content_type="multipart/form-data", follow_redirects=True)
    assert answer.status_code == 422 and "rusak" in answer.get_data(as_text=True)
    assert count(app, Case) == 0 and count(app, Document) == 0


def test_jpeg_comment_segments_are_dropped(client: Any, app: Any) -> None:
    created = submit(client)
    answer = upload(client, created, jpeg(comment=b"pesan-tersembunyi"))
    assert answer.status_code == 201
    with app.app_context():
        document = db.session.get(Document, answer.get_json()["id"])
        stored = (
            app.config["DOCUMENT_DIR"] / document.sha256[:2] / document.sha256[2:4] / document.sha256
        ).read_bytes()
    assert b"pesan-tersembunyi" not in stored and b"\xff\xfe" not in stored  # COM marker
    assert "comment" not in Image.open(io.BytesIO(stored)).info


# --- PDFs ----------------------------------------------------------------------------------


def pdf_with(catalog_extra: str, objects: str = "") -> bytes:
    """A small valid PDF whose catalog carries ``catalog_extra`` (built with pikepdf)."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    if catalog_extra == "openaction":
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    elif catalog_extra == "names":
        js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(2)")))
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), js]))
        )
    elif catalog_extra == "annotation":
        action = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(3)"))
        link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10], A=action)
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))
    elif catalog_extra == "launch":
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)  # scripts hidden in object streams
    return out.getvalue()


@pytest.mark.parametrize("where", ["openaction", "names", "annotation", "launch"])
def test_a_pdf_with_javascript_or_a_launch_action_is_refused(client: Any, app: Any, where: str) -> None:
    created = submit(client)
    answer = upload(client, created, pdf_with(where), name="surat.pdf")
    assert answer.status_code == 415, answer.get_json()
    assert "JavaScript" in answer.get_json()["error"]["message"]
    assert count(app, Document) == 0


def test_a_plain_pdf_is_stored_and_served_only_as_a_sandboxed_download(client: Any) -> None:
    created = submit(client)
    for content in (PDF, pdf_with("")):
        answer = upload(client, created, content, name="surat keterangan.pdf")
        assert answer.status_code == 201, answer.get_json()
        path = f"/track/{created['reference']}/documents/{answer.get_json()['id']}"
        served = client.get(path, query_string={"tracking_code": created["tracking_code"]})
        assert served.status_code == 200 and served.data == content
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_broken_pdf_is_refused(client: Any) -> None:
    created = submit(client)
    answer = upload(client, created, b"%PDF-1.7\n" + b"\x00garbage" * 50, name="rusak.pdf")
    assert answer.status_code == 415 and "PDF" in answer.get_json()["error"]["message"]


# --- wrong answers (probe item 11) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("delete", f"{API}/tasks"), ("put", f"{API}/applications"), ("post", "/")]
)
def test_a_405_says_which_methods_are_allowed(client: Any, method: str, path: str) -> None:
    answer = getattr(client, method)(path)
    assert answer.status_code == 405
    assert "GET" in answer.headers["Allow"] or "POST" in answer.headers["Allow"]
    if path.startswith(API):
        assert answer.get_json()["error"]["code"] == "method_not_allowed"


def test_json_to_the_upload_endpoint_is_415(client: Any) -> None:
    created = submit(client)
    answer = client.post(
        f"{API}/applications/{created['reference']}/documents",
        json={"kind": "ktp", "tracking_code": created["tracking_code"], "file": "aGFsbw=="},
    )
    assert answer.status_code == 415 and "multipart/form-data" in answer.get_json()["error"]["message"]


def test_a_csrf_failure_is_400_not_a_redirect(client: Any) -> None:
    answer = client.post("/login", data={"username": "operator", "password": "x"})
    assert answer.status_code == 400
    login(client, "operator")
    answer = client.post(f"{API}/tasks/x/claim")  # the session cookie without a token or Origin
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_request"


# --- hygiene (probe item 12) -----------------------------------------------------------------


def test_an_idempotent_resend_answers_the_code_that_is_stored_only_sealed(client: Any, app: Any) -> None:
    from engine.models import IdempotencyRecord
    from web.demo import sample_application

    first = client.post(f"{API}/applications", json=sample_application(0), headers={"Idempotency-Key": "k-1"})
    again = client.post(f"{API}/applications", json=sample_application(0), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    code = first.get_json()["tracking_code"]
    assert again.get_json()["tracking_code"] == code
    with app.app_context():
        stored = [r.response for r in db.session.scalars(select(IdempotencyRecord))]
    assert stored and code not in repr(stored)


def test_the_session_cookie_never_holds_a_readable_tracking_code(client: Any, app: Any) -> None:
    from engine.models import IdempotencyRecord

    answer = client.post("/apply", data=apply_form(0), content_type="multipart/form-data")
    assert answer.status_code == 303
    cookie = client.get_cookie("session")
    assert cookie is not None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="tracking-code">([A-Z2-9]{8})<', receipt)
    assert code, receipt
    assert code.group(1) not in repr(data)
    after = client.get_cookie("session")
    assert after is not None and code.group(1) not in repr(
        app.session_interface.get_signing_serializer(app).loads(after.value)
    )
    with app.app_context():
        assert code.group(1) not in repr([r.response for r in db.session.scalars(select(IdempotencyRecord))])
    # and the sealed code still opens the tracking page without retyping it
    reference = re.search(r"[A-Z]{3}-\d{4}-\d{6}", receipt)
    assert reference and client.get(f"/track/{reference.group(0)}").status_code == 200


@pytest.mark.parametrize("term", ["%", "_", "%%", "\\"])
def test_like_wildcards_in_a_search_are_literal(client: Any, token: Any, term: str) -> None:
    submit(client)
    listing = client.get(f"{API}/tasks", query_string={"queue": "all", "q": term}, headers=token("operator"))
    assert listing.status_code == 200 and listing.get_json()["total"] == 0
    everything = client.get(f"{API}/tasks", query_string={"queue": "all", "q": "RJK"}, headers=token("operator"))
    assert everything.get_json()["total"] == 1
    login(client, "operator")
    page = client.get("/cases", query_string={"q": term}).get_data(as_text=True)
    assert "RJK-2026" not in page


def test_a_nik_search_never_puts_the_nik_in_a_url(client: Any) -> None:
    from web.demo import sample_application

    created = submit(client)
    nik = sample_application(0)["applicant"]["nik"]
    login(client, "operator")
    token = csrf(client, "/cases")
    posted = client.post("/cases", data={"csrf_token": token, "q": nik, "status": ""})
    assert posted.status_code == 303 and nik not in posted.location and "qs=" in posted.location
    page = client.get(posted.location).get_data(as_text=True)
    assert created["reference"] in page
    assert nik not in "".join(re.findall(r'href="([^"]*)"', page))  # pager, overview link
    named = client.post("/cases", data={"csrf_token": token, "q": "RJK"})
    assert "q=RJK" in named.location  # other terms stay readable and bookmarkable
    typed = client.get("/cases", query_string={"q": nik})
    assert typed.status_code == 303 and nik not in typed.location
    overview = client.post("/cases/overview", data={"csrf_token": token, "q": nik})
    assert overview.status_code == 303 and nik not in overview.location
    summary = client.get(overview.location).get_data(as_text=True)
    assert nik not in "".join(re.findall(r'href="([^"]*)"', summary))


def test_the_access_log_is_searched_by_nik_without_the_nik_in_a_url(client: Any) -> None:
    from web.demo import sample_application

    submit(client)
    nik = sample_application(0)["applicant"]["nik"]
    login(client, "auditor")
    token = csrf(client, "/audit/access")
    posted = client.post("/audit/access", data={"csrf_token": token, "nik": nik})
    assert posted.status_code == 303 and nik not in posted.location and "nik_token=" in posted.location
    assert client.get(posted.location).status_code == 200


# --- the same under gunicorn in production mode ------------------------------------------------


def test_the_probes_reproductions_under_gunicorn_in_production(tmp_path: Path) -> None:
    """gunicorn is where the probe saw them: a header outside Latin-1 dropped the connection."""
    import json
    import os
    import secrets
    import socket
    import subprocess
    import sys
    import time

    bin_dir = Path(sys.executable).parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "SIBALANG_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "SIBALANG_INSTANCE_DIR": str(tmp_path / "instance"),
        "DOCUMENT_DIR": str(tmp_path / "documents"),
        "NOTIFY_LOG_FILE": str(tmp_path / "notifications.log"),
        "RATE_LIMIT_ENABLED": "0",
    }
    env.pop("SIBALANG_DEMO", None)
    flask = [str(bin_dir / "flask"), "--app", "web"]
    for command in (["db", "upgrade"], ["processes", "deploy", str(Path(__file__).resolve().parents[1] / "bpmn")]):
        done = subprocess.run(flask + command, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "web:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

        def call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request(method, path, body=body, headers=headers or {})
                answer = connection.getresponse()
                return answer.status, dict(answer.getheaders()), answer.read()
            finally:
                connection.close()

        from web.demo import sample_application

        json_type = {"Content-Type": "application/json"}
        status, _, body = call("POST", f"{API}/applications", json.dumps(sample_application(0)).encode(), json_type)
        assert status == 201, body
        created = json.loads(body)
        boundary, multipart = encode_multipart(
            {
                "kind": "ktp",
                "tracking_code": created["tracking_code"],
                "file": FileStorage(io.BytesIO(jpeg()), filename="ŝŭ.jpg"),
            }
        )
        status, _, body = call(
            "POST",
            f"{API}/applications/{created['reference']}/documents",
            multipart,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert status == 201, body
        document_id = json.loads(body)["id"]
        track = f"/track/{created['reference']}/documents"
        status, headers, body = call("GET", f"{track}/{document_id}?tracking_code={created['tracking_code']}")
        assert status == 200 and body.startswith(b"\xff\xd8") and "%C5%9D%C5%AD.jpg" in headers["Content-Disposition"]
        assert call("POST", f"{API}/auth/token", DEEP.encode(), json_type)[0] == 400
        assert call("POST", f"{API}/auth/token", b'{"username": "\\ud800", "password": "x"}', json_type)[0] == 400
        code = created["tracking_code"]
        assert call("GET", f"{track}/12345678901234567890?tracking_code={code}")[0] == 404
        assert call("POST", f"{API}/auth/token", b"x" * (300 * 1024), json_type)[0] == 413  # MAX_JSON_BYTES
    finally:
        server.terminate()
        _, log = server.communicate(timeout=20)
    assert "Traceback" not in log, log


def test_an_idempotency_key_fits_its_column_on_every_database(client: Any) -> None:
    from web.demo import sample_application

    long_key = {"Idempotency-Key": "k" * 101}
    answer = client.post(f"{API}/applications", json=sample_application(0), headers=long_key)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_idempotency_key"
    spaced = client.post(f"{API}/applications", json=sample_application(0), headers={"Idempotency-Key": "a b"})
    assert spaced.status_code == 400
    fits = client.post(f"{API}/applications", json=sample_application(0), headers={"Idempotency-Key": "k" * 100})
    assert fits.status_code == 201
