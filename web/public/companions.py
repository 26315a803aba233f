"""``/pendamping``: who the social companions of a kecamatan/desa are, with call and WhatsApp links."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from engine import regions
from engine.companions import SHORT_ROLES, list_companions, phone_display, tel_link, whatsapp_link

from ..extensions import db
from . import bp


@bp.get("/pendamping")
def companions_page() -> Any:
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
    companions = list_companions(db.session, kecamatan.code) if kecamatan else []
    if village is not None:
        # the desa's own PSM, the kecamatan's TKSK and the programmes' companions; not other desa's PSM
        companions = [c for c in companions if c.village_code in (None, village.code)]
    return render_template(
        "public/pendamping.html",
        kecamatan_list=regions.kecamatan_list(),
        kecamatan=kecamatan,
        desa_list=sorted(regions.desa_list(kecamatan.code), key=lambda r: r.name) if kecamatan else [],
        village=village,
        companions=companions,
        roles=SHORT_ROLES,
        desa_name=lambda code: regions.village(code).name if code and regions.village(code) else "",
        phone_display=phone_display,
        tel_link=tel_link,
        whatsapp_link=whatsapp_link,
    )
