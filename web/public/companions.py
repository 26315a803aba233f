"""``/pendamping``: who the social companions of a kecamatan/desa are, with call and WhatsApp links."""

from __future__ import annotations

from typing import Any

from flask import render_template

from engine import regions
from engine.companions import SHORT_ROLES, list_companions, phone_display, tel_link, whatsapp_link

from ..extensions import db
from . import bp
from .areas import area_from_args


@bp.get("/pendamping")
def companions_page() -> Any:
    area = area_from_args()
    kecamatan, village = area.kecamatan, area.village
    companions = list_companions(db.session, kecamatan.code) if kecamatan else []
    if village is not None:
        # the desa's own PSM, the kecamatan's TKSK and the programmes' companions; not other desa's PSM
        companions = [c for c in companions if c.village_code in (None, village.code)]
    return render_template(
        "public/pendamping.html",
        kecamatan_list=regions.kecamatan_list(),
        kecamatan=kecamatan,
        desa_list=area.desa_list,
        village=village,
        companions=companions,
        roles=SHORT_ROLES,
        desa_name=lambda code: regions.village(code).name if code and regions.village(code) else "",
        phone_display=phone_display,
        tel_link=tel_link,
        whatsapp_link=whatsapp_link,
    )
