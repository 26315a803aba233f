"""Deploying procedures: immutable versions, and 422 listing every problem of a bad upload."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from config import BASE_DIR
from engine.models import Case

API = "/api/v1/processes"
RUJUKAN = (BASE_DIR / "bpmn" / "rujukan.bpmn").read_bytes()
ADUAN = (BASE_DIR / "bpmn" / "aduan.bpmn").read_bytes()
CORPUS = BASE_DIR / "tests" / "data" / "diagrams"


def upload(client: Any, headers: dict[str, str], *files: tuple[str, bytes], confirm: bool = False) -> Any:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    url = API + ("?confirm=true" if confirm else "")
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def corpus(*names: str) -> list[tuple[str, bytes]]:
    """Files of tests/data/diagrams, named as an administrator uploads them (forms/x.json)."""
    return [(name.removeprefix("refused/"), (CORPUS / name).read_bytes()) for name in names]


def problems(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 422, answer.get_json()
    return answer.get_json()["error"]["details"]


def errors_by_element(answer: Any) -> dict[str | None, str]:
    found: dict[str | None, str] = {}
    for p in problems(answer):
        if p["severity"] == "error":
            found[p["element_id"]] = found.get(p["element_id"], "") + " | " + p["message"]
    return found


def test_processes_are_listed_with_their_versions(client: Any, token: Any) -> None:
    items = client.get(API, headers=token("admin")).get_json()["items"]
    assert {(i["key"], i["version"], i["open_cases"]) for i in items} == {("rujukan", 1, 0), ("aduan", 1, 0)}
    assert client.get(API, headers=token("operator")).status_code == 403


def test_replacing_the_live_referral_needs_a_confirmation_and_old_cases_keep_their_version(
    client: Any, token: Any
) -> None:
    from tests.test_api import submit

    old = submit(client)["reference"]
    changed = RUJUKAN.replace(b'name="Verifikasi kelengkapan"', b'name="Verifikasi kelengkapan berkas"')
    assert changed != RUJUKAN
    refused = upload(client, token("admin"), ("rujukan.bpmn", changed))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "confirmation_required"
    assert "layanan publik" in refused.get_json()["error"]["details"][0]["message"]
    answer = upload(client, token("admin"), ("rujukan.bpmn", changed), confirm=True)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["items"][0]["version"] == 2
    same = upload(client, token("admin"), ("rujukan.bpmn", changed))
    assert same.status_code == 201  # identical content: nothing to confirm, no new version
    assert same.get_json()["items"][0]["version"] == 2 and same.get_json()["unchanged"] == ["rujukan"]
    new = submit(client, 1)["reference"]
    assert client.get(f"/api/v1/cases/{old}", headers=token("operator")).get_json()["definition_version"] == 1
    assert client.get(f"/api/v1/cases/{new}", headers=token("operator")).get_json()["definition_version"] == 2
    listed = {
        (i["key"], i["version"]): i["open_cases"] for i in client.get(API, headers=token("admin")).get_json()["items"]
    }
    assert listed[("rujukan", 1)] == 1 and listed[("rujukan", 2)] == 1


def test_an_unrelated_file_with_the_referrals_process_id_needs_a_confirmation(client: Any, token: Any) -> None:
    other = (CORPUS / "bantuan_bencana.bpmn").read_bytes().replace(b'id="bantuan_bencana"', b'id="rujukan"')
    forms = corpus("forms/verifikasi_bencana.json", "forms/penyaluran_bencana.json")
    refused = upload(client, token("admin"), ("diagram_lain.bpmn", other), *forms)
    assert refused.status_code == 409
    assert any("rujukan.bpmn" in p["message"] for p in refused.get_json()["error"]["details"])
    assert client.get(API, headers=token("admin")).get_json()["items"][0]["version"] == 1


def test_a_version_holds_only_its_own_files_so_an_unrelated_table_never_reroutes_complaints(
    driver: Any, client: Any, token: Any
) -> None:
    rogue = (
        (CORPUS / "refused" / "bidang_asing.dmn")
        .read_bytes()
        .replace(b"bidang_kesehatan", b"dayasos")
        .replace(b'id="bidang_rujukan"', b'id="bidang_aduan"')
    )
    answer = upload(client, token("admin"), ("rujukan.bpmn", RUJUKAN), ("zz_bidang.dmn", rogue))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["unchanged"] == ["rujukan"]  # the table is not the referral's: nothing changed
    items = client.get(API, headers=token("admin")).get_json()["items"]
    assert all("zz_bidang.dmn" not in i["files"] for i in items)
    aduan = next(i for i in items if i["key"] == "aduan")
    assert "bidang_rujukan.dmn" not in aduan["files"] and "forms/verifikasi.json" not in aduan["files"]
    case = driver().complain(category="pelayanan")
    from engine.cases import ready_user_tasks, restore_workflow

    _, workflow = restore_workflow(case.case)
    assert ready_user_tasks(workflow)[0].data["bidang_usulan"] == "rehsos"


def test_a_changed_table_alone_makes_a_new_version_of_the_procedure_that_uses_it(client: Any, token: Any) -> None:
    table = (BASE_DIR / "bpmn" / "bidang_rujukan.dmn").read_bytes()
    changed = table.replace(b'"linjamsos"', b'"dayasos"', 1)
    assert changed != table
    answer = upload(client, token("admin"), ("bidang_rujukan.dmn", changed), confirm=True)
    assert answer.status_code == 201, answer.get_json()
    assert [(i["key"], i["version"]) for i in answer.get_json()["items"]] == [("rujukan", 2)]
    unused = upload(client, token("admin"), ("lain.dmn", changed))
    assert "tidak dipakai" in problems(unused)[0]["message"]


def test_a_file_without_an_executable_process_is_refused_never_an_empty_success(
    app: Any, client: Any, token: Any
) -> None:
    found = problems(upload(client, token("admin"), *corpus("refused/signavio_tanpa_executable.bpmn")))
    messages = " ".join(p["message"] for p in found)
    assert "isExecutable" in messages and "Tidak ada proses yang dapat dijalankan" in messages
    result = app.test_cli_runner().invoke(
        args=["processes", "deploy", str(CORPUS / "refused" / "signavio_tanpa_executable.bpmn")]
    )
    assert result.exit_code != 0 and "isExecutable" in result.output


def test_tasks_outside_a_working_lane_are_refused_also_inside_subprocesses_and_transactions(
    client: Any, token: Any
) -> None:
    found = errors_by_element(
        upload(client, token("admin"), *corpus("refused/tugas_tanpa_lajur.bpmn", "forms/catatan_singkat.json"))
    )
    assert "'admin'" in found["Activity_admin"]
    assert "tidak berada di lajur" in found["Activity_manual"]
    assert "tidak berada di lajur" in found["Activity_dalam"] and "tidak_ada.json" in found["Activity_dalam"]
    assert "tidak berada di lajur" in found["Activity_trx_task"] and "tanpa formulir" in found["Activity_trx_task"]


def test_gateways_timers_juel_and_unreachable_steps_are_named_with_their_element(client: Any, token: Any) -> None:
    answer = upload(client, token("admin"), *corpus("refused/gerbang_timer_alur.bpmn", "forms/keputusan_tiga.json"))
    found = errors_by_element(answer)
    assert "tunda" in found["Gateway_hasil"] and "alur bawaan" in found["Gateway_hasil"]
    assert "JUEL" in found["Flow_back"] and "${ulang == true}" in found["Flow_back"]
    assert "P3X" in found["tunggu"]
    assert "Jalan buntu" in found["putar"]
    assert "tidak dapat dicapai" in found["lupa"]
    assert all(p["line"] for p in problems(answer) if p["element_id"] in {"Gateway_hasil", "tunggu", "lupa"})


def test_every_xml_schema_error_is_listed_with_its_line(client: Any, token: Any) -> None:
    found = problems(upload(client, token("admin"), *corpus("refused/skema_rusak.bpmn")))
    schema = [p for p in found if "skema BPMN" in p["message"]]
    assert len(schema) >= 3, found
    assert all(p["line"] for p in schema)
    assert {p["element_id"] for p in schema} >= {"skema_rusak", "tugas"}
    assert "http://www.omg.org" not in " ".join(p["message"] for p in schema)


def test_dmn_tables_without_decisions_or_with_unknown_bidang_are_refused(client: Any, token: Any) -> None:
    found = problems(upload(client, token("admin"), ("rujukan.bpmn", RUJUKAN), *corpus("refused/tanpa_keputusan.dmn")))
    assert any(p["file"] == "tanpa_keputusan.dmn" and "tidak berisi keputusan" in p["message"] for p in found)
    foreign = corpus("refused/bidang_asing.dmn")[0]
    found = problems(upload(client, token("admin"), ("rujukan.bpmn", RUJUKAN), ("bidang_rujukan.dmn", foreign[1])))
    assert any("bidang_kesehatan" in p["message"] and p["element_id"] == "Rule_semua" for p in found)


def test_a_utf16_diagram_deploys_and_keeps_its_text(client: Any, token: Any) -> None:
    text = (CORPUS / "bantuan_bencana.bpmn").read_text("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    forms = corpus("forms/verifikasi_bencana.json", "forms/penyaluran_bencana.json")
    answer = upload(client, token("admin"), ("bantuan_bencana.bpmn", text.encode("utf-16")), *forms)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["items"][0]["key"] == "bantuan_bencana"


def _chain(length: int) -> bytes:
    tasks = "".join(
        f'<bpmn:scriptTask id="t{i}"><bpmn:script>langkah = {i}</bpmn:script></bpmn:scriptTask>'
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{"mulai" if i == 0 else f"t{i - 1}"}" targetRef="t{i}"/>'
        for i in range(length)
    )
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
        f'<bpmn:process id="rantai" isExecutable="true"><bpmn:startEvent id="mulai"/>{tasks}'
        f'<bpmn:sequenceFlow id="f_end" sourceRef="t{length - 1}" targetRef="akhir"/><bpmn:endEvent id="akhir"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_a_chain_of_600_steps_deploys_and_runs(app: Any, client: Any, token: Any, actor: Any) -> None:
    from engine.cases import CaseSummary, start_case
    from engine.clock import utcnow
    from web.extensions import db

    answer = upload(client, token("admin"), ("rantai.bpmn", _chain(600)))
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        case, _ = start_case(db.session, "rantai", {}, CaseSummary(), actor("front_office"), utcnow())
        assert case.status == "completed"


def test_a_condition_of_5000_terms_is_refused_not_a_server_error(client: Any, token: Any) -> None:
    huge = 'decision == "lengkap" and 0 ' + "+ 1 " * 5000 + "> 0"
    evil = RUJUKAN.replace(b'decision == "lengkap"', huge.encode(), 1)
    found = problems(upload(client, token("admin"), ("rujukan.bpmn", evil), confirm=True))
    assert any(p["element_id"] == "Flow_verifikasi_lengkap" for p in found), found[:3]


def test_tasks_in_an_embedded_subprocess_and_a_called_process_reach_the_inbox(
    app: Any, client: Any, token: Any, actor: Any
) -> None:
    from engine.cases import CaseSummary, start_case
    from engine.clock import utcnow
    from engine.replay import replay_case
    from web.extensions import db

    answer = upload(client, token("admin"), *corpus("subproses_bpmnjs.bpmn", "forms/catatan_singkat.json"))
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        case, _ = start_case(db.session, "asesmen_bertahap", {}, CaseSummary(), actor("front_office"), utcnow())
        reference = case.reference
        db.session.commit()
    for role, step, data in (
        ("supervisor", "Activity_kunjungan", {"catatan": "Rumah dikunjungi"}),
        ("manager", "Activity_tinjau", {}),
        ("operator", "Activity_catat", {"catatan": "Selesai diasesmen"}),
    ):
        tasks = client.get("/api/v1/tasks", headers=token(role)).get_json()["items"]
        mine = [t for t in tasks if t["case_reference"] == reference]
        assert [t["name"] for t in mine] == [step], tasks
        done = client.post(f"/api/v1/tasks/{mine[0]['id']}/complete", json={"data": data}, headers=token(role))
        assert done.status_code == 200, (step, done.get_json())
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.status == "completed"
        assert replay_case(db.session, case)["consistent"]


def test_two_versions_are_compared_element_by_element(client: Any, token: Any) -> None:
    changed = RUJUKAN.replace(b'name="Verifikasi kelengkapan"', b'name="Verifikasi berkas"')
    assert upload(client, token("admin"), ("rujukan.bpmn", changed), confirm=True).status_code == 201
    diff = client.get(f"{API}/rujukan/diff?from=1&to=2", headers=token("admin")).get_json()
    assert diff["changed"] == [{"id": "verifikasi", "name": "Verifikasi kelengkapan", "attributes": ["bpmn_name"]}]
    assert diff["files"]["changed"] == ["rujukan.bpmn"] and diff["added"] == []


def test_validating_reports_errors_and_warnings_without_deploying(client: Any, token: Any) -> None:
    data = {
        "files": [(io.BytesIO(c), n) for n, c in corpus("refused/gerbang_timer_alur.bpmn", "forms/keputusan_tiga.json")]
    }
    report = client.post(f"{API}/validate", data=data, headers=token("admin"), content_type="multipart/form-data")
    body = report.get_json()
    assert report.status_code == 200 and body["valid"] is False
    assert body["errors"] and any(w["element_id"] == "Gateway_hasil" for w in body["warnings"])
    assert {i["key"] for i in client.get(API, headers=token("admin")).get_json()["items"]} == {"rujukan", "aduan"}


def test_only_admins_deploy(client: Any, token: Any) -> None:
    assert upload(client, token("manager"), ("rujukan.bpmn", RUJUKAN)).status_code == 403


def test_a_non_bpmn_upload_is_refused(client: Any, token: Any) -> None:
    found = problems(upload(client, token("admin"), ("foto.bpmn", b"\x89PNG\r\n\x1a\n binary")))
    assert any("XML" in p["message"] for p in found)
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


def test_an_invalid_form_schema_is_refused_with_a_short_reason(client: Any, token: Any) -> None:
    found = problems(
        upload(client, token("admin"), ("rujukan.bpmn", RUJUKAN), ("forms/verifikasi.json", b'{"type": 12}'))
    )
    reasons = [p for p in found if "forms/verifikasi.json" in p["message"]]
    assert reasons and all(len(p["message"]) < 300 for p in reasons)


def test_a_spiffarena_diagram_with_pre_and_post_scripts_and_a_ui_schema_deploys_and_runs(
    app: Any, client: Any, token: Any, actor: Any
) -> None:
    from engine.cases import CaseSummary, complete_task, open_tasks, restore_workflow, start_case
    from engine.clock import utcnow
    from engine.definitions import load_definition
    from web.extensions import db

    files = corpus(
        "spiffarena_pendamping.bpmn",
        "forms/tugaskan-pendamping-schema.json",
        "forms/tugaskan-pendamping-uischema.json",
    )
    answer = upload(client, token("admin"), *files)
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        case, _ = start_case(
            db.session, "Process_pendamping_x1y2z3", {}, CaseSummary(), actor("front_office"), utcnow()
        )
        [(task_id, role, name)] = open_tasks(db.session, case.id)
        assert (role, name) == ("supervisor", "Activity_tugaskan")
        form = load_definition(case.definition).form_schema(name)
        assert list(form["properties"]) == ["pendamping", "catatan"]  # ui:order honoured
        assert form["properties"]["catatan"]["x-widget"] == "textarea"
        complete_task(db.session, task_id, actor("supervisor"), {"pendamping": "PSM Juai"}, utcnow())
        _, workflow = restore_workflow(case)
        assert case.status == "completed"
        end = next(t for t in workflow.tasks.values() if t.task_spec.name == "Event_selesai")
        assert end.data["ringkasan"] == "PSM Juai (3 hari)"  # pre- and post-script ran in the sandbox
