"""Each case's hash chain, checked event by event, and the difference record findings use.

:func:`check_chain` re-derives every event's hash from its content and its predecessor's, so a
changed byte, a removed, inserted or swapped event, or a case head that does not match the log
shows up as a :class:`Difference` at the event where it happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .audit import GENESIS_HASH, event_hash
from .audit import _body as event_body  # the chain's own definition of what an event's hash covers
from .models import Case, CaseEvent


@dataclass(frozen=True)
class Difference:
    """One disagreement: at event ``event`` (None: the final state), ``field`` should be ``expected``."""

    event: int | None
    field: str
    expected: Any
    found: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"event {self.event}: " if self.event is not None else ""
        return f"{where}{self.field}: expected {self.expected!r}, found {self.found!r}"


def check_chain(case: Case, events: list[CaseEvent]) -> list[Difference]:
    """Every break in ``case``'s chain: wrong sequence, a hash its content does not give, the head."""
    problems: list[Difference] = []
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            problems.append(Difference(event.seq, "seq", expected_seq, event.seq))
        recomputed = event_hash(prev, event_body(case.reference, event))
        if recomputed != event.hash:
            problems.append(Difference(event.seq, "hash", recomputed, event.hash))
        prev = event.hash
    if len(events) != case.event_count:
        problems.append(Difference(None, "case.event_count", len(events), case.event_count))
    if case.last_event_hash != prev:
        problems.append(Difference(None, "case.last_event_hash", prev, case.last_event_hash))
    return problems
