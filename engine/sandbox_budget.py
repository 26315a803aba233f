"""The step and time budget of diagram code, enforced per thread.

While diagram code runs, :func:`budget` installs a ``sys.settrace`` function **for the current
thread only** (trace functions are per thread), so it works the same in a gunicorn sync worker, in
one thread of Flask's threaded development server and in the timer worker, and never touches
signals (``signal.alarm`` only works in the main thread). The tracer counts every line/call event
of code compiled from a diagram (filename ``<diagram>``) and checks the wall clock every few
hundred events; past the step budget or the deadline it raises :class:`LimitExceeded` — and keeps
raising it at every later event, so a ``try/except`` inside the diagram cannot swallow it. The
previous trace function (a debugger, coverage) is restored afterwards.

Single C-level operations cannot be interrupted by a tracer: :mod:`engine.sandbox_limits` caps
each one that can grow without bound before it runs, and charges what it builds to the budget's
allocation counter.

Hand-written because no maintained library bounds CPU and memory of in-process Python code;
RestrictedPython's own documentation leaves it to the integrator.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

DIAGRAM_FILENAME = "<diagram>"

MAX_STEPS = 200_000  # line/call events of diagram code per evaluation
MAX_SECONDS = 1.0  # wall clock per evaluation
MAX_ITERATIONS = 100_000  # items taken from iterators by for loops and comprehensions
MAX_ITEMS = 100_000  # length of one list/tuple/range produced by a guarded operation
MAX_STRING = 1_000_000  # characters of one string produced by a guarded operation
MAX_INT_BITS = 16_384  # about 4,900 decimal digits, beyond Python's own str() limit
MAX_ALLOCATED = 5_000_000  # items + characters produced by guarded operations per evaluation
MAX_FORMAT_WIDTH = 1_000  # widths/precisions in % and f-string formats

_CHECK_CLOCK_EVERY = 256

# Refused at deployment and at run time: frames/code/generators (RestrictedPython's list and
# every attribute with their prefixes), string.Formatter's methods, type and traceback internals.
FORBIDDEN_ATTRIBUTES = INSPECT_ATTRIBUTES | {"vformat", "get_field", "get_value", "mro", "with_traceback", "to_bytes"}
INTERNAL_PREFIXES = ("gi_", "f_", "co_", "tb_", "cr_", "ag_")


class LimitExceeded(Exception):
    """Diagram code went past one of the sandbox's limits (message in Indonesian)."""


class Budget:
    """What one evaluation may still spend; charged by the tracer and the guards."""

    def __init__(self, steps: int = MAX_STEPS, seconds: float = MAX_SECONDS) -> None:
        self.steps_left = steps
        self.iterations_left = MAX_ITERATIONS
        self.allocated_left = MAX_ALLOCATED
        self.deadline = time.monotonic() + seconds
        self.tripped: str | None = None

    def trip(self, message: str) -> None:
        self.tripped = message
        raise LimitExceeded(message)

    def step(self, count: int = 1) -> None:
        if self.tripped:
            raise LimitExceeded(self.tripped)
        self.steps_left -= count
        if self.steps_left < 0:
            self.trip("Ekspresi/skrip terlalu lama berjalan (batas langkah terlampaui)")
        if self.steps_left % _CHECK_CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            self.trip(f"Ekspresi/skrip terlalu lama berjalan (lebih dari {MAX_SECONDS:g} detik)")

    def iterate(self) -> None:
        self.iterations_left -= 1
        if self.iterations_left < 0:
            self.trip(f"Perulangan terlalu banyak (lebih dari {MAX_ITERATIONS} kali)")

    def allocate(self, size: int) -> None:
        self.allocated_left -= size
        if self.allocated_left < 0:
            self.trip("Ekspresi/skrip membuat data terlalu besar")


_local = threading.local()


def current_budget() -> Budget:
    found = getattr(_local, "budget", None)
    if found is None:  # guards called outside budget(): refuse rather than run unbounded
        raise LimitExceeded("Kode diagram hanya berjalan di dalam sandbox")
    return found


def fail(message: str) -> None:
    """Refuse: trips the running budget (so later events keep failing), or just raises."""
    found = getattr(_local, "budget", None)
    if found is not None:
        found.trip(message)
    raise LimitExceeded(message)


def allocate(size: int) -> None:
    found = getattr(_local, "budget", None)
    if found is not None:
        found.allocate(size)


def _tracer(budget: Budget) -> Callable[..., Any]:
    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        budget.step()
        return local

    def global_(frame: types.FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != DIAGRAM_FILENAME:
            return None  # our guards and the helpers are not traced line by line
        budget.step()
        return local

    return global_


@contextlib.contextmanager
def budget(steps: int = MAX_STEPS, seconds: float = MAX_SECONDS) -> Iterator[Budget]:
    """Run the body with a fresh budget and the tracer of this thread; nested calls share one."""
    outer = getattr(_local, "budget", None)
    if outer is not None:
        yield outer
        return
    current = Budget(steps, seconds)
    previous_trace = sys.gettrace()
    _local.budget = current
    sys.settrace(_tracer(current))
    try:
        yield current
    finally:
        sys.settrace(previous_trace)
        _local.budget = None
