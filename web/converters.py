"""URL converters: an ``<int:...>`` in a path never reaches the database out of its range.

Werkzeug's ``int`` converter matches any number of digits; ``/documents/<20 digits>`` then
overflowed SQLite's 64-bit integers inside the query (a 500), and anything past 2**31 - 1
PostgreSQL's ``integer`` id columns (a 503). Bounded here, such a path simply matches no route:
404, for every view at once. (The few ``bigint`` tables are never addressed by id in a URL.)
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # the largest value of PostgreSQL's integer, the type of the ids in URLs


class BoundedIntegerConverter(IntegerConverter):
    """``int`` with ``max`` defaulting to the largest id (and never negative)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
