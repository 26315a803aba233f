"""An administrator changes the referral in the browser: adds a DTSEN check, fixes what validation
finds, deploys; new cases take the new step, an older one finishes on its version, another moves."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from engine.audit import Actor
from engine.cases import complete_task
from engine.clock import utcnow
from engine.models import Case, HumanTask
from tests.test_migration import CEK_DTSEN_FORM
from web.demo import SAMPLE_DATA
from web.extensions import db
from web.letters import letter_service

from .conftest import ARTIFACTS, PASSWORD, LiveServer

AFTER_VERIFICATION = ("kunjungan", "reviu_manager", "mengetahui_kadis", "teruskan_kabid", "keputusan_kabid")


def shot(page: Any, name: str, full: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=full)


def advance(live: LiveServer, reference: str, *steps: str) -> list[str]:
    """Complete the open task of each step as its role would; return the open steps after.

    Runs in its own thread: Playwright's sync API keeps an event loop in the test's thread, and
    signing a letter (pyHanko) starts one of its own.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_advance, live, reference, *steps).result()


def _advance(live: LiveServer, reference: str, *steps: str) -> list[str]:
    with live.app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        for step in steps:
            row = db.session.scalars(
                select(HumanTask).where(
                    HumanTask.case_id == case.id, HumanTask.spec_name == step, HumanTask.state == "ready"
                )
            ).one()
            who = Actor(f"kabid_{row.bidang}" if row.role == "kabid" else row.role, (row.role,), row.bidang)
            complete_task(db.session, row.id, who, SAMPLE_DATA[step], utcnow(), letters=letter_service())
            db.session.commit()
        open_rows = db.session.scalars(
            select(HumanTask.spec_name).where(HumanTask.case_id == case.id, HumanTask.state.in_(("ready", "claimed")))
        ).all()
        return sorted(open_rows)


def version_of(live: LiveServer, reference: str) -> tuple[int, str]:
    with live.app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        return case.definition.version, case.status


def test_an_admin_adds_a_dtsen_check_in_the_modeler_and_cases_follow_their_versions(
    live: LiveServer, new_page: Any
) -> None:
    older = live.new_case(0)
    to_move = live.new_case(1)
    advance(live, older, "verifikasi")
    page = new_page()
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    shot(page, "procedures-1280", full=True)
    small = new_page(360, 780)
    small.context.add_cookies(page.context.cookies())
    small.goto("/admin/")
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    shot(small, "procedures-360", full=True)

    page.click("#proc-rujukan >> text=Ubah di modeler")
    page.wait_for_selector("#bpmn-canvas .djs-element")
    # a new form for the new step, written in the editor with its live preview
    page.once("dialog", lambda dialog: dialog.accept("cek_dtsen.json"))
    page.click("#btn-new-form")
    page.fill("#form-text", json.dumps(CEK_DTSEN_FORM, indent=2))
    page.wait_for_selector("#form-preview [name=status_dtsen]")
    page.click('#file-list button[data-file="rujukan.bpmn"]')
    page.wait_for_selector('#bpmn-canvas [data-element-id="kunjungan"]')
    # the new step between the verification's "lengkap" flow and the home visit, drawn off the lanes
    page.evaluate(
        """() => {
          const m = window.SIBALANG.modeler, reg = m.get('elementRegistry'), modeling = m.get('modeling');
          const visit = reg.get('kunjungan'), flow = reg.get('Flow_verifikasi_lengkap');
          const bo = m.get('bpmnFactory').create('bpmn:UserTask', {id: 'cek_dtsen', name: 'Cek DTSEN'});
          const shape = m.get('elementFactory').createShape({type: 'bpmn:UserTask', businessObject: bo});
          const task = modeling.createShape(shape,
            {x: visit.x - 90, y: visit.y + visit.height / 2 - 110}, reg.get('Participant_rujukan'));
          for (const lane of reg.filter((e) => e.type === 'bpmn:Lane')) {
            const refs = lane.businessObject.get('flowNodeRef');
            const i = refs.indexOf(task.businessObject);
            if (i >= 0) refs.splice(i, 1);  // as a diagram from a modeler that drops lane refs
          }
          modeling.reconnectEnd(flow, task, {x: task.x, y: task.y + 40});
          modeling.connect(task, visit);
        }"""
    )
    page.evaluate(
        "() => { const m = window.SIBALANG.modeler; m.get('selection').select(m.get('elementRegistry').get('cek_dtsen')); }"
    )
    page.click(".bio-properties-panel-group-header >> text=Layar Sibalang")
    page.select_option("select[name=sibalang-form]", "cek_dtsen.json")
    page.click("#btn-validate")
    problem = page.wait_for_selector(".problem-error >> text=/cek_dtsen/")
    assert "lajur" in problem.inner_text()
    shot(page, "validation-catches-task-outside-lane")
    # the fix: move the step into the operator's lane (what dragging it does; bpmn-js assigns the lane)
    page.evaluate(
        """() => {
          const m = window.SIBALANG.modeler, reg = m.get('elementRegistry');
          const task = reg.get('cek_dtsen'), lane = reg.get('Lane_operator');
          const dy = (lane.y + lane.height / 2) - (task.y + task.height / 2);
          m.get('modeling').moveElements([task], {x: 0, y: dy});
        }"""
    )
    page.click("#btn-validate")
    page.wait_for_selector("#problems >> text=Siap dipasang")
    page.click("#btn-deploy")
    page.wait_for_selector("#confirm-dialog[open]")
    assert "layanan publik" in page.inner_text("#confirm-reasons")
    page.click("#confirm-yes")
    page.wait_for_selector("#status >> text=rujukan v2")
    shot(page, "deployed")

    newer = live.new_case(2)
    assert advance(live, newer, "verifikasi") == ["cek_dtsen"]
    assert advance(live, newer, "cek_dtsen") == ["kunjungan"]
    assert advance(live, older, *AFTER_VERIFICATION, "terbitkan_surat", "serah_terima") == []
    assert version_of(live, older) == (1, "completed")

    page.goto("/admin/prosedur/rujukan/migrasi")
    row = page.locator("tr", has_text=to_move)
    assert "dapat dipindahkan" in row.inner_text()
    shot(page, "migration-dry-run", full=True)
    page.click("text=Pindahkan yang dipilih")
    page.wait_for_selector(".flash-success")
    assert version_of(live, to_move) == (2, "active")
    assert advance(live, to_move, "verifikasi") == ["cek_dtsen"]


def test_an_admin_edits_a_dmn_table_in_dmn_js_and_validation_checks_its_bidang(
    live: LiveServer, new_page: Any
) -> None:
    with live.app.app_context():  # the module's server is shared: another test may have deployed already
        from engine.models import ProcessDefinition

        before = db.session.scalars(
            select(ProcessDefinition.version).where(ProcessDefinition.key == "rujukan").order_by(
                ProcessDefinition.version.desc()
            )
        ).first()
    assert before is not None
    page = new_page()
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.click("#proc-rujukan >> text=Ubah di modeler")
    page.wait_for_selector("#bpmn-canvas .djs-element")
    page.click('#file-list button[data-file="bidang_rujukan.dmn"]')
    cell = page.wait_for_selector('#dmn-canvas td[data-element-id="OutputEntry_panti_rehab"]')
    assert '"rehsos"' in cell.inner_text()
    shot(page, "dmn-table", full=True)

    def set_cell(text: str) -> None:  # as a clerk types into the table: click, select all, type
        page.click('#dmn-canvas td[data-element-id="OutputEntry_panti_rehab"] .content-editable')
        page.keyboard.press("Control+A")
        page.keyboard.type(text)
        page.click("#dmn-canvas .tjs-table th >> nth=0")  # leave the cell

    set_cell('"gudang"')
    page.click("#btn-validate")
    problem = page.wait_for_selector(".problem-error >> text=/gudang/")
    assert "bidang_rujukan" in problem.inner_text() and "tidak dikenal" in problem.inner_text()
    shot(page, "dmn-validation-catches-unknown-bidang")
    set_cell('"linjamsos"')
    page.click("#btn-validate")
    page.wait_for_selector("#problems >> text=Siap dipasang")
    page.click("#btn-deploy")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-yes")
    page.wait_for_selector(f"#status >> text=rujukan v{before + 1}")
    with live.app.app_context():
        newest = db.session.scalars(
            select(ProcessDefinition).where(ProcessDefinition.key == "rujukan").order_by(ProcessDefinition.version.desc())
        ).first()
        assert newest is not None and newest.version == before + 1
        assert '"linjamsos"' in newest.files["bidang_rujukan.dmn"]
