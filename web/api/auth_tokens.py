"""Bearer tokens for staff clients: issue (the one ``authenticate()``), list, revoke."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine.clock import utcnow
from engine.models import ApiToken

from ..auth import (
    LoginRefused,
    authenticate,
    credentials_of,
    current_credential,
    current_staff,
    issue_token,
    staff_required,
)
from ..errors import ApiError, error_response
from ..extensions import db
from ..limits import limited
from . import bp, doc, json_body, load
from .schemas import CredentialListSchema, TokenRequestSchema, TokenSchema

_request = TokenRequestSchema()


@bp.post("/auth/token")
@limited("RATELIMIT_LOGIN", scope="login")
@doc(
    "Exchange a username and password for a bearer token (throttled after failed attempts: 429 with Retry-After)",
    body=TokenRequestSchema,
    response=TokenSchema,
    tags=("auth",),
    auth=False,
    errors=(401,),
)
def create_token() -> Any:
    data = load(_request, json_body())
    try:
        user = authenticate(data["username"], data["password"], utcnow())
    except LoginRefused as refused:
        # answered, not raised: the attempt's record is committed with this request
        if refused.retry_after:
            response = error_response(429, "login_throttled", str(refused), {"retry_after": refused.retry_after})
            response.headers["Retry-After"] = str(refused.retry_after)
            return response
        return error_response(401, "invalid_credentials", "Nama pengguna atau kata sandi salah")
    token, row = issue_token(user, utcnow())
    return jsonify(
        TokenSchema().dump(
            {
                "token": token,
                "token_type": "Bearer",
                "expires_at": row.expires_at,
                "username": user.username,
                "roles": user.roles,
            }
        )
    )


@bp.delete("/auth/token")
@doc("Revoke the credential of this request (log out): the bearer token stops working", status=204, tags=("auth",))
@staff_required()
def revoke_current_token() -> Any:
    credential = current_credential()
    if credential is not None:
        db.session.delete(credential)
    return "", 204


@bp.get("/auth/tokens")
@doc(
    "Your bearer tokens and browser login sessions that have not expired (never their secrets)",
    response=CredentialListSchema,
    tags=("auth",),
)
@staff_required()
def list_tokens() -> Any:
    user, current = current_staff(), current_credential()
    assert user is not None  # staff_required
    items = [
        {
            "id": row.id,
            "kind": row.kind,
            "created_at": row.created_at,
            "expires_at": row.expires_at,
            "last_used_at": row.last_used_at,
            "client_address": row.client_address,
            "user_agent": row.user_agent,
            "current": current is not None and row.id == current.id,
        }
        for row in credentials_of(user)
    ]
    return jsonify(CredentialListSchema().dump({"items": items}))


@bp.delete("/auth/tokens/<int:token_id>")
@doc("Revoke one of your tokens or sessions (it stops working at once)", status=204, tags=("auth",))
@staff_required()
def revoke_token(token_id: int) -> Any:
    user = current_staff()
    row = db.session.get(ApiToken, token_id)
    if row is None or user is None or row.user_id != user.id:
        raise ApiError(404, "not_found", "Token tidak ditemukan")
    db.session.delete(row)
    return "", 204
