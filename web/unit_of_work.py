"""The one commit point of the web layer, as indico's ``RH.process`` does it.

A request commits once, after its view returned; a CLI command commits once, after it finished;
a worker commits once per iteration. Any exception rolls the whole unit back. Views, CLI commands
and engine functions never call ``commit()`` (engine functions flush); a view that must refuse
with nothing written raises (or rolls back and returns its own error page).

The request's commit runs inside Flask's view dispatch, so a commit that fails (a lost
connection, a constraint checked at commit) reaches the app's error handlers and an API route
answers JSON like any other error. Nothing may write to the database after the view returned
(``after_request`` hooks run after the commit).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once if the block finished; roll back if it raised (the exception goes on)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        discard()
        raise


def discard() -> None:
    """Roll the session back without raising: cleanup must not hide the error being answered."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        # a dead connection fails its rollback; SQLAlchemy has invalidated it already
        current_app.logger.warning("rollback failed; the session's connection is discarded", exc_info=True)
        db.session.close()


class App(Flask):
    """Flask whose every view runs as one unit of work."""

    def dispatch_request(self) -> Any:
        with unit_of_work():
            return super().dispatch_request()


class CommandGroup(AppGroup):
    """A ``flask`` command group whose every command runs as one unit of work."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().command(*args, **kwargs)

        def decorator(callback: Callable[..., Any]) -> Any:
            @functools.wraps(callback)
            def committed(*a: Any, **kw: Any) -> Any:
                with unit_of_work():
                    return callback(*a, **kw)

            return register(committed)

        return decorator
