"""The kecamatan → desa choice of the public pages that work by place (``/cuaca``, ``/pendamping``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request

from engine import regions
from engine.regions import Region


@dataclass(frozen=True)
class Area:
    kecamatan: Region | None
    village: Region | None

    @property
    def desa_list(self) -> list[Region]:
        """The chosen kecamatan's desa by name (none before a kecamatan is chosen)."""
        if self.kecamatan is None:
            return []
        return sorted(regions.desa_list(self.kecamatan.code), key=lambda r: r.name)


def area_from_args() -> Area:
    """``?kecamatan=…&desa=…``: the desa decides its kecamatan; an unknown code is a 404."""
    kecamatan_code = request.args.get("kecamatan", "").strip()
    desa_code = request.args.get("desa", "").strip()
    village = regions.village(desa_code) if desa_code else None
    if desa_code and village is None:
        abort(404)
    kecamatan = regions.kecamatan_of(village.code) if village else None
    if kecamatan is None and kecamatan_code:
        kecamatan = next((k for k in regions.kecamatan_list() if k.code == kecamatan_code), None)
        if kecamatan is None:
            abort(404)
    return Area(kecamatan, village)
