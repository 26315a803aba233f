"""Identity and contact checks shared by the public pages and the API (PROCEDURE.md, NIK)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from . import regions
from .text import N_

_DIGITS16 = re.compile(r"[0-9]{16}")  # ASCII digits only (\d takes ٦ and ६ too), used with fullmatch


@dataclass
class NikInfo:
    birth_date: date
    gender: str  # "L" | "P"
    warnings: list[str] = field(default_factory=list)


def parse_nik(nik: str, today: date | None = None) -> NikInfo:
    """Check a NIK and decode it; raise ValueError with an Indonesian message if impossible.

    An unknown regency code is a warning, not an error: codes change when regions split.
    """
    nik = (nik or "").strip()
    if not _DIGITS16.fullmatch(nik):
        raise ValueError(N_("NIK harus 16 digit angka."))
    warnings = []
    if not regions.known_province(nik[:2]):
        raise ValueError(N_("Kode provinsi pada NIK tidak dikenal."))
    if not regions.known_regency(nik[:4]):
        warnings.append(N_("Kode kabupaten/kota pada NIK tidak ditemukan dalam data wilayah terbaru."))
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    gender = "L"
    if day > 40:
        gender, day = "P", day - 40
    today = today or date.today()
    year = 2000 + year2 if 2000 + year2 <= today.year else 1900 + year2
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValueError(N_("Tanggal lahir pada NIK tidak valid.")) from None
    if nik[12:] == "0000":
        raise ValueError(N_("Nomor urut NIK tidak boleh 0000."))
    return NikInfo(born, gender, warnings)


def nik_warnings(nik: str, birth_date: date | None, gender: str | None, today: date | None = None) -> list[str]:
    """Mismatches between the NIK and the stated birth date/sex: warnings for the operator."""
    info = parse_nik(nik, today)
    warnings = list(info.warnings)
    if birth_date is not None:
        if (birth_date.day, birth_date.month, birth_date.year % 100) != (
            info.birth_date.day,
            info.birth_date.month,
            info.birth_date.year % 100,
        ):
            warnings.append(N_("Tanggal lahir tidak sesuai dengan NIK."))
    if gender in {"L", "P"} and gender != info.gender:
        warnings.append(N_("Jenis kelamin tidak sesuai dengan NIK."))
    return warnings


def check_kk(kk: str) -> str:
    kk = (kk or "").strip()
    if not _DIGITS16.fullmatch(kk):
        raise ValueError(N_("Nomor KK harus 16 digit angka."))
    if not regions.known_province(kk[:2]):
        raise ValueError(N_("Kode wilayah pada nomor KK tidak dikenal."))
    return kk


def normalize_phone(phone: str) -> str:
    """Indonesian numbers in any usual form → ``+62…``; raise ValueError if not one."""
    raw = re.sub(r"[\s\-().]", "", phone or "")
    if raw.startswith("+62"):
        rest = raw[3:]
    elif raw.startswith("62"):
        rest = raw[2:]
    elif raw.startswith("0"):
        rest = raw[1:]
    else:
        raise ValueError(N_("Nomor telepon harus diawali 08, 62 atau +62."))
    if not (rest.isascii() and rest.isdigit()) or not rest.startswith("8") or not 8 <= len(rest) <= 13:
        raise ValueError(N_("Nomor telepon seluler tidak valid (contoh: 0812 3456 7890)."))
    return "+62" + rest


def check_village(code: str) -> regions.Region:
    region = regions.village((code or "").strip())
    if region is None:
        raise ValueError(f"Desa/kelurahan tidak ditemukan di {regions.regency().name}.")
    return region


def mask_nik(nik: str | None) -> str:
    if not nik or len(nik) < 8:
        return "****"
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:]
