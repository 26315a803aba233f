"""A lost tracking code: NIK + phone number → a new code by SMS (engine.tracking_recovery).

The page answers the same whether or not anything matched, so it tells nobody whether a NIK
applied; format mistakes (a NIK that is not 16 digits) are said, as they reveal nothing.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, make_response, redirect, render_template, request, session, url_for

from engine.clock import utcnow
from engine.text import N_
from engine.tracking_recovery import reissue_tracking_codes
from engine.validation import normalize_phone

from ..extensions import db
from ..limits import limited
from ..navigation import no_store, refuse_with_redirect, take_refused
from . import bp

BAD_NIK = N_("NIK terdiri dari 16 angka, seperti tertulis pada KTP.")


@bp.get("/kode-hilang")
def recover_form() -> Any:
    refused = take_refused("recover")
    values, errors, _status = refused if refused is not None else ({}, {}, 200)
    sent = session.pop("recover_sent", False)
    page = make_response(render_template("public/recover.html", values=values, errors=errors, sent=sent))
    page.status_code = 422 if errors else 200
    # an answer about this request stays out of every cache (the service worker keeps the blank form)
    return no_store(page) if sent or errors else page


@bp.post("/kode-hilang")
@limited("RATELIMIT_TRACK", scope="track")  # per address, with every other try of a tracking code
def recover_submit() -> Any:
    nik = "".join(request.form.get("nik", "").split())
    phone = request.form.get("phone", "").strip()
    errors: dict[str, str] = {}
    if len(nik) != 16 or not nik.isdigit():
        errors["nik"] = BAD_NIK
    try:
        normalize_phone(phone)
    except ValueError as exc:
        errors["phone"] = str(exc)
    if errors:
        values = {"nik": nik[:16], "phone": phone[:20]}
        return refuse_with_redirect("recover", url_for("public.recover_form"), values, errors)
    queued = reissue_tracking_codes(db.session, nik, phone, utcnow())
    current_app.logger.info("tracking-code recovery asked: %d new code(s) queued", queued)
    session["recover_sent"] = True
    return redirect(url_for("public.recover_form"), 303)
