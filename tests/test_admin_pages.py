"""The administrators' pages without a browser: procedures, editor endpoints, users, catalogue, migration."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from config import BASE_DIR
from engine.models import AdminEvent, User
from tests.test_migration import CEK_DTSEN_FORM, with_dtsen_check
from tests.test_staff_pages import csrf, login, new_case
from web.extensions import db

from .conftest import PASSWORD

RUJUKAN = (BASE_DIR / "bpmn" / "rujukan.bpmn").read_text("utf-8")


def meta_csrf(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    return found.group(1)


def post_json(client: Any, url: str, body: dict[str, Any], token: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": token})


def test_an_admin_lands_on_the_procedure_list_and_others_may_not_enter(client: Any) -> None:
    answer = login(client, "admin")
    assert answer.status_code == 302 and answer.location.endswith("/admin/")
    page = client.get("/admin/").get_data(as_text=True)
    assert "rujukan" in page and "aduan" in page and "v1" in page and "Ubah di modeler" in page
    client.post("/logout", data={"csrf_token": csrf(client, "/admin/")})
    login(client, "operator")
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/pengguna").status_code == 403


def test_any_version_shows_its_diagram_and_files(client: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/prosedur/rujukan/v1").get_data(as_text=True)
    assert 'id="viewer-data"' in page and "rujukan.bpmn" in page and "build/modeler.js" in page
    raw = client.get("/admin/prosedur/rujukan/v1/berkas/forms/verifikasi.json")
    assert raw.status_code == 200 and raw.mimetype == "text/plain"
    assert client.get("/admin/prosedur/rujukan/v9").status_code == 404


def test_the_editor_validates_catches_a_task_outside_any_lane_then_deploys_with_confirmation(client: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/prosedur/rujukan/ubah").get_data(as_text=True)
    token = meta_csrf(page)
    data = json.loads(re.search(r'id="editor-data">(.*?)</script>', page, re.S).group(1))
    assert data["diagram"] == "rujukan.bpmn" and "forms/verifikasi.json" in data["files"]
    files = dict(data["files"])
    stray = with_dtsen_check(files["rujukan.bpmn"]).replace("<bpmn:flowNodeRef>cek_dtsen</bpmn:flowNodeRef>", "")
    files["rujukan.bpmn"] = stray
    files["forms/cek_dtsen.json"] = json.dumps(CEK_DTSEN_FORM)
    report = post_json(client, "/admin/api/validate", {"files": files}, token).get_json()
    assert report["valid"] is False
    assert any(p["element_id"] == "cek_dtsen" and "lajur" in p["message"] for p in report["errors"])
    assert post_json(client, "/admin/api/prosedur/rujukan/draft", {"files": files}, token).status_code == 200
    assert "Draf dari" in client.get("/admin/prosedur/rujukan/ubah").get_data(as_text=True)
    files["rujukan.bpmn"] = with_dtsen_check(data["files"]["rujukan.bpmn"])
    assert post_json(client, "/admin/api/validate", {"files": files}, token).get_json()["valid"] is True
    asked = post_json(client, "/admin/api/prosedur/rujukan/deploy", {"files": files}, token)
    assert asked.status_code == 409 and asked.get_json()["error"]["code"] == "confirmation_required"
    done = post_json(client, "/admin/api/prosedur/rujukan/deploy", {"files": files, "confirm": True}, token)
    assert done.status_code == 201 and done.get_json()["items"] == [{"key": "rujukan", "version": 2}]
    detail = client.get("/admin/prosedur/rujukan").get_data(as_text=True)
    assert "cek_dtsen" in detail and "Draf" not in detail  # the diff names the new step; the draft is gone
    assert client.post("/admin/api/validate", json={"files": files}).status_code == 400  # no CSRF token


def test_the_form_preview_renders_the_form_as_staff_see_it(client: Any) -> None:
    login(client, "admin")
    token = meta_csrf(client.get("/admin/prosedur/rujukan/ubah").get_data(as_text=True))
    ui = {"ui:order": ["status_dtsen"], "status_dtsen": {"ui:help": "Lihat aplikasi SIKS-NG"}}
    body = {"schema": json.dumps(CEK_DTSEN_FORM), "ui_schema": json.dumps(ui)}
    answer = post_json(client, "/admin/api/form-preview", body, token).get_json()
    assert 'name="status_dtsen"' in answer["html"] and "SIKS-NG" in answer["html"] and not answer["error"]
    bad = post_json(client, "/admin/api/form-preview", {"schema": '{"type": 12}'}, token).get_json()
    assert bad["html"] == "" and "tidak valid" in bad["error"]


def test_users_are_created_given_roles_deactivated_and_reset_each_an_audited_event(client: Any) -> None:
    login(client, "admin")
    token = csrf(client, "/admin/pengguna/baru")
    refused = client.post(
        "/admin/pengguna/baru",
        data={
            "csrf_token": token,
            "username": "kabid_baru",
            "full_name": "Kabid Baru",
            "roles": ["kabid"],
            "password": "x",
        },
    )
    assert refused.status_code == 422 and "bidang" in refused.get_data(as_text=True).lower()
    created = client.post(
        "/admin/pengguna/baru",
        data={
            "csrf_token": token,
            "username": "kabid_baru",
            "full_name": "Kabid Baru",
            "roles": ["kabid"],
            "bidang": "rehsos",
            "password": "kata-sandi-panjang",
            "active": "1",
        },
    )
    assert created.status_code == 302
    with client.application.app_context():
        user = db.session.scalars(select(User).where(User.username == "kabid_baru")).one()
        user_id = user.id
    edit = f"/admin/pengguna/{user_id}"
    assert (
        client.post(
            edit, data={"csrf_token": token, "full_name": "Kabid Baru", "roles": ["kabid"], "bidang": "rehsos"}
        ).status_code
        == 302
    )
    assert client.post(f"{edit}/sandi", data={"csrf_token": token, "password": "sandi-baru-panjang"}).status_code == 302
    with client.application.app_context():
        user = db.session.get(User, user_id)
        assert user.active is False
        actions = [
            e.action
            for e in db.session.scalars(
                select(AdminEvent).where(AdminEvent.target == "kabid_baru").order_by(AdminEvent.id)
            )
        ]
    assert actions == ["user_created", "user_deactivated", "password_reset"]
    client.post("/logout", data={"csrf_token": token})
    assert login(client, "kabid_baru", "sandi-baru-panjang").status_code == 401  # deactivated
    log = client.get("/admin/log")
    assert log.status_code == 302  # logged out


def test_an_admin_cannot_remove_their_own_admin_role(client: Any) -> None:
    login(client, "admin")
    with client.application.app_context():
        admin_id = db.session.scalars(select(User.id).where(User.username == "admin")).one()
    token = csrf(client, f"/admin/pengguna/{admin_id}")
    answer = client.post(
        f"/admin/pengguna/{admin_id}",
        data={"csrf_token": token, "full_name": "Admin", "roles": ["operator"], "active": "1"},
    )
    assert answer.status_code == 422 and "sendiri" in answer.get_data(as_text=True)


def test_the_catalogue_page_adds_a_service_for_a_deployed_procedure_only(client: Any) -> None:
    login(client, "admin")
    token = csrf(client, "/admin/layanan")
    values = {
        "csrf_token": token,
        "key": "bantuan_bencana",
        "label": "Bantuan Bencana",
        "process": "tidak_ada",
        "active": "1",
    }
    refused = client.post("/admin/layanan", data=values)
    assert refused.status_code == 422 and "belum dipasang" in refused.get_data(as_text=True)
    saved = client.post("/admin/layanan", data={**values, "process": "rujukan", "documents": ["ktp", "kk"]})
    assert saved.status_code == 302
    assert "Bantuan Bencana" in client.get("/apply").get_data(as_text=True)


def test_the_migration_page_lists_cases_and_moves_the_chosen_ones(client: Any) -> None:
    reference = new_case(client)
    login(client, "admin")
    token = meta_csrf(client.get("/admin/prosedur/rujukan/ubah").get_data(as_text=True))
    files = {"rujukan.bpmn": with_dtsen_check(), "forms/cek_dtsen.json": json.dumps(CEK_DTSEN_FORM)}
    assert (
        post_json(client, "/admin/api/prosedur/rujukan/deploy", {"files": files, "confirm": True}, token).status_code
        == 201
    )
    page = client.get("/admin/prosedur/rujukan/migrasi").get_data(as_text=True)
    assert reference in page and "dapat dipindahkan" in page
    moved = client.post(
        "/admin/prosedur/rujukan/migrasi",
        data={"csrf_token": csrf(client, "/admin/pengguna"), "reference": [reference], "version": "2"},
    )
    assert moved.status_code == 302
    assert reference not in client.get("/admin/prosedur/rujukan/migrasi").get_data(as_text=True)
    assert PASSWORD


def test_a_new_procedure_is_uploaded_from_the_procedure_list_or_refused_with_every_reason(client: Any) -> None:
    import io

    corpus_dir = BASE_DIR / "tests" / "data" / "diagrams"
    login(client, "admin")
    token = csrf(client, "/admin/")
    broken = {
        "csrf_token": token,
        "files": [(io.BytesIO((corpus_dir / "refused" / "gerbang_timer_alur.bpmn").read_bytes()), "g.bpmn")],
    }
    refused = client.post("/admin/unggah", data=broken, content_type="multipart/form-data")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Jalan buntu" in page and "tidak dapat dicapai" in page
    names = ("bantuan_bencana.bpmn", "forms/verifikasi_bencana.json", "forms/penyaluran_bencana.json")
    files = [(io.BytesIO((corpus_dir / n).read_bytes()), n.split("/")[-1]) for n in names]
    done = client.post("/admin/unggah", data={"csrf_token": token, "files": files}, content_type="multipart/form-data")
    assert done.status_code == 302
    assert "bantuan_bencana" in client.get("/admin/").get_data(as_text=True)
