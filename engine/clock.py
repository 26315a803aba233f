"""The injected clock.

Engine functions take ``now`` as an argument. SpiffWorkflow's timer events, however, call
``datetime.now(timezone.utc)`` themselves, so while the engine advances a workflow it installs
its ``now`` here and the timer module reads it through :class:`ClockedDatetime` (see
:func:`install_timer_clock`). Outside :func:`frozen_at` the real time is used.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_current: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("sibalang_now", default=None)


class ClockedDatetime(datetime):
    """``datetime`` whose ``now()`` is the engine's clock inside :func:`frozen_at`."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        fixed = _current.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz is not None else fixed


def install_timer_clock() -> None:
    """Make SpiffWorkflow's timer events read the engine's clock: the one monkeypatch of the engine.

    SpiffWorkflow 3.2 has no public way to give a workflow a clock: the timer definitions'
    ``has_fired`` and ``get_timedelta_from_start`` call ``datetime.now(timezone.utc)`` on their
    module's own ``datetime`` name, and neither the script engine nor ``refresh_timers`` takes a
    time. So that name is replaced with :class:`ClockedDatetime`. ``tests/test_clock.py`` fails
    loudly if a SpiffWorkflow upgrade stops reading the time this way.
    """
    _spiff_timer.datetime = ClockedDatetime  # type: ignore[misc]


install_timer_clock()


def utcnow() -> datetime:
    """The real current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make SpiffWorkflow's timers see ``moment`` as the current time."""
    token = _current.set(aware(moment))
    try:
        yield
    finally:
        _current.reset(token)
