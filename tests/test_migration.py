"""Moving running cases to a newer version: a dry run says who can move and why not; moves are audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from config import BASE_DIR
from engine.audit import Actor
from engine.definitions import deploy
from engine.migration import dry_run, migrate_cases
from engine.models import CaseEvent
from engine.replay import replay_case
from web.extensions import db

RUJUKAN = (BASE_DIR / "bpmn" / "rujukan.bpmn").read_text("utf-8")
ADMIN = Actor("admin", ("admin",))
CEK_DTSEN_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Cek DTSEN",
    "type": "object",
    "properties": {"status_dtsen": {"type": "string", "title": "Status DTSEN", "enum": ["terdaftar", "belum"]}},
    "required": ["status_dtsen"],
    "additionalProperties": False,
}


def with_dtsen_check(text: str = RUJUKAN) -> str:
    """The referral with a DTSEN check by the operator between verification and the home visit."""
    text = text.replace(
        '<bpmn:lane id="Lane_operator" name="operator">',
        '<bpmn:lane id="Lane_operator" name="operator">\n        <bpmn:flowNodeRef>cek_dtsen</bpmn:flowNodeRef>',
    )
    text = text.replace(
        'sourceRef="Gateway_verifikasi" targetRef="kunjungan"', 'sourceRef="Gateway_verifikasi" targetRef="cek_dtsen"'
    )
    text = text.replace(
        "<bpmn:incoming>Flow_verifikasi_lengkap</bpmn:incoming>", "<bpmn:incoming>Flow_cek_dtsen</bpmn:incoming>"
    )
    step = """<bpmn:userTask id="cek_dtsen" name="Cek DTSEN">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="cek_dtsen.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_verifikasi_lengkap</bpmn:incoming>
      <bpmn:outgoing>Flow_cek_dtsen</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_cek_dtsen" sourceRef="cek_dtsen" targetRef="kunjungan"/>
  </bpmn:process>"""
    return text.replace("</bpmn:process>", step, 1)


def deploy_v2(now: datetime) -> None:
    files = {"rujukan.bpmn": with_dtsen_check().encode(), "forms/cek_dtsen.json": json.dumps(CEK_DTSEN_FORM).encode()}
    deploy(db.session, files, ADMIN, now, confirm=True)
    db.session.commit()


def test_a_new_case_gets_the_new_step_while_an_older_one_stays_on_its_version(driver: Any) -> None:
    old = driver().apply().do("verifikasi")
    deploy_v2(old.clock.now)
    new = driver().apply(1).do("verifikasi")
    assert new.step_names() == ["cek_dtsen"] and old.step_names() == ["kunjungan"]
    new.do("cek_dtsen", status_dtsen="terdaftar")
    assert new.step_names() == ["kunjungan"]
    for step in (
        "kunjungan",
        "reviu_manager",
        "mengetahui_kadis",
        "teruskan_kabid",
        "keputusan_kabid",
        "terbitkan_surat",
    ):
        old.do(step)
    old.do("serah_terima")
    assert (old.status, old.case.definition.version) == ("completed", 1)


def test_the_dry_run_names_who_can_move_and_why_the_others_cannot(driver: Any, actor: Any) -> None:
    from engine.cases import claim_task

    at_visit = driver().apply().do("verifikasi")
    busy = driver().apply(1)
    claim_task(db.session, busy.open_tasks()[0].id, actor("operator"), busy.clock.now)
    db.session.commit()
    deploy_v2(at_visit.clock.now)
    target, checks = dry_run(db.session, "rujukan")
    by_reference = {c.reference: c for c in checks}
    assert target.version == 2
    assert by_reference[at_visit.case.reference].can_move
    assert any("sedang dikerjakan operator" in r for r in by_reference[busy.case.reference].reasons)


def test_a_case_moves_to_the_new_version_audited_and_replay_still_verifies_it(driver: Any) -> None:
    case = driver().apply().do("verifikasi")
    deploy_v2(case.clock.now)
    moved, refused = migrate_cases(db.session, "rujukan", [case.case.reference], ADMIN, datetime.now(UTC))
    case._commit()
    assert (moved, refused) == ([case.case.reference], {})
    assert case.case.definition.version == 2 and case.step_names() == ["kunjungan"]
    event = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.case.id, CaseEvent.kind == "case_migrated")
    ).one()
    assert (event.payload["from_version"], event.payload["to_version"], event.actor) == (1, 2, "admin")
    for step in (
        "kunjungan",
        "reviu_manager",
        "mengetahui_kadis",
        "teruskan_kabid",
        "keputusan_kabid",
        "terbitkan_surat",
    ):
        case.do(step)
    case.do("serah_terima")
    assert case.status == "completed"
    result = replay_case(db.session, case.case)
    assert result["consistent"], result["differences"]


def _steps(*steps: str) -> bytes:
    """A small procedure: the operator does ``steps`` in order (each with the catatan form)."""
    nodes = ["mulai", *steps, "selesai"]
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    form = '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="catatan_singkat.json"/></spiffworkflow:properties></bpmn:extensionElements>'
    tasks = "".join(f'<bpmn:userTask id="{s}" name="Langkah {s}">{form}</bpmn:userTask>' for s in steps)
    flows = "".join(
        f'<bpmn:sequenceFlow id="f_{a}" sourceRef="{a}" targetRef="{b}"/>'
        for a, b in zip(nodes, nodes[1:], strict=False)
    )
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">'
        f'<bpmn:process id="langkah" isExecutable="true"><bpmn:laneSet id="ls"><bpmn:lane id="l" name="operator">{refs}</bpmn:lane></bpmn:laneSet>'
        f'<bpmn:startEvent id="mulai"/>{tasks}<bpmn:endEvent id="selesai"/>{flows}</bpmn:process></bpmn:definitions>'
    ).encode()


def test_a_case_on_a_step_the_new_version_removed_cannot_move(driver: Any, actor: Any) -> None:
    from engine.cases import CaseSummary, complete_task, open_tasks, start_case

    form = (BASE_DIR / "tests" / "data" / "diagrams" / "forms" / "catatan_singkat.json").read_bytes()
    now = datetime.now(UTC)
    deploy(db.session, {"langkah.bpmn": _steps("a", "b"), "forms/catatan_singkat.json": form}, ADMIN, now)
    on_a, _ = start_case(db.session, "langkah", {}, CaseSummary(), actor("front_office"), now)
    on_b, _ = start_case(db.session, "langkah", {}, CaseSummary(), actor("front_office"), now)
    complete_task(db.session, open_tasks(db.session, on_b.id)[0][0], actor("operator"), {"catatan": "beres"}, now)
    db.session.commit()
    deploy(db.session, {"langkah.bpmn": _steps("a"), "forms/catatan_singkat.json": form}, ADMIN, now)
    db.session.commit()
    _, checks = dry_run(db.session, "langkah")
    reasons = {c.reference: c.reasons for c in checks}
    assert reasons[on_a.reference] == []  # step b was only predicted for it: the end is predicted instead
    assert reasons[on_b.reference] == ["langkah «Langkah b» (sedang berjalan) tidak ada lagi di versi baru"]
    moved, refused = migrate_cases(db.session, "langkah", [on_a.reference, on_b.reference], ADMIN, now)
    db.session.commit()
    assert moved == [on_a.reference] and list(refused) == [on_b.reference]
    db.session.refresh(on_b)
    assert on_b.definition.version == 1
    complete_task(db.session, open_tasks(db.session, on_a.id)[0][0], actor("operator"), {"catatan": "beres"}, now)
    db.session.refresh(on_a)
    assert on_a.status == "completed"  # v2 ends after step a
