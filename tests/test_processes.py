"""Deploying procedures: immutable versions, and 422 listing every problem of a bad upload."""

from __future__ import annotations

import io
from typing import Any

from config import BASE_DIR

API = "/api/v1/processes"
RUJUKAN = (BASE_DIR / "bpmn" / "rujukan.bpmn").read_bytes()


def upload(client: Any, headers: dict[str, str], *files: tuple[str, bytes]) -> Any:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(API, data=data, headers=headers, content_type="multipart/form-data")


def problems(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 422, answer.get_json()
    return answer.get_json()["error"]["details"]


def test_processes_are_listed_with_their_versions(client: Any, token: Any) -> None:
    items = client.get(API, headers=token("admin")).get_json()["items"]
    assert {(i["key"], i["version"]) for i in items} == {("rujukan", 1), ("aduan", 1)}
    assert client.get(API, headers=token("operator")).status_code == 403


def test_deploying_a_changed_diagram_makes_a_new_version_and_old_cases_keep_theirs(client: Any, token: Any) -> None:
    from tests.test_api import submit

    old = submit(client)["reference"]
    changed = RUJUKAN.replace(b'name="Verifikasi kelengkapan"', b'name="Verifikasi kelengkapan berkas"')
    assert changed != RUJUKAN
    answer = upload(client, token("admin"), ("rujukan.bpmn", changed))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["items"][0]["version"] == 2
    same = upload(client, token("admin"), ("rujukan.bpmn", changed))
    assert same.get_json()["items"][0]["version"] == 2  # identical content: no new version
    new = submit(client, 1)["reference"]
    assert client.get(f"/api/v1/cases/{old}", headers=token("operator")).get_json()["definition_version"] == 1
    assert client.get(f"/api/v1/cases/{new}", headers=token("operator")).get_json()["definition_version"] == 2


def test_only_admins_deploy(client: Any, token: Any) -> None:
    assert upload(client, token("manager"), ("rujukan.bpmn", RUJUKAN)).status_code == 403


def test_a_non_bpmn_upload_is_refused(client: Any, token: Any) -> None:
    found = problems(upload(client, token("admin"), ("foto.bpmn", b"\x89PNG\r\n\x1a\n binary")))
    assert any("XML" in p["message"] or "UTF-8" in p["message"] for p in found)
    found = problems(upload(client, token("admin"), ("virus.exe", b"MZ")))
    assert found[0]["file"] == "virus.exe"
    assert client.post(API, json={"files": []}, headers=token("admin")).status_code == 415


def test_bpmn_with_an_xml_external_entity_is_refused(client: Any, token: Any) -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""
    found = problems(upload(client, token("admin"), ("xxe.bpmn", xxe)))
    assert any("DTD" in p["message"] or "DOCTYPE" in p["message"] for p in found)
    assert "root:" not in str(found)


def test_bpmn_with_a_script_importing_os_is_refused_with_the_element_id(client: Any, token: Any) -> None:
    evil = RUJUKAN.replace(
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == "lengkap"</bpmn:conditionExpression>',
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">__import__("os").system("id") == 0</bpmn:conditionExpression>',
        1,
    )
    assert evil != RUJUKAN
    found = problems(upload(client, token("admin"), ("rujukan.bpmn", evil)))
    assert any(p["element_id"] and p["element_id"].startswith("Flow") for p in found), found
    script = RUJUKAN.replace(
        b"</bpmn:process>",
        b'<bpmn:scriptTask id="evil_script"><bpmn:script>import os\nos.system("id")</bpmn:script></bpmn:scriptTask></bpmn:process>',
        1,
    )
    found = problems(upload(client, token("admin"), ("rujukan.bpmn", script)))
    assert any(p["element_id"] == "evil_script" and "import" in p["message"].lower() for p in found), found


def test_every_problem_is_listed_at_once(client: Any, token: Any) -> None:
    broken = RUJUKAN.replace(b'value="verifikasi.json"', b'value="tidak_ada.json"').replace(
        b'name="operator"', b'name="petugas_rahasia"'
    )
    found = problems(upload(client, token("admin"), ("rujukan.bpmn", broken)))
    messages = " ".join(p["message"] for p in found)
    assert "tidak_ada.json" in messages and "petugas_rahasia" in messages
    assert all(p["element_id"] == "verifikasi" for p in found if "tidak_ada" in p["message"])


def test_an_invalid_form_schema_is_refused(client: Any, token: Any) -> None:
    found = problems(
        upload(client, token("admin"), ("rujukan.bpmn", RUJUKAN), ("forms/verifikasi.json", b'{"type": 12}'))
    )
    assert any(p["file"] == "forms/verifikasi.json" for p in found)
