"""The hot path's SQL (engine/rows.py): prepared statements behave as SQLAlchemy's own execution."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.cases import open_tasks
from engine.models import Case, HumanTask, Notification, Person
from engine.rows import Prepared, attach, attribute_keys, insert_returning, insert_rows
from tests.conftest import ON_POSTGRES
from web.extensions import db

NOW = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)


def _columns(obj: Any) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def _person(**changes: Any) -> dict[str, Any]:
    values = {
        "nik": "6311065407850001",
        "kk_number": "6311060101090001",
        "name": "Siti Aminah",
        "birth_date": datetime(1985, 7, 14).date(),
        "gender": "P",
        "phone": "081234567890",
        "address": "Jl. Ahmad Yani",
        "village_code": "63.11.06.1019",
    }
    return {**values, **changes}


def test_values_written_and_read_through_the_column_types_as_the_orm_would(ctx: None, driver: Any) -> None:
    case = driver().apply().case
    task_id = open_tasks(db.session, case.id)[0][0]
    insert_rows(
        db.session,
        Notification,
        [{"case_id": case.id, "kind": "received", "recipient": "0812", "next_attempt_at": NOW, "created_at": NOW}],
    )
    db.session.commit()
    db.session.expunge_all()

    stored = db.session.scalars(select(Notification).where(Notification.created_at == NOW)).one()
    assert stored.next_attempt_at == NOW  # UTCDateTime as integer microseconds on SQLite, timestamptz on PG
    assert (stored.status, stored.attempts) == ("pending", 0)  # the columns' scalar defaults
    read = Prepared(select(HumanTask.id, HumanTask.created_at).where(HumanTask.id == bindparam("id")))
    ((found_id, created_at),) = read.all(db.session, {"id": task_id})
    assert found_id == task_id and created_at.tzinfo is not None  # TaskId and UTCDateTime result processors
    assert read.all(db.session, {"id": "not-a-uuid"}) == []


def test_a_missing_parameter_is_refused_never_bound_as_null(ctx: None) -> None:
    with pytest.raises(KeyError):
        insert_rows(db.session, Notification, [{"case_id": None, "kind": "received"}, {"kind": "x"}])
    db.session.rollback()


def test_driver_errors_surface_as_sqlalchemy_errors_and_roll_back(ctx: None, driver: Any) -> None:
    case = driver().apply().case
    task_id = open_tasks(db.session, case.id)[0][0]
    row = {"id": task_id, "case_id": case.id, "spec_name": "x", "role": "operator", "state": "ready", "created_at": NOW}
    with pytest.raises(IntegrityError) as raised:
        insert_rows(db.session, HumanTask, [row])  # duplicate primary key
    assert "parameters hidden" in str(raised.value)  # errors and logs carry no NIK, names or phones
    db.session.rollback()
    assert [t[0] for t in open_tasks(db.session, case.id)] == [task_id]


def test_inserted_and_attached_objects_equal_what_the_orm_loads(ctx: None, driver: Any) -> None:
    person = insert_returning(db.session, Person, _person())
    assert inspect(person).persistent and not db.session.dirty
    db.session.commit()
    mine = _columns(person)
    db.session.expunge_all()
    assert _columns(db.session.get(Person, mine["id"])) == mine

    case = driver().apply().case
    db.session.expunge_all()
    loaded = _columns(db.session.get(Case, case.id))
    db.session.expunge_all()
    read = Prepared(select(*Case.__table__.c).where(Case.id == bindparam("id")))
    keys = attribute_keys(Case)
    (values,) = read.all(db.session, {"id": case.id})
    attached = attach(db.session, Case, dict(zip(keys, values, strict=True)))
    assert _columns(attached) == loaded
    assert inspect(attached).persistent and not db.session.dirty

    # attaching again refreshes the session's object in place (as populate_existing would)
    again = attach(db.session, Case, {**dict(zip(keys, values, strict=True)), "current_step": "changed elsewhere"})
    assert again is attached and attached.current_step == "changed elsewhere" and not db.session.dirty


@pytest.mark.skipif(not ON_POSTGRES, reason="a server to lose the connection to")
def test_a_lost_connection_is_invalidated_and_the_next_transaction_gets_a_new_one(ctx: None, driver: Any) -> None:
    case = driver().apply().case
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(OperationalError) as raised:
        open_tasks(db.session, case.id)
    assert raised.value.connection_invalidated
    db.session.rollback()
    assert len(open_tasks(db.session, case.id)) == 1


def test_a_locked_task_comes_with_its_case_and_the_applicants_contact(ctx: None, driver: Any, actor: Any) -> None:
    from engine.cases import complete_task
    from web.demo import SAMPLE_DATA

    case = driver().apply().case
    person_id = case.person_id
    task_id = open_tasks(db.session, case.id)[0][0]
    db.session.expunge_all()
    row = complete_task(db.session, task_id, actor("operator"), SAMPLE_DATA["verifikasi"], NOW)
    loaded = inspect(row).dict
    assert loaded["case"].id == case.id and loaded["case"].__dict__["person"].id == person_id
    assert {"nik", "phone"}.isdisjoint(inspect(loaded["case"].person).unloaded)  # no query to read them

    # a person the session already holds (maybe with unsaved edits) is left as the session has it
    db.session.rollback()
    operator = actor("operator")  # (reads the user: an autoflush would write the edit below)
    person = db.session.get(Person, person_id)
    person.phone = "081299990000"
    complete_task(db.session, task_id, operator, SAMPLE_DATA["verifikasi"], NOW)
    assert person.phone == "081299990000"
    db.session.rollback()


def test_column_types_fast_paths_agree_with_the_reference_conversions() -> None:
    """UTCDateTime and TaskId skip timedelta division and UUID objects; the results must not change."""
    import random
    from datetime import timedelta, timezone
    from uuid import UUID, uuid4

    from sqlalchemy.dialects import sqlite

    from engine.models import NIL_UUID, TaskId, UTCDateTime

    dialect, moments, ids = sqlite.dialect(), UTCDateTime(), TaskId()
    epoch, rng = datetime(1970, 1, 1, tzinfo=UTC), random.Random(7)
    for _ in range(2000):
        moment = epoch + timedelta(microseconds=rng.randint(-(10**15), 10**17))
        for value in (
            moment,
            moment.astimezone(timezone(timedelta(hours=rng.randint(-12, 14)))),
            moment.replace(tzinfo=None),
        ):
            stored = moments.process_bind_param(value, dialect)
            assert stored == (moment - epoch) // timedelta(microseconds=1)
            assert moments.process_result_value(stored, dialect) == moment
        text_id = str(uuid4())
        for value in (text_id, text_id.upper(), UUID(text_id), "{" + text_id + "}", text_id.replace("-", "")):
            assert ids.process_bind_param(value, dialect) == UUID(text_id).bytes
        assert ids.process_result_value(UUID(text_id).bytes, dialect) == text_id
    for junk in ("x" * 36, "12 34 56-1234-1234-1234-123456789012", "1234567812341234123412345678901234ab", ""):
        assert ids.process_bind_param(junk, dialect) == NIL_UUID.bytes
