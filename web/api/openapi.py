"""``/api/v1/openapi.json``, built from the marshmallow schemas and the ``doc`` facts on views.

The document is the contract the fuzzer (``tests/test_api_contract.py``) holds the API to:
every operation lists the errors it can answer (from its facts: a JSON body can be malformed,
too large, of the wrong type or invalid; a path names something that may not exist; a staff
operation needs a login and a role; a public one is rate limited; every one can meet a busy
database), the identity fields carry the rules of ``engine/validation.py`` written as JSON
Schema (NIK and KK number: province code, date of birth, sequence; phone: the forms
``normalize_phone`` accepts; village codes and services: the agency's own lists, read when the
document is built), and links lead from a created application to its tracking and from the task
list to a task's claim, release and completion (the fuzzer's stateful phase follows them).
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from engine import regions
from engine.intake import APPLICANT_DOCUMENT_KINDS, DOCUMENT_KINDS

from ..catalogue import offered
from . import bp, doc
from .schemas import ErrorSchema

ERROR_TEXT = {
    400: "malformed request: JSON that cannot be read (too deep, a lone surrogate), a bad parameter",
    401: "not logged in (no, an expired or a revoked token)",
    403: "not your role or bidang",
    404: "unknown (or, for applicants, a reference and tracking code that do not match)",
    405: "method not allowed on this path (the answer carries Allow)",
    409: "conflict: claimed by someone else, already completed, stale version, closed case",
    413: "too large",
    415: "wrong content type",
    422: "invalid data: every field's message in details",
    429: "rate limited (Retry-After says when to try again)",
    500: "internal error (a bug: never the answer to bad input)",
    503: "database busy or unavailable, or a diagram's code failed (procedure_failed); Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
_UNRATED = {"/api/v1/openapi.json", "/api/v1/regions"}
_REQUIRED_QUERY = {
    "adm4"
}  # a query parameter without which the operation answers 400  # public reads of static facts: never rate limited

# Query parameters by name: their JSON Schema (what the views accept; anything else is 400).
_QUERY = {
    "queue": {"type": "string", "enum": ["available", "mine", "all"]},
    "sort": {"type": "string", "enum": ["created", "due", "reference"]},
    "order": {"type": "string", "enum": ["asc", "desc"]},
    "page": {"type": "integer", "minimum": 1, "maximum": 100000},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "overdue": {"type": "string", "enum": ["1", "true", "yes", "0", "false", "no"]},
    "q": {"type": "string", "maxLength": 100},
    "tracking_code": {"type": "string", "minLength": 1, "maxLength": 64},
    "confirm": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
    "from": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "to": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "adm4": {"type": "string", "pattern": r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"},
}
_PATH = {
    "document_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "reference": {"type": "string", "minLength": 1, "maxLength": 32},
    "task_id": {"type": "string", "minLength": 1, "maxLength": 64},
}


def province_pattern() -> str:
    return "(?:" + "|".join(sorted(regions.province_codes())) + ")"


def nik_pattern() -> str:
    """16 digits: province, regency, kecamatan, a date of birth (day + 40 for women), a sequence
    other than 0000 — what ``engine.validation.parse_nik`` accepts."""
    day28, woman28, month = "0[1-9]|1[0-9]|2[0-8]", "4[1-9]|5[0-9]|6[0-8]", "0[1-9]|1[0-2]"
    not_february, long_month, leap = "0[13-9]|1[0-2]", "0[13578]|1[02]", "[02468][048]|[13579][26]"
    born = (
        f"(?:(?:{day28}|{woman28})(?:{month})[0-9]{{2}}"
        f"|(?:29|69|30|70)(?:{not_february})[0-9]{{2}}"
        f"|(?:31|71)(?:{long_month})[0-9]{{2}}"
        f"|(?:29|69)02(?:{leap}))"
    )
    sequence = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
    return f"^{province_pattern()}[0-9]{{4}}{born}{sequence}$"


# the separators normalize_phone removes, then 08…, 628… or +628… with 8–13 digits after the 0/62
_SEP = r"[\s().\-]*"
PHONE_PATTERN = rf"^{_SEP}(?:\+{_SEP}6{_SEP}2|6{_SEP}2|0){_SEP}8(?:{_SEP}[0-9]){{7,12}}{_SEP}$"
BIRTH_DATE_PATTERN = (
    r"^(?:19[0-9]{2}|20[01][0-9]|202[0-5])-"
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)$"
)


def _constrain(schemas: dict[str, Any]) -> None:
    """The identity and region rules the marshmallow validators check in code, as JSON Schema."""
    rules: dict[str, dict[str, Any]] = {
        "nik": {"pattern": nik_pattern()},
        "kk_number": {"pattern": f"^{province_pattern()}[0-9]{{14}}$"},
        "phone": {"pattern": PHONE_PATTERN},
        "village_code": {"enum": sorted(r.code for r in regions.desa_list())},
    }
    for name in ("Applicant", "Complaint"):
        properties = schemas.get(name, {}).get("properties", {})
        for field, rule in rules.items():
            if field in properties:
                if "pattern" in rule and field in ("nik", "kk_number"):  # the pattern says 16 digits
                    properties[field].pop("minLength", None)
                    properties[field].pop("maxLength", None)
                properties[field].update(rule)
    applicant = schemas.get("Applicant", {}).get("properties", {})
    if "birth_date" in applicant:
        applicant["birth_date"] = {"type": "string", "pattern": BIRTH_DATE_PATTERN, "description": "YYYY-MM-DD"}
    application = schemas.get("Application", {}).get("properties", {})
    if "service" in application:
        application["service"] = {"type": "string", "enum": list(offered())}


def _multipart(fields: dict[str, str], staff_kinds: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, description in fields.items():
        if name == "file":
            properties[name] = {"type": "string", "format": "binary", "description": description}
        elif name == "files":
            items = {"type": "string", "format": "binary"}
            properties[name] = {"type": "array", "items": items, "minItems": 1, "description": description}
        elif name == "kind":
            kinds = DOCUMENT_KINDS if staff_kinds else APPLICANT_DOCUMENT_KINDS
            properties[name] = {"type": "string", "enum": list(kinds), "description": description}
        else:
            properties[name] = {"type": "string", "minLength": 1, "maxLength": 64, "description": description}
    required = [name for name in ("file", "files", "kind") if name in fields]
    return {"type": "object", "properties": properties, "required": required}


def _errors(facts: dict[str, Any], path: str, arguments: set[str]) -> set[int]:
    codes = {500, 503} | set(facts["errors"])
    if facts["auth"]:
        codes |= {401, 403}
    elif path not in _UNRATED:
        codes.add(429)
    if arguments:
        codes.add(404)
    if facts["body"] is not None:
        codes |= {400, 413, 415, 422}
    if facts["multipart"]:
        codes |= {413, 415, 422}
    return codes


def _error_response(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERROR_TEXT[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if code in (429, 503):
        answer["headers"] = _RETRY_AFTER
    if code == 405:
        answer["headers"] = {"Allow": {"description": "the methods this path answers", "schema": {"type": "string"}}}
    return answer


# Links the fuzzer's stateful phase follows: (method, path, status) → {name: link}
_LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("post", "/api/v1/applications", "201"): {
        "TrackApplication": {
            "operationId": "get_applications_reference",
            "parameters": {
                "reference": "$response.body#/reference",
                "tracking_code": "$response.body#/tracking_code",
            },
        },
        "ApplicationDocuments": {
            "operationId": "post_applications_reference_documents",
            "parameters": {"reference": "$response.body#/reference"},
        },
    },
    ("post", "/api/v1/complaints", "201"): {
        "TrackComplaint": {
            "operationId": "get_complaints_reference",
            "parameters": {
                "reference": "$response.body#/reference",
                "tracking_code": "$response.body#/tracking_code",
            },
        },
    },
    ("get", "/api/v1/tasks", "200"): {
        name: {"operationId": operation, "parameters": {"task_id": "$response.body#/items/0/id"}}
        for name, operation in (
            ("GetTask", "get_tasks_task_id"),
            ("ClaimTask", "post_tasks_task_id_claim"),
            ("ReleaseTask", "post_tasks_task_id_release"),
            ("CompleteTask", "post_tasks_task_id_complete"),
        )
    }
    | {
        "GetCase": {
            "operationId": "get_cases_reference",
            "parameters": {"reference": "$response.body#/items/0/case_reference"},
        }
    },
    ("post", "/api/v1/tasks/{task_id}/claim", "200"): {
        "CompleteClaimed": {
            "operationId": "post_tasks_task_id_complete",
            "parameters": {"task_id": "$response.body#/id"},
        },
        "ReleaseClaimed": {
            "operationId": "post_tasks_task_id_release",
            "parameters": {"task_id": "$response.body#/id"},
        },
        "ClaimedCase": {
            "operationId": "get_cases_reference",
            "parameters": {"reference": "$response.body#/case_reference"},
        },
    },
    ("get", "/api/v1/cases/{reference}", "200"): {
        "CaseHistory": {
            "operationId": "get_cases_reference_history",
            "parameters": {"reference": "$response.body#/reference"},
        },
    },
}


def _operation_id(method: str, path: str) -> str:
    parts = path.removeprefix("/api/v1").strip("/").split("/")
    return method + "_" + "_".join(part.strip("{}").replace(".", "_") for part in parts)


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="Layar Sibalang API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Case management for social-welfare referrals (Dinas Sosial). Errors are "
            "`{error: {code, message, details}}`; any method a path does not list answers 405 with `Allow`."
        },
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
            spec.path(path=path, operations={method.lower(): _operation(method.lower(), path, rule, facts)})
    document = spec.to_dict()
    _constrain(document["components"]["schemas"])
    return document


def _operation(method: str, path: str, rule: Any, facts: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": facts["summary"],
        "tags": list(facts["tags"]),
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": _PATH.get(name, {"type": "string", "minLength": 1})}
        for name in sorted(rule.arguments)
    ]
    params += [
        {
            "name": n,
            "in": where,
            "required": n in _REQUIRED_QUERY,
            "description": d,
            "schema": _QUERY.get(n, {"type": "string"}),
        }
        for n, where, d in facts["params"]
    ]
    if path in ("/api/v1/applications", "/api/v1/complaints"):
        key = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[\x21-\x7e]+$"}
        params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": key})
    if params:
        operation["parameters"] = params
    if facts["body"] is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": facts["body"]}}}
    if facts["multipart"]:
        schema = _multipart(facts["multipart"], staff_kinds=facts["auth"] or "documents" in path)
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    success: dict[str, Any] = {"description": "success"}
    if facts["produces"]:
        types = (facts["produces"],) if isinstance(facts["produces"], str) else facts["produces"]
        success["content"] = {t: {"schema": {"type": "string", "format": "binary"}} for t in types}
    elif facts["response"] is not None:
        success["content"] = {"application/json": {"schema": facts["response"]}}
    links = _LINKS.get((method, path, str(facts["status"])))
    if links:
        success["links"] = links
    responses: dict[str, Any] = {str(facts["status"]): success}
    for code in sorted(_errors(facts, path, set(rule.arguments))):
        responses[str(code)] = _error_response(code)
    operation["responses"] = responses
    if facts["auth"]:
        operation["security"] = [{"bearer": []}, {"session": []}]
    return operation


@bp.get("/openapi.json")
@doc("This document", tags=("meta",), auth=False)
def openapi_json() -> Any:
    return jsonify(build_spec())
