"""The complaint procedure (bpmn/aduan.bpmn), every path, through the engine."""

from __future__ import annotations

from typing import Any

from engine.replay import replay_case
from web.extensions import db


def test_a_complaint_is_triaged_followed_up_verified_and_answered(driver: Any) -> None:
    case = driver().complain()
    assert case.step_names() == ["triase"]
    case.do("triase")
    task = case.open_tasks()[0]
    assert (task.spec_name, task.bidang) == ("tindak_lanjut", "linjamsos")
    case.do("tindak_lanjut").do("verifikasi_aduan").do("balas_pengadu")
    assert (case.status, case.case.outcome) == ("completed", "selesai")
    assert replay_case(db.session, case.case)["consistent"] is True


def test_an_irrelevant_complaint_is_closed_at_triage_with_an_explanation(driver: Any) -> None:
    case = driver().complain()
    case.do("triase", decision="tidak_relevan", urgensi=None, bidang=None, penjelasan="Bukan kewenangan Dinas Sosial")
    assert (case.status, case.case.outcome) == ("rejected", "tidak_relevan")


def test_the_manager_can_return_the_follow_up_to_the_kabid(driver: Any) -> None:
    case = driver().complain().do("triase").do("tindak_lanjut")
    case.do("verifikasi_aduan", decision="kembalikan", catatan="Tanggapan belum menjawab aduan")
    assert case.step_names() == ["tindak_lanjut"]
    case.do("tindak_lanjut").do("verifikasi_aduan").do("balas_pengadu")
    assert case.status == "completed"


def test_an_overdue_follow_up_escalates_to_the_manager_without_cancelling_the_kabids_work(driver: Any) -> None:
    case = driver().complain().do("triase", urgensi="sangat_segera")
    kabid_task = case.open_tasks()[0]
    assert kabid_task.due_at is not None
    assert case.wait(hours=2) == []
    assert case.wait(days=4)
    assert case.step_names() == ["eskalasi", "tindak_lanjut"]
    assert kabid_task.id in {t.id for t in case.open_tasks()}  # the same task, not a new one
    case.do("eskalasi")
    assert case.step_names() == ["tindak_lanjut"]
    assert case.wait(days=10) == []  # the escalation fires once
    case.do("tindak_lanjut").do("verifikasi_aduan").do("balas_pengadu")
    assert case.status == "completed"
    result = replay_case(db.session, case.case)
    assert result["consistent"], result["differences"]


def test_answering_the_complainant_closes_an_escalation_the_manager_left_open(driver: Any) -> None:
    case = driver().complain().do("triase", urgensi="sangat_segera")
    assert case.wait(days=4)
    case.do("tindak_lanjut").do("verifikasi_aduan")
    assert case.step_names() == ["balas_pengadu", "eskalasi"]
    case.do("balas_pengadu")
    assert (case.status, case.case.outcome, case.step_names()) == ("completed", "selesai", [])


def test_the_dmn_proposes_the_bidang_from_the_category(driver: Any) -> None:
    from engine.cases import restore_workflow

    case = driver().complain(category="pelayanan")
    _, workflow = restore_workflow(case.case)
    from engine.cases import ready_user_tasks

    assert ready_user_tasks(workflow)[0].data["bidang_usulan"] == "rehsos"
