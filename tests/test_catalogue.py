"""The service catalogue: an agency adds a service with its own small diagram, without code."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.admin_log import admin_events
from engine.audit import Actor
from engine.catalogue import catalogue_processes, load_catalogue, save_service
from engine.clock import utcnow
from engine.errors import InvalidSubmission
from engine.models import Case
from tests.test_processes import corpus, upload
from web.demo import sample_application
from web.extensions import db

API = "/api/v1"
ADMIN = Actor("admin", ("admin",))
BENCANA = {
    "key": "bantuan_bencana",
    "label": "Bantuan Bencana",
    "description": "Bantuan bagi korban banjir, kebakaran dan bencana lain.",
    "process": "bantuan_bencana",
    "documents": ["ktp", "kk", "foto"],
}


def deploy_disaster_aid(client: Any, token: Any) -> None:
    files = corpus("bantuan_bencana.bpmn", "forms/verifikasi_bencana.json", "forms/penyaluran_bencana.json")
    assert upload(client, token("admin"), *files).status_code == 201


def test_the_configured_catalogue_starts_the_referral_and_the_complaint_procedure(app: Any) -> None:
    configured = app.config["SERVICE_CATALOGUE"]
    assert configured.services["alat_bantu"].process == "rujukan"
    assert configured.complaint.process == "aduan"
    with app.app_context():
        assert catalogue_processes(db.session, configured) == {"rujukan", "aduan"}


def test_a_new_service_with_its_own_diagram_takes_applications(app: Any, client: Any, token: Any) -> None:
    deploy_disaster_aid(client, token)
    application = {**sample_application(0), "service": "bantuan_bencana"}
    refused = client.post(f"{API}/applications", json=application)
    assert refused.status_code == 422 and "service" in refused.get_json()["error"]["details"]
    with app.app_context():
        save_service(db.session, app.config["SERVICE_CATALOGUE"], BENCANA, ADMIN, utcnow())
        db.session.commit()
    assert "Bantuan Bencana" in client.get("/apply").get_data(as_text=True)
    created = client.post(f"{API}/applications", json=application)
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    task = client.get(f"{API}/tasks", query_string={"q": reference}, headers=token("operator")).get_json()["items"][0]
    assert task["name"] == "verifikasi_bencana"
    data = {"jenis_bencana": "banjir", "kerusakan": "berat", "decision": "layak"}
    assert client.post(f"{API}/tasks/{task['id']}/complete", json={"data": data}, headers=token("operator")).status_code == 200
    task = client.get(f"{API}/tasks", query_string={"q": reference}, headers=token("front_office")).get_json()["items"][0]
    data = {"paket": "Paket sembako dan terpal", "tanggal_salur": "2026-12-02"}
    assert client.post(f"{API}/tasks/{task['id']}/complete", json={"data": data}, headers=token("front_office")).status_code == 200
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        assert (case.kind, case.status, case.outcome) == ("bantuan_bencana", "completed", "tersalurkan")
        assert "bantuan_bencana" in catalogue_processes(db.session, app.config["SERVICE_CATALOGUE"])


def test_a_service_can_only_start_a_deployed_procedure_and_every_change_is_logged(app: Any) -> None:
    with app.app_context():
        with pytest.raises(InvalidSubmission) as refused:
            save_service(db.session, app.config["SERVICE_CATALOGUE"], BENCANA, ADMIN, utcnow())
        assert "belum dipasang" in refused.value.details["process"]
        hidden = {**BENCANA, "key": "sandang", "label": "Sandang", "process": "rujukan", "active": False}
        save_service(db.session, app.config["SERVICE_CATALOGUE"], hidden, ADMIN, utcnow())
        db.session.commit()
        event = admin_events(db.session)[0]
        assert (event.action, event.target, event.actor) == ("service_saved", "sandang", "admin")
        assert event.payload["before"]["active"] is True and event.payload["after"]["active"] is False


def test_a_deactivated_service_is_no_longer_offered(app: Any, client: Any) -> None:
    with app.app_context():
        hidden = {**BENCANA, "key": "sandang", "label": "Sandang", "process": "rujukan", "active": False}
        save_service(db.session, app.config["SERVICE_CATALOGUE"], hidden, ADMIN, utcnow())
        db.session.commit()
    application = {**sample_application(0), "service": "sandang"}
    assert client.post(f"{API}/applications", json=application).status_code == 422
    assert 'value="sandang"' not in client.get("/apply").get_data(as_text=True)


def test_a_catalogue_file_with_a_service_without_procedure_is_refused_at_start(tmp_path: Any) -> None:
    from engine.catalogue import CatalogueInvalid

    bad = tmp_path / "layanan.toml"
    bad.write_text('[services.bencana]\nlabel = "Bencana"\n', encoding="utf-8")
    with pytest.raises(CatalogueInvalid, match="process"):
        load_catalogue(bad)
