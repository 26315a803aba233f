"""The directory of social companions (TKSK, PSM, programmes' companions) and its change log.

Administrators keep it (one entry at a time or a whole CSV file); residents look up the
companions of their kecamatan; staff assign one to a case (see ``engine.assignment``).
Phone numbers are parsed and validated by ``phonenumbers`` (Google's libphonenumber).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import regions
from .audit import Actor
from .errors import Forbidden, InvalidSubmission, NotFound
from .models import Companion, CompanionChange
from .text import N_

ROLES = {
    "tksk": N_("TKSK (Tenaga Kesejahteraan Sosial Kecamatan)"),
    "psm": N_("PSM (Pekerja Sosial Masyarakat)"),
    "pendamping_pkh": N_("Pendamping PKH"),
    "lainnya": N_("Pendamping program lain"),
}
SHORT_ROLES = {"tksk": "TKSK", "psm": "PSM", "pendamping_pkh": N_("Pendamping PKH"), "lainnya": N_("Pendamping")}
KEEPERS = {"admin"}  # who may change the directory
FIELDS = ("name", "role", "kecamatan_code", "village_code", "phone", "whatsapp", "programme", "active")
CSV_COLUMNS = ("nama", "peran", "kode_kecamatan", "kode_desa", "telepon", "whatsapp", "program", "aktif")
MAX_IMPORT_ROWS = 2000

_REQUIRED: dict[str, Any] = {"required": "Wajib diisi.", "null": "Wajib diisi.", "invalid": "Harus berupa teks."}


def phone_e164(text: str) -> str:
    """``0812-3456-7890`` / ``+62 812…`` → ``+6281234567890``; ValueError with an Indonesian message."""
    try:
        number = phonenumbers.parse((text or "").strip(), "ID")
    except phonenumbers.NumberParseException:
        raise ValueError("Nomor telepon tidak dapat dibaca (contoh: 0812-3456-7890).") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Nomor telepon tidak valid (contoh: 0812-3456-7890).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """``+6281234567890`` → ``0812-3456-7890`` as people write it here."""
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "-")


def tel_link(companion: Companion) -> str:
    return f"tel:{companion.phone}"


def whatsapp_link(companion: Companion) -> str:
    """wa.me takes the international number without ``+``."""
    return f"https://wa.me/{(companion.whatsapp or companion.phone).lstrip('+')}"


class CompanionSchema(Schema):
    """One directory entry as an administrator enters it (form, API or a CSV row)."""

    name = fields.String(
        required=True,
        error_messages=_REQUIRED,
        validate=validate.Length(min=2, max=200, error="Panjang nama 2–200 karakter."),
    )
    role = fields.String(
        required=True, error_messages=_REQUIRED, validate=validate.OneOf(list(ROLES), error="Peran tidak dikenal.")
    )
    kecamatan_code = fields.String(required=True, error_messages=_REQUIRED)
    village_code = fields.String(load_default=None, allow_none=True, error_messages=_REQUIRED)
    phone = fields.String(required=True, error_messages=_REQUIRED)
    whatsapp = fields.String(load_default=None, allow_none=True, error_messages=_REQUIRED)
    programme = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100, error="Nama program maksimal 100 karakter."),
        error_messages=_REQUIRED,
    )
    active = fields.Boolean(load_default=True, error_messages={"invalid": "Isi ya atau tidak."})

    @validates_schema(skip_on_field_errors=False)
    def _check(self, data: dict[str, Any], **_: Any) -> None:
        problems: dict[str, str] = {}
        code = data.get("kecamatan_code") or ""
        kecamatan = regions.kecamatan_of(code) if len(code) == 8 else None
        if "kecamatan_code" in data and not code:
            problems["kecamatan_code"] = "Wajib diisi."
        elif code and (kecamatan is None or kecamatan.level != "kecamatan"):
            problems["kecamatan_code"] = f"Kode kecamatan {code!r} tidak dikenal."
        village = data.get("village_code")
        if village:
            if regions.village(village) is None:
                problems["village_code"] = f"Kode desa {village!r} tidak dikenal."
            elif not village.startswith(code + "."):
                problems["village_code"] = "Desa ini tidak berada di kecamatan yang dipilih."
        elif data.get("role") == "psm":
            problems["village_code"] = "PSM bertugas di satu desa: pilih desanya."
        if "phone" in data and not data["phone"]:
            problems["phone"] = "Wajib diisi."
        for key in ("phone", "whatsapp"):
            if data.get(key):
                try:
                    data[key] = phone_e164(data[key])
                except ValueError as exc:
                    problems[key] = str(exc)
        if problems:
            raise ValidationError(problems)


_schema = CompanionSchema()


def load_companion(values: dict[str, Any]) -> dict[str, Any]:
    """Validate one entry; InvalidSubmission with a message per field."""
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items() if k in FIELDS}
    for key in ("village_code", "whatsapp", "programme"):
        if cleaned.get(key) == "":
            cleaned[key] = None
    try:
        return dict(_schema.load(cleaned))
    except ValidationError as exc:
        messages: dict[str, Any] = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        details = {k: (v[0] if isinstance(v, list) else str(v)) for k, v in messages.items()}
        raise InvalidSubmission("Data pendamping tidak valid", details) from None


def _may_keep(actor: Actor) -> None:
    if not set(actor.roles) & KEEPERS:
        raise Forbidden("Hanya administrator yang dapat mengubah daftar pendamping")


def _record(session: Session, companion: Companion, action: str, actor: Actor, now: datetime, changes: Any) -> None:
    session.add(
        CompanionChange(companion_id=companion.id, action=action, actor=actor.username, at=now, changes=changes)
    )


def create_companion(session: Session, values: dict[str, Any], actor: Actor, now: datetime) -> Companion:
    """Add an entry to the directory. Raises Forbidden, InvalidSubmission."""
    _may_keep(actor)
    data = load_companion(values)
    companion = _insert(session, data, now)
    _record(session, companion, "created", actor, now, {k: [None, data[k]] for k in FIELDS})
    return companion


def _insert(session: Session, data: dict[str, Any], now: datetime) -> Companion:
    companion = Companion(**{k: data[k] for k in FIELDS}, created_at=now, updated_at=now)
    session.add(companion)
    session.flush()
    return companion


def _apply(companion: Companion, data: dict[str, Any], now: datetime) -> dict[str, list[Any]]:
    changes = {k: [getattr(companion, k), data[k]] for k in FIELDS if getattr(companion, k) != data[k]}
    for key, (_before, after) in changes.items():
        setattr(companion, key, after)
    if changes:
        companion.updated_at = now
    return changes


def update_companion(
    session: Session, companion_id: int, values: dict[str, Any], actor: Actor, now: datetime
) -> Companion:
    """Change an entry (deactivate with ``active=False``). Raises Forbidden, NotFound, InvalidSubmission."""
    _may_keep(actor)
    companion = get_companion(session, companion_id)
    data = load_companion(values)
    changes = _apply(companion, data, now)
    if changes:
        session.flush()
        _record(session, companion, "updated", actor, now, changes)
    return companion


def get_companion(session: Session, companion_id: int) -> Companion:
    companion = session.get(Companion, companion_id)
    if companion is None:
        raise NotFound("Pendamping tidak ditemukan")
    return companion


def list_companions(
    session: Session, kecamatan_code: str | None = None, *, active_only: bool = True
) -> list[Companion]:
    """The directory (of one kecamatan): TKSK first, then PSM by desa, then the others."""
    stmt = select(Companion)
    if kecamatan_code:
        stmt = stmt.where(Companion.kecamatan_code == kecamatan_code)
    if active_only:
        stmt = stmt.where(Companion.active.is_(True))
    order = list(ROLES)
    rows = list(session.scalars(stmt))
    return sorted(
        rows,
        key=lambda c: (
            c.kecamatan_code,
            order.index(c.role) if c.role in order else len(order),
            c.village_code or "",
            c.name,
        ),
    )


def proposed_companion(session: Session, village_code: str | None) -> Companion | None:
    """Whom a request for a companion goes to: the TKSK of the applicant's kecamatan, else the desa's PSM."""
    if not village_code:
        return None
    candidates = list_companions(session, village_code[:8])
    return next((c for c in candidates if c.role == "tksk"), None) or next(
        (c for c in candidates if c.village_code == village_code), None
    )


def changes_of(session: Session, companion_id: int) -> list[CompanionChange]:
    stmt = select(CompanionChange).where(CompanionChange.companion_id == companion_id).order_by(CompanionChange.id)
    return list(session.scalars(stmt))


# --- CSV import ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int


_FIELD_LABELS = {
    "name": "nama",
    "role": "peran",
    "kecamatan_code": "kode_kecamatan",
    "village_code": "kode_desa",
    "phone": "telepon",
    "whatsapp": "whatsapp",
    "programme": "program",
    "active": "aktif",
}
_YES = {"ya", "y", "1", "true", "aktif", "yes"}
_NO = {"tidak", "t", "0", "false", "nonaktif", "no"}


def _row_values(row: dict[str, str | None]) -> dict[str, Any]:
    values: dict[str, Any] = {field: (row.get(column) or "").strip() for field, column in _FIELD_LABELS.items()}
    active = str(values.pop("active")).lower()
    if active in _YES or active == "":
        values["active"] = True
    elif active in _NO:
        values["active"] = False
    else:
        values["active"] = active  # refused by the schema with its message
    values["role"] = str(values["role"]).lower()
    return values


def parse_csv(content: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """Every row validated: (entries, problems); a problem names its line and column."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], ["Berkas bukan teks UTF-8. Simpan ulang sebagai CSV (UTF-8)."]
    sample = text[:2048]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("nama", "peran", "kode_kecamatan", "telepon") if c not in header]
    if missing:
        return [], [f"Baris 1: kolom {', '.join(missing)} tidak ada. Kolom yang dikenal: {', '.join(CSV_COLUMNS)}."]
    reader.fieldnames = header
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if len(entries) + len(problems) >= MAX_IMPORT_ROWS:
            problems.append(f"Berkas memuat lebih dari {MAX_IMPORT_ROWS} baris; bagi menjadi beberapa berkas.")
            break
        if None in row:
            problems.append(f"Baris {line}: jumlah kolom lebih banyak daripada judul kolom.")
            continue
        if not any((v or "").strip() for v in row.values()):
            continue
        try:
            data = load_companion(_row_values(row))
        except InvalidSubmission as invalid:
            details = invalid.details or {}
            text_ = "; ".join(f"{_FIELD_LABELS.get(k, k)}: {v}" for k, v in details.items())
            problems.append(f"Baris {line}: {text_}")
            continue
        key = (data["role"], data["phone"])
        if key in seen:
            problems.append(f"Baris {line}: peran dan telepon yang sama sudah ada di baris {seen[key]}.")
            continue
        seen[key] = line
        entries.append(data)
    if not entries and not problems:
        problems.append("Berkas tidak memuat satu baris data pun.")
    return entries, problems


def import_companions(session: Session, content: bytes, actor: Actor, now: datetime) -> ImportResult:
    """Import a CSV file whole or not at all; an entry with the same role and phone is updated.

    Raises Forbidden; InvalidSubmission whose ``details`` lists every bad row.
    """
    _may_keep(actor)
    entries, problems = parse_csv(content)
    if problems:
        raise InvalidSubmission("Berkas CSV tidak diimpor: perbaiki baris berikut", problems)
    existing = {(c.role, c.phone): c for c in session.scalars(select(Companion))}
    result = ImportResult(0, 0, 0)
    for data in entries:
        companion = existing.get((data["role"], data["phone"]))
        if companion is None:
            companion = _insert(session, data, now)
            _record(session, companion, "imported", actor, now, {k: [None, data[k]] for k in FIELDS})
            result.created += 1
            continue
        changes = _apply(companion, data, now)
        if changes:
            session.flush()
            _record(session, companion, "imported", actor, now, changes)
            result.updated += 1
        else:
            result.unchanged += 1
    return result
