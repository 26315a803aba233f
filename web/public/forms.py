"""Shared helpers of the public forms: field errors, regions, double-submit protection."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy.exc import IntegrityError

from engine import regions
from engine.clock import utcnow
from engine.models import IdempotencyRecord

from ..api import _flatten
from ..extensions import db
from ..sealing import opened_answer, sealed_answer


def validate(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Load ``data``; on failure return the Indonesian message per form field name."""
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        return None, {key.removeprefix("applicant."): text for key, text in _flatten(exc.messages).items()}


def kecamatan_groups() -> list[tuple[regions.Region, list[regions.Region]]]:
    return [(k, sorted(regions.desa_list(k.code), key=lambda r: r.name)) for k in regions.kecamatan_list()]


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


class FormReused(Exception):
    """The form token was already used for a submission with other content."""


def content_digest(fields: dict[str, Any], files: dict[str, bytes]) -> str:
    """The sha256 of a submission's fields and files: what a form token is bound to."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    for name in sorted(files):
        digest.update(f"\0{name}\0".encode() + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def submit_once(endpoint: str, token: str, digest: str, create: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``create``, unless this form (``token``) was already submitted with the
    same content (``digest``): a second tap on a slow connection answers with the first result
    instead of a second case. A token replayed with other content raises FormReused — it never
    answers with someone else's receipt."""
    token = (token or "").strip()[:64]
    if not token:
        return create()
    key = f"page:{endpoint}:{token}"
    for _attempt in range(2):
        record = db.session.get(IdempotencyRecord, key)
        if record is not None:
            if not hmac.compare_digest(record.request_hash, digest):
                raise FormReused(key)
            return opened_answer(record.response)
        answer = create()
        db.session.add(
            IdempotencyRecord(
                key=key,
                endpoint=f"page:{endpoint}",
                request_hash=digest,
                status_code=201,
                response=sealed_answer(answer),  # the tracking code never stored readable
                created_at=utcnow(),
            )
        )
        try:
            db.session.flush()
        except IntegrityError:
            # the same form arrived twice at once and the other stored its answer first: drop
            # this one's case (the whole transaction) and answer as the other did
            db.session.rollback()
            continue
        return answer
    raise FormReused(key)
