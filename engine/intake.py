"""Intake: applications and complaints, validated the same way for pages and the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import validation
from .audit import Actor
from .cases import CaseSummary, start_case
from .clock import aware
from .document_kinds import (  # noqa: F401  (re-exported: intake.DOCUMENT_KINDS & co)
    APPLICANT_DOCUMENT_KINDS,
    DOCUMENT_KIND_OWNERS,
    DOCUMENT_KINDS,
    STAFF_ONLY_DOCUMENT_KINDS,
)
from .models import Case, Person
from .text import N_

SERVICES = {
    "panti_rehab": (N_("Panti Rehab"), N_("Rujukan ke panti rehabilitasi sosial.")),
    "sandang": (N_("Sandang"), N_("Paket sandang dan perlengkapan tidur bagi PPKS.")),
    "alat_bantu": (N_("Alat Bantu"), N_("Kursi roda, kruk, tongkat, alat bantu dengar, kaki palsu.")),
    "slrt": (N_("SLRT"), N_("Rujukan program perlindungan sosial: PBI-JK, PKH, Sembako, RTLH, DTSEN.")),
    "berdaya": (N_("Berdaya"), N_("Pemberdayaan ekonomi: bantuan KUBE dan UEP.")),
    "pendamping": (N_("Pendamping"), N_("Permintaan pendamping sosial (TKSK, PSM, pendamping PKH).")),
}

PPKS_CATEGORIES = {
    "anak_balita_terlantar": N_("Anak balita terlantar"),
    "anak_terlantar": N_("Anak terlantar"),
    "anak_berhadapan_hukum": N_("Anak berhadapan dengan hukum"),
    "anak_jalanan": N_("Anak jalanan"),
    "anak_disabilitas": N_("Anak dengan kedisabilitasan"),
    "anak_korban_kekerasan": N_("Anak korban tindak kekerasan"),
    "anak_perlindungan_khusus": N_("Anak yang memerlukan perlindungan khusus"),
    "lansia_terlantar": N_("Lanjut usia terlantar"),
    "penyandang_disabilitas": N_("Penyandang disabilitas"),
    "tuna_susila": N_("Tuna susila"),
    "gelandangan": N_("Gelandangan"),
    "pengemis": N_("Pengemis"),
    "pemulung": N_("Pemulung"),
    "kelompok_minoritas": N_("Kelompok minoritas"),
    "bekas_warga_binaan": N_("Bekas warga binaan lembaga pemasyarakatan"),
    "odha": N_("Orang dengan HIV"),
    "korban_napza": N_("Korban penyalahgunaan NAPZA"),
    "korban_trafficking": N_("Korban trafficking"),
    "korban_kekerasan": N_("Korban tindak kekerasan"),
    "pekerja_migran_bermasalah": N_("Pekerja migran bermasalah sosial"),
    "korban_bencana_alam": N_("Korban bencana alam"),
    "korban_bencana_sosial": N_("Korban bencana sosial"),
    "perempuan_rawan_sosial_ekonomi": N_("Perempuan rawan sosial ekonomi"),
    "fakir_miskin": N_("Fakir miskin"),
    "keluarga_bermasalah_psikologis": N_("Keluarga bermasalah sosial psikologis"),
    "komunitas_adat_terpencil": N_("Komunitas adat terpencil"),
}

COMPLAINT_CATEGORIES = {
    "bansos_tidak_tepat_sasaran": N_("Bansos tidak tepat sasaran"),
    "pelayanan": N_("Pelayanan"),
    "petugas": N_("Petugas"),
    "data": N_("Data"),
    "lainnya": N_("Lainnya"),
}

MESSAGES: dict[str, Any] = {
    "required": N_("Wajib diisi."),
    "null": N_("Wajib diisi."),
    "invalid": N_("Nilai tidak valid."),
    "type": N_("Jenis data tidak valid."),
}
DATE_MESSAGES: dict[str, Any] = {**MESSAGES, "invalid": N_("Tanggal tidak valid (format TTTT-BB-HH).")}


def _text(max_length: int, required: bool = True, min_length: int = 1) -> fields.String:
    return fields.String(
        required=required,
        error_messages={**MESSAGES, "invalid": N_("Harus berupa teks.")},
        validate=validate.Length(
            min=min_length if required else 0,
            max=max_length,
            error=f"Panjang harus {min_length if required else 0}–{max_length} karakter.",
        ),
    )


def _choice(options: dict[str, Any]) -> fields.String:
    return fields.String(
        required=True,
        error_messages={**MESSAGES, "invalid": N_("Harus berupa teks.")},
        validate=validate.OneOf(list(options), error=N_("Pilihan tidak valid.")),
    )


def _check(func: Any, value: Any) -> Any:
    try:
        return func(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class ApplicantSchema(Schema):
    nik = _text(16)
    kk_number = _text(16)
    name = _text(200, min_length=2)
    birth_date = fields.Date(required=True, error_messages=DATE_MESSAGES)
    gender = fields.String(
        required=True,
        error_messages=MESSAGES,
        validate=validate.OneOf(["L", "P"], error=N_("Pilih L (laki-laki) atau P (perempuan).")),
    )
    phone = _text(20)
    address = _text(500, min_length=3)
    village_code = _text(13)

    @validates("nik")
    def _nik(self, value: str, **_: Any) -> None:
        _check(validation.parse_nik, value)

    @validates("kk_number")
    def _kk(self, value: str, **_: Any) -> None:
        _check(validation.check_kk, value)

    @validates("phone")
    def _phone(self, value: str, **_: Any) -> None:
        _check(validation.normalize_phone, value)

    @validates("village_code")
    def _village(self, value: str, **_: Any) -> None:
        _check(validation.check_village, value)

    @validates("birth_date")
    def _birth(self, value: date, **_: Any) -> None:
        if value > date.today():
            raise ValidationError(N_("Tanggal lahir tidak boleh di masa depan."))
        if value.year < 1900:
            raise ValidationError(N_("Tanggal lahir tidak valid."))


class ApplicationSchema(Schema):
    # which services exist is the catalogue's (engine.catalogue): the caller checks the key
    service = fields.String(
        required=True,
        error_messages={**MESSAGES, "invalid": "Harus berupa teks."},
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$", error="Pilihan tidak valid."),
    )
    ppks_category = _choice(PPKS_CATEGORIES)
    description = _text(2000, min_length=5)
    applicant = fields.Nested(ApplicantSchema, required=True, error_messages=MESSAGES)
    # consent to personal-data processing (UU PDP 27/2022); the public form requires it
    consent_pdp = fields.Boolean(load_default=None, allow_none=True, error_messages=MESSAGES)

    @pre_load
    def _strict_consent(self, data: Any, **_: Any) -> Any:
        """JSON true/false (or null) only: marshmallow would also take 0, 1, "yes" and "on"."""
        if isinstance(data, dict) and data.get("consent_pdp") is not None and not isinstance(data["consent_pdp"], bool):
            raise ValidationError(N_("Harus true atau false."), "consent_pdp")
        return data


class ComplaintSchema(Schema):
    category = _choice(COMPLAINT_CATEGORIES)
    description = _text(2000, min_length=10)
    phone = _text(20)
    village_code = _text(13)
    name = _text(200, required=False)

    @validates("phone")
    def _phone(self, value: str, **_: Any) -> None:
        _check(validation.normalize_phone, value)

    @validates("village_code")
    def _village(self, value: str, **_: Any) -> None:
        _check(validation.check_village, value)


def _person(session: Session, applicant: dict[str, Any]) -> Person:
    values = {
        "nik": applicant["nik"],
        "kk_number": applicant["kk_number"],
        "name": applicant["name"].strip(),
        "birth_date": applicant["birth_date"],
        "gender": applicant["gender"],
        "phone": validation.normalize_phone(applicant["phone"]),
        "address": applicant["address"].strip(),
        "village_code": applicant["village_code"],
    }
    person = Person(**values)
    session.add(person)  # flushed with its case (start_case), one flush for both rows
    return person


def submit_application(
    session: Session,
    data: dict[str, Any],
    actor: Actor,
    now: datetime,
    resubmission_timeout: str,
    process: str = "rujukan",
) -> tuple[Case, str, list[str]]:
    """Start a case of ``process`` (the service's, from the catalogue) from validated application data.

    Returns the case, the applicant's tracking code and warnings for the operator.
    """
    applicant = data["applicant"]
    warnings = validation.nik_warnings(
        applicant["nik"], applicant["birth_date"], applicant["gender"], aware(now).date()
    )
    person = _person(session, applicant)
    region = validation.check_village(applicant["village_code"])
    start_data = {
        "service": data["service"],
        "ppks_category": data["ppks_category"],
        "description": data["description"],
        "applicant": {
            "name": person.name,
            "village_code": region.code,
            "village_name": region.name,
        },
        "nik_warnings": warnings,
        "resubmission_timeout": resubmission_timeout,
        "channel": "front_office" if "front_office" in actor.roles else "online",
    }
    if data.get("consent_pdp") is not None:
        start_data["consent_pdp"] = bool(data["consent_pdp"])
    case, code = start_case(
        session,
        process,
        start_data,
        CaseSummary(
            service=data["service"],
            ppks_category=data["ppks_category"],
            applicant_name=person.name,
            village_code=region.code,
            person=person,
        ),
        actor,
        now,
    )
    return case, code, warnings


def submit_complaint(
    session: Session, data: dict[str, Any], actor: Actor, now: datetime, process: str = "aduan"
) -> tuple[Case, str]:
    """Start a complaint case of ``process`` (the catalogue's) from validated data (ComplaintSchema.load)."""
    region = validation.check_village(data["village_code"])
    start_data = {
        "category": data["category"],
        "description": data["description"],
        "complainant": {
            "name": (data.get("name") or "").strip() or None,
            "phone": validation.normalize_phone(data["phone"]),
        },
        "village_code": region.code,
        "village_name": region.name,
    }
    return start_case(
        session,
        process,
        start_data,
        CaseSummary(
            service="aduan",
            applicant_name=(data.get("name") or "").strip() or "(anonim)",
            village_code=region.code,
        ),
        actor,
        now,
    )


_BASIC_DOCUMENTS = ("ktp", "kk", "foto")
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "panti_rehab": (*_BASIC_DOCUMENTS, "surat_keterangan_dokter", "surat_pengantar_dinsos"),
    "sandang": (*_BASIC_DOCUMENTS, "surat_keterangan_desa"),
    "alat_bantu": (*_BASIC_DOCUMENTS, "surat_keterangan_dokter"),
    "slrt": (*_BASIC_DOCUMENTS, "surat_keterangan_desa"),
    "berdaya": (*_BASIC_DOCUMENTS, "surat_keterangan_desa"),
    "pendamping": (*_BASIC_DOCUMENTS, "surat_keterangan_desa"),
}


def open_cases_of_same_nik(session: Session, case: Case) -> list[Case]:
    """Other active cases of the same person (by NIK): the operator checks for duplicates."""
    if case.person is None:
        return []
    stmt = (
        select(Case)
        .join(Person, Case.person_id == Person.id)
        .where(Person.nik == case.person.nik, Case.status == "active", Case.id != case.id)
        .order_by(Case.created_at)
    )
    return list(session.scalars(stmt))
