"""The agency profile: who runs this instance (names, region, address, signers, letter series).

An adopting district edits one TOML file (``agency/balangan.toml`` is the shipped default; the
``AGENCY_PROFILE`` setting points elsewhere) instead of code. ``config.py`` loads it with
:func:`load_profile`; the engine and ``letters/`` receive the resulting :class:`AgencyProfile` as a
plain object and never read settings themselves.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAPER_SIZES = ("A4", "F4")
# The fields a letter number pattern may use (str.format syntax, e.g. ``{seq:03d}``).
NUMBER_FIELDS = ("seq", "tahun", "bulan", "bulan_romawi", "bidang")
REQUIRED_SERIES = ("rekomendasi", "pemberitahuan")
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


class ProfileInvalid(ValueError):
    """The profile file is missing, not TOML, or lacks/contradicts a required value."""


@dataclass(frozen=True)
class Signer:
    key: str
    position: str  # e.g. "Kepala Dinas Sosial Kabupaten Balangan"
    name: str
    rank: str = ""  # pangkat/golongan, e.g. "Pembina Utama Muda (IV/c)"
    nip: str = ""
    on_behalf_of: str = ""  # e.g. "Kepala Dinas Sosial" → printed "a.n. Kepala Dinas Sosial"


@dataclass(frozen=True)
class LetterSeries:
    key: str
    title: str  # what the letter is called, e.g. "Surat Rekomendasi"
    pattern: str  # e.g. "400.9/{seq:03d}/Dinsos/{bulan_romawi}/{tahun}"
    signer: str  # key of a Signer
    sifat: str = "Biasa"
    tembusan: tuple[str, ...] = ()

    def number(self, seq: int, year: int, month: int, bidang: str = "") -> str:
        """The letter number for sequence ``seq`` issued in ``month``/``year``."""
        return self.pattern.format(
            seq=seq, tahun=year, bulan=month, bulan_romawi=_ROMAN[month - 1], bidang=bidang or "-"
        )


@dataclass(frozen=True)
class AgencyProfile:
    government: str  # "Pemerintah Kabupaten Balangan" (first line of the letterhead)
    name: str  # "Dinas Sosial" (second line)
    full_name: str  # "Dinas Sosial Kabupaten Balangan" (in sentences)
    short_name: str  # "Dinsos Balangan" (SMS sender)
    regency_name: str  # "Kabupaten Balangan"
    regency_code: str  # "63.11"
    region_file: Path  # kecamatan and desa of the regency (CSV: kode,nama,tingkat,jenis)
    place: str  # where letters are dated, e.g. "Paringin"
    address: str
    phone: str = ""
    email: str = ""
    website: str = ""
    logo_file: Path | None = None
    paper: str = "A4"
    bidang: dict[str, str] = field(default_factory=dict)
    signers: dict[str, Signer] = field(default_factory=dict)
    series: dict[str, LetterSeries] = field(default_factory=dict)
    source: Path | None = None  # the file this was loaded from

    def signer_of(self, series_key: str) -> Signer:
        return self.signers[self.series[series_key].signer]

    def bidang_name(self, key: str | None) -> str:
        return self.bidang.get(key or "", key or "")


def _text(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ProfileInvalid(f"{where}.{key} must be text")
    if required and not value.strip():
        raise ProfileInvalid(f"{where}.{key} is required")
    return value.strip()


def _check_pattern(pattern: str, where: str) -> None:
    fields = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    unknown = fields - set(NUMBER_FIELDS)
    if unknown:
        raise ProfileInvalid(
            f"{where}.pattern uses unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(NUMBER_FIELDS)}"
        )
    if "seq" not in fields:
        raise ProfileInvalid(f"{where}.pattern must contain {{seq}}")
    try:
        LetterSeries("x", "x", pattern, "x").number(1, 2026, 1, "x")
    except (ValueError, IndexError, KeyError) as exc:
        raise ProfileInvalid(f"{where}.pattern is not a valid pattern: {exc}") from None


def _signers(raw: Any) -> dict[str, Signer]:
    if not isinstance(raw, dict) or not raw:
        raise ProfileInvalid("[signers] must define at least one signer, e.g. [signers.kadis]")
    signers = {}
    for key, table in raw.items():
        where = f"signers.{key}"
        if not isinstance(table, dict):
            raise ProfileInvalid(f"{where} must be a table")
        signers[key] = Signer(
            key=key,
            position=_text(table, "position", where),
            name=_text(table, "name", where),
            rank=_text(table, "rank", where, required=False),
            nip=_text(table, "nip", where, required=False),
            on_behalf_of=_text(table, "on_behalf_of", where, required=False),
        )
    return signers


def _series(raw: Any, signers: dict[str, Signer]) -> dict[str, LetterSeries]:
    if not isinstance(raw, dict):
        raise ProfileInvalid("[series] is required")
    series = {}
    for key, table in raw.items():
        where = f"series.{key}"
        if not isinstance(table, dict):
            raise ProfileInvalid(f"{where} must be a table")
        pattern = _text(table, "pattern", where)
        _check_pattern(pattern, where)
        signer = _text(table, "signer", where)
        if signer not in signers:
            raise ProfileInvalid(f"{where}.signer {signer!r} is not one of the signers ({', '.join(signers)})")
        tembusan = table.get("tembusan", [])
        if not isinstance(tembusan, list) or not all(isinstance(t, str) for t in tembusan):
            raise ProfileInvalid(f"{where}.tembusan must be a list of text")
        series[key] = LetterSeries(
            key=key,
            title=_text(table, "title", where),
            pattern=pattern,
            signer=signer,
            sifat=_text(table, "sifat", where, required=False) or "Biasa",
            tembusan=tuple(tembusan),
        )
    missing = [k for k in REQUIRED_SERIES if k not in series]
    if missing:
        raise ProfileInvalid(f"[series] lacks {', '.join(missing)}")
    return series


def _file(base: Path, value: str, where: str) -> Path:
    path = (base / value).resolve()
    if not path.is_file():
        raise ProfileInvalid(f"{where}: file {path} does not exist")
    return path


def load_profile(path: Path | str) -> AgencyProfile:
    """Read and check an agency profile TOML file; raises :class:`ProfileInvalid`."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileInvalid(f"cannot read agency profile {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileInvalid(f"agency profile {path} is not valid TOML: {exc}") from None
    try:
        agency = raw.get("agency")
        if not isinstance(agency, dict):
            raise ProfileInvalid("[agency] is required")
        base = path.parent
        paper = _text(agency, "paper", "agency", required=False) or "A4"
        if paper not in PAPER_SIZES:
            raise ProfileInvalid(f"agency.paper must be one of {', '.join(PAPER_SIZES)}")
        bidang = raw.get("bidang")
        if not isinstance(bidang, dict) or not bidang or not all(isinstance(v, str) for v in bidang.values()):
            raise ProfileInvalid('[bidang] must name at least one bidang: key = "name"')
        signers = _signers(raw.get("signers"))
        logo = _text(agency, "logo", "agency", required=False)
        return AgencyProfile(
            government=_text(agency, "government", "agency"),
            name=_text(agency, "name", "agency"),
            full_name=_text(agency, "full_name", "agency"),
            short_name=_text(agency, "short_name", "agency"),
            regency_name=_text(agency, "regency_name", "agency"),
            regency_code=_text(agency, "regency_code", "agency"),
            region_file=_file(base, _text(agency, "region_file", "agency"), "agency.region_file"),
            place=_text(agency, "place", "agency"),
            address=_text(agency, "address", "agency"),
            phone=_text(agency, "phone", "agency", required=False),
            email=_text(agency, "email", "agency", required=False),
            website=_text(agency, "website", "agency", required=False),
            logo_file=_file(base, logo, "agency.logo") if logo else None,
            paper=paper,
            bidang=dict(bidang),
            signers=signers,
            series=_series(raw.get("series"), signers),
            source=path,
        )
    except ProfileInvalid as exc:
        raise ProfileInvalid(f"agency profile {path}: {exc}") from None
