"""``/api/v1/openapi.json``, built from the marshmallow schemas and the ``doc`` facts on views."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from . import bp, doc
from .schemas import ErrorSchema

_ERRORS = {
    "400": "malformed request",
    "401": "not logged in",
    "403": "not your role or bidang",
    "404": "unknown",
    "409": "conflict: claimed by someone else, already completed, stale version",
    "413": "too large",
    "415": "wrong content type",
    "422": "invalid data",
    "429": "rate limited",
}


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="Layar Sibalang API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Case management for social-welfare referrals (Dinas Sosial)."},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = current_app.view_functions[rule.endpoint]
        facts = getattr(view, "_openapi", None)
        if facts is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {"summary": facts["summary"], "tags": list(facts["tags"])}
            params = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in rule.arguments
            ]
            params += [
                {"name": n, "in": where, "required": False, "description": d, "schema": {"type": "string"}}
                for n, where, d in facts["params"]
            ]
            if rule.rule.endswith(("/applications", "/complaints")):
                params.append(
                    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
                )
            if params:
                operation["parameters"] = params
            if facts["body"] is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": facts["body"]}},
                }
            if facts["multipart"]:
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    name: {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                        "description": d,
                                    }
                                    for name, d in facts["multipart"].items()
                                },
                            }
                        }
                    },
                }
            responses: dict[str, Any] = {str(facts["status"]): {"description": "success"}}
            if facts["response"] is not None:
                responses[str(facts["status"])]["content"] = {"application/json": {"schema": facts["response"]}}
            for code, text in _ERRORS.items():
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            operation["responses"] = responses
            if facts["auth"]:
                operation["security"] = [{"bearer": []}, {"session": []}]
            spec.path(path=path, operations={method.lower(): operation})
    return spec.to_dict()


@bp.get("/openapi.json")
@doc("This document", tags=("meta",), auth=False)
def openapi_json() -> Any:
    return jsonify(build_spec())
