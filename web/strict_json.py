"""Request JSON parsed by orjson: strict, bounded, and every refusal a ValueError with a reason.

Python's ``json`` recurses once per nesting level (100,000 ``[`` are a RecursionError, a 500)
and accepts lone surrogates (``"\\ud800"``), which later fail to encode when the text is hashed
or stored. orjson refuses both while parsing (and NaN, Infinity, control characters); on top of
its own depth limit (1024) we allow far less, because the parsed data is walked again by
marshmallow, jsonschema, the audit chain's canonical encoding and the database driver; and
no text may hold NUL (``"\\u0000"``), which SQLite stores but PostgreSQL refuses (a 503 there).
Answers are still encoded by Flask's default provider (``jsonify`` behaves as before).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

MAX_JSON_DEPTH = 32  # no form or API body of ours nests deeper than ~5


class JsonRefused(ValueError):
    """A request body that is not acceptable JSON; ``reason`` is the Indonesian explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(exc: orjson.JSONDecodeError) -> str:
    text = str(exc)
    if "surrogate" in text:
        return "Teks berisi karakter yang tidak sah (surrogate Unicode tunggal, mis. \\ud800)."
    if "depth limit" in text or "recursion" in text:
        return f"JSON bersarang terlalu dalam (maksimal {MAX_JSON_DEPTH} tingkat)."
    return f"JSON tidak dapat dibaca (format rusak: {text})."


def _problem(value: Any, limit: int) -> str | None:
    """Why ``value`` is refused: nested deeper than ``limit`` containers, or a text (key or value)
    holding NUL, which PostgreSQL cannot store. Iterative: no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "Teks berisi karakter NUL (\\u0000) yang tidak dapat disimpan."
        elif isinstance(item, dict | list):
            if depth > limit:
                return f"JSON bersarang terlalu dalam (maksimal {MAX_JSON_DEPTH} tingkat)."
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                children = list(item.values())
            else:
                children = item
            stack.extend((child, depth + 1) for child in children if isinstance(child, str | dict | list))
    return None


def loads_strict(data: str | bytes) -> Any:
    """Parse ``data``; raises JsonRefused with a reason for malformed, too deep or invalid text."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise JsonRefused(_reason(exc)) from None
    problem = _problem(value, MAX_JSON_DEPTH)
    if problem is not None:
        raise JsonRefused(problem)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``loads`` replaced (``request.get_json`` everywhere uses it)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_strict(s)
