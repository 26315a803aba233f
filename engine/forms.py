"""Server-side validation of task submissions against their JSON-Schema forms."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from .errors import InvalidSubmission

_TYPE_NAMES = {
    "string": "teks",
    "integer": "bilangan bulat",
    "number": "angka",
    "boolean": "ya/tidak",
    "array": "daftar",
    "object": "objek",
}

_validators: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    cached = _validators.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    _validators[id(schema)] = (schema, validator)
    return validator


def _message(error: ValidationError) -> tuple[str, str]:
    path = ".".join(str(p) for p in error.absolute_path)
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return (f"{path}.{missing}" if path else missing), "Wajib diisi."
    if kind == "enum":
        return path, "Pilihan tidak valid. Pilih salah satu: " + ", ".join(map(str, value)) + "."
    if kind == "const":
        return path, f"Nilai harus {value}."
    if kind == "type":
        names = value if isinstance(value, list) else [value]
        return path, "Harus berupa " + " atau ".join(_TYPE_NAMES.get(str(n), str(n)) for n in names) + "."
    if kind == "maxLength":
        return path, f"Maksimal {value} karakter."
    if kind == "minLength":
        return path, "Wajib diisi." if value == 1 else f"Minimal {value} karakter."
    if kind == "minimum":
        return path, f"Nilai minimal {value}."
    if kind == "maximum":
        return path, f"Nilai maksimal {value}."
    if kind == "format":
        if value == "date":
            return path, "Tanggal tidak valid (format TTTT-BB-HH)."
        return path, f"Format {value} tidak valid."
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return path, "Kolom tidak dikenal: " + ", ".join(extra) + "."
    if kind == "uniqueItems":
        return path, "Pilihan tidak boleh berulang."
    if kind in {"minItems"}:
        return path, f"Pilih minimal {value}."
    if kind == "pattern":
        return path, "Format tidak valid."
    return path, "Nilai tidak valid."


def validate_submission(schema: dict[str, Any] | None, data: Any) -> dict[str, Any]:
    """Return the submission if it satisfies the form; raise InvalidSubmission otherwise."""
    if not isinstance(data, dict):
        raise InvalidSubmission("Data formulir harus berupa objek JSON", {"data": "Harus berupa objek."})
    if schema is None:
        if data:
            raise InvalidSubmission("Tugas ini tidak menerima data", {"data": "Tugas ini tanpa formulir."})
        return {}
    errors: dict[str, str] = {}
    for error in sorted(_validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)):
        field, message = _message(error)
        errors.setdefault(field or "data", message)
    if errors:
        raise InvalidSubmission("Data formulir tidak valid", errors)
    return data


def form_defaults(schema: dict[str, Any] | None, task_data: dict[str, Any]) -> dict[str, Any]:
    """Values to pre-fill: a property with ``x-default-from`` takes that task-data variable."""
    defaults: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        source = prop.get("x-default-from") if isinstance(prop, dict) else None
        if source and task_data.get(source) is not None:
            defaults[name] = task_data[source]
    return defaults


def apply_ui_schema(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, Any]:
    """A form's JSON Schema with SpiffArena's UI schema (react-jsonschema-form) applied.

    Honoured: ``ui:order`` (field order, ``*`` for the rest), per field ``ui:widget``
    (``textarea``), ``ui:title``, ``ui:help``/``ui:description``. Validation is unchanged.
    """
    if not isinstance(ui, dict):
        return schema
    props = dict(schema.get("properties") or {})
    order = [n for n in ui.get("ui:order") or [] if isinstance(n, str)]
    if order:
        rest = [n for n in props if n not in order]
        names = [n for part in order for n in (rest if part == "*" else [part]) if n in props]
        names += [n for n in rest if n not in names]
        props = {n: props[n] for n in names}
    for name, prop in list(props.items()):
        hints = ui.get(name)
        if not isinstance(hints, dict) or not isinstance(prop, dict):
            continue
        prop = dict(prop)
        if hints.get("ui:widget") == "textarea":
            prop["x-widget"] = "textarea"
        if isinstance(hints.get("ui:title"), str):
            prop["title"] = hints["ui:title"]
        help_text = hints.get("ui:help") or hints.get("ui:description")
        if isinstance(help_text, str):
            prop["description"] = help_text
        props[name] = prop
    return {**schema, "properties": props}
