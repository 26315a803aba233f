"""The hot path's SQL: prepared statements on the DB-API cursor, ORM objects kept in step.

The unit of work's bookkeeping (change tracking, dependency sorting, a flush per batch), and
even Core's execution path, cost several times what the SQL does for the few rows a step of a
case touches. These helpers run statements compiled once per dialect (:class:`Prepared`) on the
session's connection, inside the session's transaction, and set the written values on any ORM
object of that row as its committed state, so the session neither writes them again nor shows
stale values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, event, insert, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from .models import Case, CaseEvent, HumanTask, Notification

_CASE = cast(Table, Case.__table__)
_TASK = cast(Table, HumanTask.__table__)
_statements: dict[tuple[Any, frozenset[str]], Prepared] = {}

UNSAVED_HEADS = "sibalang.unsaved_chain_heads"


class Prepared:
    """A Core statement compiled once per dialect and run on the DB-API cursor itself.

    SQLAlchemy's own execution path (execution context, result object, events) costs several
    times what SQLite needs for one of these small statements. The SQL is SQLAlchemy's own
    compilation, and parameters and results pass through the column types' own processors
    (the same functions SQLAlchemy would apply), so what reaches the database is identical; the
    statement runs inside the session's transaction on the session's connection. It does not pass
    through SQLAlchemy's execution events (``before_cursor_execute`` and the like); echo logging
    still shows it.
    """

    __slots__ = ("statement", "column_keys", "_by_dialect")

    def __init__(self, statement: Any, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Any) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = _Compiled(self.statement, dialect, self.column_keys)
        return found

    def _run(self, session: Session, params: dict[str, Any] | list[dict[str, Any]]) -> tuple[Any, _Compiled]:
        """Execute with ``params`` (a list runs as executemany); return the cursor and the compilation.

        Driver errors are raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``...),
        as they would be from ``Connection.execute``.
        """
        dialect, connection = _connection(session)
        compiled = self._compiled(dialect)
        engine = connection.engine
        if engine.echo:  # SQLALCHEMY_ECHO: these statements bypass Connection.execute's own logging
            engine.logger.info("[prepared] %s", compiled.sql)
        cursor = connection.connection.cursor()
        try:
            if isinstance(params, list):
                cursor.executemany(compiled.sql, [compiled.bind(p) for p in params])
            else:
                cursor.execute(compiled.sql, compiled.bind(params))
        except dialect.loaded_dbapi.Error as error:
            # what Connection.execute does with a driver error: invalidate a lost connection, and
            # raise SQLAlchemy's exception (parameters hidden when the engine hides them)
            lost = dialect.is_disconnect(error, connection.connection, cursor)
            with contextlib.suppress(dialect.loaded_dbapi.Error):
                cursor.close()
            if lost:
                connection.invalidate(error)
            raise DBAPIError.instance(
                compiled.sql,
                params,
                error,
                dialect.loaded_dbapi.Error,
                hide_parameters=connection.engine.hide_parameters,
                connection_invalidated=lost,
                dialect=dialect,
                ismulti=isinstance(params, list),
            ) from error
        return cursor, compiled

    def rowcount(self, session: Session, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        cursor, _ = self._run(session, params)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def all(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Rows of a SELECT (or RETURNING), each value through its column type's processor."""
        cursor, compiled = self._run(session, params)
        rows = cursor.fetchall()
        cursor.close()
        processors = compiled.results
        if not any(processors):
            return [tuple(row) for row in rows]
        return [tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)) for row in rows]


_CONNECTION = "sibalang.dbapi_connection"


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTION, None)


def _connection(session: Session) -> tuple[Any, Connection]:
    """The dialect and connection of the session's transaction (looked up once per transaction)."""
    session = unscoped(session)
    transaction = session.get_transaction()
    found = session.info.get(_CONNECTION)
    if found is None or transaction is None or found[0] is not transaction:
        connection = session.connection()
        found = session.info[_CONNECTION] = (session.get_transaction(), connection.dialect, connection)
    return found[1], found[2]


class _Compiled:
    __slots__ = ("sql", "bind", "results")

    def __init__(self, statement: Any, dialect: Any, column_keys: list[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.sql = compiled.string
        processors = compiled._bind_processors  # the types' bind processors, by bind name
        names = {name: bind for bind, name in compiled.bind_names.items()}
        defaults: dict[str, Any] = {}
        for bind in names.values():
            if bind.value is not None and not bind.required:
                defaults[bind.key] = bind.value  # a literal in .values()
        table = getattr(statement, "table", None)
        if column_keys is not None and table is not None:
            for column in table.c:
                default = column.default
                if column.name in names and column.name not in column_keys and default is not None:
                    if not default.is_scalar:
                        raise ValueError(f"{table.name}.{column.name}: only scalar defaults are supported")
                    defaults[column.name] = default.arg  # a scalar column default
        escaped = compiled.escaped_bind_names
        order = list(compiled.positiontup) if compiled.positional else list(names)
        plan = [(escaped.get(n, n), names[n].key, processors.get(n)) for n in order]

        # A missing parameter raises KeyError (SQLAlchemy would refuse it too), never binds NULL.
        if compiled.positional:

            def bind(params: dict[str, Any]) -> Any:
                if defaults:
                    params = {**defaults, **params}
                return [p(params[key]) if p else params[key] for _, key, p in plan]

        else:

            def bind(params: dict[str, Any]) -> Any:
                if defaults:
                    params = {**defaults, **params}
                return {name: p(params[key]) if p else params[key] for name, key, p in plan}

        self.bind = bind
        self.results = [
            column.type._cached_result_processor(dialect, None) for column in getattr(statement, "selected_columns", ())
        ] or [column.type._cached_result_processor(dialect, None) for column in getattr(statement, "_returning", ())]


def _case_update(columns: frozenset[str]) -> Prepared:
    stmt = _statements.get(("case", columns))
    if stmt is None:
        stmt = _statements["case", columns] = Prepared(
            update(_CASE)
            .where(_CASE.c.id == bindparam("w_id"), _CASE.c.lock_version == bindparam("w_version"))
            .values({name: bindparam(f"v_{name}", type_=_CASE.c[name].type) for name in columns})
        )
    return stmt


def _task_update(columns: frozenset[str]) -> Prepared:
    stmt = _statements.get(("task", columns))
    if stmt is None:
        stmt = _statements["task", columns] = Prepared(
            update(_TASK)
            .where(_TASK.c.id == bindparam("w_id"))
            .values({name: bindparam(f"v_{name}", type_=_TASK.c[name].type) for name in columns})
        )
    return stmt


def _insert(model: type[HumanTask | CaseEvent | Notification], columns: frozenset[str]) -> Prepared:
    stmt = _statements.get((model, columns))
    if stmt is None:
        # inline(): no fetching of the new primary key (nothing here reads it)
        table = cast(Table, model.__table__)
        stmt = _statements[model, columns] = Prepared(insert(table).inline(), sorted(columns))
    return stmt


def update_case(session: Session, case: Case, values: dict[str, Any]) -> None:
    """UPDATE the case row under its optimistic lock (``lock_version``), as the ORM would.

    Also writes the head of its event chain (see ``audit.append_event``). Raises
    StaleDataError when another transaction changed the row since it was read.
    """
    (session.info.get(UNSAVED_HEADS) or {}).pop(case.id, None)
    old = case.lock_version
    values = {
        **values,
        "event_count": case.event_count,
        "last_event_hash": case.last_event_hash,
        "lock_version": old + 1,
    }
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(w_id=case.id, w_version=old)
    if _case_update(frozenset(values)).rowcount(session, params) != 1:
        raise StaleDataError(f"case {case.reference} was changed by another transaction")
    set_committed(case, values)


def update_tasks(session: Session, task_ids: list[str], values: dict[str, Any]) -> None:
    """UPDATE ``human_task`` rows by id, and the session's objects for them."""
    if not task_ids:
        return
    params = {f"v_{name}": value for name, value in values.items()}
    rows = [{**params, "w_id": task_id} for task_id in task_ids]
    _task_update(frozenset(values)).rowcount(session, rows[0] if len(rows) == 1 else rows)
    for task_id in task_ids:
        row = session.identity_map.get(identity_key(HumanTask, task_id))
        if row is not None:
            set_committed(row, values)


def insert_rows(
    session: Session, model: type[HumanTask | CaseEvent | Notification], rows: list[dict[str, Any]]
) -> None:
    """INSERT rows of ``model`` (one statement; several rows as one executemany)."""
    if rows:
        _insert(model, frozenset(rows[0])).rowcount(session, rows)


_RETURNING: dict[type[Any], dict[frozenset[str], Prepared]] = {}


def insert_returning(session: Session, model: type[Any], values: dict[str, Any]) -> Any:
    """INSERT one row of ``model`` and return it as a persistent object of the session."""
    table = cast(Table, model.__table__)
    columns = frozenset(values)
    stmt = _RETURNING.setdefault(model, {}).get(columns)
    if stmt is None:
        pk = list(table.primary_key)
        stmt = _RETURNING[model][columns] = Prepared(insert(table).returning(*pk), sorted(columns))
    (key,) = stmt.all(session, values)
    return attach(session, model, {**values, **dict(zip(_primary_key(model), key, strict=True))})


def attribute_keys(model: type[Any], columns: Any = None) -> list[str]:
    """The ORM attribute names of ``model``'s ``columns`` (default: all of its table's), in order."""
    mapper = model.__mapper__
    return [mapper.get_property_by_column(c).key for c in (model.__table__.c if columns is None else columns)]


_PRIMARY_KEYS: dict[type[Any], tuple[str, ...]] = {}


def _primary_key(model: type[Any]) -> tuple[str, ...]:
    """The attribute names of ``model``'s primary key (looked up once)."""
    found = _PRIMARY_KEYS.get(model)
    if found is None:
        found = _PRIMARY_KEYS[model] = tuple(attribute_keys(model, model.__mapper__.primary_key))
    return found


def set_committed(obj: Any, values: dict[str, Any]) -> None:
    """``set_committed_value`` for several attributes at once: loaded, unchanged, not expired."""
    state = instance_state(obj)
    state.dict.update(values)
    state._commit(state.dict, list(values))


def unscoped(session: Session) -> Session:
    """The session itself behind a ``scoped_session`` proxy (each proxied call looks it up again)."""
    return session() if isinstance(session, scoped_session) else session


def attach(session: Session, model: type[Any], values: dict[str, Any], *, refresh: bool = True) -> Any:
    """The session's object for a row read with :class:`Prepared`, ``values`` as its committed state.

    What the ORM does for a row it loads with ``populate_existing``, for a fraction of the cost:
    an object already in the session is refreshed in place (``refresh=False``: left as the session
    has it), else a new one joins the session as persistent; columns not in ``values`` load on
    first access.
    """
    mapper = model.__mapper__
    obj = session.identity_map.get(identity_key(model, tuple(values[k] for k in _primary_key(model))))
    if obj is None:  # nothing changed or expired yet: the values are its loaded state
        obj = mapper.class_manager.new_instance()
        instance_state(obj).dict.update(values)
        make_transient_to_detached(obj)
        session.add(obj)
    elif refresh:
        set_committed(obj, values)
    return obj
