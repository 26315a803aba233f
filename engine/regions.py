"""Region codes (Kemendagri): the agency's regency (its kecamatan and desa) and every regency of Indonesia.

Which regency is the agency profile's choice (``region_file``): the app calls :func:`use_region_file`
once at start; everything else asks this module. The file is a CSV ``kode,nama,tingkat,jenis`` with
one ``kabupaten`` row (the regency), its ``kecamatan`` rows and its ``desa`` rows.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_REGION_FILE = DATA_DIR / "wilayah_balangan.csv"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # provinsi | kabupaten | kecamatan | desa
    kind: str = ""  # desa | kelurahan for villages


_region_file = DEFAULT_REGION_FILE


def use_region_file(path: Path, regency_code: str | None = None) -> None:
    """Serve the regency of ``path`` from now on; raises ValueError if it has not exactly one
    regency row or that row's code is not ``regency_code``."""
    global _region_file
    regency = _regency_in(Path(path))
    if regency_code is not None and regency.code != regency_code:
        raise ValueError(f"{path}: the regency row has code {regency.code}, the agency profile says {regency_code}")
    _region_file = Path(path)


@functools.cache
def _load(path: Path) -> dict[str, Region]:
    with path.open(encoding="utf-8") as fh:
        return {r["kode"]: Region(r["kode"], r["nama"], r["tingkat"], r.get("jenis") or "") for r in csv.DictReader(fh)}


def _regency_in(path: Path) -> Region:
    rows = [r for r in _load(path).values() if r.level == "kabupaten"]
    if len(rows) != 1:
        raise ValueError(f"{path}: expected exactly one row with tingkat=kabupaten, found {len(rows)}")
    return rows[0]


def _local() -> dict[str, Region]:
    return _load(_region_file)


@functools.cache
def _regencies() -> dict[str, Region]:
    with (DATA_DIR / "wilayah_indonesia_kabupaten.csv").open(encoding="utf-8") as fh:
        return {r["kode"]: Region(r["kode"], r["nama"], r["tingkat"]) for r in csv.DictReader(fh)}


def regency() -> Region:
    """The agency's own regency, e.g. ``63.11 Kabupaten Balangan``."""
    return _regency_in(_region_file)


def kecamatan_list() -> list[Region]:
    return [r for r in _local().values() if r.level == "kecamatan"]


def desa_list(kecamatan_code: str | None = None) -> list[Region]:
    villages = [r for r in _local().values() if r.level == "desa"]
    if kecamatan_code:
        villages = [r for r in villages if r.code.startswith(kecamatan_code + ".")]
    return villages


def village(code: str) -> Region | None:
    region = _local().get(code)
    return region if region is not None and region.level == "desa" else None


def kecamatan_of(village_code: str) -> Region | None:
    return _local().get(village_code[:8])


def region_name(code: str) -> str | None:
    region = _local().get(code) or _regencies().get(code)
    return region.name if region else None


def province_codes() -> list[str]:
    """The two-digit codes of Indonesia's provinces (the first digits of a NIK)."""
    return sorted(code for code in _regencies() if len(code) == 2)


def known_province(code2: str) -> bool:
    return code2 in _regencies()


def known_regency(code4: str) -> bool:
    """``code4`` is four digits, e.g. ``6311``."""
    code = f"{code4[:2]}.{code4[2:]}"
    return code in _regencies() or code == regency().code
