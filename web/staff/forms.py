"""JSON-Schema task forms on HTML: fields to render, and posted values back to JSON types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from ..i18n import format_date, format_number, format_rupiah
from ..i18n import gettext as _

RADIO_MAX_OPTIONS = 4
_THOUSANDS = re.compile(r"-?\d{1,3}(\.\d{3})+")


@dataclass
class Field:
    """One input of a task form, ready for the ``macros/forms.html`` macros."""

    name: str
    widget: str  # text | textarea | number | date | checkbox | radio | select | checkboxes
    label: str
    help: str = ""
    required: bool = False
    required_when: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None  # str for single inputs, list[str] for checkboxes, bool for a checkbox
    error: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    values = prop.get("enum") or []
    names = prop.get("enumNames") or []
    return [(str(v), _(str(names[i])) if i < len(names) else str(v)) for i, v in enumerate(values)]


def _conditions(schema: dict[str, Any]) -> dict[str, list[str]]:
    """``{field: ["Hasil verifikasi = Ditolak", ...]}`` from the schema's allOf if/then rules."""
    props = schema.get("properties") or {}
    found: dict[str, list[str]] = {}
    for rule in schema.get("allOf") or []:
        condition = (rule.get("if") or {}).get("properties") or {}
        needed = (rule.get("then") or {}).get("required") or []
        parts = []
        for name, test in condition.items():
            if isinstance(test, dict) and "const" in test:
                prop = props.get(name) or {}
                label = dict(_options(prop)).get(str(test["const"]), str(test["const"]))
                parts.append(f"{_(prop.get('title', name))} = {label}")
        for name in needed:
            if parts:
                found.setdefault(name, []).append(", ".join(parts))
    return found


def _display(prop: dict[str, Any], value: Any) -> Any:
    """A JSON value (default or typed-in string) as the widget shows it."""
    if prop.get("type") == "array":
        if value is None:
            return []
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if prop.get("type") == "boolean":
        return value in (True, "1", "on", "true")
    return "" if value is None else str(value)


def build_fields(
    schema: dict[str, Any] | None, values: dict[str, Any], errors: dict[str, str] | None = None
) -> list[Field]:
    """The fields of ``schema`` in order, filled with ``values`` and ``errors``."""
    if not schema:
        return []
    errors = errors or {}
    required = set(schema.get("required") or [])
    conditions = _conditions(schema)
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type")
        options = _options(prop) if "enum" in prop else _options(prop.get("items") or {})
        if kind == "array":
            widget = "checkboxes"
        elif "enum" in prop:
            widget = "radio" if len(options) <= RADIO_MAX_OPTIONS else "select"
        elif kind == "boolean":
            widget = "checkbox"
        elif kind in ("integer", "number"):
            widget = "number"
        elif prop.get("format") == "date":
            widget = "date"
        elif prop.get("x-widget") == "textarea":
            widget = "textarea"
        else:
            widget = "text"
        attrs: dict[str, Any] = {}
        if kind in ("integer", "number"):
            attrs = {
                "step": "1" if kind == "integer" else "any",
                "min": prop.get("minimum"),
                "max": prop.get("maximum"),
            }
            attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
        elif widget in ("text", "textarea"):
            attrs = {"maxlength": prop.get("maxLength")}
        raw = values.get(name, prop.get("default"))
        fields.append(
            Field(
                name=name,
                widget=widget,
                label=_(str(prop.get("title") or name)),
                help=_(str(prop.get("description") or "")) if prop.get("description") else "",
                required=name in required,
                required_when=conditions.get(name, []),
                options=options,
                value=_display(prop, raw),
                error=errors.get(name),
                attrs={k: v for k, v in attrs.items() if v is not None},
            )
        )
    return fields


def _number(text: str, kind: str) -> Any:
    """Parse a typed number; leave the text as it is when it isn't one (validation then says so)."""
    cleaned = text.strip().replace(" ", "")
    if _THOUSANDS.fullmatch(cleaned):  # "800.000" is how rupiah amounts are written
        cleaned = cleaned.replace(".", "")
    try:
        return int(cleaned) if kind == "integer" else float(cleaned.replace(",", "."))
    except ValueError:
        return text


def _scalar(prop: dict[str, Any], text: str) -> Any:
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return _number(text, kind)
    return text


def parse_submission(schema: dict[str, Any] | None, form: MultiDict[str, str]) -> dict[str, Any]:
    """Posted form values as the JSON the schema expects; empty optional inputs are left out."""
    data: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        kind = prop.get("type")
        if kind == "boolean":
            data[name] = form.get(name) in ("1", "on", "true")
        elif kind == "array":
            items = [v for v in form.getlist(name) if v.strip()]
            if items:
                data[name] = [_scalar(prop.get("items") or {}, v) for v in items]
        else:
            text = (form.get(name) or "").strip()
            if text:
                data[name] = _scalar(prop, text)
    return data


def typed_back(schema: dict[str, Any] | None, form: MultiDict[str, str]) -> dict[str, Any]:
    """What the user typed, to show again next to the errors (strings and lists, untouched)."""
    values: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if prop.get("type") == "array":
            values[name] = form.getlist(name)
        elif prop.get("type") == "boolean":
            values[name] = form.get(name) in ("1", "on", "true")
        else:
            values[name] = form.get(name, "")
    return values


def describe(schema: dict[str, Any] | None, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Submitted data as ``(label, text)`` lines using the form's titles and option names."""
    props = (schema or {}).get("properties") or {}
    lines = []
    for name, value in data.items():
        prop = props.get(name) or {}
        names = dict(_options(prop) if "enum" in prop else _options(prop.get("items") or {}))
        if isinstance(value, bool):
            text = _("Ya") if value else _("Tidak")
        elif isinstance(value, list):
            text = ", ".join(names.get(str(v), str(v)) for v in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif prop.get("x-currency") == "IDR" and isinstance(value, int | float):
            text = format_rupiah(value)
        elif isinstance(value, int | float):
            text = format_number(value)
        elif prop.get("format") == "date" and isinstance(value, str):
            text = format_date(value)
        else:
            text = names.get(str(value), str(value))
        lines.append((_(str(prop.get("title") or name)), text))
    return lines
