"""How a case is stored: every statement through SQLAlchemy's execution (events see them all),
the ORM's version counter as the one optimistic lock, lost connections handled as SQLAlchemy does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from engine.cases import complete_task, open_tasks
from engine.models import Case, CaseEvent, HumanTask, Notification
from tests.conftest import ON_POSTGRES
from tests.test_rujukan import HAPPY
from web.demo import SAMPLE_DATA
from web.extensions import db

NOW = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
STATEMENTS_PER_CASE = 45  # the budget of issue 9 (the private statement layer it replaced ran 69)
# issuing the recommendation letter at terbitkan_surat (series counter, letter row, its event) came later
LETTER_STATEMENTS = 8


class Statements:
    """Every statement SQLAlchemy sends to the driver, seen by a ``before_cursor_execute`` listener."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, bool]] = []
        self.paused = False
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if not self.paused:
            self.seen.append((" ".join(statement.split()), params, many))

    def rows_into(self, table: str) -> int:
        """Rows the seen INSERTs (and upserts) into ``table`` carried."""
        rows = 0
        for statement, params, many in self.seen:
            if statement.startswith(f"INSERT INTO {table} "):
                rows += len(params) if many else max(1, statement.count("), (") + 1)
        return rows

    def close(self) -> None:
        event.remove(db.engine, "before_cursor_execute", self._seen)


def test_a_listener_sees_every_statement_of_a_whole_case(ctx: None, actor: Any, clock: Any) -> None:
    from engine import intake
    from web.demo import sample_application
    from web.letters import letter_service

    data = intake.ApplicationSchema().load(sample_application(0))
    users = {u: actor(u) for u in ("front_office", "operator", "supervisor", "manager", "kadis", "kabid_rehsos")}
    statements = Statements()
    try:
        case, _, _ = intake.submit_application(db.session, data, users["front_office"], clock.now, "P14D")
        for name in HAPPY:
            statements.paused = True  # committing and finding the open task: the caller's, not the engine's
            db.session.commit()
            task_id, role, spec_name = open_tasks(db.session, case.id)[0]
            assert spec_name == name
            statements.paused = False
            user = users["kabid_rehsos" if role == "kabid" else role]
            complete_task(db.session, task_id, user, SAMPLE_DATA[name], clock.advance(hours=1), letters=letter_service())
        statements.paused = True
        db.session.commit()
        assert case.status == "completed"
        events = db.session.scalar(select(func.count()).where(CaseEvent.case_id == case.id))
        tasks = db.session.scalar(select(func.count()).where(HumanTask.case_id == case.id))
        notifications = db.session.scalar(select(func.count()).where(Notification.case_id == case.id))
    finally:
        statements.close()
    writes = [s for s, _, _ in statements.seen if not s.startswith("SELECT")]
    assert events == case.event_count == statements.rows_into("case_event")
    assert notifications and notifications == statements.rows_into("notification")
    assert tasks <= statements.rows_into("human_task")  # (an upsert row per task that changed)
    # one per step, plus the letter issued at terbitkan_surat (its number and status on the case row)
    assert sum(s.startswith("UPDATE case_file") for s in writes) == len(HAPPY) + 1
    assert len(statements.seen) <= STATEMENTS_PER_CASE + LETTER_STATEMENTS, "\n".join(s[:100] for s, _, _ in statements.seen)


def test_a_case_changed_elsewhere_since_it_was_read_is_a_stale_write(ctx: None, driver: Any) -> None:
    case = driver().apply().case
    with db.engine.begin() as other:  # another worker's transaction moves the case on
        other.execute(update(Case).where(Case.id == case.id).values(lock_version=Case.lock_version + 1))
    case.current_step = "diubah"
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


def test_a_locked_task_comes_with_its_case_and_the_applicants_contact(ctx: None, driver: Any, actor: Any) -> None:
    case = driver().apply().case
    task_id = open_tasks(db.session, case.id)[0][0]
    operator = actor("operator")
    db.session.expunge_all()
    statements = Statements()
    try:
        row = complete_task(db.session, task_id, operator, SAMPLE_DATA["verifikasi"], NOW)
        assert row.case.id == case.id and row.case.person is not None and row.case.person.nik
        reads = [s for s, _, _ in statements.seen if s.startswith("SELECT")]
    finally:
        statements.close()
    assert len(reads) == 1  # the task, its case and the applicant: one locking read
    assert not inspect(row).modified and row.state == "completed"
    db.session.rollback()


def test_driver_errors_carry_no_parameter_values(ctx: None, driver: Any) -> None:
    from sqlalchemy import insert

    case = driver().apply().case
    task_id = open_tasks(db.session, case.id)[0][0]
    row = {"id": task_id, "case_id": case.id, "spec_name": "x", "role": "operator", "state": "ready", "created_at": NOW}
    with pytest.raises(IntegrityError) as raised:
        db.session.execute(insert(HumanTask.__table__), [row])  # duplicate primary key
    assert "parameters hidden" in str(raised.value)  # errors and logs carry no NIK, names or phones
    db.session.rollback()
    assert [t[0] for t in open_tasks(db.session, case.id)] == [task_id]


@pytest.mark.skipif(not ON_POSTGRES, reason="a server to lose the connection to")
def test_a_lost_connection_is_invalidated_and_the_next_transaction_gets_a_new_one(ctx: None, driver: Any) -> None:
    case = driver().apply().case
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    with pytest.raises(OperationalError) as raised:
        open_tasks(db.session, case.id)
    assert raised.value.connection_invalidated
    db.session.rollback()
    assert len(open_tasks(db.session, case.id)) == 1


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
