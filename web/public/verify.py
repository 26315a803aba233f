"""Letter verification (the QR code on a letter points here): status by code, and a PDF's bytes checked."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, redirect, render_template, request, url_for

from engine import intake
from engine.errors import NotFound
from letters.issue import bytes_match, letter_by_token, verification

from ..extensions import db
from ..limits import limited
from ..navigation import refuse_with_redirect, take_refused
from . import bp

TOKEN = re.compile(r"^[A-Za-z0-9_-]{6,128}$")


@bp.get("/verify")
def verify_form() -> Any:
    token = request.args.get("token", "").strip()
    if token:
        return redirect(url_for("public.verify_letter", token=token))
    return _page(token="", letter=None, searched=False)


def _page(**context: Any) -> str:
    return render_template("public/verify.html", services=intake.SERVICES, **context)


def _lookup(token: str) -> dict[str, Any] | None:
    if not TOKEN.match(token):
        return None
    try:
        return verification(letter_by_token(db.session, token))
    except NotFound:
        return None


@bp.get("/verify/<token>")
@limited("RATELIMIT_VERIFY", scope="verify")
def verify_letter(token: str) -> Any:
    letter = _lookup(token)
    checked = take_refused(f"verify:{token}") if letter else None
    if checked is not None:  # the answer to an upload (Post/Redirect/Get)
        values, errors, status = checked
        page = _page(
            token=token, letter=letter, searched=True, upload_error=errors.get("file"), matches=values.get("matches")
        )
        return page, status
    status = 200 if letter else 404
    return _page(token=token, letter=letter, searched=True), status


@bp.post("/verify/<token>")
@limited("RATELIMIT_VERIFY", scope="verify")
def verify_upload(token: str) -> Any:
    """Anyone may upload a PDF to learn whether it is, byte for byte, the letter issued."""
    letter = _lookup(token)
    if letter is None:
        return _page(token=token, letter=None, searched=True), 404
    upload = request.files.get("file")
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    error, matches = None, None
    if upload is None or not upload.filename:
        error = "Pilih berkas PDF surat yang akan diperiksa."
    else:
        content = upload.stream.read(limit + 1)
        if len(content) > limit:
            error = f"Berkas terlalu besar (maksimal {limit // (1024 * 1024)} MB)."
        elif not content:
            error = "Berkas kosong."
        else:
            matches = bytes_match(letter_by_token(db.session, token), content)
    status = 422 if error else 200
    location = url_for("public.verify_letter", token=token)
    kept = refuse_with_redirect(
        f"verify:{token}", location, {"matches": matches}, {"file": error} if error else {}, status
    )
    return kept or (_page(token=token, letter=letter, searched=True, upload_error=error, matches=matches), status)
