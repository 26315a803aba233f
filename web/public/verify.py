"""Letter verification (the QR code on a letter points here).

The letters module registers a lookup as ``app.extensions["letter_verifier"]``: a callable
taking the token and returning a dict (number, date, subject, addressee, status) or None.
Until one is registered every token is unknown.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from . import bp

TOKEN = re.compile(r"^[A-Za-z0-9_-]{6,128}$")


@bp.get("/verify")
def verify_form() -> Any:
    token = request.args.get("token", "").strip()
    if token:
        return redirect(url_for("public.verify_letter", token=token))
    return render_template("public/verify.html", token="", letter=None, searched=False)


@bp.get("/verify/<token>")
def verify_letter(token: str) -> Any:
    letter = None
    lookup = current_app.extensions.get("letter_verifier")
    if lookup is not None and TOKEN.match(token):
        letter = lookup(token)
    status = 200 if letter else 404
    return render_template("public/verify.html", token=token, letter=letter, searched=True), status
