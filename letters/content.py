"""What a letter says, as plain data: drafted from the case and the decisions taken in it.

A draft is everything but the number, date and verification code, which issuing adds. The
manager's preview renders the same draft the issued PDF is rendered from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.agency import AgencyProfile

SERVICE_LABELS = {
    "panti_rehab": "rujukan ke panti rehabilitasi sosial",
    "sandang": "bantuan paket sandang",
    "alat_bantu": "bantuan alat bantu",
    "slrt": "rujukan program perlindungan sosial",
    "berdaya": "bantuan pemberdayaan ekonomi",
    "pendamping": "pendampingan sosial",
}
# Whom a recommendation is addressed to unless the manager names the addressee (form field kepada).
DEFAULT_ADDRESSEE = {
    "panti_rehab": "Pimpinan Panti/Lembaga Rehabilitasi Sosial yang dituju",
    "slrt": "Pimpinan Instansi Penyelenggara Program Perlindungan Sosial",
}
REJECTION_CATEGORIES = {
    "di_luar_balangan": "pemohon tidak berdomisili di wilayah layanan",
    "duplikat": "permohonan yang sama sedang atau telah diproses",
    "tidak_memenuhi_syarat": "permohonan tidak memenuhi persyaratan",
    "lainnya": "alasan lain",
}
RECOMMENDATION_SERVICES = tuple(SERVICE_LABELS)
REJECTING_ENDS = ("ditolak_verifikasi", "ditolak_kunjungan", "ditolak_reviu", "ditolak_kabid")


@dataclass(frozen=True)
class Applicant:
    name: str
    nik: str = ""
    birth_date: date | None = None
    gender: str | None = None  # L | P
    address: str = ""
    desa: str = ""
    kecamatan: str = ""

    @property
    def salutation(self) -> str:
        return {"L": "Sdr.", "P": "Sdri."}.get(self.gender or "", "Sdr./Sdri.")


@dataclass(frozen=True)
class CaseFacts:
    """The case as a letter needs it (read by the caller, passed in plainly)."""

    reference: str
    applied_on: date
    service: str | None
    ppks_label: str
    bidang: str | None
    applicant: Applicant


@dataclass(frozen=True)
class LetterDraft:
    series: str  # the agency profile's letter series
    template: str  # body template, e.g. "rekomendasi/alat_bantu.html"
    subject: str  # Hal
    sifat: str
    addressee: tuple[str, ...]  # Yth. lines
    case: CaseFacts
    facts: Mapping[str, Any] = field(default_factory=dict)  # what was decided, per template
    lampiran: str = "-"


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return " ".join(str(value).split()) if value not in (None, "") else ""


def _applicant_lines(applicant: Applicant) -> tuple[str, ...]:
    lines = [f"{applicant.salutation} {applicant.name}"]
    if applicant.address:
        lines.append(applicant.address)
    place = ", ".join(
        p
        for p in (
            f"Desa/Kel. {applicant.desa}" if applicant.desa else "",
            f"Kec. {applicant.kecamatan}" if applicant.kecamatan else "",
        )
        if p
    )
    if place:
        lines.append(place)
    return tuple(lines)


def draft_recommendation(profile: AgencyProfile, case: CaseFacts, data: Mapping[str, Any]) -> LetterDraft:
    """The recommendation the manager issues: the kabid's decision and the manager's text."""
    service = case.service if case.service in SERVICE_LABELS else None
    kepada = _text(data, "kepada")
    addressee = (
        (kepada,)
        if kepada
        else ((DEFAULT_ADDRESSEE[service],) if service in DEFAULT_ADDRESSEE else _applicant_lines(case.applicant))
    )
    series = profile.series["rekomendasi"]
    sifat = _text(data, "sifat").capitalize() or series.sifat
    return LetterDraft(
        series="rekomendasi",
        template=f"rekomendasi/{service or 'umum'}.html",
        subject=_text(data, "perihal") or f"Rekomendasi {SERVICE_LABELS.get(case.service or '', 'layanan sosial')}",
        sifat=sifat,
        addressee=addressee,
        case=case,
        facts={
            "intervensi": _text(data, "intervensi"),
            "isi": _text(data, "isi_rekomendasi"),
            "bidang_name": profile.bidang_name(_text(data, "bidang") or case.bidang),
            "service_label": SERVICE_LABELS.get(case.service or "", "layanan sosial"),
        },
    )


def draft_rejection(profile: AgencyProfile, case: CaseFacts, end_event: str, data: Mapping[str, Any]) -> LetterDraft:
    """The notice a case ending at a rejecting ``end_event`` sends the applicant, with the reason."""
    category = _text(data, "kategori_penolakan") if end_event == "ditolak_verifikasi" else ""
    return LetterDraft(
        series="pemberitahuan",
        template=f"pemberitahuan/{end_event if end_event in REJECTING_ENDS else 'umum'}.html",
        subject=f"Pemberitahuan hasil permohonan {SERVICE_LABELS.get(case.service or '', 'layanan sosial')}",
        sifat=profile.series["pemberitahuan"].sifat,
        addressee=_applicant_lines(case.applicant),
        case=case,
        facts={
            "alasan": _text(data, "alasan"),
            "kategori": REJECTION_CATEGORIES.get(category, ""),
            "tanggal_kunjungan": _text(data, "tanggal_kunjungan") if end_event == "ditolak_kunjungan" else "",
            "service_label": SERVICE_LABELS.get(case.service or "", "layanan sosial"),
        },
    )
