"""The tracking code is never lost: receipt reopened, in the SMS, recoverable with NIK + phone."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.clock import utcnow
from engine.models import AccessLog, Case, Notification
from engine.notifications import LogFileChannel, RetryPolicy, deliver_notification, message_of
from engine.tracking_recovery import PER_CASE_PER_DAY, reissue_tracking_codes
from web.demo import sample_application
from web.extensions import db

from .test_public_pages import apply_form

NIK, PHONE = sample_application(0)["applicant"]["nik"], sample_application(0)["applicant"]["phone"]


def receipt_of(client: Any, location: str) -> tuple[str, str]:
    page = client.get(location).get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="tracking-code">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    return reference, code


def outbox(app: Any, reference: str) -> list[Notification]:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        return list(db.session.scalars(select(Notification).where(Notification.case_id == case.id)))


def test_the_receipt_reopens_in_the_same_browser_only_and_is_never_cached(client: Any, app: Any) -> None:
    sent = client.post("/apply", data=apply_form(0), content_type="multipart/form-data")
    location = sent.headers["Location"]
    first = receipt_of(client, location)
    assert receipt_of(client, location) == first  # a reload shows it again
    assert client.get("/terkirim").headers["Location"] == location
    answer = client.get(location)
    assert answer.headers["Cache-Control"] == "no-store, private"
    assert first[1] not in location  # the address names the reference, never the code
    stranger = app.test_client()
    assert stranger.get(location).status_code == 302
    text = client.get(location + ".txt")
    assert text.headers["Content-Type"].startswith("text/plain") and "attachment" in text.headers["Content-Disposition"]
    assert first[0] in text.get_data(as_text=True) and first[1] in text.get_data(as_text=True)
    assert stranger.get(location + ".txt").status_code == 302


def test_back_to_the_form_after_sending_points_to_the_receipt(client: Any) -> None:
    location = client.post("/apply", data=apply_form(0), content_type="multipart/form-data").headers["Location"]
    page = client.get("/apply").get_data(as_text=True)
    assert 'id="recently-sent"' in page and f'href="{location}"' in page
    assert 'id="recently-sent"' not in client.get("/complaint").get_data(as_text=True)


def test_a_refused_form_then_a_valid_one_leaves_no_post_in_history(client: Any, app: Any) -> None:
    bad = client.post("/apply", data=apply_form(0, nik="1234"), content_type="multipart/form-data")
    assert bad.status_code == 303 and bad.headers["Location"] == "/apply"
    shown = client.get("/apply")
    assert shown.status_code == 422 and 'id="nik-error"' in shown.get_data(as_text=True)
    again = client.get("/apply")  # a reload afterwards is a plain blank form, not a resend
    assert again.status_code == 200 and 'id="nik-error"' not in again.get_data(as_text=True)
    good = client.post("/apply", data=apply_form(0), content_type="multipart/form-data")
    assert good.status_code == 303 and good.headers["Location"].startswith("/terkirim/")


def test_the_sms_after_applying_carries_the_code_until_it_is_sent(client: Any, app: Any, tmp_path: Any) -> None:
    reference, code = receipt_of(
        client, client.post("/apply", data=apply_form(0), content_type="multipart/form-data").headers["Location"]
    )
    [row] = outbox(app, reference)
    with app.app_context():
        assert row.kind == "received" and code in message_of(db.session, row, "Dinsos Balangan")
        channel = LogFileChannel(tmp_path / "sms.log")
        assert deliver_notification(db.session, row.id, channel, utcnow(), RetryPolicy(), agency="Dinsos Balangan")
        db.session.commit()
    assert code in (tmp_path / "sms.log").read_text()
    [row] = outbox(app, reference)
    assert row.status == "sent" and code not in str(row.context)  # not kept once delivered
    complaint = client.post(
        "/api/v1/complaints",
        json={
            "category": "pelayanan",
            "description": "Antrian terlalu lama sekali.",
            "phone": "0812345678",
            "village_code": "63.11.06.1019",
        },
    ).get_json()
    [row] = outbox(app, complaint["reference"])
    with app.app_context():
        assert complaint["tracking_code"] in message_of(db.session, row, "Dinsos Balangan")


def test_a_lost_code_is_replaced_by_sms_and_the_answer_never_tells_whether_it_matched(client: Any, app: Any) -> None:
    created = client.post("/api/v1/applications", json=sample_application(0)).get_json()
    reference, old = created["reference"], created["tracking_code"]
    answers = []
    for nik, phone in ((NIK, PHONE), ("6311065403529999", PHONE), (NIK, "081299999999")):
        asked = client.post("/kode-hilang", data={"nik": nik, "phone": phone})
        assert asked.status_code == 303
        answers.append(client.get(asked.headers["Location"]).get_data(as_text=True))
    assert answers[0] == answers[1] == answers[2] and 'id="recover-sent"' in answers[0]
    rows = [r for r in outbox(app, reference) if r.kind == "tracking_code_reissued"]
    assert len(rows) == 1 and rows[0].recipient == "+6281234567800"
    with app.app_context():
        text = message_of(db.session, rows[0], "Dinsos Balangan")
        new = re.search(r": ([A-Z0-9]{8})\.", text).group(1)  # type: ignore[union-attr]
        log = db.session.scalars(select(AccessLog).where(AccessLog.action == "tracking_code_reissued")).all()
        assert len(log) == 1 and log[0].username == "applicant"
    assert new != old
    assert client.get(f"/api/v1/applications/{reference}", query_string={"tracking_code": old}).status_code == 404
    assert client.get(f"/api/v1/applications/{reference}", query_string={"tracking_code": new}).status_code == 200


def test_recovery_explains_bad_formats_and_caps_the_messages_per_application(client: Any, app: Any) -> None:
    bad = client.post("/kode-hilang", data={"nik": "12", "phone": "12"}, follow_redirects=True)
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="nik-error"' in page and 'id="phone-error"' in page
    created = client.post("/api/v1/applications", json=sample_application(0)).get_json()
    with app.app_context():
        now = utcnow()
        counts = [reissue_tracking_codes(db.session, NIK, PHONE, now) for _ in range(PER_CASE_PER_DAY + 2)]
        assert counts == [1] * PER_CASE_PER_DAY + [0, 0]
        assert reissue_tracking_codes(db.session, NIK, PHONE, now + timedelta(days=1, minutes=1)) == 1
        db.session.commit()
    sent = [r for r in outbox(app, created["reference"]) if r.kind == "tracking_code_reissued"]
    assert len(sent) == PER_CASE_PER_DAY + 1
