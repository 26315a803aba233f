"""The engine's clock reaches SpiffWorkflow's timers (engine/clock.py's one monkeypatch)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine.clock import ClockedDatetime, frozen_at


def test_spiffworkflow_still_reads_the_time_through_its_module_datetime() -> None:
    """If this fails, a SpiffWorkflow upgrade changed how timers read the time: redo install_timer_clock."""
    assert spiff_timer.datetime is ClockedDatetime
    for definition in (spiff_timer.DurationTimerEventDefinition, spiff_timer.TimeDateEventDefinition):
        assert "datetime.now(timezone.utc)" in inspect.getsource(definition.has_fired)
    assert "datetime.now(timezone.utc)" in inspect.getsource(spiff_timer.TimerEventDefinition.get_timedelta_from_start)


def test_inside_frozen_at_the_timers_see_the_engines_now() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with frozen_at(moment):
        assert spiff_timer.datetime.now(UTC) == moment
        start = spiff_timer.TimerEventDefinition.get_timedelta_from_start({"days": 14})
        assert start == timedelta(days=14)
    assert abs(spiff_timer.datetime.now(UTC) - datetime.now(UTC)) < timedelta(seconds=5)
