"""The referral procedure (bpmn/rujukan.bpmn), every path, through the engine."""

from __future__ import annotations

from typing import Any

import pytest

from engine.audit import SYSTEM, append_event, verify_chain
from engine.cases import restore_workflow
from engine.models import HumanTask
from engine.replay import replay_case
from web.extensions import db

HAPPY = [
    "verifikasi",
    "kunjungan",
    "reviu_manager",
    "mengetahui_kadis",
    "teruskan_kabid",
    "keputusan_kabid",
    "terbitkan_surat",
    "serah_terima",
]


def run_happy(case: Any) -> Any:
    for name in HAPPY:
        assert case.step_names() == [name]
        case.do(name)
    return case


def test_a_complete_application_goes_through_all_eight_steps_to_the_hand_over(driver: Any) -> None:
    case = run_happy(driver().apply())
    assert case.status == "completed"
    assert case.case.outcome == "selesai"
    assert case.open_tasks() == []
    assert replay_case(db.session, case.case)["consistent"] is True


def test_the_kabid_task_goes_to_the_bidang_the_dmn_proposes_and_the_manager_confirms(driver: Any) -> None:
    case = driver().apply(index=2)  # slrt → linjamsos
    for name in HAPPY[:4]:
        case.do(name)
    kabid = case.do("teruskan_kabid", bidang="linjamsos").open_tasks()[0]
    assert (kabid.role, kabid.bidang) == ("kabid", "linjamsos")
    assert case.case.bidang == "linjamsos"


def test_the_manager_may_route_to_another_bidang_than_proposed(driver: Any) -> None:
    case = driver().apply(index=0)  # alat_bantu → rehsos proposed
    for name in HAPPY[:4]:
        case.do(name)
    assert case.do("teruskan_kabid", bidang="dayasos").open_tasks()[0].bidang == "dayasos"


def test_an_incomplete_application_waits_for_resubmission_and_returns_to_the_operator(driver: Any) -> None:
    case = driver().apply()
    case.do("verifikasi", decision="tidak_lengkap", dokumen_kurang=["kk", "foto"])
    assert case.step_names() == []
    assert case.case.next_timer_at is not None
    case.resubmit()
    assert case.step_names() == ["verifikasi"]
    run_happy(case)
    assert case.status == "completed"


def test_an_incomplete_application_expires_after_fourteen_days(driver: Any) -> None:
    case = driver().apply()
    case.do("verifikasi", decision="tidak_lengkap", dokumen_kurang=["kk"])
    assert case.wait(days=13) == []
    assert case.status == "active"
    fired = case.wait(days=1, hours=1)
    assert fired
    assert case.status == "expired"
    assert case.case.outcome == "kedaluwarsa"
    assert replay_case(db.session, case.case)["consistent"] is True


def test_a_resubmission_after_expiry_is_refused(driver: Any) -> None:

    from engine.errors import NotWaiting

    case = driver().apply()
    case.do("verifikasi", decision="tidak_lengkap", dokumen_kurang=["kk"])
    case.wait(days=15)
    with pytest.raises(NotWaiting):
        case.resubmit()


def test_rejection_at_verification_ends_with_its_reason(driver: Any) -> None:
    case = driver().apply()
    case.do("verifikasi", decision="ditolak", kategori_penolakan="duplikat", alasan="Sudah ada permohonan yang sama")
    assert (case.status, case.case.outcome) == ("rejected", "ditolak_verifikasi")
    assert "Sudah ada permohonan yang sama" in case.case.outcome_reason


def test_rejection_after_the_home_visit(driver: Any) -> None:
    case = driver().apply().do("verifikasi")
    case.do("kunjungan", decision="tidak_layak", alasan="Keluarga mampu secara ekonomi")
    assert (case.status, case.case.outcome) == ("rejected", "ditolak_kunjungan")


def test_rejection_at_the_managers_review(driver: Any) -> None:
    case = driver().apply().do("verifikasi").do("kunjungan")
    case.do("reviu_manager", decision="tolak", alasan="Tidak sesuai kriteria program")
    assert (case.status, case.case.outcome) == ("rejected", "ditolak_reviu")


def test_rejection_by_the_kabid(driver: Any) -> None:
    case = driver().apply()
    for name in HAPPY[:5]:
        case.do(name)
    case.do("keputusan_kabid", decision="tolak", intervensi=None, alasan="Kuota tahun ini habis")
    assert (case.status, case.case.outcome) == ("rejected", "ditolak_kabid")
    assert "Kuota tahun ini habis" in case.case.outcome_reason


def test_the_manager_can_send_the_supervisor_back_for_a_revisit(driver: Any) -> None:
    case = driver().apply().do("verifikasi").do("kunjungan")
    case.do("reviu_manager", decision="kunjungan_ulang", catatan="Foto rumah kurang jelas")
    assert case.step_names() == ["kunjungan"]
    case.do("kunjungan").do("reviu_manager")
    assert case.step_names() == ["mengetahui_kadis"]


def test_the_kadis_can_return_the_review_to_the_manager(driver: Any) -> None:
    case = driver().apply().do("verifikasi").do("kunjungan").do("reviu_manager")
    case.do("mengetahui_kadis", decision="kembalikan", catatan="Lengkapi catatan reviu")
    assert case.step_names() == ["reviu_manager"]
    for name in HAPPY[2:]:
        case.do(name)
    assert case.status == "completed"


def test_fifty_correction_loops_still_end_correctly(driver: Any) -> None:
    case = driver().apply()
    for _ in range(50):
        case.do("verifikasi", decision="tidak_lengkap", dokumen_kurang=["foto"])
        case.resubmit()
    _, workflow = restore_workflow(case.case)
    assert len(workflow.tasks) < 30  # finished history is pruned: the tree stays small
    run_happy(case)
    assert case.status == "completed"
    assert case.case.event_count > 100
    result = replay_case(db.session, case.case)
    assert result["consistent"], result["differences"]


def test_every_user_task_gets_a_due_date_from_its_sla(driver: Any) -> None:
    case = driver().apply()
    task = case.open_tasks()[0]
    assert task.due_at is not None and task.due_at > task.created_at


def test_completed_tasks_leave_the_inbox_table_in_step(driver: Any) -> None:
    case = driver().apply().do("verifikasi")
    states = {t.spec_name: t.state for t in db.session.query(HumanTask).filter_by(case_id=case.case.id)}
    assert states == {"verifikasi": "completed", "kunjungan": "ready"}


def test_an_appended_event_moves_the_case_head_in_the_same_commit(driver: Any) -> None:
    """The chain head lives on the case row, which the session writes with the event."""
    case = driver().apply()
    append_event(db.session, case.case, "comment", SYSTEM, case.clock.now, payload={"text": "catatan"})
    db.session.commit()
    db.session.expire_all()
    assert case.case.event_count == 2 and verify_chain(db.session, case.case) == []
