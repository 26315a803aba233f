"""URL converters: an ``<int:...>`` in a path never reaches the database out of its range.

Werkzeug's ``int`` converter matches any number of digits; ``/documents/<20 digits>`` then
overflowed SQLite's (and PostgreSQL's) 64-bit integers inside the query, a 500. Bounded here,
such a path simply matches no route: 404, for every view at once.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**63 - 1  # the largest value of a signed 64-bit column


class BoundedIntegerConverter(IntegerConverter):
    """``int`` with ``max`` defaulting to the largest 64-bit id (and never negative)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
