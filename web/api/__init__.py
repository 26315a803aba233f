"""The JSON API under ``/api/v1``: the contract of DESIGN.md, documented as OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import Schema, ValidationError

from ..errors import ApiError
from ..strict_json import JsonRefused, loads_strict

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def doc(
    summary: str,
    *,
    body: type[Schema] | Schema | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
    auth: bool = True,
    params: tuple[tuple[str, str, str], ...] = (),
    multipart: dict[str, str] | None = None,
    errors: tuple[int, ...] = (),
    produces: str | tuple[str, ...] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record OpenAPI facts on a view; ``openapi.json`` is built from them (web/api/openapi.py).

    ``errors``: the statuses the operation answers beyond those its facts imply (a JSON body:
    400, 413, 415, 422; path arguments: 404; a login: 401, 403; public: 429; always 500, 503);
    ``produces``: the type of a non-JSON answer (``application/pdf``)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view._openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "tags": tags,
            "auth": auth,
            "params": params,
            "multipart": multipart,
            "errors": errors,
            "produces": produces,
        }
        return view

    return decorator


def json_body() -> Any:
    """The request's JSON body: 415 if not JSON, 413 if too large, 400 if malformed, nested too
    deep or holding a lone surrogate (web/strict_json.py)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Kirim data sebagai application/json")
    limit = current_app.config["MAX_JSON_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"Data JSON maksimal {limit // 1024} KB")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413, "payload_too_large", f"Data JSON maksimal {limit // 1024} KB")
    try:
        return loads_strict(raw)
    except JsonRefused as refused:
        raise ApiError(400, "malformed_json", refused.reason) from None


def load(schema: Schema, data: Any) -> Any:
    """Validate with marshmallow; 422 with every field's message."""
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_data", "Data harus berupa objek JSON", {"_schema": "Harus berupa objek."})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_data", "Data tidak valid", _flatten(exc.messages)) from None


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(_flatten(value, name))
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for item in value:
                    flat.update(_flatten(item, name))
            else:
                text = value[0] if isinstance(value, list) and value else value
                flat[name] = _translate(str(text))
    return flat


def _translate(message: str) -> str:
    if message == "Unknown field.":
        return "Kolom tidak dikenal."
    if message.startswith("Missing data"):
        return "Wajib diisi."
    return message


from . import applications, auth_tokens, cases, letters, openapi, processes, tasks, weather  # noqa: E402,F401
