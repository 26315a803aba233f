"""Someone with full database access rewrites the record; `audit verify --all` finds each rewrite.

Every test drops the append-only triggers first (as the database owner can), edits rows the way
an attacker would, and checks that verification fails and says where: which case, which event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from engine.cases import restore_workflow
from engine.models import AccessLog, AuditAnchor, Case, CaseEvent, Document, HumanTask, Notification
from engine.serialization import dump_instance
from tests.conftest import ON_POSTGRES, app_on
from tests.tampering import guards_dropped, signing_pair
from tests.test_rujukan import HAPPY
from web.extensions import db

CASE_TABLES = (CaseEvent, HumanTask, AccessLog, Notification, Document)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """On a database file (or PostgreSQL): ``--workers`` processes open it too."""
    key, cert = signing_pair(tmp_path / "keys")
    database = {} if ON_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'record.db'}"}
    with app_on(tmp_path, SIGNING_KEY_FILE=key, SIGNING_CERT_FILE=cert, **database) as app:
        yield app


@pytest.fixture
def record(app: Flask, driver: Any) -> dict[str, Any]:
    """Two referrals handed over, one waiting for its visit; then an anchor is signed."""
    done = [driver().apply(index=i) for i in (0, 1)]
    for case in done:
        for name in HAPPY:
            case.do(name)
    waiting = driver().apply(index=3).do("verifikasi")
    anchor(app)
    return {"done": done, "waiting": waiting}


def anchor(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["audit", "anchor", "create"])
    assert result.exit_code == 0, result.output


def verify(app: Flask, *args: str) -> tuple[int, str, dict[str, Any]]:
    runner = app.test_cli_runner()
    text = runner.invoke(args=["audit", "verify", "--all", *args])
    report = runner.invoke(args=["audit", "verify", "--all", "--json", *args])
    return text.exit_code, text.output, json.loads(report.stdout)


def findings(report: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    return next(c["differences"] for c in report["cases"] if c["reference"] == reference)


def event_of(case: Case, seq: int) -> CaseEvent:
    return db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == seq)).one()


def test_an_untouched_record_verifies_green_with_signed_anchors(app: Flask, record: dict[str, Any]) -> None:
    code, output, report = verify(app)
    assert code == 0, output
    assert "3 consistent, 0 inconsistent, 0 missing" in output
    assert "Anchors: 1, chain intact, signatures checked" in output
    assert report["summary"]["missing_triggers"] == []


def test_the_database_itself_refuses_to_change_or_delete_an_event(app: Flask, record: dict[str, Any]) -> None:
    case = record["done"][0].case
    for statement in (
        update(CaseEvent).where(CaseEvent.case_id == case.id).values(actor="x"),
        delete(CaseEvent).where(CaseEvent.case_id == case.id),
        delete(AuditAnchor),
    ):
        with pytest.raises(IntegrityError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()


def test_one_byte_changed_in_a_decision_is_found_at_its_event_and_the_replay_does_not_crash(
    app: Flask, record: dict[str, Any]
) -> None:
    case = record["done"][0].case
    visit = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.task_spec == "kunjungan")
    ).one()
    seq = visit.seq
    with guards_dropped():
        visit = event_of(case, seq)
        visit.payload["data"]["decision"] = "lajak"  # "layak" with one byte changed
        flag_modified(visit, "payload")
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    assert f"{case.reference}" in output and f"event {seq}: hash: expected" in output
    found = findings(report, case.reference)
    assert {"event": seq, "field": "payload.data"} == {k: found[1][k] for k in ("event", "field")}
    # the replay follows the tampered decision and parts from the record there or at the next step
    # (the diagram's gateway refuses it, or routes it elsewhere than the recorded next task)
    diverged = [d for d in found[2:] if d["field"] in ("replay", "task_spec", "kind")]
    assert diverged and diverged[0]["event"] in (seq, seq + 1)
    assert report["summary"]["inconsistent"] == 1 and report["summary"]["consistent"] == 2


def test_an_event_deleted_in_the_middle_is_found_where_the_gap_is(app: Flask, record: dict[str, Any]) -> None:
    case = record["done"][1].case
    with guards_dropped():
        db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 4))
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    assert "event 5: seq: expected 4, found 5" in output
    assert {"event": 5, "field": "seq", "expected": 4, "found": 5} in findings(report, case.reference)


def test_the_last_events_deleted_with_the_head_rewritten_are_caught_by_the_anchor(
    app: Flask, record: dict[str, Any]
) -> None:
    case = record["done"][0].case
    count = case.event_count
    with guards_dropped():
        db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq > count - 2))
        db.session.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(event_count=count - 2, last_event_hash=event_of(case, count - 2).hash)
        )
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    found = findings(report, case.reference)
    assert found[0] == {
        "event": count,
        "field": "event_count",
        "expected": f">= {count} (anchor 1)",
        "found": count - 2,
    }
    assert not any(d["field"].startswith("case.last_event_hash") for d in found)  # the chain alone looks whole


def test_the_last_event_deleted_is_found(app: Flask, record: dict[str, Any]) -> None:
    case = record["waiting"].case
    count = case.event_count
    with guards_dropped():
        db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == count))
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    fields = {d["field"] for d in findings(report, case.reference)}
    assert {"case.event_count", "case.last_event_hash", "event_count"} <= fields
    assert f"{case.reference}" in output


def test_two_events_swapped_are_found_at_both_places(app: Flask, record: dict[str, Any]) -> None:
    case = record["done"][0].case
    with guards_dropped():
        first, second = event_of(case, 2).id, event_of(case, 3).id
        db.session.execute(update(CaseEvent).where(CaseEvent.id == first).values(seq=-1))
        db.session.execute(update(CaseEvent).where(CaseEvent.id == second).values(seq=2))
        db.session.execute(update(CaseEvent).where(CaseEvent.id == first).values(seq=3))
        db.session.commit()
    code, _, report = verify(app)
    assert code == 1
    hashes = [d["event"] for d in findings(report, case.reference) if d["field"] == "hash"]
    assert hashes[:2] == [2, 3]


def test_the_stored_workflow_state_edited_directly_differs_from_the_replay(app: Flask, record: dict[str, Any]) -> None:
    case = record["waiting"].case
    _, workflow = restore_workflow(case)
    next(t for t in workflow.tasks.values() if t.task_spec.name == "kunjungan").data["desil"] = 1
    db.session.execute(update(Case).where(Case.id == case.id).values(state=dump_instance(workflow)))
    db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    assert {"event": None, "field": "state.data.desil", "expected": 2, "found": 1} in findings(report, case.reference)
    assert "state.data.desil: expected 2, found 1" in output


def _case_rows(case_id: int) -> dict[Any, list[dict[str, Any]]]:
    rows = {}
    for model in CASE_TABLES:
        rows[model] = [
            dict(r) for r in db.session.execute(select(model.__table__).where(model.case_id == case_id)).mappings()
        ]
    rows[Case] = [dict(r) for r in db.session.execute(select(Case.__table__).where(Case.id == case_id)).mappings()]
    return rows


def _delete_case(case_id: int) -> None:
    from engine.models import Letter

    db.session.execute(delete(Letter).where(Letter.case_id == case_id))
    for model in CASE_TABLES:
        db.session.execute(delete(model).where(model.case_id == case_id))
    db.session.execute(delete(Case).where(Case.id == case_id))


def test_a_whole_case_deleted_with_all_its_rows_is_named_missing(app: Flask, record: dict[str, Any]) -> None:
    case = record["done"][1].case
    reference, case_id = case.reference, case.id
    with guards_dropped():
        _delete_case(case_id)
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    assert f"{reference}" in output and "MISSING" in output
    assert report["summary"]["missing"] == 1
    assert findings(report, reference)[0]["field"] == "case"


def test_an_old_copy_of_a_case_put_back_is_found_by_the_later_anchor(app: Flask, record: dict[str, Any]) -> None:
    waiting = record["waiting"]
    case_id, reference = waiting.case.id, waiting.case.reference
    old = _case_rows(case_id)  # a backup taken now …
    waiting.do("kunjungan").do("reviu_manager")
    anchor(app)  # … the case goes on and is anchored …
    with guards_dropped():  # … and the backup is put back
        _delete_case(case_id)
        db.session.execute(insert(Case.__table__), old[Case])
        for model in CASE_TABLES:
            if old[model]:
                db.session.execute(insert(model.__table__), old[model])
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    found = findings(report, reference)
    assert found[0]["field"] == "event_count" and "(anchor 2)" in found[0]["expected"]
    assert reference in output


def test_an_anchor_rewritten_in_the_database_fails_its_signature(app: Flask, record: dict[str, Any]) -> None:
    from engine.anchors import anchor_hash, anchor_record

    with guards_dropped():
        row = db.session.scalars(select(AuditAnchor)).one()
        row.heads = [h for h in row.heads if h[0] != record["done"][1].case.reference]
        row.hash = anchor_hash("0" * 64, anchor_record(row))  # recomputed: only the key can sign it
        db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    assert {"event": None, "field": "anchor 1: signature", "expected": "valid", "found": "invalid"} in report[
        "summary"
    ]["anchor_problems"]


def test_anchors_deleted_from_the_database_are_proven_by_the_auditors_copy(
    app: Flask, record: dict[str, Any], tmp_path: Path
) -> None:
    waiting = record["waiting"]
    waiting.do("kunjungan")
    anchor(app)
    copy = tmp_path / "anchors.json"
    result = app.test_cli_runner().invoke(args=["audit", "anchor", "export", "--output", str(copy)])
    assert result.exit_code == 0 and "2 anchors written" in result.output
    count = waiting.case.event_count
    with guards_dropped():  # the newest anchor and what it covered are removed together
        db.session.execute(delete(AuditAnchor).where(AuditAnchor.seq == 2))
        db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == waiting.case.id, CaseEvent.seq > count - 1))
        db.session.execute(
            update(Case)
            .where(Case.id == waiting.case.id)
            .values(event_count=count - 1, last_event_hash=event_of(waiting.case, count - 1).hash)
        )
        db.session.commit()
    code, _, _ = verify(app)
    assert code == 1  # the replay still sees the stored state ahead of the events
    code, output, report = verify(app, "--anchors", str(copy))
    assert code == 1
    problems = report["summary"]["anchor_problems"]
    assert problems[0]["field"] == "anchor 2" and problems[0]["found"] == "missing from the database"
    assert findings(report, waiting.case.reference)[0]["field"] == "event_count"


def test_verify_of_a_bad_anchor_file_is_a_clear_error(app: Flask, record: dict[str, Any], tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"format": "something else"}')
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--all", "--anchors", str(bogus)])
    assert result.exit_code != 0 and "not an anchor export" in result.output


def test_the_timer_worker_signs_an_anchor_when_the_last_is_old_enough(app: Flask, driver: Any) -> None:
    driver().apply(index=0)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["timers", "run", "--once"])
    assert first.exit_code == 0 and "signed audit anchor 1 over 1 cases" in first.output
    again = runner.invoke(args=["timers", "run", "--once"])  # within ANCHOR_INTERVAL_MINUTES: none
    assert again.exit_code == 0 and "signed audit anchor" not in again.output
    assert db.session.scalars(select(AuditAnchor.seq)).all() == [1]


def _letter_of(case: Case) -> Any:
    from engine.models import Letter

    return db.session.scalars(select(Letter).where(Letter.case_id == case.id)).one()


def _letter_event(case: Case) -> CaseEvent:
    return db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "letter_issued")
    ).one()


def test_a_letter_replaced_by_other_bytes_is_found_at_its_issue(app: Flask, record: dict[str, Any]) -> None:
    case = record["done"][0].case
    letter, seq = _letter_of(case), _letter_event(case).seq
    forged = bytes(letter.pdf).replace(b"Rekomendasi", b"Rekomendasx", 1)
    assert forged != bytes(letter.pdf)
    letter.pdf = forged
    db.session.commit()
    code, output, report = verify(app)
    assert code == 1
    found = findings(report, case.reference)
    assert [(d["event"], d["field"]) for d in found] == [(seq, f"letter[{letter.number}].pdf")]
    assert f"letter[{letter.number}].pdf" in output
    assert report["summary"]["inconsistent"] == 1


def test_a_letter_row_rewritten_or_deleted_or_revoked_without_record_is_found(
    app: Flask, record: dict[str, Any]
) -> None:
    first, second = (c.case for c in record["done"])
    letter = _letter_of(first)
    number, seq = letter.number, _letter_event(first).seq
    letter.verify_token = "forged-token-for-another-letter"
    letter.status = "revoked"  # revoked without a letter_revoked event
    other = _letter_of(second)
    other_number = other.number
    db.session.delete(other)
    db.session.commit()
    code, _, report = verify(app)
    assert code == 1
    found = {(d["event"], d["field"]): d for d in findings(report, first.reference)}
    assert found[(seq, f"letter[{number}].verify_token")]["found"] == "forged-token-for-another-letter"
    assert found[(seq, f"letter[{number}].status")]["expected"] == "valid"
    gone = findings(report, second.reference)
    assert {
        "event": _letter_event(second).seq,
        "field": f"letter[{other_number}]",
        "expected": "the stored letter",
        "found": None,
    } in gone


def test_a_letter_planted_in_a_case_the_procedure_issued_none_for_is_found(app: Flask, record: dict[str, Any]) -> None:
    from engine.models import Letter

    source, waiting = _letter_of(record["done"][0].case), record["waiting"].case
    columns = {c.key: getattr(source, c.key) for c in Letter.__table__.columns if c.key != "id"}
    columns.update(
        case_id=waiting.id, number=source.number + "-X", seq=source.seq + 100, verify_token="planted", sha256="0" * 64
    )
    db.session.execute(insert(Letter).values(**columns))
    db.session.commit()
    code, _, report = verify(app)
    assert code == 1
    found = findings(report, waiting.reference)
    assert [d["field"] for d in found] == [f"letter[{source.number}-X]"]


def test_verification_in_several_processes_finds_the_same(app: Flask, record: dict[str, Any]) -> None:
    case = record["done"][1].case
    with guards_dropped():
        db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 4))
        db.session.commit()
    one = verify(app)
    two = verify(app, "--workers", "2")
    assert one[0] == two[0] == 1
    assert one[2] == two[2]
    assert [c["reference"] for c in two[2]["cases"]] == sorted(c["reference"] for c in two[2]["cases"])
    assert "event 5: seq: expected 4, found 5" in two[1]


def test_several_processes_need_a_shared_database(tmp_path: Path) -> None:
    if ON_POSTGRES:
        pytest.skip("the in-memory database is SQLite's")
    with app_on(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite://") as app:
        result = app.test_cli_runner().invoke(args=["audit", "verify", "--all", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers needs a database file or server" in result.output
