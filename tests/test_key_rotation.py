"""The agency rotates its signing key: anchors signed by the old key still verify, an export
carries the chain of keys an outside auditor checks, and an anchor signed by a key the agency
never handed over to — or by the retired key after its retirement — is red.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask

from engine import anchors, intake
from engine.audit import Actor
from engine.clock import utcnow
from engine.models import AuditAnchor
from letters.signing import KeyPair, create_demo_key_pair, load_key_pair
from tests.conftest import ON_POSTGRES, make_config, reset_schema, seed
from web import create_app
from web.demo import sample_application
from web.extensions import db

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _pair(folder: Path, name: str) -> KeyPair:
    return create_demo_key_pair(folder / f"{name}.pem", folder / f"{name}.key", f"Dinas Sosial ({name})", NOW)


@pytest.fixture
def setting(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Key 1 configured; a record file (or PostgreSQL) shared by the apps made from it."""
    signing = tmp_path / "signing"
    signing.mkdir()
    one = _pair(signing, "certificate")
    database = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'record.db'}"}
    overrides = {"SIGNING_CERT_FILE": one.cert_file, "SIGNING_KEY_FILE": one.key_file, **database}
    app = create_app(make_config(tmp_path, **overrides))
    with app.app_context():
        reset_schema()
        seed(app)
    apps = [app]
    yield {"tmp": tmp_path, "overrides": overrides, "one": one, "apps": apps}
    for made in apps:
        with made.app_context():
            db.session.remove()
            if ON_POSTGRES and made is app:
                db.drop_all()
            engine = db.engine
        engine.dispose()


def restart(setting: dict[str, Any]) -> Flask:
    """The app as started again after the rotation (its letter key is read at start)."""
    app = create_app(make_config(setting["tmp"], **setting["overrides"]))
    setting["apps"].append(app)
    return app


def new_case(app: Flask, index: int) -> None:
    with app.app_context():
        payload = intake.ApplicationSchema().load(sample_application(index))
        intake.submit_application(db.session, payload, Actor("fo", ("front_office",)), utcnow(), "P14D")
        db.session.commit()


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def verify(app: Flask, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli(app, "audit", "verify", "--all", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def export(app: Flask, path: Path) -> dict[str, Any]:
    result = cli(app, "audit", "anchor", "export", "-o", str(path))
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text())


def forge_anchor(app: Flask, pair: KeyPair, at: datetime) -> None:
    """Append an anchor (inserting is what the triggers allow), chained right, signed by ``pair``."""
    with app.app_context():
        last = anchors.latest_anchor(db.session)
        assert last is not None
        record = {
            "seq": last.seq + 1,
            "created_at": at.isoformat(),
            "case_count": last.case_count,
            "event_total": last.event_total,
            "heads": [],
            "certificate_sha256": pair.fingerprint,
        }
        digest = anchors.anchor_hash(last.hash, record)
        db.session.add(
            AuditAnchor(
                seq=record["seq"],
                created_at=at,
                case_count=last.case_count,
                event_total=last.event_total,
                heads=[],
                hash=digest,
                signature=pair.sign(digest.encode()),
                certificate_sha256=pair.fingerprint,
            )
        )
        db.session.commit()


def test_anchors_of_the_old_key_verify_after_rotation_and_the_export_carries_the_key_chain(
    setting: dict[str, Any],
) -> None:
    app, one = setting["apps"][0], setting["one"]
    new_case(app, 0)
    assert cli(app, "audit", "anchor", "create").exit_code == 0  # anchor 1, key 1
    first_export = export(app, setting["tmp"] / "first.json")
    trusted = {first_export["certificates"][-1]["fingerprint"]}  # what the auditor kept from it
    assert trusted == {one.fingerprint}

    from web.letters import letter_service

    with app.app_context():  # the worker has signed with key 1 (its service is built)
        assert letter_service().key_pair.fingerprint == one.fingerprint
    two = _pair(setting["tmp"], "new")
    result = cli(app, "letters", "rotate-key", "--cert", str(two.cert_file), "--key", str(two.key_file))
    assert result.exit_code == 0, result.output
    assert "Anchor 2 signed with the new key" in result.output  # from here on only key 2 signs
    with app.app_context():  # a running worker's next letter is signed with the new key, no restart
        assert letter_service().key_pair.fingerprint == two.fingerprint
    assert load_key_pair(one.cert_file, one.key_file).fingerprint == two.fingerprint  # installed in place
    history = list((one.cert_file.parent / "history").glob("*.json"))
    assert [p.name for p in history] == [f"{one.fingerprint}.json"]

    app = restart(setting)
    new_case(app, 1)
    assert cli(app, "audit", "anchor", "create").exit_code == 0  # anchor 3, key 2
    code, report = verify(app)
    assert code == 0, report["summary"]
    assert report["summary"]["signatures_checked"] and report["summary"]["anchor_problems"] == []
    with app.app_context():
        signers = [a.certificate_sha256 for a in db.session.query(AuditAnchor).order_by(AuditAnchor.seq)]
    assert signers == [one.fingerprint, two.fingerprint, two.fingerprint]

    # the auditors' anchors page lists both keys and which key signed each anchor
    from tests.test_staff_pages import login

    browser = app.test_client()
    login(browser, "auditor")
    page = browser.get("/audit/anchors").get_data(as_text=True)
    assert "Riwayat kunci penandatangan" in page and "Rantai jangkar utuh" in page
    assert f"{one.fingerprint[:16]}…" in page and f"{two.fingerprint[:16]}…" in page
    assert f"diganti kunci {two.fingerprint[:16]}…" in page and "berlaku" in page
    assert page.count(f'class="mono">{two.fingerprint[:16]}…</td>') == 3  # keys table + anchors 2 and 3

    document = export(app, setting["tmp"] / "second.json")
    assert [c["fingerprint"] for c in document["certificates"]] == [one.fingerprint, two.fingerprint]
    assert document["certificates"][0]["successor"] == two.fingerprint and document["how_to_verify"]
    # the outside auditor: no database, only the file and the key they trusted before
    assert anchors.verify_export(document, trust=trusted) == []
    assert anchors.verify_export(first_export, trust=trusted) == []
    code, report = verify(app, "--anchors", str(setting["tmp"] / "second.json"))
    assert code == 0, report["summary"]

    # a handover nobody signed: key 2 is not reached from key 1, so its anchor does not verify
    broken = json.loads(json.dumps(document))
    broken["certificates"][0]["handover"] = base64.b64encode(b"not a signature").decode()
    problems = anchors.verify_export(broken, trust=trusted)
    assert [(p.field, p.found) for p in problems] == [
        (f"anchor {seq}: certificate", f"unknown key {two.fingerprint}") for seq in (2, 3)
    ]


def test_an_anchor_by_an_unknown_key_or_by_the_retired_key_after_retirement_is_red(setting: dict[str, Any]) -> None:
    app, one = setting["apps"][0], setting["one"]
    new_case(app, 0)
    assert cli(app, "audit", "anchor", "create").exit_code == 0
    two = _pair(setting["tmp"], "new")
    assert cli(app, "letters", "rotate-key", "--cert", str(two.cert_file), "--key", str(two.key_file)).exit_code == 0
    app = restart(setting)
    assert verify(app)[0] == 0

    stranger = _pair(setting["tmp"], "stranger")  # a key pair someone made for themselves
    (one.cert_file.parent / "history" / "planted.json").write_text(
        json.dumps({"certificate": stranger.certificate.public_bytes(serialization.Encoding.PEM).decode()})
    )  # even with its certificate planted beside the retired ones: no handover leads to it
    forge_anchor(app, stranger, utcnow())
    code, report = verify(app)
    assert code == 1
    assert {
        "event": None,
        "field": "anchor 3: certificate",
        "expected": "a key of the agency's key history",
        "found": f"unknown key {stranger.fingerprint}",
    } in report["summary"]["anchor_problems"]


def test_the_retired_key_cannot_add_anchors_after_its_retirement(setting: dict[str, Any]) -> None:
    app, one = setting["apps"][0], setting["one"]
    old = load_key_pair(one.cert_file, one.key_file)  # a copy of the old key someone kept
    new_case(app, 0)
    assert cli(app, "audit", "anchor", "create").exit_code == 0
    two = _pair(setting["tmp"], "new")
    assert cli(app, "letters", "rotate-key", "--cert", str(two.cert_file), "--key", str(two.key_file)).exit_code == 0
    app = restart(setting)
    forge_anchor(app, old, utcnow() + timedelta(minutes=1))
    code, report = verify(app)
    assert code == 1
    (problem,) = report["summary"]["anchor_problems"]
    assert problem["field"] == "anchor 3: certificate" and problem["expected"].startswith("made before the key retired")


def test_a_key_planted_as_a_predecessor_of_the_current_one_cannot_sign_after_it(setting: dict[str, Any]) -> None:
    """Someone who can write the history folder, not the key files: their own key "handing over"
    to the current one (signed by itself, retiring far in the future) is a predecessor at best,
    and a predecessor's anchor never comes after one of the key it handed over to."""
    from engine.key_history import retire

    app, one = setting["apps"][0], setting["one"]
    new_case(app, 0)
    assert cli(app, "audit", "anchor", "create").exit_code == 0  # anchor 1: key 1
    stranger = _pair(setting["tmp"], "stranger")
    retire(
        stranger, stranger.certificate, one.fingerprint, NOW + timedelta(days=3650), one.cert_file.parent / "history"
    )
    assert verify(app)[0] == 0  # planted, it signed nothing yet: the record is as it was
    forge_anchor(app, stranger, utcnow())
    code, report = verify(app)
    assert code == 1
    (problem,) = report["summary"]["anchor_problems"]
    assert problem["field"] == "anchor 2: certificate" and problem["found"] == "a key a later anchor's key replaced"
