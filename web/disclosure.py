"""The applicant's personal data for the current staff user (the rule is ``engine.disclosure``).

Adds what only the web knows: a map link for the desa (OpenStreetMap search) and a dialable number.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from engine import disclosure, regions
from engine.models import Case

from .auth import current_actor

MAP_SEARCH = "https://www.openstreetmap.org/search?query="


def map_url(village_code: str | None) -> str | None:
    """A map search for the desa, its kecamatan and the regency (people know the house from there)."""
    village = regions.village(village_code) if village_code else None
    if village is None or village_code is None:
        return None
    kecamatan = regions.kecamatan_of(village_code)
    parts = [village.name, kecamatan.name if kecamatan else "", regions.regency().name]
    return MAP_SEARCH + quote(", ".join(p for p in parts if p))


def applicant_for(case: Case, start_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the current user may see of the case's applicant (see engine/disclosure.py)."""
    actor = current_actor()
    view = disclosure.applicant_view(case, actor, start_data)
    if "phone" in view:
        view["phone_local"] = disclosure.local_phone(view["phone"])
    if disclosure.may_see(actor, disclosure.MAP):
        view["map_url"] = map_url(case.village_code)
    view["documents"] = disclosure.may_see(actor, disclosure.DOCUMENTS)
    return view
