"""Bearer tokens for staff clients."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from engine.clock import utcnow
from engine.models import User

from ..auth import issue_token, verify_password
from ..errors import ApiError
from ..extensions import db
from ..limits import limited
from . import bp, doc, json_body, load
from .schemas import TokenRequestSchema, TokenSchema

_request = TokenRequestSchema()


@bp.post("/auth/token")
@limited("RATELIMIT_LOGIN", scope="login")
@doc(
    "Exchange a username and password for a bearer token",
    body=TokenRequestSchema,
    response=TokenSchema,
    tags=("auth",),
    auth=False,
    errors=(401,),
)
def create_token() -> Any:
    data = load(_request, json_body())
    user = db.session.scalars(select(User).where(User.username == data["username"])).first()
    if not verify_password(user, data["password"]):
        raise ApiError(401, "invalid_credentials", "Nama pengguna atau kata sandi salah")
    assert user is not None
    token, expires = issue_token(user, utcnow())
    return jsonify(
        TokenSchema().dump(
            {
                "token": token,
                "token_type": "Bearer",
                "expires_at": expires,
                "username": user.username,
                "roles": user.roles,
            }
        )
    )
