"""Notifications: queued with the case change that causes them, sent later with retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import aware
from engine.models import Notification
from engine.notifications import (
    DeliveryError,
    HttpGatewayChannel,
    LogFileChannel,
    RetryPolicy,
    deliver_notification,
    due_notification_ids,
    message_of,
    render_message,
)
from web.extensions import db


def messages(case: Any) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Notification).where(Notification.case_id == case.id).order_by(Notification.id))
    return [(n.kind, message_of(db.session, n, "Dinsos Balangan")) for n in rows]


def kinds(case: Any) -> list[str]:
    return [kind for kind, _ in messages(case)]


def test_the_applicant_is_told_at_each_milestone_of_a_referral(driver: Any) -> None:
    d = driver().apply()
    assert kinds(d.case) == ["received"]
    d.do("verifikasi").do("kunjungan").do("reviu_manager").do("mengetahui_kadis").do("teruskan_kabid")
    d.do("keputusan_kabid").do("terbitkan_surat").do("serah_terima")
    assert kinds(d.case) == ["received", "visit_planned", "approved", "letter_ready"]
    row = db.session.scalars(select(Notification).where(Notification.case_id == d.case.id)).first()
    assert row is not None and row.recipient == "+6281234567800" and row.status == "pending"


def test_an_incomplete_application_lists_what_is_missing(driver: Any) -> None:
    d = driver().apply()
    d.do(
        "verifikasi",
        decision="tidak_lengkap",
        dokumen_kurang=["kk", "surat_keterangan_dokter"],
        catatan_kekurangan="Foto KK buram",
    )
    kind, text = messages(d.case)[-1]
    assert kind == "incomplete"
    assert "Kartu Keluarga (KK), Surat keterangan dokter" in text and "Foto KK buram" in text
    d.resubmit()
    assert kinds(d.case) == ["received", "incomplete"]  # a resubmission itself is not announced


def test_a_rejection_states_the_reason(driver: Any) -> None:
    d = driver().apply()
    d.do("verifikasi", decision="ditolak", kategori_penolakan="di_luar_balangan", alasan="Pemohon tinggal di Tabalong")
    assert d.status == "rejected"
    kind, text = messages(d.case)[-1]
    assert kind == "rejected" and "Pemohon tinggal di Tabalong" in text


def test_a_complaint_is_acknowledged_and_answered(driver: Any) -> None:
    d = driver().complain()
    d.do("triase").do("tindak_lanjut").do("verifikasi_aduan").do(
        "balas_pengadu", balasan="Data penerima sudah diperbaiki."
    )
    assert kinds(d.case) == ["complaint_received", "complaint_answered"]
    assert "Data penerima sudah diperbaiki." in messages(d.case)[-1][1]


def test_a_rolled_back_change_queues_nothing(ctx: None, actor: Any, clock: Any) -> None:
    from engine import intake
    from web.demo import sample_application

    data = intake.ApplicationSchema().load(sample_application(1))
    intake.submit_application(db.session, data, actor("front_office"), clock.now, "P14D")
    db.session.rollback()
    assert db.session.scalars(select(Notification)).all() == []


def test_every_template_renders() -> None:
    context = {"reference": "RJK-2026-000001", "missing": "KTP", "note": "", "reason": "x", "answer": "y",
               "service": "Pendamping", "applicant": "Udin", "desa": "Hamarung", "companion": "Rahmadi",
               "role": "TKSK", "phone": "0812-0000-0101"}  # fmt: skip
    from engine.notifications import TEMPLATES

    for kind in TEMPLATES:
        assert "RJK-2026-000001" in render_message(kind, "Dinsos Balangan", **context)


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    fail_next = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Gateway.fail_next:
            Gateway.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        Gateway.received.append({"body": body, "auth": self.headers.get("Authorization")})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    Gateway.received, Gateway.fail_next = [], 0
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_gateway_adapter_posts_json_with_the_token(gateway: str) -> None:
    HttpGatewayChannel(gateway, "rahasia", timeout=5).send("+6281234567890", "Halo")
    assert Gateway.received == [{"body": {"to": "+6281234567890", "message": "Halo"}, "auth": "Bearer rahasia"}]
    Gateway.fail_next = 1
    with pytest.raises(DeliveryError, match="503"):
        HttpGatewayChannel(gateway, timeout=5).send("+62812", "x")
    with pytest.raises(DeliveryError, match="unreachable"):
        HttpGatewayChannel("http://127.0.0.1:9/none", timeout=2).send("+62812", "x")


def test_failed_sends_back_off_and_give_up_after_the_last_attempt(driver: Any, gateway: str, clock: Any) -> None:
    d = driver().apply()
    channel = HttpGatewayChannel(gateway, timeout=5)
    policy = RetryPolicy(max_attempts=3, base_seconds=60)
    Gateway.fail_next = 5
    [nid] = due_notification_ids(db.session, clock.now)
    assert deliver_notification(db.session, nid, channel, clock.now, policy, agency="Dinsos Balangan") is False
    row = db.session.get(Notification, nid)
    assert row is not None
    assert row.attempts == 1 and row.status == "pending" and "503" in (row.last_error or "")
    assert aware(row.next_attempt_at) == clock.now + timedelta(seconds=60)
    assert due_notification_ids(db.session, clock.now) == []  # not due before its time
    deliver_notification(db.session, nid, channel, clock.advance(seconds=60), policy, agency="Dinsos Balangan")
    assert aware(row.next_attempt_at) == clock.now + timedelta(seconds=120)  # exponential
    deliver_notification(db.session, nid, channel, clock.advance(seconds=120), policy, agency="Dinsos Balangan")
    assert row.status == "failed" and row.attempts == 3
    assert Gateway.received == []
    d._commit()


def test_a_successful_send_is_marked_sent(driver: Any, gateway: str, clock: Any) -> None:
    d = driver().apply()
    Gateway.fail_next = 1
    [nid] = due_notification_ids(db.session, clock.now)
    policy = RetryPolicy()
    assert not deliver_notification(db.session, nid, HttpGatewayChannel(gateway, timeout=5), clock.now, policy, agency="Dinsos Balangan")
    later = clock.advance(minutes=5)
    assert deliver_notification(db.session, nid, HttpGatewayChannel(gateway, timeout=5), later, policy, agency="Dinsos Balangan")
    row = db.session.get(Notification, nid)
    assert row is not None and row.status == "sent" and row.last_error is None and row.attempts == 2
    assert Gateway.received[0]["body"]["message"].startswith("Dinsos Balangan: Permohonan " + d.case.reference)


def test_the_cli_sends_through_the_log_file_by_default(app: Any, tmp_path: Any) -> None:
    from web.demo import sample_application

    log = tmp_path / "notifications.log"
    app.config["NOTIFY_LOG_FILE"] = log
    client = app.test_client()
    assert client.post("/api/v1/applications", json=sample_application(2)).status_code == 201
    result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    line = json.loads(log.read_text(encoding="utf-8").splitlines()[0])
    assert line["to"] == "+6281234567802" and "sudah kami terima" in line["message"]
    again = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert "sent 0" in again.output


def test_the_cli_uses_the_gateway_when_configured(app: Any, gateway: str) -> None:
    from web.demo import sample_application

    app.config.update(NOTIFY_GATEWAY_URL=gateway, NOTIFY_GATEWAY_TOKEN="t0ken")
    assert app.test_client().post("/api/v1/applications", json=sample_application(3)).status_code == 201
    result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert "sent 1" in result.output and "gateway" in result.output
    assert Gateway.received[0]["auth"] == "Bearer t0ken"


def test_the_log_channel_reports_an_unwritable_file(tmp_path: Any) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(DeliveryError):
        LogFileChannel(tmp_path / "dir").send("+62812", "x")
