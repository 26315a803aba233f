"""The JSON API of DESIGN.md: a whole case with curl-like calls, roles, and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Case, CaseEvent, HumanTask
from web.demo import SAMPLE_DATA, sample_application
from web.extensions import db

API = "/api/v1"
ROLE_USER = {
    "operator": "operator",
    "supervisor": "supervisor",
    "manager": "manager",
    "kadis": "kadis",
    "front_office": "front_office",
}


# The referral's happy path as the demo users walk it (kabid of the bidang alat_bantu routes to).
HAPPY_BY_USER = [
    ("operator", "verifikasi"),
    ("supervisor", "kunjungan"),
    ("manager", "reviu_manager"),
    ("kadis", "mengetahui_kadis"),
    ("manager", "teruskan_kabid"),
    ("kabid_rehsos", "keputusan_kabid"),
    ("manager", "terbitkan_surat"),
    ("front_office", "serah_terima"),
]


def submit(client: Any, index: int = 0, **headers: str) -> dict[str, Any]:
    answer = client.post(f"{API}/applications", json=sample_application(index), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def open_task(client: Any, headers: dict[str, str], reference: str) -> dict[str, Any]:
    listing = client.get(f"{API}/tasks", query_string={"q": reference}, headers=headers).get_json()
    assert listing["total"] == 1, listing
    return listing["items"][0]


def counts(app: Any) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Case)) or 0,
            db.session.scalar(select(func.count()).select_from(CaseEvent)) or 0,
            db.session.scalar(select(func.count()).select_from(HumanTask)) or 0,
        )


def test_a_case_goes_from_application_to_hand_over_through_the_api(client: Any, token: Any) -> None:
    created = submit(client)
    reference = created["reference"]
    assert reference.startswith("RJK-") and len(created["tracking_code"]) == 8
    for user, step in HAPPY_BY_USER:
        headers = token(user)
        item = open_task(client, headers, reference)
        assert item["name"] == step and item["nik_masked"].count("*") == 8
        detail = client.get(f"{API}/tasks/{item['id']}", headers=headers).get_json()
        assert detail["form_schema"]["type"] == "object"
        if step == "teruskan_kabid":
            assert detail["form_defaults"] == {"bidang": "rehsos"}
        assert client.post(f"{API}/tasks/{item['id']}/claim", headers=headers).status_code == 200
        done = client.post(f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA[step]}, headers=headers)
        assert done.status_code == 200, done.get_json()
    case = client.get(f"{API}/cases/{reference}", headers=token("auditor")).get_json()
    assert case["status"] == "completed" and case["definition_version"] == 1
    history = client.get(f"{API}/cases/{reference}/history", headers=token("auditor")).get_json()
    assert history["chain_valid"] is True
    assert [e["kind"] for e in history["events"]].count("task_completed") == 8
    replay = client.post(f"{API}/cases/{reference}/replay", headers=token("auditor")).get_json()
    assert replay == {"consistent": True, "chain_valid": True, "steps": 9, "differences": []}
    tracking = client.get(f"{API}/applications/{reference}", query_string={"tracking_code": created["tracking_code"]})
    body = tracking.get_json()
    assert body["status"] == "completed" and body["timeline"]
    assert "operator" not in str(body["timeline"]).lower()


def test_the_applicant_resubmits_through_the_api_after_being_told_what_is_missing(client: Any, token: Any) -> None:
    created = submit(client)
    item = open_task(client, token("operator"), created["reference"])
    data = {**SAMPLE_DATA["verifikasi"], "decision": "tidak_lengkap", "dokumen_kurang": ["kk"]}
    client.post(f"{API}/tasks/{item['id']}/complete", json={"data": data}, headers=token("operator"))
    url = f"{API}/applications/{created['reference']}"
    tracking = client.get(url, query_string={"tracking_code": created["tracking_code"]}).get_json()
    assert tracking["missing_documents"] == ["kk"] and tracking["can_resubmit"] is True
    wrong = client.post(f"{url}/resubmit", json={"tracking_code": "WRONG123"})
    assert wrong.status_code == 404
    again = client.post(f"{url}/resubmit", json={"tracking_code": created["tracking_code"], "note": "KK terlampir"})
    assert again.status_code == 200
    assert open_task(client, token("operator"), created["reference"])["name"] == "verifikasi"
    twice = client.post(f"{url}/resubmit", json={"tracking_code": created["tracking_code"]})
    assert twice.status_code == 409


def test_a_complaint_is_received_and_trackable(client: Any) -> None:
    answer = client.post(
        f"{API}/complaints",
        json={
            "category": "pelayanan",
            "description": "Antrian sangat lama sekali",
            "phone": "0812 3456 7890",
            "village_code": "63.11.06.1019",
        },
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["reference"].startswith("ADU-")
    tracked = client.get(f"{API}/complaints/{body['reference']}", query_string={"tracking_code": body["tracking_code"]})
    assert tracked.status_code == 200


def test_a_resend_with_the_same_idempotency_key_returns_the_first_answer(client: Any, app: Any) -> None:
    first = submit(client, **{"Idempotency-Key": "abc-123"})
    before = counts(app)
    again = submit(client, **{"Idempotency-Key": "abc-123"})
    assert again == first
    assert counts(app) == before
    other = client.post(f"{API}/applications", json=sample_application(1), headers={"Idempotency-Key": "abc-123"})
    assert other.status_code == 422


def test_the_wrong_role_gets_403_and_nothing_changes(client: Any, token: Any, app: Any) -> None:
    reference = submit(client)["reference"]
    item = open_task(client, token("operator"), reference)
    before = counts(app)
    for verb in ("claim", "complete"):
        answer = client.post(
            f"{API}/tasks/{item['id']}/{verb}", json={"data": SAMPLE_DATA["verifikasi"]}, headers=token("supervisor")
        )
        assert answer.status_code == 403
        assert answer.get_json()["error"]["code"] == "forbidden"
    assert client.get(f"{API}/tasks/{item['id']}", headers=token("kadis")).status_code == 403
    assert (
        client.get(f"{API}/tasks", query_string={"q": reference}, headers=token("supervisor")).get_json()["total"] == 0
    )
    assert counts(app) == before


def test_a_kabid_of_another_bidang_gets_403(client: Any, token: Any) -> None:
    reference = submit(client)["reference"]
    for user, step in [
        ("operator", "verifikasi"),
        ("supervisor", "kunjungan"),
        ("manager", "reviu_manager"),
        ("kadis", "mengetahui_kadis"),
        ("manager", "teruskan_kabid"),
    ]:
        item = open_task(client, token(user), reference)
        client.post(f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA[step]}, headers=token(user))
    item = open_task(client, token("kabid_rehsos"), reference)
    answer = client.post(
        f"{API}/tasks/{item['id']}/complete",
        json={"data": SAMPLE_DATA["keputusan_kabid"]},
        headers=token("kabid_linjamsos"),
    )
    assert answer.status_code == 403
    assert (
        client.get(f"{API}/tasks", query_string={"q": reference}, headers=token("kabid_linjamsos")).get_json()["total"]
        == 0
    )
    assert client.get(f"{API}/cases/{reference}", headers=token("kabid_linjamsos")).status_code == 403


def test_a_task_claimed_by_someone_else_is_a_conflict(client: Any, token: Any, app: Any) -> None:
    from web.auth import create_user

    with app.app_context():
        create_user("operator2", "password-dua", "Operator Dua", ["operator"])
        db.session.commit()
    second = {
        "Authorization": "Bearer "
        + client.post(f"{API}/auth/token", json={"username": "operator2", "password": "password-dua"}).get_json()[
            "token"
        ]
    }
    item = open_task(client, token("operator"), submit(client)["reference"])
    assert client.post(f"{API}/tasks/{item['id']}/claim", headers=token("operator")).status_code == 200
    answer = client.post(f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA["verifikasi"]}, headers=second)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "task_claimed"
    done = client.post(
        f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA["verifikasi"]}, headers=token("operator")
    )
    assert done.status_code == 200
    late = client.post(
        f"{API}/tasks/{item['id']}/complete", json={"data": SAMPLE_DATA["verifikasi"]}, headers=token("operator")
    )
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "task_not_active"


def test_staff_endpoints_need_a_login(client: Any) -> None:
    assert client.get(f"{API}/tasks").status_code == 401
    assert client.get(f"{API}/tasks", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    bad = client.post(f"{API}/auth/token", json={"username": "operator", "password": "salah"})
    assert bad.status_code == 401 and bad.get_json()["error"]["message"]


def test_unknown_things_are_404(client: Any, token: Any) -> None:
    assert client.get(f"{API}/tasks/not-a-uuid", headers=token("operator")).status_code == 404
    assert client.get(f"{API}/tasks/00000000-0000-0000-0000-000000000000", headers=token("operator")).status_code == 404
    assert client.get(f"{API}/cases/RJK-1999-000001", headers=token("operator")).status_code == 404
    assert client.get(f"{API}/applications/RJK-1999-000001", query_string={"tracking_code": "X"}).status_code == 404


def test_task_list_filters_and_pages(client: Any, token: Any) -> None:
    for index in range(3):
        submit(client, index)
    headers = token("operator")
    page = client.get(f"{API}/tasks", query_string={"per_page": 2, "page": 2}, headers=headers).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    only = client.get(f"{API}/tasks", query_string={"service": "sandang"}, headers=headers).get_json()
    assert only["total"] == 1 and only["items"][0]["service"] == "sandang"
    assert client.get(f"{API}/tasks", query_string={"per_page": 1000}, headers=headers).status_code == 400
    assert client.get(f"{API}/tasks", query_string={"queue": "x"}, headers=headers).status_code == 400
    mine = client.get(f"{API}/tasks", query_string={"queue": "mine"}, headers=headers).get_json()
    assert mine["total"] == 0


def test_openapi_documents_every_endpoint(client: Any) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()
    paths = spec["paths"]
    for path in [
        "/api/v1/applications",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/processes",
        "/api/v1/cases/{reference}/replay",
        "/api/v1/auth/token",
    ]:
        assert path in paths
    assert "Application" in spec["components"]["schemas"]


# --- bad input: a clear 4xx and nothing changed -------------------------------------------

BAD_APPLICATIONS = [
    ({"applicant": {"nik": "12345"}}, "applicant.nik"),
    ({"applicant": {"nik": "6311064203520000"}}, "applicant.nik"),  # serial 0000
    ({"applicant": {"nik": "6311063213520001"}}, "applicant.nik"),  # month 13
    ({"applicant": {"nik": "9911061403520001"}}, "applicant.nik"),  # unknown province
    ({"applicant": {"birth_date": "2099-01-01"}}, "applicant.birth_date"),
    ({"applicant": {"village_code": "63.10.01.2001"}}, "applicant.village_code"),
    ({"applicant": {"phone": "12345"}}, "applicant.phone"),
    ({"applicant": {"kk_number": "abc"}}, "applicant.kk_number"),
    ({"service": "mobil_mewah"}, "service"),
    ({"description": 42}, "description"),
    ({"applicant": None}, "applicant"),
    ({"extra_field": 1}, "extra_field"),
]


@pytest.mark.parametrize(("change", "field"), BAD_APPLICATIONS)
def test_bad_applications_get_422_naming_the_field(client: Any, app: Any, change: dict[str, Any], field: str) -> None:
    payload = sample_application(0)
    for key, value in change.items():
        if key == "applicant" and isinstance(value, dict):
            payload["applicant"].update(value)
        else:
            payload[key] = value
    before = counts(app)
    answer = client.post(f"{API}/applications", json=payload)
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert field in error["details"], error
    assert counts(app) == before


def test_missing_fields_are_listed(client: Any) -> None:
    answer = client.post(f"{API}/applications", json={})
    details = answer.get_json()["error"]["details"]
    assert answer.status_code == 422
    assert {"service", "ppks_category", "description", "applicant"} <= set(details)
    assert details["service"] == "Wajib diisi."


def test_malformed_json_is_400(client: Any, app: Any) -> None:
    before = counts(app)
    answer = client.post(f"{API}/applications", data="{not json", content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed_json"
    assert (
        client.post(f"{API}/applications", data="x=1", content_type="application/x-www-form-urlencoded").status_code
        == 415
    )
    assert counts(app) == before


def test_an_oversized_body_is_413(client: Any) -> None:
    payload = sample_application(0)
    payload["description"] = "x" * 400_000
    answer = client.post(f"{API}/applications", json=payload)
    assert answer.status_code == 413
    assert answer.get_json()["error"]["message"]


def test_invalid_task_data_is_422_per_field_and_changes_nothing(client: Any, token: Any, app: Any) -> None:
    item = open_task(client, token("operator"), submit(client)["reference"])
    before = counts(app)
    cases = [
        ({}, "decision"),
        ({"status_dtsen": "terdaftar", "decision": "mungkin"}, "decision"),
        ({"status_dtsen": "terdaftar", "decision": "lengkap", "desil": "dua"}, "desil"),
        ({"status_dtsen": "terdaftar", "decision": "tidak_lengkap"}, "dokumen_kurang"),
        ({"status_dtsen": "terdaftar", "decision": "ditolak", "kategori_penolakan": "duplikat"}, "alasan"),
        ({"status_dtsen": "terdaftar", "decision": "lengkap", "hack": 1}, "data"),
    ]
    for data, field in cases:
        answer = client.post(f"{API}/tasks/{item['id']}/complete", json={"data": data}, headers=token("operator"))
        assert answer.status_code == 422, (data, answer.get_json())
        assert field in answer.get_json()["error"]["details"], answer.get_json()
    wrong_shape = client.post(f"{API}/tasks/{item['id']}/complete", json={"data": [1, 2]}, headers=token("operator"))
    assert wrong_shape.status_code == 422
    assert client.post(f"{API}/tasks/{item['id']}/complete", json=[1], headers=token("operator")).status_code == 422
    assert counts(app) == before
