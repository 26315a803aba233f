"""What is due is settled first: a change that arrives after a deadline the timer worker has not
fired yet sees the deadline, exactly as the audit replay does (engine and API, both databases)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.audit import APPLICANT
from engine.cases import deliver_message
from engine.errors import CaseExpired
from engine.replay import replay_case
from tests.conftest import app_on
from web.demo import SAMPLE_DATA, sample_application
from web.extensions import db

INCOMPLETE = {"decision": "tidak_lengkap", "dokumen_kurang": ["kk"]}


def test_a_resubmission_after_the_deadline_is_refused_and_the_case_expires_consistently(driver: Any) -> None:
    case = driver().apply().do("verifikasi", **INCOMPLETE)
    case.clock.advance(days=15)  # past RESUBMISSION_TIMEOUT (P14D); no timer worker has run
    with pytest.raises(CaseExpired, match="kedaluwarsa"):
        deliver_message(db.session, case.case, "pengajuan_ulang", {"note": "telat"}, APPLICANT, case.clock.now)
    db.session.rollback()
    assert case.case.status == "active" and replay_case(db.session, case.case)["consistent"]
    assert case.wait(minutes=1)  # the worker closes it as it always would
    assert case.status == "expired" and replay_case(db.session, case.case)["consistent"]


def test_a_resubmission_before_the_deadline_returns_the_case_to_the_operator(driver: Any) -> None:
    case = driver().apply().do("verifikasi", **INCOMPLETE)
    case.clock.advance(days=13)
    case.resubmit()
    assert case.step_names() == ["verifikasi"] and case.case.outcome is None
    assert replay_case(db.session, case.case)["consistent"]


def test_through_the_api_a_late_resubmission_answers_409_and_audit_verify_passes(tmp_path: Any) -> None:
    from tests.test_api import open_task
    from tests.test_unit_of_work import _token

    with app_on(tmp_path, RESUBMISSION_TIMEOUT="PT1S") as app:
        client = app.test_client()
        created = client.post("/api/v1/applications", json=sample_application(0)).get_json()
        headers = _token(client, "operator")
        task = open_task(client, headers, created["reference"])
        data = {**SAMPLE_DATA["verifikasi"], **INCOMPLETE}
        assert (
            client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers).status_code == 200
        )
        time.sleep(1.5)  # the one-second deadline passes; no timer worker runs
        late = client.post(
            f"/api/v1/applications/{created['reference']}/resubmit",
            json={"tracking_code": created["tracking_code"], "note": "KTP asli sudah saya serahkan ke kantor desa."},
        )
        assert late.status_code == 409 and late.get_json()["error"]["code"] == "case_expired"
        assert "kedaluwarsa" in late.get_json()["error"]["message"]
        result = app.test_cli_runner().invoke(args=["audit", "verify", created["reference"]])
        assert result.exit_code == 0, result.output
        assert app.test_cli_runner().invoke(args=["timers", "run", "--once"]).exit_code == 0
        tracked = client.get(
            f"/api/v1/applications/{created['reference']}", query_string={"tracking_code": created["tracking_code"]}
        )
        assert tracked.get_json()["status"] == "expired"
        assert app.test_cli_runner().invoke(args=["audit", "verify", created["reference"]]).exit_code == 0
