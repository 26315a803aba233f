"""Region codes (Kemendagri): Balangan's kecamatan and desa, and every regency of Indonesia."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # provinsi | kabupaten | kecamatan | desa
    kind: str = ""  # desa | kelurahan for villages


@functools.cache
def _balangan() -> dict[str, Region]:
    with (DATA_DIR / "wilayah_balangan.csv").open(encoding="utf-8") as fh:
        return {r["kode"]: Region(r["kode"], r["nama"], r["tingkat"], r.get("jenis") or "") for r in csv.DictReader(fh)}


@functools.cache
def _regencies() -> dict[str, Region]:
    with (DATA_DIR / "wilayah_indonesia_kabupaten.csv").open(encoding="utf-8") as fh:
        return {r["kode"]: Region(r["kode"], r["nama"], r["tingkat"]) for r in csv.DictReader(fh)}


def kecamatan_list() -> list[Region]:
    return [r for r in _balangan().values() if r.level == "kecamatan"]


def desa_list(kecamatan_code: str | None = None) -> list[Region]:
    villages = [r for r in _balangan().values() if r.level == "desa"]
    if kecamatan_code:
        villages = [r for r in villages if r.code.startswith(kecamatan_code + ".")]
    return villages


def village(code: str) -> Region | None:
    region = _balangan().get(code)
    return region if region is not None and region.level == "desa" else None


def kecamatan_of(village_code: str) -> Region | None:
    return _balangan().get(village_code[:8])


def region_name(code: str) -> str | None:
    region = _balangan().get(code) or _regencies().get(code)
    return region.name if region else None


def known_province(code2: str) -> bool:
    return code2 in _regencies()


def known_regency(code4: str) -> bool:
    """``code4`` is four digits, e.g. ``6311``."""
    return f"{code4[:2]}.{code4[2:]}" in _regencies()
