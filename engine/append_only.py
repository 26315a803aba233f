"""Append-only tables: database triggers refuse to update or delete their rows.

The audit log (``case_event``), the signed anchors over it (``audit_anchor``) and the personal
data access log (``access_log``) are records, not state: nothing in the application ever changes
or removes a row. The triggers make the database refuse it too, so a mistake or a casual edit
fails loudly. Someone with full control of the database can drop a trigger; what they then
rewrite is caught by the hash chains and the signed anchors an auditor holds (engine.anchors).

The same statements are installed by ``metadata.create_all`` (tests, fresh databases) and by
the migration that introduced them. SQLite drops a table's triggers with the table, and Alembic's
batch mode recreates tables, so every migration run ends by installing them again
(:func:`install_guards`, called from ``web/migrations/env.py``); :func:`missing_guards` lets
``audit verify`` say when any is gone all the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Connection, event, text
from sqlalchemy.orm import Session

APPEND_ONLY_TABLES = ("case_event", "audit_anchor", "access_log")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION sibalang_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
        MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END $$
"""


def trigger_names(table: str) -> list[str]:
    return [f"{table}_no_update", f"{table}_no_delete"]


def sqlite_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def postgresql_statements(table: str) -> list[str]:
    return [
        PG_FUNCTION,
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION sibalang_append_only()",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION sibalang_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION sibalang_append_only()",
    ]


def drop_statements(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op} ON {table}" for op in ("update", "delete", "truncate")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in trigger_names(table)]


def install_statements(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return postgresql_statements(table)
    if dialect == "sqlite":
        return sqlite_statements(table)
    return []


def guard_tables(tables: dict[str, Any]) -> None:
    """Install the triggers whenever ``metadata.create_all`` creates one of the tables."""
    for name in APPEND_ONLY_TABLES:
        table = tables[name]
        for dialect in ("sqlite", "postgresql"):
            for statement in install_statements(dialect, name):
                event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))


def install_guards(connection: Connection) -> None:
    """Install every append-only trigger that is missing (the statements are idempotent)."""
    for table in APPEND_ONLY_TABLES:
        for statement in install_statements(connection.dialect.name, table):
            connection.exec_driver_sql(statement)


def missing_guards(session: Session) -> list[str]:
    """The append-only triggers this database lacks (empty when every one is in place)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        present = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    elif dialect == "postgresql":
        present = set(
            session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"))
        )
    else:
        return []
    return [name for table in APPEND_ONLY_TABLES for name in trigger_names(table) if name not in present]
