"""Every documented query option of ``GET /api/v1/tasks`` (the OpenAPI parameters), one test each.

Three applications wait for the operator; the first one's task is claimed by the operator, the
second's is overdue. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL points there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from engine.clock import utcnow
from engine.models import HumanTask
from web.demo import sample_application
from web.extensions import db

API = "/api/v1"


@pytest.fixture
def inbox(app: Any, client: Any, token: Any) -> dict[str, Any]:
    """References and applications of three cases; the operator's headers; one claimed, one overdue."""
    headers = token("operator")
    bodies = [sample_application(i) for i in range(3)]
    refs = [client.post(f"{API}/applications", json=body).get_json()["reference"] for body in bodies]
    ids = [
        client.get(f"{API}/tasks", query_string={"q": r}, headers=headers).get_json()["items"][0]["id"] for r in refs
    ]
    assert client.post(f"{API}/tasks/{ids[0]}/claim", headers=headers).status_code == 200
    with app.app_context():
        db.session.execute(update(HumanTask).where(HumanTask.id == ids[1]).values(due_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    return {"refs": refs, "ids": ids, "bodies": bodies, "headers": headers}


def tasks(client: Any, inbox: dict[str, Any], **query: Any) -> dict[str, Any]:
    answer = client.get(f"{API}/tasks", query_string=query, headers=inbox["headers"])
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def refs_of(listing: dict[str, Any]) -> list[str]:
    return [item["case_reference"] for item in listing["items"]]


def test_the_documented_options_are_exactly_these(client: Any) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/api/v1/tasks"]["get"].get("parameters", [])}
    assert names == {"queue", "service", "kecamatan", "step", "overdue", "q", "sort", "order", "page", "per_page"}


@pytest.mark.parametrize(
    ("queue", "expected"), [("available", [1, 2]), ("mine", [0]), ("all", [0, 1, 2]), (None, [1, 2])]
)
def test_queue(client: Any, inbox: dict[str, Any], queue: str | None, expected: list[int]) -> None:
    listing = tasks(client, inbox, **({"queue": queue} if queue else {}))
    assert sorted(refs_of(listing)) == [inbox["refs"][i] for i in expected]
    assert listing["total"] == len(expected)


def test_service(client: Any, inbox: dict[str, Any]) -> None:
    service = inbox["bodies"][1]["service"]
    listing = tasks(client, inbox, queue="all", service=service)
    expected = [r for r, b in zip(inbox["refs"], inbox["bodies"], strict=True) if b["service"] == service]
    assert sorted(refs_of(listing)) == expected and all(i["service"] == service for i in listing["items"])
    assert tasks(client, inbox, queue="all", service="tidak_ada")["total"] == 0


def test_kecamatan(client: Any, inbox: dict[str, Any]) -> None:
    kecamatan = inbox["bodies"][2]["applicant"]["village_code"][:8]
    listing = tasks(client, inbox, queue="all", kecamatan=kecamatan)
    expected = [
        r
        for r, b in zip(inbox["refs"], inbox["bodies"], strict=True)
        if b["applicant"]["village_code"][:8] == kecamatan
    ]
    assert sorted(refs_of(listing)) == expected
    assert tasks(client, inbox, queue="all", kecamatan="63.11.99")["total"] == 0


def test_step(client: Any, inbox: dict[str, Any]) -> None:
    assert tasks(client, inbox, queue="all", step="verifikasi")["total"] == 3
    assert tasks(client, inbox, queue="all", step="kunjungan")["total"] == 0


def test_overdue(client: Any, inbox: dict[str, Any]) -> None:
    listing = tasks(client, inbox, queue="all", overdue="1")
    assert refs_of(listing) == [inbox["refs"][1]] and listing["items"][0]["overdue"] is True
    assert tasks(client, inbox, queue="all", overdue="0")["total"] == 3


def test_q_by_reference_name_and_nik(client: Any, inbox: dict[str, Any]) -> None:
    first = inbox["bodies"][0]["applicant"]
    assert refs_of(tasks(client, inbox, queue="all", q=inbox["refs"][0].lower())) == [inbox["refs"][0]]
    assert inbox["refs"][0] in refs_of(tasks(client, inbox, queue="all", q=first["name"].split()[0]))
    assert refs_of(tasks(client, inbox, queue="all", q=first["nik"])) == [inbox["refs"][0]]
    assert tasks(client, inbox, queue="all", q="zzz-tidak-ada")["total"] == 0


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", ["created", "due", "reference"])
def test_sort_and_order(client: Any, inbox: dict[str, Any], sort: str, order: str) -> None:
    items = tasks(client, inbox, queue="all", sort=sort, order=order)["items"]
    key = {"created": "created_at", "due": "due_at", "reference": "case_reference"}[sort]
    values = [item[key] for item in items]
    assert values == sorted(values, reverse=order == "desc") and len(values) == 3


def test_page_and_per_page(client: Any, inbox: dict[str, Any]) -> None:
    first = tasks(client, inbox, queue="all", per_page=2, page=1)
    second = tasks(client, inbox, queue="all", per_page=2, page=2)
    beyond = tasks(client, inbox, queue="all", per_page=2, page=3)
    assert (first["total"], second["total"], beyond["total"]) == (3, 3, 3)
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and beyond["items"] == []
    assert set(refs_of(first)) | set(refs_of(second)) == set(inbox["refs"])
    assert (second["page"], second["per_page"]) == (2, 2)


@pytest.mark.parametrize(
    "query",
    [{"queue": "semua"}, {"page": "0"}, {"page": "x"}, {"per_page": "0"}, {"per_page": "101"}],
)
def test_bad_values_are_400(client: Any, inbox: dict[str, Any], query: dict[str, str]) -> None:
    answer = client.get(f"{API}/tasks", query_string=query, headers=inbox["headers"])
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_parameter"
