"""The injected clock.

Engine functions take ``now`` as an argument. SpiffWorkflow's timer events, however, call
``datetime.now(timezone.utc)`` themselves, so while the engine advances a workflow it installs
its ``now`` here and the timer module reads it through :class:`_ClockedDatetime`. Outside
:func:`frozen_at` the real time is used.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_current: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("sibalang_now", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        fixed = _current.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz is not None else fixed


_spiff_timer.datetime = _ClockedDatetime  # type: ignore[misc]


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
